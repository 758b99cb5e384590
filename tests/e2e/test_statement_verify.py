"""Fund statements from the ledger, end to end on SQLite and PostgreSQL: the figures per
designation, by effective date; `fund-ledger statement verify FILE` and its other spelling
`fund-ledger verify --statement FILE` accept the true file (also after a late entry dated
inside its period) and reject one whose figures or range were edited; the HTTP download
carries the same figures."""

from __future__ import annotations

import dataclasses
import functools
import json
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from typer.testing import CliRunner, Result

import reports.statement
from api.cli import app
from api.statement_views import statement_view
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from reports import StatementView, read_statement_metadata, render_statement
from reports.statement_metadata import SCHEMA_1, encode
from tests.e2e.http import Api

runner = CliRunner()
VERIFY_COMMANDS = pytest.mark.parametrize(
    "verify_command",
    [("statement", "verify"), ("verify", "--statement")],
    ids=["statement-verify", "verify-statement"],
)


def cli(url: str, *args: str) -> Result:
    return runner.invoke(app, ["--database-url", url, "--actor", "staff:tanaka", *args])


def ok(url: str, *args: str) -> dict[str, Any]:
    result = cli(url, *args, "--json")
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def given_a_year_of_a_fund(url: str) -> str:
    """FY2025 leaves 100,000 (fee 3,500) in hozugawa; FY2026 has every kind of movement."""
    assert cli(url, "init").exit_code == 0
    fund = ok(
        url, "fund", "open", "--name", "亀岡協働基金", "--host", "基金", "--fee-rate-bp", "350"
    )
    fund_id = str(fund["id"])
    ok(url, "fund", "designation-add", fund_id, "hozugawa", "--name", "保津川の清掃")
    donor = ok(
        url,
        "donor",
        "register",
        "--kind",
        "individual",
        "--name",
        "山田 太郎",
        "--kana",
        "ヤマダ",
        "--postal-code",
        "621-0806",
        "--address",
        "亀岡市",
    )
    gift = [
        "donation",
        "record",
        "--fund",
        fund_id,
        "--donor",
        str(donor["id"]),
        "--method",
        "cash",
    ]
    ok(url, *gift, "--amount", "100000", "--designation", "hozugawa", "--date", "2026-03-31")
    second = ok(url, *gift, "--amount", "20000", "--date", "2026-04-01")
    ok(
        url,
        "donation",
        "refund",
        str(second["id"]),
        "--amount",
        "20000",
        "--reason",
        "返金",
        "--date",
        "2026-04-02",
    )
    grant = ok(
        url,
        "grant",
        "award",
        "--fund",
        fund_id,
        "--grantee",
        "NPO法人 保津川",
        "--representative",
        "代表",
        "--purpose",
        "清掃",
        "--amount",
        "50000",
        "--designation",
        "hozugawa",
        "--date",
        "2026-05-01",
    )
    grant_id = str(grant["id"])
    ok(url, "grant", "disburse", grant_id, "--amount", "30000", "--date", "2026-06-01")
    ok(
        url,
        "grant",
        "reduce",
        grant_id,
        "--amount",
        "10000",
        "--reason",
        "縮小",
        "--date",
        "2026-07-01",
    )
    ok(
        url,
        "grant",
        "return",
        grant_id,
        "--amount",
        "5000",
        "--reason",
        "返還",
        "--date",
        "2026-08-01",
    )
    return fund_id


def pots(metadata: dict[str, Any]) -> dict[str | None, dict[str, int]]:
    return {pot.pop("designation_name"): pot for pot in metadata["pots"]}


def test_statement_figures_per_designation_by_effective_date(
    database_url: str, tmp_path: Path
) -> None:
    fund_id = given_a_year_of_a_fund(database_url)
    out = tmp_path / "statement.pdf"
    ok(database_url, "statement", "--fund", fund_id, "--year", "2026", "--out", str(out))
    figures = pots(read_statement_metadata(out.read_bytes()))
    hozugawa, general = figures["保津川の清掃"], figures[None]
    assert hozugawa["opening_balance_yen"] == 96_500
    assert hozugawa["grants_awarded_yen"] == 50_000
    assert hozugawa["disbursements_yen"] == 30_000
    assert hozugawa["grants_reduced_yen"] == 10_000
    assert hozugawa["returns_yen"] == 5_000
    assert hozugawa["restriction_releases_yen"] == 30_000
    assert hozugawa["closing_balance_yen"] == 71_500
    assert hozugawa["closing_committed_yen"] == 10_000
    assert general["donations_yen"] == 20_000
    assert general["refunds_yen"] == 20_000
    assert general["host_fees_yen"] == 0  # the whole fee was given back
    assert general["closing_balance_yen"] == 0


