"""Feeding read models from the event log, each event exactly once.

A projector has a `name`, the `tables` it owns, and `apply_batch(connection, events)`, which
gets a whole page of decoded events with their positions and folds them into as few
statements as it can (see `projections.batch`). `catch_up` pages through the log after the
projectors' tracked positions; per page it opens one transaction, locks and reads the
tracking rows, decodes the page once, hands each projector the events it has not seen (one
`Page`, so each event's journal entry is computed once for all of them), and moves the
tracking rows to the page's last position, then commits. Python's cyclic garbage collector
is paused for the page (`_collector_paused`). Updates and position
commit together or not at all, so a crash or an error anywhere in a page leaves the read
models exactly as they were after the previous page.

A projector that cannot apply an event (a money event for a fund it has never seen, say)
stops the run with `ProjectionFailed`, naming itself and the position: the read model would
otherwise be silently wrong. Nothing is ever logged and skipped. When the error does not say
which event it was (the database refused a bulk statement), the page is replayed one event
at a time in a transaction that is rolled back, to find it.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

import sqlalchemy as sa
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Notification
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from ledger.errors import InvalidInput, LedgerError
from ledger.service import FundLedger
from projections import indexes
from projections.batch import EventNotApplicable, Page, PositionedEvent
from projections.database import WRITE_OPTIONS, in_schema, is_postgres
from projections.tables import metadata, projection_tracking

BATCH_SIZE_MAX = 10_000
BATCH_SIZE_DEFAULT = 1_000
# A rebuild replays the whole log with nobody waiting on each page: the largest pages, whose
# fixed costs (reads, statements, a commit) are shared by the most events.
REBUILD_BATCH_SIZE_DEFAULT = BATCH_SIZE_MAX


class ProjectionFailed(LedgerError):
    """A projector met an event it cannot apply; nothing of that batch was committed."""

    code = "projection-failed"


class Projector(Protocol):
    """A read model: its tables, and how a page of events changes them."""

    @property
    def name(self) -> str: ...

    @property
    def tables(self) -> Sequence[sa.Table]: ...

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        """Change the tables for `events` (in log order); raise if one cannot be applied,
        `EventNotApplicable` naming it when the projector knows which."""


class _ProjectorError(Exception):
    """A projector's error that names no event: `_pinpointed` finds the event."""

    def __init__(self, projector: Projector, events: Sequence[PositionedEvent]) -> None:
        super().__init__(projector.name)
        self.projector = projector
        self.events = events


def catch_up(
    ledger: FundLedger,
    engine: Engine,
    projectors: Sequence[Projector],
    *,
    batch_size: int = BATCH_SIZE_DEFAULT,
    should_stop: Callable[[], bool] = lambda: False,
    on_batch: Callable[[int], None] = lambda _position: None,
) -> int:
    """Apply every event after the projectors' positions; return how many events were applied.

    Memory is bounded by `batch_size` events. `should_stop` is asked between batches, so a
    stop request finishes the current batch and never interrupts one. `on_batch` is told
    the position every projector has reached after each committed batch.
    """
    if not 1 <= batch_size <= BATCH_SIZE_MAX:
        raise InvalidInput("batch_size", f"must be from 1 to {BATCH_SIZE_MAX}, got {batch_size}")
    applied_count = 0
    while projectors and not should_stop():
        with _collector_paused():
            batch_count, last_position = _apply_batch(ledger, engine, projectors, batch_size)
        if batch_count == 0:
            break
        applied_count += batch_count
        on_batch(last_position)
    return applied_count


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one page, and on again after it.

    Everything a page decodes and folds stays alive until the page commits, so every
    collection its allocations trigger traverses all of it again: on a rebuild's pages of
    10,000 events, about a quarter of the time (measured). Reference counting still frees
    what the page drops; the few cycles it leaves are collected once the collector is back
    on. When it was off already (the host process's choice, or another thread's page), it
    is left off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _apply_batch(
    ledger: FundLedger, engine: Engine, projectors: Sequence[Projector], batch_size: int
) -> tuple[int, int]:
    """Apply one page; return how many events it held and the position all projectors
    reached."""
    try:
        with engine.connect() as connection:
            connection.execution_options(**WRITE_OPTIONS)
            with connection.begin():
                positions = _locked_positions(connection, [p.name for p in projectors])
                start = min(positions.values())
                notifications = ledger.recorder.select_notifications(
                    start, batch_size, inclusive_of_start=False
                )
                if not notifications:
                    return 0, start
                events = decoded_page(ledger, notifications)
                for projector in projectors:
                    _apply(projector, connection, _due(events, positions[projector.name]))
                last_position = notifications[-1].id
                for projector in projectors:
                    if positions[projector.name] < last_position:
                        _set_position(connection, projector.name, last_position)
    except _ProjectorError as error:
        raise _pinpointed(engine, error.projector, error.events) from error.__cause__
    return len(notifications), last_position


