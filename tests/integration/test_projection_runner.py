"""The projection runner, on SQLite and PostgreSQL: live equals rebuilt, exactly once.

- a catch-up in small batches interleaved with new commands dumps the same tables as `rebuild`,
  and rebuilding one read model leaves the others as they were;
- a projector that fails in the middle of a batch commits nothing of it, and the next catch-up
  resumes from the last committed position: no event lost, none applied twice;
- an event a projector cannot apply (money for a fund it never saw) stops it, loudly;
- so does an event this code cannot decode, named by its position;
- concurrent catch-ups apply each event once;
- each event's journal entry is computed once per page, whatever reads it;
- the garbage collector is off during each page, and as it was after.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
import sqlalchemy as sa
from eventsourcing.persistence import StoredEvent
from sqlalchemy.engine import Engine

from ledger.errors import LedgerError, UnreadableEvent
from ledger.journal import JournalEntry, journal_entry
from ledger.service import FundLedger
from projections import batch, runner
from projections.batch import EventNotApplicable, PositionedEvent
from projections.catalogue import all_projectors, create_read_model_tables
from projections.journal_entries import JournalEntriesProjector
from tests.integration.test_projections import all_events, dump, new_history


def test_live_projection_in_small_batches_equals_a_rebuild(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=11)
    projectors = all_projectors()
    applied_count = 0
    for _ in range(6):
        for _ in range(40):
            history.step()
        applied_count += runner.catch_up(ledger, engine, projectors, batch_size=7)
    live = dump(engine)

    rebuilt_count = runner.rebuild(ledger, engine, projectors, batch_size=50)

    assert dump(engine) == live
    assert rebuilt_count == applied_count == len(all_events(ledger))
    head = ledger.recorder.max_notification_id()
    assert runner.tracked_positions(engine) == {p.name: head for p in projectors}


def test_rebuild_of_one_read_model_leaves_the_others_alone(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=13)
    for _ in range(60):
        history.step()
    runner.catch_up(ledger, engine, all_projectors())
    live = dump(engine)

    runner.rebuild(ledger, engine, all_projectors(), ["journal_entries"])

    assert dump(engine) == live
    with pytest.raises(LedgerError, match="no read model 'nope'"):
        runner.rebuild(ledger, engine, all_projectors(), ["nope"])


def test_an_event_this_code_cannot_decode_stops_the_projectors_at_its_position(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=23)
    for _ in range(30):
        history.step()
    runner.catch_up(ledger, engine, all_projectors())
    before, positions = dump(engine), runner.tracked_positions(engine)
    # As a later version of the ledger might write it: a type this code does not know.
    originator_id = uuid4()
    ledger.recorder.insert_events([StoredEvent(originator_id, 1, "ledger.future:Audit", b"{}")])
    unknown = ledger.recorder.max_notification_id()
    history.donate()

    with pytest.raises(UnreadableEvent) as raised:
        runner.catch_up(ledger, engine, all_projectors())

    assert raised.value.position == unknown
    assert raised.value.message.startswith(
        f"the event at position {unknown} cannot be read (unknown event type 'ledger.future:Audit')"
    )
    assert dump(engine) == before
    assert runner.tracked_positions(engine) == positions
    with pytest.raises(UnreadableEvent, match=f"version 1 of {originator_id} cannot be read"):
        ledger.get(originator_id)


class FailingJournal(JournalEntriesProjector):
    """The journal projector, failing once it reaches `fail_at`, after applying earlier ones;
    its error does not say which event it was."""

    def __init__(self, fail_at: int) -> None:
        self.fail_at = fail_at
        self.applied: list[int] = []

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        before = [(event, position) for event, position in events if position < self.fail_at]
        super().apply_batch(connection, before)
        self.applied += [position for _, position in before]
        if len(before) < len(events):
            raise RuntimeError("disk on fire")


def test_a_failure_mid_batch_commits_nothing_and_the_next_catch_up_resumes(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=17)
    for _ in range(80):
        history.step()
    balances_projector = all_projectors()[0]
    runner.catch_up(ledger, engine, all_projectors(), batch_size=20)
    for _ in range(80):
        history.step()
    start = runner.tracked_positions(engine)["journal_entries"]
    positions = [p for p, _ in all_events(ledger) if p > start]
    fail_at = positions[len(positions) // 2]
    before = dump(engine)
    failing = FailingJournal(fail_at)

    with pytest.raises(runner.ProjectionFailed) as raised:
        runner.catch_up(ledger, engine, [balances_projector, failing], batch_size=len(positions))

    assert f"projector 'journal_entries' cannot apply the event at position {fail_at}" in str(
        raised.value
    )
    assert "disk on fire" in str(raised.value)
    assert failing.applied, "the failure came in the middle of the batch"
    assert dump(engine) == before
    assert runner.tracked_positions(engine)["journal_entries"] == start

    resumed_count = runner.catch_up(ledger, engine, all_projectors(), batch_size=13)
    live = dump(engine)
    runner.rebuild(ledger, engine, all_projectors())

    assert resumed_count == len(positions)
    assert dump(engine) == live


def test_a_money_event_for_an_unknown_fund_stops_the_projector(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=19)
    history.donate()
    runner.catch_up(ledger, engine, all_projectors())
    with engine.begin() as connection:  # the read model loses its pots, behind its back
        connection.execute(sa.text("DELETE FROM fund_balance_pots"))
    before = runner.tracked_positions(engine)
    while not history.accepted["RecordDonation"] >= 2:
        history.donate()
    position = ledger.recorder.max_notification_id()

    with pytest.raises(runner.ProjectionFailed, match="projector 'fund_balances'") as raised:
        runner.catch_up(ledger, engine, all_projectors())

    assert "was opened before" in str(raised.value)
    assert runner.tracked_positions(engine) == before
    assert position is not None
    assert position > before["fund_balances"]


def test_read_model_tables_are_created_idempotently(engine: Engine) -> None:
    create_read_model_tables(engine)
    create_read_model_tables(engine)
    assert runner.tracked_positions(engine) == {}


def test_batch_size_is_bounded(ledger: FundLedger, engine: Engine) -> None:
    for size in (0, runner.BATCH_SIZE_MAX + 1):
        with pytest.raises(LedgerError, match="batch_size"):
            runner.catch_up(ledger, engine, all_projectors(), batch_size=size)


def test_concurrent_catch_ups_apply_each_event_once(ledger: FundLedger, engine: Engine) -> None:
    history = new_history(ledger, seed=29)
    for _ in range(120):
        history.step()
    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(
            pool.map(
                lambda _: runner.catch_up(ledger, engine, all_projectors(), batch_size=5), range(4)
            )
        )
    live = dump(engine)

    runner.rebuild(ledger, engine, all_projectors())

    assert sum(counts) == len(all_events(ledger)), counts
    assert dump(engine) == live


def test_each_event_s_journal_entry_is_computed_once_for_all_projectors(
    ledger: FundLedger, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    history = new_history(ledger, seed=31)
    for _ in range(60):
        history.step()
    computed: list[object] = []

    def counted_journal_entry(event: object) -> JournalEntry | None:
        computed.append(event)
        return journal_entry(event)

    monkeypatch.setattr(batch, "journal_entry", counted_journal_entry)
    applied_count = runner.catch_up(ledger, engine, all_projectors(), batch_size=25)

    # Both the balances and the journal read every entry; each is computed once.
    assert len(computed) == applied_count == len(all_events(ledger))


class CollectorWatcher(JournalEntriesProjector):
    """The journal projector, noting whether the garbage collector ran during each page."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.collector_enabled: list[bool] = []

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        self.collector_enabled.append(gc.isenabled())
        if self.fail:
            raise EventNotApplicable(events[0][1], "told to fail")
        super().apply_batch(connection, events)


def test_the_garbage_collector_is_paused_during_each_page_and_on_again_after(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=37)
    for _ in range(30):
        history.step()
    watcher = CollectorWatcher()

    runner.catch_up(ledger, engine, [watcher], batch_size=10)

    assert len(watcher.collector_enabled) > 1
    assert not any(watcher.collector_enabled)
    assert gc.isenabled()
    with pytest.raises(runner.ProjectionFailed, match="told to fail"):
        runner.rebuild(ledger, engine, [CollectorWatcher(fail=True)])
    assert gc.isenabled()


def test_the_garbage_collector_is_left_off_when_it_was_off(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=41)
    for _ in range(10):
        history.step()
    gc.disable()
    try:
        runner.catch_up(ledger, engine, [CollectorWatcher()])
        assert not gc.isenabled()
    finally:
        gc.enable()
