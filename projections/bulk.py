"""Bulk statements for a page of rows, handed to the driver in one call each.

SQLAlchemy's `execute(statement, rows)` builds every row's parameters through the compiled
statement, which cost more per row than all of a projector's own folding (profiled on a
rebuild: about half its time). The statements here are plain SQL run by `exec_driver_sql`
(one `executemany`), with each value turned into what the database stores by its column
type's own bind processor, so the stored rows are exactly those SQLAlchemy would write and
the read side reads them back unchanged. On PostgreSQL, inserts go through COPY, the fastest
way in (notes/baselines.md), in the same transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from functools import cache, partial
from operator import attrgetter
from typing import Any

import sqlalchemy as sa

Row = Mapping[str, Any]
Processor = Callable[[Any], Any] | None


def insert(connection: sa.Connection, table: sa.Table, rows: Sequence[Row]) -> None:
    """Insert `rows` (mappings with the same columns)."""
    if not rows:
        return
    names = tuple(rows[0])
    values = _values(connection, table, names, rows)
    if connection.dialect.name == "postgresql":
        columns = ", ".join(names)
        driver_connection: Any = connection.connection.driver_connection
        sql = f"COPY {table.name} ({columns}) FROM STDIN"
        with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in values:
                copy.write_row(row)
        return
    marks = ", ".join([_mark(connection)] * len(names))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
    connection.exec_driver_sql(sql, values)


def update(
    connection: sa.Connection,
    table: sa.Table,
    rows: Sequence[Row],
    *,
    keys: Sequence[str],
    values: Sequence[str] = (),
    added: Sequence[str] = (),
) -> None:
    """For each row, UPDATE the table's row with the same `keys`: set `values` to the row's,
    and add the row's `added` to the stored ones."""
    if not rows:
        return
    mark = _mark(connection)
    assignments = [f"{name} = {mark}" for name in values]
    assignments += [f"{name} = {name} + {mark}" for name in added]
    conditions = " AND ".join(f"{name} = {mark}" for name in keys)
    sql = f"UPDATE {table.name} SET {', '.join(assignments)} WHERE {conditions}"
    parameters = _values(connection, table, (*values, *added, *keys), rows)
    connection.exec_driver_sql(sql, parameters)


def upsert(
    connection: sa.Connection,
    table: sa.Table,
    rows: Sequence[Row],
    *,
    keys: Sequence[str],
    added: Sequence[str],
    earliest: Sequence[str] = (),
    latest: Sequence[str] = (),
) -> None:
    """Insert each row, or where its `keys` exist, add its `added` to the stored ones and keep
    the earlier of its `earliest` and the later of its `latest` (NULL counts as none)."""
    if not rows:
        return
    names = (*keys, *added, *earliest, *latest)
    marks = ", ".join([_mark(connection)] * len(names))
    assignments = [f"{n} = {table.name}.{n} + excluded.{n}" for n in added]
    assignments += [_kept(table.name, n, "<") for n in earliest]
    assignments += [_kept(table.name, n, ">") for n in latest]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(assignments)}"
    )
    connection.exec_driver_sql(sql, _values(connection, table, names, rows))


def _kept(table_name: str, name: str, better: str) -> str:
    stored, new = f"{table_name}.{name}", f"excluded.{name}"
    when = f"{stored} IS NULL OR {new} {better} {stored}"
    return f"{name} = CASE WHEN {when} THEN {new} ELSE {stored} END"


def _mark(connection: sa.Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


def _values(
    connection: sa.Connection, table: sa.Table, names: Sequence[str], rows: Sequence[Row]
) -> list[tuple[Any, ...]]:
    """Each row's values of `names`, as the database stores them (column by column: `map`
    runs the processors at C speed)."""
    processors = _processors(connection.dialect, table, tuple(names))
    columns = []
    for name, process in zip(names, processors, strict=True):
        column = [row[name] for row in rows]
        columns.append(column if process is None else list(map(process, column)))
    return list(zip(*columns, strict=True))


@cache
def _processors(
    dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]
) -> tuple[Processor, ...]:
    return tuple(_processor(dialect, table.c[name].type) for name in names)


def _processor(dialect: sa.Dialect, column_type: sa.types.TypeEngine[Any]) -> Processor:
    """The column type's bind processor; on SQLite, for the types the read models use, a
    C-speed method that gives the same text (`test_projection_bulk` holds them equal)."""
    if dialect.name == "sqlite":
        for python_type, fast in _SQLITE_FAST.items():
            if isinstance(column_type, python_type):
                return fast
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def _none_or(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


# SQLAlchemy's SQLite storage formats: UUIDs as 32 hex digits, dates as YYYY-MM-DD, times as
# YYYY-MM-DD HH:MM:SS.ffffff; booleans as they are (the driver stores them as 0 and 1).
_SQLITE_FAST: dict[type[sa.types.TypeEngine[Any]], Processor] = {
    sa.Uuid: _none_or(attrgetter("hex")),
    sa.DateTime: _none_or(partial(datetime.isoformat, sep=" ", timespec="microseconds")),
    sa.Date: _none_or(date.isoformat),
    sa.Boolean: None,
}