def decoded_page(ledger: FundLedger, notifications: Sequence[Notification]) -> Page:
    """The notifications decoded into the ledger's events, with their positions, as one `Page`
    (each event's journal entry computed once, for every projector that reads it)."""
    events = Page()
    to_domain_event = ledger.mapper.to_domain_event
    for notification in notifications:
        event = to_domain_event(notification)
        assert isinstance(event, DomainEvent), "every ledger event is an aggregate event"
        events.append((event, notification.id))
    return events


def _due(events: Page, position: int) -> Page:
    """The events after `position` (all of them, usually: projectors move together)."""
    if events[0][1] > position:
        return events
    return Page((event, at) for event, at in events if at > position)


def _apply(projector: Projector, connection: sa.Connection, events: Page) -> None:
    if not events:
        return
    try:
        projector.apply_batch(connection, events)
    except EventNotApplicable as error:
        event = next((event for event, at in events if at == error.position), None)
        raise _failed(projector, error.position, event, error.reason) from error
    except Exception as error:
        raise _ProjectorError(projector, events) from error


def _pinpointed(
    engine: Engine, projector: Projector, events: Sequence[PositionedEvent]
) -> ProjectionFailed:
    """Replay `events` into `projector` one at a time, in a transaction rolled back at the
    end, and name the first that fails; or the whole page, should none fail on its own."""
    with engine.connect() as connection:
        connection.execution_options(**WRITE_OPTIONS)
        transaction = connection.begin()
        try:
            position = _locked_positions(connection, [projector.name])[projector.name]
            for event, at in _due(Page(events), position):
                try:
                    projector.apply_batch(connection, [(event, at)])
                except EventNotApplicable as error:
                    return _failed(projector, at, event, error.reason)
                except Exception as error:
                    return _failed(projector, at, event, str(error))
        finally:
            transaction.rollback()
    return ProjectionFailed(
        f"projector {projector.name!r} cannot apply the events at positions {events[0][1]}"
        f" to {events[-1][1]}, though each applies alone; nothing of this batch was committed"
    )


def _failed(
    projector: Projector, position: int, event: DomainEvent | None, reason: str
) -> ProjectionFailed:
    return ProjectionFailed(
        f"projector {projector.name!r} cannot apply the event at position"
        f" {position} ({type(event).__qualname__}): {reason};"
        " nothing of this batch was committed"
    )


def _locked_positions(connection: sa.Connection, names: Sequence[str]) -> dict[str, int]:
    """Each projector's tracked position, its row locked until the transaction ends (on
    SQLite the IMMEDIATE transaction already holds the database's write lock)."""
    tracking = projection_tracking
    name_column: sa.Column[str] = tracking.c.name
    position_column: sa.Column[int] = tracking.c.position
    missing = set(names) - _tracked(connection, names)
    if missing:
        # Another projector process may insert the same rows first: theirs stand.
        insert = postgresql.insert if is_postgres(connection.engine) else sqlite.insert
        connection.execute(
            insert(tracking).on_conflict_do_nothing(index_elements=[tracking.c.name]),
            [{"name": name, "position": 0} for name in sorted(missing)],
        )
    query = sa.select(name_column, position_column).where(name_column.in_(names))
    if is_postgres(connection.engine):
        query = query.with_for_update()
    return {row.name: row.position for row in connection.execute(query)}


def _tracked(connection: sa.Connection, names: Sequence[str]) -> set[str]:
    query = sa.select(projection_tracking.c.name).where(projection_tracking.c.name.in_(names))
    return set(connection.scalars(query))


def _set_position(connection: sa.Connection, name: str, position: int) -> None:
    connection.execute(
        projection_tracking.update()
        .where(projection_tracking.c.name == name)
        .values(position=position)
    )


def tracked_positions(engine: Engine) -> dict[str, int]:
    """Every projector's tracked position (for status output and tests)."""
    name_column: sa.Column[str] = projection_tracking.c.name
    position_column: sa.Column[int] = projection_tracking.c.position
    query = sa.select(name_column, position_column)
    with engine.connect() as connection:
        return {row.name: row.position for row in connection.execute(query)}


def slowest_position(engine: Engine, names: Sequence[str]) -> int:
    """The position that every one of the projectors `names` has reached (0 for one that
    never ran)."""
    positions = tracked_positions(engine)
    return min((positions.get(name, 0) for name in names), default=0)


