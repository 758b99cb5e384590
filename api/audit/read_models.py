"""Each read model against a fresh rebuild, compared by checksums (`verify --all`).

The live read models are only read, in one snapshot transaction (REPEATABLE READ on
PostgreSQL; a read transaction on SQLite in WAL mode): each projector's tracked position and
a checksum of each of its tables. The same projectors then replay the log, each up to its
tracked position, into a scratch SQLite database in a temporary directory (deleted after),
and the scratch tables' checksums must equal the live ones.

A table's checksum is the sum, modulo 2**256, of the SHA-256 of each row's canonical text
(the `repr` of its values in column order; UUIDs, dates and times as text): independent of
row order and of the database, so a PostgreSQL read model compares with a SQLite rebuild; a
row changed, added or removed changes it. On a difference the rows are compared by primary
key to name the first that differs.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.service import FundLedger
from projections import runner
from projections.batch import Page
from projections.runner import Projector
from projections.tables import projection_tracking

PAGE_SIZE = 1_000
REPLAY_PAGE_SIZE = runner.BATCH_SIZE_MAX
_MODULUS = 2**256


@dataclass(frozen=True)
class TableSum:
    row_count: int
    digest: int

    def hex(self) -> str:
        return f"{self.digest:064x}"[:16]


@dataclass(frozen=True)
class ReadModelReport:
    name: str
    position: int
    table_count: int
    fault: str | None


def compare_read_models(
    ledger: FundLedger, live: Engine, projectors: Sequence[Projector]
) -> list[ReadModelReport]:
    """One report per projector, in the given order."""
    positions, live_sums = _live_snapshot(live, projectors)
    with _scratch_engine() as scratch:
        runner.create_tables(scratch, projectors)
        _replay(ledger, scratch, projectors, positions)
        with scratch.connect() as connection:
            scratch_sums = {t.name: _table_sum(connection, t) for p in projectors for t in p.tables}
        reports = []
        for projector in projectors:
            fault = None
            for table in projector.tables:
                if live_sums[table.name] != scratch_sums[table.name]:
                    fault = _difference(
                        live, scratch, table, live_sums[table.name], scratch_sums[table.name]
                    )
                    break
            reports.append(
                ReadModelReport(
                    projector.name, positions[projector.name], len(projector.tables), fault
                )
            )
    return reports


def _live_snapshot(
    live: Engine, projectors: Sequence[Projector]
) -> tuple[dict[str, int], dict[str, TableSum]]:
    with live.connect() as connection:
        if live.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            rows = connection.execute(sa.select(projection_tracking)).mappings()
            tracked = {row["name"]: int(row["position"]) for row in rows}
            positions = {p.name: tracked.get(p.name, 0) for p in projectors}
            sums = {t.name: _table_sum(connection, t) for p in projectors for t in p.tables}
    return positions, sums


@contextmanager
def _scratch_engine() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="fund-ledger-verify-") as directory:
        engine = sa.create_engine(f"sqlite:///{Path(directory) / 'rebuild.sqlite'}")

        @sa.event.listens_for(engine, "connect")
        def _scratch_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # Thrown away after the comparison: no need to survive a crash.
            dbapi_connection.execute("PRAGMA synchronous=OFF")
            dbapi_connection.execute("PRAGMA journal_mode=OFF")

        try:
            yield engine
        finally:
            engine.dispose()


def _replay(
    ledger: FundLedger, scratch: Engine, projectors: Sequence[Projector], positions: dict[str, int]
) -> None:
    """Apply the log to each projector up to its live position, a page per transaction."""
    last = max(positions.values(), default=0)
    after = 0
    while after < last:
        page = ledger.recorder.select_notifications(
            after, REPLAY_PAGE_SIZE, stop=last, inclusive_of_start=False
        )
        if not page:
            return
        events = runner.decoded_page(ledger, page)
        with scratch.begin() as connection:
            for projector in projectors:
                position = positions[projector.name]
                # The whole page, usually: then its journal entries are computed once for all.
                due = (
                    events
                    if events[-1][1] <= position
                    else Page(e for e in events if e[1] <= position)
                )
                if due:
                    projector.apply_batch(connection, due)
        after = page[-1].id


_PLAIN = frozenset({int, str, bool, type(None)})


def _canonical(value: Any) -> Any:
    """A value as both databases give it back: UUIDs, dates and times as text."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)  # UUID, any other Decimal


def _row_digest(row: Sequence[Any]) -> int:
    """SHA-256 of the row's canonical values (in the table's column order), as an int."""
    values = tuple(value if type(value) in _PLAIN else _canonical(value) for value in row)
    return int.from_bytes(hashlib.sha256(repr(values).encode()).digest(), "big")


def _table_sum(connection: sa.Connection, table: sa.Table) -> TableSum:
    total, count = 0, 0
    result = connection.execution_options(yield_per=PAGE_SIZE).execute(sa.select(table))
    for row in result:
        total += _row_digest(row)
        count += 1
    return TableSum(count, total % _MODULUS)


def _keyed_digests(engine: Engine, table: sa.Table) -> dict[tuple[Any, ...], int]:
    names = [column.name for column in table.columns]
    key_columns = [names.index(c.name) for c in table.primary_key.columns] or range(len(names))
    with engine.connect() as connection:
        return {
            tuple(_canonical(row[index]) if type(row[index]) not in _PLAIN else row[index]
                  for index in key_columns): _row_digest(row)
            for row in connection.execute(sa.select(table))
        }  # fmt: skip


def _difference(
    live: Engine, scratch: Engine, table: sa.Table, live_sum: TableSum, scratch_sum: TableSum
) -> str:
    """Name the first row (by primary key) where the live table and the rebuild differ."""
    head = (
        f"table {table.name} differs from a fresh rebuild ({live_sum.row_count} rows,"
        f" checksum {live_sum.hex()}…; rebuilt {scratch_sum.row_count} rows,"
        f" checksum {scratch_sum.hex()}…)"
    )
    live_rows, rebuilt_rows = _keyed_digests(live, table), _keyed_digests(scratch, table)
    for key in sorted(set(live_rows) | set(rebuilt_rows), key=repr):
        if key not in rebuilt_rows:
            return f"{head}: row {key} is not in the rebuild"
        if key not in live_rows:
            return f"{head}: row {key} is missing"
        if live_rows[key] != rebuilt_rows[key]:
            return f"{head}: row {key} differs"
    return head
