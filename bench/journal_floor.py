"""The journal's floor: what the database alone spends writing the journal read model's rows.

After a rebuild, the journal's rows are copied, a rebuild page's worth at a time, into a
scratch table with the same columns and primary key, by the same bulk path the projector uses
(`bulk.insert_stored`: `executemany` on SQLite, binary COPY on PostgreSQL), one transaction
per page; then the journal's four search indexes are created on it. Only the writes, their
commits and the index builds are timed: the rows are read back, untimed, already in the form
the database stores, so no projection work is in the figure.

With the baseline's decoding, that gives the rebuild's ceiling: the ratio a rebuild would
reach that did nothing but decode the log and write the journal's rows, with no other read
model and not one line of projection code. It says how much of the bar's budget the journal's
shape alone takes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from projections import bulk
from projections.database import WRITE_OPTIONS, is_postgres
from projections.journal_entries import journal_postings

SCRATCH_TABLE_NAME = "bench_journal_floor"


@dataclass(frozen=True)
class JournalFloor:
    event_count: int
    row_count: int
    write_s: float  # the rows' inserts and commits
    index_s: float  # the four search indexes

    def us_per_event(self) -> float:
        return (self.write_s + self.index_s) / self.event_count * 1e6


def measure_journal_floor(
    engine: Engine, event_count: int, *, events_per_page: int
) -> JournalFloor:
    """Copy the journal's rows of the log's `event_count` events, `events_per_page` events per
    transaction, into a scratch table, then index it; the scratch table is dropped after."""
    scratch_metadata = sa.MetaData()
    scratch = sa.Table(
        SCRATCH_TABLE_NAME,
        scratch_metadata,
        *(
            sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
            for c in journal_postings.columns
        ),
    )
    names = tuple(column.name for column in journal_postings.columns)
    mark = "%s" if is_postgres(engine) else "?"
    select = (
        f"SELECT {', '.join(names)} FROM {journal_postings.name}"
        f" WHERE position > {mark} AND position <= {mark} ORDER BY position, posting_index"
    )
    with engine.begin() as connection:
        scratch.drop(connection, checkfirst=True)
        scratch.create(connection)
    try:
        row_count, write_s = 0, 0.0
        for after in range(0, event_count, events_per_page):
            with engine.connect() as connection:
                bounds = (after, after + events_per_page)
                rows = [tuple(row) for row in connection.exec_driver_sql(select, bounds)]
            started_s = time.perf_counter()
            with engine.connect() as connection:
                connection.execution_options(**WRITE_OPTIONS)
                with connection.begin():
                    bulk.insert_stored(connection, scratch, names, rows)
            write_s += time.perf_counter() - started_s
            row_count += len(rows)
        # Made only now: an index joins its table when made, and the table's CREATE makes it.
        indexes = [
            sa.Index(f"{SCRATCH_TABLE_NAME}_{number}", *(scratch.c[c.name] for c in index.columns))
            for number, index in enumerate(journal_postings.indexes)
        ]
        started_s = time.perf_counter()
        with engine.begin() as connection:
            for index in indexes:
                index.create(connection)
        index_s = time.perf_counter() - started_s
    finally:
        with engine.begin() as connection:
            scratch.drop(connection, checkfirst=True)
    return JournalFloor(event_count, row_count, write_s, index_s)
