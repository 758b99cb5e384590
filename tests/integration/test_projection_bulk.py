"""The bulk statements store exactly what SQLAlchemy would: the SQLite shortcuts give the same
text as the column types' own bind processors, for every column of every read model."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from projections import bulk
from projections.catalogue import all_projectors

SAMPLES: dict[type, list[Any]] = {
    sa.Uuid: [UUID(int=0), UUID("12345678-9abc-4def-8123-456789abcdef"), None],
    sa.Date: [date(2000, 1, 1), date(2027, 3, 31), date(9999, 12, 31), None],
    sa.DateTime: [datetime(2026, 11, 20, 3, 0), datetime(2026, 1, 2, 3, 4, 5, 6), None],
    sa.Boolean: [True, False, None],
}


def test_sqlite_shortcuts_store_what_sqlalchemy_stores() -> None:
    dialect = sqlite.dialect()
    tables = [table for projector in all_projectors() for table in projector.tables]
    checked = 0
    for table in tables:
        for column in table.columns:
            samples = next((v for t, v in SAMPLES.items() if isinstance(column.type, t)), None)
            if samples is None:
                continue
            ours = bulk._processor(dialect, column.type)
            theirs = column.type.dialect_impl(dialect).bind_processor(dialect)
            for value in samples:
                expected = value if theirs is None else theirs(value)
                found = value if ours is None else ours(value)
                assert found == expected, (table.name, column.name, value)
                checked += 1
    assert checked > 50
