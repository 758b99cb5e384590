"""`fund-ledger export journal` read by tools nobody on this project wrote: hledger and
beancount give exactly the ledger's balances, per fund, designation and period.

Given a generated history with every kind of money event (on SQLite and PostgreSQL), the
export's account balances equal the ones derived from the ledger's own balances
(`projections.as_of.balances_at`, the figures `fund-ledger balances --as-of` prints): cash per
pot, grants payable (committed), host fees, grants expense, restricted net assets per
designation and unrestricted net assets per fund. hledger is the Debian package, beancount
the pip package; each test skips, saying so, only when its tool is absent.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from api.audit.accounts import tool_account
from api.cli import app
from ledger import commands as c
from ledger.claim import claim_id
from ledger.service import FundLedger
from projections import runner
from projections.as_of import balances_at
from projections.catalogue import all_projectors
from projections.fund_balances import FundBalances
from tests.integration.test_projections import History, new_history, read_side

STEPS = 120
PERIOD_ENDS = (date(2026, 5, 31), date(2026, 7, 31), date(2026, 11, 20))
TRICKY_NAME = '株式会社 "A;B|C", 亀岡〜支店'

cli_runner = CliRunner()


def cli(url: str, *args: str) -> Result:
    return cli_runner.invoke(app, ["--database-url", url, "--actor", "監事 佐藤", *args])


@contextmanager
def audited_ledger(
    database_url: str, seed: int = 5, steps: int = STEPS
) -> Iterator[tuple[FundLedger, Engine, History]]:
    """A generated history (every kind of money event, a donor corrected, a donor whose name
    needs escaping in every format), projected into the read models."""
    with read_side(database_url) as (ledger, engine):
        history = new_history(ledger, seed)
        tricky = c.RegisterDonor(
            "organisation", TRICKY_NAME, "カブシキガイシャ", "621-0806", "亀岡市"
        )
        tricky_id = history.run(tricky)
        assert tricky_id is not None
        history.donors.append(tricky_id)
        history.run(c.CorrectDonor(history.donors[0], {"address": "亀岡市 1-1"}, "転居"))
        for _ in range(steps):
            history.step()
        every_kind_once(history, tricky_id)
        runner.catch_up(ledger, engine, all_projectors())
        yield ledger, engine, history


def every_kind_once(history: History, donor_id: UUID) -> None:
    """A donation from `donor_id`, and one of each money event, whatever the seed planned."""
    fund_id = next(iter(history.funds))
    day = date(2026, 6, 1)
    for key, amount_yen in (("tricky", 5_000), ("big", 400_000), ("voided", 1_000)):
        history.run(c.RecordDonation(key, fund_id, donor_id, amount_yen, "cash", day))
    history.run(c.RefundDonation("tricky-refund", claim_id("tricky"), 2_000, "申し出", day))
    history.run(c.VoidDonation("void", claim_id("voided"), "二重入力", day))
    for key in ("grant-a", "grant-b"):
        history.run(c.AwardGrant(key, fund_id, "NPO 亀岡", "代表", "活動", 100_000, None, day))
    grant_id = claim_id("grant-a")
    history.run(c.ReduceGrant("reduce", grant_id, 10_000, "縮小", day))
    history.run(c.DisburseGrant("disburse", grant_id, 50_000, day))
    history.run(c.RecordGrantReturn("return", grant_id, 5_000, "未使用", day))
    history.run(c.CancelGrant("cancel", claim_id("grant-b"), "中止", day))


def expected_accounts(funds: list[FundBalances]) -> dict[str, int]:
    """Each tool account's balance (debit positive) implied by the ledger's balances."""
    expected: Counter[str] = Counter()
    for fund in funds:
        fid = fund.fund_id
        for pot in fund.pots:
            t = pot.totals
            expected[tool_account(fid, f"cash:{pot.pot}")] += pot.cash_yen
            expected[tool_account(fid, f"grants_payable:{pot.pot}")] -= pot.committed_yen
            expected[tool_account(fid, f"host_fee:{pot.pot}")] += t["host_fees_yen"]
            grants_yen = t["awarded_yen"] - t["reduced_yen"] - t["returned_yen"]
            expected[tool_account(fid, f"grants:{pot.pot}")] += grants_yen
            unrestricted = tool_account(fid, "net_assets:unrestricted")
            if pot.pot == "general":
                expected[unrestricted] -= pot.donated_net_yen
            else:
                expected[tool_account(fid, f"net_assets:restricted:{pot.pot}")] -= pot.cash_yen
                expected[unrestricted] -= t["restriction_released_yen"]
    return {account: yen for account, yen in expected.items() if yen}


def hledger_balances(path: Path, *args: str) -> dict[str, int]:
    command = ["hledger", "-f", str(path), "bal", "--flat", "--no-total", "-O", "csv", *args]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rows = list(csv.reader(io.StringIO(output)))[1:]
    balances = {}
    for account, amount in rows:
        number, commodity = amount.split()
        assert commodity == "JPY", amount
        balances[account] = int(number)
    return {account: yen for account, yen in balances.items() if yen}


def beancount_balances(path: Path, *, until: date | None = None) -> dict[str, int]:
    loader = pytest.importorskip("beancount.loader", reason="beancount is not installed")
    from beancount.core import data

    entries, errors, _options = loader.load_file(str(path))
    assert errors == [], errors
    balances: Counter[str] = Counter()
    for entry in entries:
        if isinstance(entry, data.Transaction) and (until is None or entry.date <= until):
            for posting in entry.postings:
                assert posting.units.currency == "JPY"
                assert posting.units.number == posting.units.number.to_integral_value()
                balances[posting.account] += int(posting.units.number)
    return {account: yen for account, yen in balances.items() if yen}


def exported(url: str, tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    result = cli(url, "export", "journal", *args, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out


def needs(tool: str) -> Any:
    return pytest.mark.skipif(
        shutil.which(tool) is None, reason=f"{tool} is not installed (apt-get install {tool})"
    )


def differences(left: dict[str, int], right: dict[str, int]) -> dict[str, tuple[int, int]]:
    return {
        account: (left.get(account, 0), right.get(account, 0))
        for account in set(left) | set(right)
        if left.get(account, 0) != right.get(account, 0)
    }


@needs("hledger")
def test_hledger_balances_equal_the_ledgers_per_fund_designation_and_period(
    database_url: str, tmp_path: Path
) -> None:
    with audited_ledger(database_url) as (ledger, _engine, history):
        journal = exported(database_url, tmp_path, "all.journal", "--format", "hledger")
        for end in PERIOD_ENDS:
            expected = expected_accounts(balances_at(ledger, as_of=end))
            found = hledger_balances(journal, "-e", (end + timedelta(days=1)).isoformat())
            assert differences(found, expected) == {}, end
        fund_id = next(iter(history.funds))
        one_fund = exported(database_url, tmp_path, "one.journal", "--format", "hledger",
                            "--fund", str(fund_id))  # fmt: skip
        expected = expected_accounts(balances_at(ledger, as_of=PERIOD_ENDS[-1], fund_id=fund_id))
        assert differences(hledger_balances(one_fund), expected) == {}


@needs("hledger")
def test_an_export_of_a_period_holds_its_movements_only(database_url: str, tmp_path: Path) -> None:
    start, end = date(2026, 6, 1), date(2026, 8, 31)
    with audited_ledger(database_url, seed=11) as (ledger, _engine, _history):
        period = exported(database_url, tmp_path, "q.journal", "--format", "hledger",
                          "--from", start.isoformat(), "--to", end.isoformat())  # fmt: skip
        closing = expected_accounts(balances_at(ledger, as_of=end))
        opening = expected_accounts(balances_at(ledger, as_of=start - timedelta(days=1)))
        movements = {a: closing.get(a, 0) - opening.get(a, 0) for a in set(closing) | set(opening)}
        expected = {account: yen for account, yen in movements.items() if yen}
        assert differences(hledger_balances(period), expected) == {}


def test_beancount_balances_equal_the_ledgers_per_fund_designation_and_period(
    database_url: str, tmp_path: Path
) -> None:
    pytest.importorskip("beancount", reason="beancount is not installed (pip install beancount)")
    with audited_ledger(database_url) as (ledger, _engine, history):
        ledger_file = exported(database_url, tmp_path, "all.beancount", "--format", "beancount")
        for end in PERIOD_ENDS:
            expected = expected_accounts(balances_at(ledger, as_of=end))
            assert differences(beancount_balances(ledger_file, until=end), expected) == {}, end
        fund_id = list(history.funds)[1]
        to_date = exported(database_url, tmp_path, "to.beancount", "--format", "beancount",
                           "--fund", str(fund_id), "--to", PERIOD_ENDS[0].isoformat())  # fmt: skip
        expected = expected_accounts(balances_at(ledger, as_of=PERIOD_ENDS[0], fund_id=fund_id))
        assert differences(beancount_balances(to_date), expected) == {}


def test_the_generated_history_holds_every_kind_of_money_event(database_url: str) -> None:
    with audited_ledger(database_url) as (_ledger, _engine, history):
        kinds = {kind for kind, count in history.accepted.items() if count}
    assert {"RecordDonation", "RefundDonation", "VoidDonation", "AwardGrant", "DisburseGrant",
            "ReduceGrant", "CancelGrant", "RecordGrantReturn", "CorrectDonor"} <= kinds  # fmt: skip


BEAN_CHECK = Path(sys.executable).with_name("bean-check")


@pytest.mark.skipif(
    not BEAN_CHECK.exists(), reason="bean-check is not installed (pip install beancount)"
)
def test_bean_check_accepts_the_export_and_metadata_names_each_event(
    sqlite_url: str, tmp_path: Path
) -> None:
    with audited_ledger(sqlite_url) as _:
        ledger_file = exported(sqlite_url, tmp_path, "all.beancount", "--format", "beancount")
    subprocess.run([str(BEAN_CHECK), str(ledger_file)], check=True, capture_output=True)
    text = ledger_file.read_text(encoding="utf-8")
    assert '"株式会社 \\"A;B|C\\", 亀岡〜支店" "donation"' in text
    assert "  position: " in text
    assert "  event_id: " in text


@needs("hledger")
def test_hledger_finds_an_event_by_its_position_tag(sqlite_url: str, tmp_path: Path) -> None:
    with audited_ledger(sqlite_url) as (ledger, _engine, _history):
        journal = exported(sqlite_url, tmp_path, "all.journal", "--format", "hledger")
        position = ledger.recorder.select_position(claim_id("tricky"), 1)  # type: ignore[attr-defined]
    command = ["hledger", "-f", str(journal), "print", f"tag:position={position}$"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    assert output.startswith('2026-06-01 * 株式会社 "A；B｜C", 亀岡〜支店 | donation')
    assert f"event:{claim_id('tricky')}" in output