def create_tables(engine: Engine, projectors: Sequence[Projector]) -> None:
    """Create the tracking table, the projectors' tables and their indexes where missing
    (an interrupted rebuild leaves some indexes out, see `projections.indexes`); idempotent."""
    tables = [projection_tracking, *(t for p in projectors for t in p.tables)]
    metadata.create_all(engine, tables=tables, checkfirst=True)
    indexes.ensure(engine, tables)


def rebuild(
    ledger: FundLedger,
    engine: Engine,
    projectors: Sequence[Projector],
    names: Sequence[str] | None = None,
    *,
    batch_size: int = REBUILD_BATCH_SIZE_DEFAULT,
) -> int:
    """Drop and recreate the named read models (all when `names` is None), forget their
    positions, and replay the whole log into them; return how many events were applied.

    Indexes only readers use are built at the end (`projections.indexes`). On PostgreSQL
    the tables are built beside the live ones, in a schema of their own, and swapped in by
    one short transaction at the end (`_rebuilt_beside`): readers see the old read models
    until then, and a rebuild that fails leaves them as they were. SQLite keeps one schema
    per file, so there the tables are replayed in place: readers see them fill up."""
    chosen = select_projectors(projectors, names)
    tables = [t for p in chosen for t in p.tables]
    metadata.create_all(engine, tables=[projection_tracking], checkfirst=True)
    if is_postgres(engine):
        return _rebuilt_beside(ledger, engine, chosen, tables, batch_size)
    with engine.begin() as connection:
        _recreated(connection, tables)
        connection.execute(
            projection_tracking.delete().where(
                projection_tracking.c.name.in_([p.name for p in chosen])
            )
        )
    applied_count = catch_up(ledger, engine, chosen, batch_size=batch_size)
    indexes.ensure(engine, tables)
    return applied_count


def _recreated(connection: sa.Connection, tables: Sequence[sa.Table]) -> None:
    """The tables dropped and created empty, without the indexes only readers use."""
    metadata.drop_all(connection, tables=tables, checkfirst=True)
    metadata.create_all(connection, tables=tables)
    indexes.drop(connection, indexes.readers_only(tables))


def _rebuilt_beside(
    ledger: FundLedger,
    engine: Engine,
    projectors: Sequence[Projector],
    tables: Sequence[sa.Table],
    batch_size: int,
) -> int:
    """Replay the log into new tables in a scratch schema, then, in one transaction that
    holds the projectors' tracking rows (so no live projector moves meanwhile): apply the
    events written since, drop the live tables, move the new ones into the live schema and
    set the tracking rows to the positions they reached. The scratch schema is dropped in
    any case."""
    names = [p.name for p in projectors]
    with engine.connect() as connection:
        live = str(connection.scalar(sa.text("SELECT current_schema()")))
    scratch = f"{live[:40]}__rebuild_{uuid.uuid4().hex[:12]}"
    quote = engine.dialect.identifier_preparer.quote_identifier
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {quote(scratch)}")
    try:
        beside = in_schema(engine, scratch)
        with beside.begin() as connection:
            metadata.create_all(connection, tables=[projection_tracking])
            _recreated(connection, tables)
        applied_count = catch_up(ledger, beside, projectors, batch_size=batch_size)
        indexes.ensure(beside, tables)
        with engine.connect() as connection:
            connection.execution_options(**WRITE_OPTIONS)
            with connection.begin():
                _locked_positions(connection, names)
                applied_count += catch_up(ledger, beside, projectors, batch_size=batch_size)
                reached = tracked_positions(beside)
                metadata.drop_all(connection, tables=tables, checkfirst=True)
                for table in tables:
                    connection.exec_driver_sql(
                        f"ALTER TABLE {quote(scratch)}.{quote(table.name)} SET SCHEMA {quote(live)}"
                    )
                for name in names:
                    _set_position(connection, name, reached.get(name, 0))
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {quote(scratch)} CASCADE")
    return applied_count


def select_projectors(
    projectors: Sequence[Projector], names: Sequence[str] | None
) -> list[Projector]:
    """The projectors called `names`, in the given order; all of them for None."""
    if not names:
        return list(projectors)
    by_name = {p.name: p for p in projectors}
    unknown = [name for name in names if name not in by_name]
    if unknown:
        raise InvalidInput(
            "name", f"no read model {unknown[0]!r}; known: {', '.join(sorted(by_name))}"
        )
    return [by_name[name] for name in dict.fromkeys(names)]