@VERIFY_COMMANDS
def test_verify_accepts_the_true_statement_even_after_a_late_entry(
    database_url: str, tmp_path: Path, verify_command: tuple[str, str]
) -> None:
    fund_id = given_a_year_of_a_fund(database_url)
    out = tmp_path / "statement.pdf"
    ok(
        database_url,
        "statement",
        "--fund",
        fund_id,
        "--from",
        "2026-04-01",
        "--to",
        "2026-12-31",
        "--out",
        str(out),
    )
    assert ok(database_url, *verify_command, str(out))["verified"] is True
    donors = ok(
        database_url,
        "donor",
        "register",
        "--kind",
        "individual",
        "--name",
        "遅い 入力",
        "--kana",
        "オソイ",
        "--postal-code",
        "621-0806",
        "--address",
        "亀岡市",
    )
    ok(
        database_url,
        "donation",
        "record",
        "--fund",
        fund_id,
        "--donor",
        str(donors["id"]),
        "--method",
        "cash",
        "--amount",
        "1000",
        "--date",
        "2026-05-05",
    )
    assert ok(database_url, *verify_command, str(out))["verified"] is True


def _true_view(database_url: str, fund_id: str) -> StatementView:
    """The fund's statement for 年度 2026, as the ledger makes it now."""
    ledger = FundLedger(env=eventsourcing_env(database_url))
    try:
        return statement_view(
            ledger,
            UUID(fund_id),
            date(2026, 4, 1),
            date(2027, 3, 31),
            issued_on=ledger.today(),
            issuer_name="公益財団法人 京都地域創造基金",
        )
    finally:
        ledger.close()


@VERIFY_COMMANDS
def test_verify_rejects_an_edited_figure(
    database_url: str, tmp_path: Path, verify_command: tuple[str, str]
) -> None:
    fund_id = given_a_year_of_a_fund(database_url)
    view = _true_view(database_url, fund_id)
    general, hozugawa = view.pots
    richer = dataclasses.replace(
        general,
        donations_yen=general.donations_yen + 1_000,
        closing_balance_yen=general.closing_balance_yen + 1_000,
    )
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(render_statement(dataclasses.replace(view, pots=(richer, hozugawa))))
    true = tmp_path / "true.pdf"
    true.write_bytes(render_statement(view))

    assert cli(database_url, *verify_command, str(true)).exit_code == 0
    result = cli(database_url, *verify_command, str(forged))
    assert result.exit_code == 1
    assert "statement-mismatch" in result.stderr
    assert "pots" in result.stderr


@VERIFY_COMMANDS
def test_verify_rejects_an_edited_range(
    database_url: str, tmp_path: Path, verify_command: tuple[str, str]
) -> None:
    fund_id = given_a_year_of_a_fund(database_url)
    view = _true_view(database_url, fund_id)
    for changes in (
        {"last_position": view.last_position - 1},
        {"first_position": view.first_position + 1},
        {"chain_head_hash": "0" * 64},
        {"period_to": date(2026, 5, 31)},  # a period the figures do not fit
    ):
        forged = tmp_path / "forged.pdf"
        forged.write_bytes(render_statement(dataclasses.replace(view, **changes)))
        result = cli(database_url, *verify_command, str(forged))
        assert result.exit_code == 1, changes
        assert "statement-mismatch" in result.stderr


@VERIFY_COMMANDS
def test_verify_rejects_a_pdf_that_is_no_statement(
    database_url: str, tmp_path: Path, verify_command: tuple[str, str]
) -> None:
    given_a_year_of_a_fund(database_url)
    bogus = tmp_path / "bogus.pdf"
    bogus.write_bytes(b"%PDF-1.4 not really")
    result = cli(database_url, *verify_command, str(bogus))
    assert result.exit_code == 1
    assert "not a fund-ledger statement" in result.stderr


def test_verify_statement_says_the_same_as_statement_verify(
    database_url: str, tmp_path: Path
) -> None:
    fund_id = given_a_year_of_a_fund(database_url)
    out = tmp_path / "statement.pdf"
    ok(database_url, "statement", "--fund", fund_id, "--year", "2026", "--out", str(out))
    through_verify = cli(database_url, "verify", "--statement", str(out))
    through_statement = cli(database_url, "statement", "verify", str(out))
    assert through_verify.exit_code == through_statement.exit_code == 0
    assert through_verify.stdout == through_statement.stdout
    expected = "statement verified: 亀岡協働基金 2026-04-01..2027-03-31"
    assert through_verify.stdout.startswith(expected)


