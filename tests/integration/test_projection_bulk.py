"""The bulk statements store exactly what SQLAlchemy would: the SQLite shortcuts give the same
text as the column types' own bind processors, for every column of every read model; the
journal's posting columns, which its projector stores as they are, have no processor."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from projections import bulk, journal_entries
from projections.catalogue import all_projectors
from projections.database import engine_for

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
            ours = bulk._processor(dialect, column)
            theirs = column.type.dialect_impl(dialect).bind_processor(dialect)
            for value in samples if column.nullable else [v for v in samples if v is not None]:
                expected = value if theirs is None else theirs(value)
                found = value if ours is None else ours(value)
                assert found == expected, (table.name, column.name, value)
                checked += 1
    assert checked > 50


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.psycopg.dialect()])
def test_the_journal_posting_columns_are_stored_as_they_are(dialect: sa.Dialect) -> None:
    stored_as_they_are = ("position", "posting_index", *journal_entries._POSTING_COLUMNS)
    for name in stored_as_they_are:
        column = journal_entries.journal_postings.c[name]
        assert bulk._processor(dialect, column) is None, name


def test_an_update_whose_rows_repeat_their_keys_is_refused_and_changes_nothing(
    database_url: str,
) -> None:
    # On PostgreSQL an UPDATE … FROM applies only one of two rows with the same key: a page
    # folded wrongly would lose the other's amount without a word.
    table = sa.Table(
        "bulk_probe",
        sa.MetaData(),
        sa.Column("key", sa.Integer, primary_key=True),
        sa.Column("total_yen", sa.BigInteger, nullable=False),
    )
    engine = engine_for(database_url)
    try:
        with engine.begin() as connection:
            table.create(connection)
            connection.execute(table.insert().values(key=1, total_yen=100))
        repeated = [{"key": 1, "total_yen": 5}, {"key": 1, "total_yen": 7}]

        with pytest.raises(ValueError, match="repeat their keys"), engine.begin() as connection:
            bulk.update(connection, table, repeated, keys=["key"], added=["total_yen"])

        with engine.connect() as connection:
            assert connection.execute(sa.select(table.c.total_yen)).scalar_one() == 100
    finally:
        engine.dispose()
