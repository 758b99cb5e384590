"""The two uses of a plan: the dry run, which records nothing, and the import, which records
every row or none.

The import checks the whole file first (the plan); any problem and nothing is recorded. Then
all its donations go to the ledger in ONE `execute_batch`, one atomic write: a crash (or a
kill) at any moment leaves all of them or none. A file is therefore at most
`BATCH_SIZE_MAX` rows (`csvfile.ROW_COUNT_MAX`); a longer one is refused, not split, since
several writes would not be all-or-nothing.

Rows whose key the ledger already holds with the same content are replays: they record
nothing and are reported as `already recorded`; so importing a file twice records it once,
and two overlapping files record their union. The dry run looks every key up (one read per
row) so that it can say the same beforehand; the import does not, and leaves that to the
ledger, which only looks keys up when they collide.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from uuid import UUID

from api.imports.csvfile import Problem
from api.imports.plan import (
    ImportPlan,
    ImportRequest,
    PlannedDonation,
    Progress,
    no_progress,
    plan_import,
)
from ledger.claim import claim_id
from ledger.commands import request_fingerprint
from ledger.donation import Donation
from ledger.errors import BatchRejected, BooksClosed, ImportRejected
from ledger.fund import Fund
from ledger.service import FundLedger


class RowStatus(Enum):
    NEW = "new"  # the dry run: would be recorded
    RECORDED = "recorded"
    ALREADY_RECORDED = "already recorded"  # an earlier import recorded it: nothing new


@dataclass(frozen=True)
class RowResult:
    planned: PlannedDonation
    status: RowStatus

    @property
    def donation_id(self) -> UUID:
        return claim_id(self.planned.command.idempotency_key)


@dataclass(frozen=True)
class ImportReport:
    plan: ImportPlan
    dry_run: bool
    rows: tuple[RowResult, ...]
    problems: tuple[Problem, ...]
    position: int | None = None  # of the write; None when it recorded nothing

    def count(self, status: RowStatus) -> int:
        return sum(row.status is status for row in self.rows)


def dry_run(
    ledger: FundLedger, data: bytes, request: ImportRequest, progress: Progress = no_progress
) -> ImportReport:
    """What the import would record, row by row, and every problem; records nothing."""
    plan = plan_import(ledger, data, request, progress)
    rows, problems = [], list(plan.problems)
    for planned in plan.donations:
        status, problem = _earlier_use(ledger, planned)
        if status is RowStatus.NEW and problem is None:
            problem = _in_closed_books(plan.fund, planned)
        rows.append(RowResult(planned, status))
        if problem is not None:
            problems.append(problem)
    problems.sort(key=lambda p: p.line)
    return ImportReport(plan, True, tuple(rows), tuple(problems))


def import_donations(
    ledger: FundLedger,
    data: bytes,
    request: ImportRequest,
    *,
    actor: str,
    progress: Progress = no_progress,
) -> ImportReport:
    """Record every row of the file in one atomic write, or nothing (`ImportRejected`)."""
    plan = plan_import(ledger, data, request, progress)
    if plan.problems:
        raise rejection(plan.problems)
    commands = [planned.command for planned in plan.donations]
    progress("recording", 0, len(commands))
    try:
        outcomes = ledger.execute_batch(commands, actor=actor)
    except BatchRejected as refused:
        line = plan.donations[refused.index].row.line
        raise rejection((Problem(line, refused.cause.code, refused.cause.message),)) from None
    progress("recording", len(commands), len(commands))
    rows = tuple(
        RowResult(planned, RowStatus.ALREADY_RECORDED if outcome.replayed else RowStatus.RECORDED)
        for planned, outcome in zip(plan.donations, outcomes, strict=True)
    )
    positions = [o.position for o in outcomes if not o.replayed and o.position is not None]
    return ImportReport(plan, False, rows, (), max(positions, default=None))


def rejection(problems: tuple[Problem, ...] | list[Problem]) -> ImportRejected:
    lines = len({problem.line for problem in problems})
    first = problems[0]
    return ImportRejected(
        f"{len(problems)} problem(s) on {lines} line(s), nothing recorded;"
        f" first: line {first.line}: {first.message}",
        tuple(problem.as_tuple() for problem in problems),
    )


def _in_closed_books(fund: Fund, planned: PlannedDonation) -> Problem | None:
    """The refusal the ledger would give a new row dated where the fund's books are closed
    (a row recorded before the closing is a replay, and stands)."""
    try:
        fund.check_books_open_on(planned.row.effective_on)
    except BooksClosed as closed:
        return Problem(planned.row.line, closed.code, closed.message)
    return None


def _earlier_use(ledger: FundLedger, planned: PlannedDonation) -> tuple[RowStatus, Problem | None]:
    command = planned.command
    first = ledger.get(claim_id(command.idempotency_key))
    if first is None:
        return RowStatus.NEW, None
    if isinstance(first, Donation) and first.request_fingerprint == request_fingerprint(command):
        return RowStatus.ALREADY_RECORDED, None
    message = (
        f"its key {command.idempotency_key} was used before for another request"
        f" ({type(first).__name__} {first.id}): the same reference with other content?"
    )
    return RowStatus.NEW, Problem(planned.row.line, "idempotency-key-reused", message)