@pytest.mark.parametrize(
    "other",
    [("--all",), ("--expect-head", "0" * 64), ("--file", "events.jsonl", "--head", "0" * 64)],
    ids=["all", "expect-head", "file"],
)
def test_verify_statement_refuses_the_chain_options_beside_it(
    database_url: str, tmp_path: Path, other: tuple[str, ...]
) -> None:
    fund_id = given_a_year_of_a_fund(database_url)
    out = tmp_path / "statement.pdf"
    ok(database_url, "statement", "--fund", fund_id, "--year", "2026", "--out", str(out))
    result = cli(database_url, "verify", "--statement", str(out), *other)
    assert result.exit_code == 1
    assert "--statement" in result.stderr
    assert "do not apply" in result.stderr


def test_verify_statement_of_a_missing_file_is_a_usage_error(
    database_url: str, tmp_path: Path
) -> None:
    given_a_year_of_a_fund(database_url)
    result = cli(database_url, "verify", "--statement", str(tmp_path / "missing.pdf"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_statement_says_through_which_day_its_funds_books_were_closed_when_made(
    database_url: str, tmp_path: Path
) -> None:
    fund_id = given_a_year_of_a_fund(database_url)
    other = ok(
        database_url, "fund", "open", "--name", "保津川基金", "--host", "基金", "--fee-rate-bp", "0"
    )
    statements = {name: tmp_path / f"{name}.pdf" for name in ("before", "year", "half")}
    year = ("--year", "2026")
    ok(database_url, "statement", "--fund", fund_id, *year, "--out", str(statements["before"]))
    for fund, through in ((fund_id, "2026-09-30"), (str(other["id"]), "2026-10-31")):
        close = ("fund", "close-books", fund, "--through", through, "--reason", "上半期の締め")
        ok(database_url, *close)
    made = ok(database_url, "statement", "--fund", fund_id, *year, "--out", str(statements["year"]))
    assert made["books_closed_through"] == "2026-09-30"
    half = ("--from", "2026-04-01", "--to", "2026-09-30", "--out", str(statements["half"]))
    said = cli(database_url, "statement", "--fund", fund_id, *half)
    assert said.exit_code == 0, said.output
    assert said.stdout.rstrip().endswith(", books closed through 2026-09-30")

    closed = {
        name: read_statement_metadata(path.read_bytes())["books_closed_through"]
        for name, path in statements.items()
    }
    assert closed == {"before": None, "year": "2026-09-30", "half": "2026-09-30"}
    for path in statements.values():  # each as of its own end
        assert ok(database_url, "statement", "verify", str(path))["verified"] is True


@VERIFY_COMMANDS
def test_verify_rejects_a_statement_claiming_books_closed_that_were_not(
    database_url: str, tmp_path: Path, verify_command: tuple[str, str]
) -> None:
    fund_id = given_a_year_of_a_fund(database_url)
    view = _true_view(database_url, fund_id)
    forged = tmp_path / "forged.pdf"
    final = dataclasses.replace(view, books_closed_through=date(2027, 3, 31))
    forged.write_bytes(render_statement(final))

    result = cli(database_url, *verify_command, str(forged))
    assert result.exit_code == 1
    assert "statement-mismatch" in result.stderr
    assert "books_closed_through" in result.stderr


def test_verify_accepts_a_statement_made_before_statements_told_of_closed_books(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fund_id = given_a_year_of_a_fund(database_url)
    ok(database_url, "fund", "close-books", fund_id, "--through", "2026-09-30", "--reason", "締め")
    view = _true_view(database_url, fund_id)
    monkeypatch.setattr(reports.statement, "encode", functools.partial(encode, schema=SCHEMA_1))
    made_before = tmp_path / "made-before.pdf"
    made_before.write_bytes(render_statement(view))
    assert read_statement_metadata(made_before.read_bytes())["schema"] == SCHEMA_1

    assert ok(database_url, "statement", "verify", str(made_before))["verified"] is True


def test_http_statement_carries_the_same_figures_for_readers_only(api: Api) -> None:
    fund_id = given_a_year_of_a_fund(api.database_url)
    params = {"from": "2026-04-01", "to": "2027-03-31"}
    response = api.get(f"/v1/funds/{fund_id}/statement.pdf", **params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    figures = pots(read_statement_metadata(response.content))
    assert figures["保津川の清掃"]["closing_balance_yen"] == 71_500
    assert (
        api.get(f"/v1/funds/{fund_id}/statement.pdf", **{"from": "2026-04-01"}).status_code == 422
    )
