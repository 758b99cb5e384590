"""`fund-ledger receipts …` end to end on SQLite and PostgreSQL: issue, show (the same bytes
again), the void on refund and its replacement, and the annual run (by the donations'
effective dates; a rerun issues nothing new and writes the same files). PDFs read back with
pypdf."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pypdf import PdfReader
from typer.testing import CliRunner, Result

from api.cli import app
from projections.database import engine_for

runner = CliRunner()


def cli(url: str, *args: str) -> Result:
    return runner.invoke(app, ["--database-url", url, "--actor", "staff:tanaka", *args])


def cli_json(url: str, *args: str) -> dict[str, Any]:
    result = cli(url, *args, "--json")
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def text_of(pdf: bytes) -> str:
    pages = PdfReader(io.BytesIO(pdf)).pages
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in pages))


def given_fund_and_donor(url: str) -> tuple[str, str]:
    assert cli(url, "init").exit_code == 0
    fund = cli_json(
        url,
        "fund",
        "open",
        "--name",
        "亀岡協働基金",
        "--host",
        "京都地域創造基金",
        "--fee-rate-bp",
        "350",
    )["id"]
    donor = cli_json(
        url,
        "donor",
        "register",
        "--kind",
        "organisation",
        "--name",
        "株式会社 保津川",
        "--kana",
        "ホヅガワ",
        "--postal-code",
        "621-0005",
        "--address",
        "京都府亀岡市保津町",
    )["id"]
    return str(fund), str(donor)


def donate(url: str, fund: str, donor: str, amount: str, day: str) -> str:
    args = ["--fund", fund, "--donor", donor, "--amount", amount, "--method", "cash"]
    return str(cli_json(url, "donation", "record", *args, "--date", day)["id"])


def test_issue_then_show_writes_the_same_bytes(database_url: str, tmp_path: Path) -> None:
    fund, donor = given_fund_and_donor(database_url)
    gift = donate(database_url, fund, donor, "30000", "2026-04-01")
    issued = cli_json(
        database_url, "receipts", "issue", "--donation", gift, "--out", str(tmp_path / "a.pdf")
    )
    shown = cli(
        database_url, "receipts", "show", issued["number"], "--out", str(tmp_path / "b.pdf")
    )
    assert shown.exit_code == 0, shown.output
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    text = text_of((tmp_path / "a.pdf").read_bytes())
    assert "株式会社保津川御中" in text
    assert "¥30,000-" in text


def test_second_issue_is_one_line_on_stderr_and_records_nothing(database_url: str) -> None:
    fund, donor = given_fund_and_donor(database_url)
    gift = donate(database_url, fund, donor, "30000", "2026-04-01")
    cli_json(database_url, "receipts", "issue", "--donation", gift)
    before = cli_json(database_url, "verify")["event_count"]
    result = cli(database_url, "receipts", "issue", "--donation", gift)
    assert result.exit_code == 1
    assert "receipt-already-issued" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert cli_json(database_url, "verify")["event_count"] == before


def test_annual_receipts_go_by_effective_date_and_a_rerun_writes_the_same_files(
    database_url: str, tmp_path: Path
) -> None:
    fund, donor = given_fund_and_donor(database_url)
    december = donate(database_url, fund, donor, "5000", "2025-12-31")  # recorded in 2026
    donate(database_url, fund, donor, "7000", "2026-01-05")

    first = cli_json(
        database_url, "receipts", "annual", "--year", "2025", "--out", str(tmp_path / "first")
    )
    again = cli_json(
        database_url, "receipts", "annual", "--year", "2025", "--out", str(tmp_path / "again")
    )

    [number] = first["issued"]
    assert again["issued"] == []
    assert again["already_issued"] == [number]
    pdf = (tmp_path / "first" / f"{number}.pdf").read_bytes()
    assert (tmp_path / "again" / f"{number}.pdf").read_bytes() == pdf
    text = text_of(pdf)
    assert "年間寄附金受領証明書" in text
    assert "¥5,000-" in text
    assert "7,000" not in text
    shown = cli_json(database_url, "receipts", "show", number)
    assert shown["tax_year"] == 2025
    assert shown["donation_ids"] == [december]


def test_annual_receipt_replaces_the_single_receipts_of_the_year(
    database_url: str, tmp_path: Path
) -> None:
    fund, donor = given_fund_and_donor(database_url)
    gift = donate(database_url, fund, donor, "5000", "2026-02-01")
    single = cli_json(database_url, "receipts", "issue", "--donation", gift)["number"]
    run = cli_json(database_url, "receipts", "annual", "--year", "2026", "--out", str(tmp_path))
    assert len(run["issued"]) == 1
    assert cli_json(database_url, "receipts", "show", single)["voided"] is True
    listed = cli_json(database_url, "receipts", "list", "--donor", donor)["receipts"]
    assert [r["valid"] for r in listed] == [False, True]


def test_show_of_an_unknown_number_is_refused(database_url: str) -> None:
    given_fund_and_donor(database_url)
    result = cli(database_url, "receipts", "show", "2026-000077")
    assert result.exit_code == 1
    assert "no receipt numbered 2026-000077" in result.stderr


def test_verify_all_names_a_receipt_whose_stored_bytes_were_altered(database_url: str) -> None:
    fund, donor = given_fund_and_donor(database_url)
    gift = donate(database_url, fund, donor, "30000", "2026-04-01")
    issued = cli_json(database_url, "receipts", "issue", "--donation", gift)
    assert cli(database_url, "verify", "--all").exit_code == 0

    engine = engine_for(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text("UPDATE receipt_documents SET pdf = :pdf"), {"pdf": b"%PDF-forged"}
            )
    finally:
        engine.dispose()
    result = cli(database_url, "verify", "--all")

    assert result.exit_code == 1
    (line,) = [line for line in result.stdout.splitlines() if "receipts:" in line]
    assert line.split()[:2] == ["fail", "receipts:"], line
    assert issued["number"] in line
