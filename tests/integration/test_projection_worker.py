"""The projection worker, on SQLite and PostgreSQL: it catches up in the background, answers
`wait_for` as soon as a position is projected, stops on a projector's failure and reports it,
is woken by new events on PostgreSQL, and stops promptly.

No timed assertions: every wait is bounded, and a wait that ends within its bound is what is
asserted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from uuid import UUID

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.service import FundLedger
from projections import runner
from projections.batch import PositionedEvent
from projections.catalogue import all_projectors
from projections.journal_entries import JournalEntriesProjector
from projections.worker import ProjectionWorker, wait_for_position
from tests.integration.givens import donation, fund_and_donor
from tests.integration.test_projections import dump, read_side

WAIT_S = 30  # a bound, never expected to be reached
NEVER_S = 0.3  # how long to wait for a position that never comes
LONG_POLL_S = 120  # longer than any wait here: only a notification or a wake helps in time
QUICK_POLL_S = 0.05


@pytest.fixture
def givens(ledger: FundLedger) -> tuple[UUID, UUID]:
    return fund_and_donor(ledger)


@pytest.fixture
def workers() -> Iterator[list[ProjectionWorker]]:
    """Workers a test starts, stopped at its end whatever happens."""
    started: list[ProjectionWorker] = []
    yield started
    for worker in started:
        worker.stop()


def started(
    workers: list[ProjectionWorker],
    ledger: FundLedger,
    engine: Engine,
    projectors: Sequence[runner.Projector] | None = None,
    *,
    poll_interval_s: float = QUICK_POLL_S,
) -> ProjectionWorker:
    worker = ProjectionWorker(
        ledger, engine, projectors or all_projectors(), poll_interval_s=poll_interval_s
    )
    workers.append(worker)
    worker.start()
    return worker


def donate(ledger: FundLedger, givens: tuple[UUID, UUID], count: int, first: int = 0) -> int:
    """`count` donations in one batch; the log's head after them."""
    fund_id, donor_id = givens
    keys = range(first, first + count)
    ledger.execute_batch([donation(f"d{n}", fund_id, donor_id, 1_000 + n) for n in keys], actor="t")
    return ledger.recorder.max_notification_id() or 0


def test_the_worker_catches_up_after_writes_and_equals_a_rebuild(
    ledger: FundLedger, engine: Engine, givens: tuple[UUID, UUID], workers: list[ProjectionWorker]
) -> None:
    head = donate(ledger, givens, 30)
    worker = started(workers, ledger, engine)

    assert worker.wait_for(head, WAIT_S)
    head = donate(ledger, givens, 40, first=30)
    worker.wake()
    assert worker.wait_for(head, WAIT_S)
    assert worker.position == head
    worker.stop()
    live = dump(engine)
    runner.rebuild(ledger, engine, all_projectors())

    assert dump(engine) == live
    assert set(runner.tracked_positions(engine).values()) == {head}


def test_wait_for_a_position_never_written_times_out(
    ledger: FundLedger, engine: Engine, givens: tuple[UUID, UUID], workers: list[ProjectionWorker]
) -> None:
    head = donate(ledger, givens, 3)
    worker = started(workers, ledger, engine)

    assert worker.wait_for(head, WAIT_S)
    assert not worker.wait_for(head + 1_000, NEVER_S)
    assert worker.failure is None


class FailingJournal(JournalEntriesProjector):
    """The journal projector, unable to apply anything."""

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        raise RuntimeError("disk on fire")


def test_a_failing_projector_stops_the_worker_and_wait_for_raises(
    ledger: FundLedger, engine: Engine, givens: tuple[UUID, UUID], workers: list[ProjectionWorker]
) -> None:
    head = donate(ledger, givens, 5)
    worker = started(workers, ledger, engine, [all_projectors()[0], FailingJournal()])

    with pytest.raises(runner.ProjectionFailed, match="projector 'journal_entries'"):
        worker.wait_for(head, WAIT_S)

    assert isinstance(worker.failure, runner.ProjectionFailed)
    assert "disk on fire" in str(worker.failure)
    with pytest.raises(runner.ProjectionFailed):
        worker.wait_for(1, WAIT_S)
    assert runner.tracked_positions(engine).get("journal_entries", 0) == 0


def test_on_postgres_new_events_wake_the_worker_before_its_poll(
    postgres_url: str, workers: list[ProjectionWorker]
) -> None:
    with read_side(postgres_url) as (ledger, engine):
        givens = fund_and_donor(ledger)
        worker = started(workers, ledger, engine, poll_interval_s=LONG_POLL_S)
        assert worker.wait_for(ledger.recorder.max_notification_id() or 0, WAIT_S)

        head = donate(ledger, givens, 2)  # no wake(): only the NOTIFY can tell the worker

        assert worker.wait_for(head, WAIT_S), "woken within the bound, long before its poll"
        worker.stop()


def test_stop_is_prompt_while_the_worker_waits_for_its_poll(
    ledger: FundLedger, engine: Engine, workers: list[ProjectionWorker]
) -> None:
    worker = started(workers, ledger, engine, poll_interval_s=LONG_POLL_S)
    assert worker.wait_for(0, WAIT_S)
    stopping = threading.Thread(target=worker.stop)

    stopping.start()
    stopping.join(timeout=WAIT_S)

    assert not stopping.is_alive(), "stop() returned within the bound, not after the poll"


def test_wait_for_position_polls_the_tracking_table(
    ledger: FundLedger, engine: Engine, givens: tuple[UUID, UUID]
) -> None:
    head = donate(ledger, givens, 4)
    assert not wait_for_position(engine, head, NEVER_S)
    catching_up = threading.Thread(target=runner.catch_up, args=(ledger, engine, all_projectors()))

    catching_up.start()
    try:
        assert wait_for_position(engine, head, WAIT_S)
    finally:
        catching_up.join()
    assert not wait_for_position(engine, head + 1, NEVER_S)
