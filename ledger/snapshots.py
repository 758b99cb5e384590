"""Verification of the funds' snapshots against the events they summarise.

Snapshots live outside the hash-chained event log (the library keeps them in their own
table), yet the domain trusts them to load a fund's balances quickly. A snapshot altered or
forged behind the application's back could hide an overdraft, so `fund-ledger verify` replays
each fund's events once and compares every stored snapshot with the state at its version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.application import project_aggregate
from eventsourcing.utils import get_topic

from ledger.fund import Fund
from ledger.service import FundLedger

_PAGE_SIZE = 1_000


@dataclass(frozen=True)
class SnapshotReport:
    snapshot_count: int
    fault: str | None  # the first snapshot that differs from its events, described


def verify_snapshots(ledger: FundLedger) -> SnapshotReport:
    if ledger.snapshots is None:
        return SnapshotReport(0, None)
    checked = 0
    for fund_id in _fund_ids(ledger):
        snapshots = {s.originator_version: s for s in ledger.snapshots.get(fund_id)}
        if not snapshots:
            continue
        fund: Any = None
        for event in ledger.events.get(fund_id, lte=max(snapshots)):
            fund = project_aggregate(fund, [event])
            snapshot = snapshots.pop(event.originator_version, None)
            if snapshot is None:
                continue
            if Fund.Snapshot.take(fund).state != snapshot.state:  # type: ignore[attr-defined]
                where = f"snapshot of fund {fund_id} at version {snapshot.originator_version}"
                return SnapshotReport(checked, f"{where} differs from the fund's events")
            checked += 1
        if snapshots:
            where = f"snapshot of fund {fund_id} at version {min(snapshots)}"
            return SnapshotReport(checked, f"{where} is beyond the fund's events")
    return SnapshotReport(checked, None)


def _fund_ids(ledger: FundLedger) -> list[UUID]:
    topic = get_topic(Fund.Opened)
    ids: list[UUID] = []
    last = 0
    while True:
        page = ledger.recorder.select_notifications(
            last, _PAGE_SIZE, topics=[topic], inclusive_of_start=False
        )
        ids.extend(UUID(str(n.originator_id)) for n in page)
        if len(page) < _PAGE_SIZE:
            return ids
        last = page[-1].id
