"""`verify --all`: every check an auditor can run against a live ledger, one result each.

1. `chain`: the hash chain over every event (and an expected head, if given);
2. `snapshots`: every stored fund snapshot equals its fund's events replayed;
3. `journal`: every money event's journal entry balances, and so does every event's postings
   in the journal read model;
4. `read model <name>`, one per read model: its tables equal a fresh rebuild
   (`api.audit.read_models`);
5. `receipts`: every issued receipt's stored bytes match the sha256 in its issue event
   (`api.audit.receipts`; reported as not wired until a receipt source is given).

Every check runs even after one fails, so the auditor sees the whole picture; the first fault
is the one named. A check that cannot complete (an event too damaged to decode, say) fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.audit.entries import Selection, positioned_entries
from api.audit.read_models import compare_read_models
from api.audit.receipts import ReceiptSource, check_receipts
from ledger.journal import Side
from ledger.service import FundLedger
from ledger.snapshots import verify_snapshots
from ledger.store import ChainedApplicationRecorder, verify_chain
from projections.catalogue import all_projectors
from projections.journal_entries import journal_postings

Status = Literal["ok", "fail", "skipped"]


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str  # what was checked, or what is wrong

    @property
    def line(self) -> str:
        return f"{self.status:<7} {self.name}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


def first_fault(checks: list[Check]) -> Check | None:
    return next((check for check in checks if check.status == "fail"), None)


def verify_all(
    ledger: FundLedger,
    engine: Engine,
    *,
    expected_head: str | None = None,
    receipts: ReceiptSource | None = None,
) -> list[Check]:
    recorder = ledger.recorder
    assert isinstance(recorder, ChainedApplicationRecorder), "the ledger refuses any other"
    checks = [
        _guarded("chain", lambda: _chain(recorder, expected_head)),
        _guarded("snapshots", lambda: _snapshots(ledger)),
        _guarded("journal", lambda: _journal(ledger, engine)),
    ]
    try:
        for report in compare_read_models(ledger, engine, all_projectors()):
            name = f"read model {report.name}"
            if report.fault is None:
                detail = (
                    f"{report.table_count} table(s) equal a fresh rebuild"
                    f" to position {report.position}"
                )
                checks.append(Check(name, "ok", detail))
            else:
                checks.append(Check(name, "fail", report.fault))
    except Exception as error:
        checks.append(Check("read models", "fail", f"could not rebuild: {_described(error)}"))
    checks.append(_guarded("receipts", lambda: _receipts(receipts)))
    return checks


def _guarded(name: str, run: Callable[[], tuple[Status, str]]) -> Check:
    try:
        status, detail = run()
    except Exception as error:
        return Check(name, "fail", f"could not complete: {_described(error)}")
    return Check(name, status, detail)


def _described(error: Exception) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def _chain(recorder: ChainedApplicationRecorder, expected_head: str | None) -> tuple[Status, str]:
    report = verify_chain(recorder, expected_head=expected_head)
    if report.fault is not None:
        fault = report.fault
        return "fail", f"broken at position {fault.position} ({fault.kind}): {fault.message}"
    head = f"head {report.head_hash} at position {report.head_position or 0}"
    expected = "" if expected_head is None else "; the expected head is in the chain"
    return "ok", f"{report.event_count} events, {head}{expected}"


def _snapshots(ledger: FundLedger) -> tuple[Status, str]:
    report = verify_snapshots(ledger)
    if report.fault is not None:
        return "fail", report.fault
    return "ok", f"{report.snapshot_count} snapshots match their funds' events"


def _journal(ledger: FundLedger, engine: Engine) -> tuple[Status, str]:
    entry_count = 0
    for item in positioned_entries(ledger, Selection()):
        if not item.entry.is_balanced():
            return (
                "fail",
                f"the journal entry of the event at position {item.position} does not balance",
            )
        entry_count += 1
    side = journal_postings.c.side
    signed = sa.case(
        (side == Side.DEBIT.value, journal_postings.c.amount_yen),
        else_=-journal_postings.c.amount_yen,
    )
    unbalanced = (
        sa.select(journal_postings.c.position)
        .group_by(journal_postings.c.position)
        .having(sa.func.sum(signed) != 0)
        .order_by(journal_postings.c.position)
        .limit(1)
    )
    with engine.connect() as connection:
        position = connection.scalar(unbalanced)
    if position is not None:
        return (
            "fail",
            f"the postings at position {position} in the journal read model do not balance",
        )
    return "ok", f"{entry_count} entries balance, in the events and in the journal read model"


def _receipts(receipts: ReceiptSource | None) -> tuple[Status, str]:
    if receipts is None:
        return "skipped", "not wired yet: the ledger stores no issued receipts"
    report = check_receipts(receipts())
    if report.fault is not None:
        return "fail", report.fault
    return "ok", f"{report.receipt_count} issued receipts match the hashes in their events"
