"""A rebuild on PostgreSQL is built beside the live read models and swapped in at the end:

- readers see the old, whole read models all through the rebuild, never a half-built one;
- events written while it runs are applied once, by the rebuild or by the live projector;
- a rebuild that fails leaves the live read models and their positions as they were;
- no scratch schema outlives the rebuild.

(On SQLite the rebuild replays in place; `test_projection_runner` covers both databases.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.service import FundLedger
from projections import indexes, runner
from projections.batch import PositionedEvent
from projections.catalogue import all_projectors
from projections.journal_entries import JournalEntriesProjector, journal_postings
from tests.integration.test_projection_runner import FailingJournal
from tests.integration.test_projections import (
    History,
    all_events,
    dump,
    new_history,
    read_side,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def ledger_and_engine(postgres_url: str) -> Iterator[tuple[FundLedger, Engine]]:
    with read_side(postgres_url) as pair:
        yield pair


class WatchingJournal(JournalEntriesProjector):
    """The journal projector, which before each page counts the rows a reader of the live
    journal sees, and may run `during` once, as a concurrent writer would."""

    def __init__(self, live: Engine, during: object = None) -> None:
        self.live = live
        self.during = during
        self.seen: list[int] = []

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        with self.live.connect() as reader:
            self.seen.append(
                reader.scalar(sa.select(sa.func.count()).select_from(journal_postings))
            )
        if callable(self.during):
            during, self.during = self.during, None
            during()
        super().apply_batch(connection, events)


def projected_history(ledger: FundLedger, engine: Engine, *, seed: int, steps: int) -> History:
    """A seeded history of `steps` commands, projected into the live read models."""
    history = new_history(ledger, seed=seed)
    for _ in range(steps):
        history.step()
    runner.catch_up(ledger, engine, all_projectors())
    return history


def scratch_schemas(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        query = "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :like"
        return list(connection.scalars(sa.text(query), {"like": "%\\_\\_rebuild\\_%"}))


def test_readers_see_the_whole_old_journal_until_the_rebuilt_one_is_swapped_in(
    ledger_and_engine: tuple[FundLedger, Engine],
) -> None:
    ledger, engine = ledger_and_engine
    projected_history(ledger, engine, seed=29, steps=120)
    live = dump(engine)
    rows_before = live_rows(engine)
    watching = WatchingJournal(engine)

    runner.rebuild(ledger, engine, [watching], batch_size=15)

    assert len(watching.seen) > 3, "the rebuild ran page by page"
    assert set(watching.seen) == {rows_before}
    assert dump(engine) == live
    assert scratch_schemas(engine) == []


def test_events_written_during_a_rebuild_are_applied_once(
    ledger_and_engine: tuple[FundLedger, Engine],
) -> None:
    ledger, engine = ledger_and_engine
    history = projected_history(ledger, engine, seed=31, steps=80)

    def write_more() -> None:
        for _ in range(40):
            history.step()

    projectors = all_projectors()
    projectors[1] = WatchingJournal(engine, during=write_more)
    rebuilt_count = runner.rebuild(ledger, engine, projectors, batch_size=25)
    runner.catch_up(ledger, engine, all_projectors())
    live = dump(engine)
    runner.rebuild(ledger, engine, all_projectors())

    assert rebuilt_count == len(all_events(ledger))
    assert dump(engine) == live
    head = ledger.recorder.max_notification_id()
    assert runner.tracked_positions(engine) == {p.name: head for p in all_projectors()}


def test_events_written_just_before_the_swap_are_applied_by_the_swap(
    ledger_and_engine: tuple[FundLedger, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger, engine = ledger_and_engine
    history = projected_history(ledger, engine, seed=41, steps=60)
    ensure = indexes.ensure

    def ensure_then_write(on: Engine, tables: Sequence[sa.Table]) -> None:
        ensure(on, tables)  # the replay has ended: what comes now is for the swap
        for _ in range(40):
            history.step()

    monkeypatch.setattr(indexes, "ensure", ensure_then_write)
    rebuilt_count = runner.rebuild(ledger, engine, all_projectors())
    monkeypatch.undo()
    swapped = dump(engine)
    runner.rebuild(ledger, engine, all_projectors())

    head = ledger.recorder.max_notification_id()
    assert rebuilt_count == len(all_events(ledger))
    assert runner.tracked_positions(engine) == {p.name: head for p in all_projectors()}
    assert dump(engine) == swapped


def test_a_rebuild_that_fails_leaves_the_live_read_models_as_they_were(
    ledger_and_engine: tuple[FundLedger, Engine],
) -> None:
    ledger, engine = ledger_and_engine
    projected_history(ledger, engine, seed=37, steps=60)
    before, positions = dump(engine), runner.tracked_positions(engine)
    fail_at = all_events(ledger)[-5][0]

    with pytest.raises(runner.ProjectionFailed, match=f"at position {fail_at}"):
        runner.rebuild(ledger, engine, [all_projectors()[0], FailingJournal(fail_at)])

    assert dump(engine) == before
    assert runner.tracked_positions(engine) == positions
    assert scratch_schemas(engine) == []


def live_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        count = connection.scalar(sa.select(sa.func.count()).select_from(journal_postings))
    assert isinstance(count, int)
    return count
