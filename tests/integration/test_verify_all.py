"""`fund-ledger verify --all`, on SQLite and PostgreSQL: it passes on an untouched ledger and
names, as its first fault, each kind of tampering done behind the application's back (raw
SQL on an event, on a read-model row, on a projector's position; stored receipt bytes through
the receipts hook).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from typer.testing import Result

from api.audit.receipts import IssuedReceipt, check_receipts
from api.audit.verify_all import first_fault, verify_all
from ledger import commands as c
from ledger.claim import claim_id
from ledger.service import FundLedger
from projections.donor_summaries import donor_summary_donations
from projections.fund_balances import fund_balance_pots
from projections.journal_entries import journal_postings
from projections.tables import projection_tracking
from tests.e2e.test_export_tools import History, audited_ledger, cli
from tests.integration.test_chain_verify import RawLedger

CHECK_NAMES = [
    "chain",
    "snapshots",
    "journal",
    "read model fund_balances",
    "read model journal_entries",
    "read model donor_summaries",
    "read model grant_register",
    "read model donor_directory",
    "receipts",
]


@pytest.fixture
def audited(database_url: str) -> Iterator[tuple[FundLedger, Engine, History]]:
    with audited_ledger(database_url, steps=40) as triple:
        yield triple


def verify_lines(database_url: str, *args: str) -> tuple[Result, list[str]]:
    result = cli(database_url, "verify", "--all", *args)
    return result, result.stdout.splitlines()


def test_an_untouched_ledger_passes_every_check_one_line_each(
    database_url: str, audited: Any
) -> None:
    result, lines = verify_lines(database_url)
    assert result.exit_code == 0, result.output
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in lines[:-1]] == CHECK_NAMES
    assert all(line.startswith("ok ") for line in lines[: len(CHECK_NAMES)])
    assert lines[len(CHECK_NAMES) - 1].split() == [
        "ok",
        "receipts:",
        "0",
        "issued",
        "receipts",
        "match",
        "the",
        "hashes",
        "in",
        "their",
        "events",
    ]
    assert lines[-1] == f"verified: {len(CHECK_NAMES)} checks passed"


def test_an_altered_event_is_the_first_fault(database_url: str, audited: Any) -> None:
    raw = RawLedger(database_url)
    position = raw.execute("SELECT MIN({position}) FROM stored_events")[0][0] + 5
    # Trailing white space: the event still decodes the same, only the chain can tell.
    state = bytes(raw.execute("SELECT state FROM stored_events WHERE {position} = %s",
                              (position,))[0][0])  # fmt: skip
    raw.execute("UPDATE stored_events SET state = %s WHERE {position} = %s",
                (state + b" ", position))  # fmt: skip
    raw.connection.close()
    result, lines = verify_lines(database_url)
    assert result.exit_code == 1
    assert lines[0].startswith(f"fail    chain: broken at position {position} (altered)")
    assert result.stderr.startswith(f"error: chain: broken at position {position} (altered)")


def test_an_altered_read_model_row_is_named_with_its_key(
    database_url: str, audited: tuple[FundLedger, Engine, History]
) -> None:
    _ledger, engine, history = audited
    fund_id = next(iter(history.funds))
    pots = fund_balance_pots.c
    with engine.begin() as connection:
        connection.execute(
            fund_balance_pots.update()
            .where(pots.fund_id == fund_id, pots.pot == "general")
            .values(received_yen=pots.received_yen + 1)
        )
    result, lines = verify_lines(database_url)
    assert result.exit_code == 1
    assert lines[0].startswith("ok      chain")
    fault = "read model fund_balances: table fund_balance_pots differs from a fresh rebuild"
    assert result.stderr.startswith(f"error: {fault}")
    assert f"row ('{fund_id}', 'general') differs" in result.stderr
    assert [line for line in lines if line.startswith("fail")] == [f"fail    {lines[3][8:]}"]


def test_an_altered_journal_posting_unbalances_its_entry(
    database_url: str, audited: tuple[FundLedger, Engine, History]
) -> None:
    ledger, engine, _history = audited
    position = ledger.recorder.select_position(claim_id("big"), 1)  # type: ignore[attr-defined]
    postings = journal_postings.c
    with engine.begin() as connection:
        connection.execute(
            journal_postings.update()
            .where(postings.position == position, postings.posting_index == 0)
            .values(amount_yen=postings.amount_yen - 1)
        )
    result, lines = verify_lines(database_url)
    assert result.exit_code == 1
    expected = f"the postings at position {position} in the journal read model do not balance"
    assert result.stderr == f"error: journal: {expected}\n"
    assert any(line.startswith("fail    read model journal_entries") for line in lines)


def test_a_deleted_read_model_row_and_a_moved_position_are_caught(
    database_url: str, audited: tuple[FundLedger, Engine, History]
) -> None:
    _ledger, engine, _history = audited
    donation_id = claim_id("tricky")
    with engine.begin() as connection:
        connection.execute(
            donor_summary_donations.delete().where(
                donor_summary_donations.c.donation_id == donation_id
            )
        )
    result, _lines = verify_lines(database_url)
    assert result.exit_code == 1
    assert "error: read model donor_summaries: table donor_summary_donations" in result.stderr
    assert f"row ('{donation_id}',) is missing" in result.stderr


def test_a_projector_position_moved_back_is_caught(
    database_url: str, audited: tuple[FundLedger, Engine, History]
) -> None:
    _ledger, engine, _history = audited
    tracking = projection_tracking.c
    with engine.begin() as connection:
        connection.execute(
            projection_tracking.update()
            .where(tracking.name == "grant_register")
            .values(position=tracking.position - 3)
        )
    result, _lines = verify_lines(database_url)
    assert result.exit_code == 1
    assert "error: read model grant_register: table grant_register_entries" in result.stderr


def test_read_models_behind_the_log_verify_at_their_own_position(
    database_url: str, audited: tuple[FundLedger, Engine, History]
) -> None:
    ledger, _engine, history = audited
    fund_id = next(iter(history.funds))
    donor_id = history.donors[0]
    donation = c.RecordDonation("late", fund_id, donor_id, 7_000, "card", history.day())
    assert history.run(donation) is not None
    head = ledger.recorder.max_notification_id()
    result, lines = verify_lines(database_url)
    assert result.exit_code == 0, result.output
    assert f"at position {head}" in lines[0]
    assert "equal a fresh rebuild to position" in lines[3]
    assert f"to position {head}" not in lines[3]


def test_the_expected_head_is_passed_to_the_chain_check(database_url: str, audited: Any) -> None:
    result, lines = verify_lines(database_url, "--expect-head", "e" * 64)
    assert result.exit_code == 1
    assert lines[0].startswith("fail    chain: broken at position")
    assert "(head-mismatch)" in result.stderr


def test_json_lists_every_check_and_the_first_fault(database_url: str, audited: Any) -> None:
    result = cli(database_url, "verify", "--all", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [check["name"] for check in payload["checks"]] == CHECK_NAMES
    assert payload["fault"] is None


def receipt(number: str, content: bytes) -> IssuedReceipt:
    return number, hashlib.sha256(content).hexdigest(), content


def test_receipts_whose_bytes_match_their_events_pass() -> None:
    report = check_receipts([receipt("2026-000001", b"%PDF-1"), receipt("2026-000002", b"%PDF-2")])
    assert report.receipt_count == 2
    assert report.fault is None


def test_the_first_receipt_whose_stored_bytes_differ_is_named() -> None:
    altered = ("2026-000002", hashlib.sha256(b"%PDF-2").hexdigest(), b"%PDF-2 altered")
    receipts = [receipt("2026-000001", b"%PDF-1"), altered, ("2026-000003", "0" * 64, b"")]
    report = check_receipts(receipts)
    assert report.receipt_count == 1
    assert report.fault is not None
    assert report.fault.startswith("receipt 2026-000002: its stored bytes hash to")


def test_verify_all_fails_on_an_altered_receipt_from_its_source(
    audited: tuple[FundLedger, Engine, History],
) -> None:
    ledger, engine, _history = audited
    altered = ("2026-000001", hashlib.sha256(b"%PDF-1").hexdigest(), b"%PDF-X")
    checks = verify_all(ledger, engine, receipts=lambda: [altered])
    fault = first_fault(checks)
    assert fault is not None
    assert fault.name == "receipts"
    assert [check.status for check in checks[:-1]] == ["ok"] * (len(CHECK_NAMES) - 1)
    passing = verify_all(ledger, engine, receipts=lambda: [receipt("2026-000001", b"%PDF-1")])
    assert passing[-1].detail == "1 issued receipts match the hashes in their events"
