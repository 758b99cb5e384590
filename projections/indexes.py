"""Secondary indexes set aside while a rebuild replays the log, and built once at its end.

Keeping an index up to date row by row costs more than building it once from the finished
table: the journal's four indexes on random keys (dates, amounts, counterparties) made up
most of a rebuild's writes. So `rebuild` drops the indexes only readers use, replays, and
creates them again; an index a projector itself reads by (marked `info={PROJECTOR_READS:
True}`) stays. A rebuild that dies half-way leaves its tables without those indexes: slow
to read, never wrong, and `ensure` (run by `fund-ledger init` and by the next rebuild)
creates whatever is missing.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

PROJECTOR_READS = "projector_reads"


def readers_only(tables: Sequence[sa.Table]) -> list[sa.Index]:
    """The tables' indexes that no projector reads by."""
    return [
        index
        for table in tables
        for index in sorted(table.indexes, key=lambda i: str(i.name))
        if not index.info.get(PROJECTOR_READS, False)
    ]


def drop(connection: sa.Connection, indexes: Sequence[sa.Index]) -> None:
    for index in indexes:
        index.drop(connection, checkfirst=True)


def ensure(engine: Engine, tables: Sequence[sa.Table]) -> None:
    """Create every index of `tables` that is missing (the tables must exist)."""
    with engine.begin() as connection:
        for table in tables:
            for index in table.indexes:
                index.create(connection, checkfirst=True)
