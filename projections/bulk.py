"""Bulk statements for a page of rows, handed to the driver in one call each.

SQLAlchemy's `execute(statement, rows)` builds every row's parameters through the compiled
statement, which cost more per row than all of a projector's own folding (profiled on a
rebuild: about half its time). The statements here are plain SQL run by `exec_driver_sql`,
with each value turned into what the database stores by its column type's own bind processor,
so the stored rows are exactly those SQLAlchemy would write and the read side reads them back
unchanged.

On SQLite each statement is one `executemany`. On PostgreSQL, inserts go through binary COPY,
the fastest way in (notes/baselines.md; twice text COPY's speed on the journal's rows), and
updates and upserts are one statement each over `unnest` of one binary array per column:
an `executemany` costs the server one statement per row (a rebuild's page upserts thousands
of donor periods), and text parameters cost the client a quoting check per value. Either
way, in the caller's transaction.

A projector whose rows share values (a journal entry's columns repeated on each posting) can
turn the shared values into their stored form once (`stored`) and insert rows so built
(`insert_stored`).
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
    insert_stored(connection, table, names, _values(connection, table, names, rows))


def insert_stored(
    connection: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    values: Sequence[Sequence[Any]],
) -> None:
    """Insert rows given as the values of `names`, each already as the database stores it
    (see `stored`)."""
    if not values:
        return
    columns = ", ".join(names)
    if _is_postgres(connection):
        driver_connection: Any = connection.connection.driver_connection
        sql = f"COPY {table.name} ({columns}) FROM STDIN (FORMAT BINARY)"
        with driver_connection.cursor() as cursor, cursor.copy(sql) as copy:
            copy.set_types(_copy_types(table, tuple(names)))
            for row in values:
                copy.write_row(row)
        return
    marks = ", ".join(["?"] * len(names))
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", values)


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
    and add the row's `added` to the stored ones. No two rows may have the same keys (an
    UPDATE … FROM would apply only one of them)."""
    if not rows:
        return
    if len({tuple(row[k] for k in keys) for row in rows}) != len(rows):
        raise ValueError(f"rows for {table.name} repeat their keys: each would hide another")
    names = (*values, *added, *keys)
    if _is_postgres(connection):
        assignments = [f"{n} = page.{n}" for n in values]
        assignments += [f"{n} = {table.name}.{n} + page.{n}" for n in added]
        conditions = " AND ".join(f"{table.name}.{n} = page.{n}" for n in keys)
        sql = (
            f"UPDATE {table.name} SET {', '.join(assignments)}"
            f" FROM {_unnest(connection, table, names)} AS page ({', '.join(names)})"
            f" WHERE {conditions}"
        )
        connection.exec_driver_sql(sql, tuple(_columns(connection, table, names, rows)))
        return
    assignments = [f"{name} = ?" for name in values]
    assignments += [f"{name} = {name} + ?" for name in added]
    conditions = " AND ".join(f"{name} = ?" for name in keys)
    sql = f"UPDATE {table.name} SET {', '.join(assignments)} WHERE {conditions}"
    connection.exec_driver_sql(sql, _values(connection, table, names, rows))


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
    the earlier of its `earliest` and the later of its `latest` (NULL counts as none). No two
    rows may have the same keys (PostgreSQL refuses them in one statement)."""
    if not rows:
        return
    names = (*keys, *added, *earliest, *latest)
    assignments = [f"{n} = {table.name}.{n} + excluded.{n}" for n in added]
    assignments += [_kept(table.name, n, "<") for n in earliest]
    assignments += [_kept(table.name, n, ">") for n in latest]
    conflict = f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(assignments)}"
    if _is_postgres(connection):
        rows_sql = f"SELECT * FROM {_unnest(connection, table, names)}"
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) {rows_sql}{conflict}"
        connection.exec_driver_sql(sql, tuple(_columns(connection, table, names, rows)))
        return
    marks = ", ".join(["?"] * len(names))
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks}){conflict}"
    connection.exec_driver_sql(sql, _values(connection, table, names, rows))


def stored(
    connection: sa.Connection,
    table: sa.Table,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> list[tuple[Any, ...]]:
    """`rows` (each the values of `names`) with each value as the database stores it, by its
    column's bind processor."""
    if not rows:
        return []
    columns = _processed(connection, table, names, list(map(list, zip(*rows, strict=True))))
    return list(zip(*columns, strict=True))


def _kept(table_name: str, name: str, better: str) -> str:
    current, new = f"{table_name}.{name}", f"excluded.{name}"
    when = f"{current} IS NULL OR {new} {better} {current}"
    return f"{name} = CASE WHEN {when} THEN {new} ELSE {current} END"


def _is_postgres(connection: sa.Connection) -> bool:
    return connection.dialect.name == "postgresql"


def _values(
    connection: sa.Connection, table: sa.Table, names: Sequence[str], rows: Sequence[Row]
) -> list[tuple[Any, ...]]:
    """Each row's values of `names`, as the database stores them."""
    return list(zip(*_columns(connection, table, names, rows), strict=True))


def _columns(
    connection: sa.Connection, table: sa.Table, names: Sequence[str], rows: Sequence[Row]
) -> list[list[Any]]:
    """The rows' values of each column of `names`, as the database stores them."""
    columns = [[row[name] for row in rows] for name in names]
    return _processed(connection, table, names, columns)


def _processed(
    connection: sa.Connection, table: sa.Table, names: Sequence[str], columns: list[list[Any]]
) -> list[list[Any]]:
    """`columns` (the values of `names`) turned by their bind processors, column by column:
    `map` runs a processor at C speed."""
    processors = _processors(connection.dialect, table, tuple(names))
    return [
        column if process is None else list(map(process, column))
        for column, process in zip(columns, processors, strict=True)
    ]


def _unnest(connection: sa.Connection, table: sa.Table, names: Sequence[str]) -> str:
    """`unnest(%b::type[], …)`: one binary array parameter per column of `names`, as rows."""
    arrays = [f"%b::{_postgres_type(connection.dialect, table.c[name])}[]" for name in names]
    return f"unnest({', '.join(arrays)})"


def _postgres_type(dialect: sa.Dialect, column: sa.Column[Any]) -> str:
    """The column's type in SQL, but a string's without its collation (`VARCHAR COLLATE "C"[]`
    is no type): the column keeps its own, and the value stored is the same."""
    column_type: sa.types.TypeEngine[Any] = column.type
    if isinstance(column_type, sa.String):
        column_type = sa.String(column_type.length)
    return column_type.compile(dialect=dialect)


@cache
def _copy_types(table: sa.Table, names: tuple[str, ...]) -> list[str]:
    """The PostgreSQL type of each column of `names`, whose binary form COPY sends (a type that
    does not match its column's makes the server refuse the row, never store another value)."""
    found = []
    for name in names:
        column_type = table.c[name].type
        copy_type = next(
            (t for python_type, t in _COPY_TYPES if isinstance(column_type, python_type)), None
        )
        assert copy_type is not None, f"no COPY type for {table.name}.{name}"
        if isinstance(column_type, sa.DateTime) and column_type.timezone:
            copy_type = "timestamptz"
        found.append(copy_type)
    return found


# The most derived first: a BigInteger is an Integer too.
_COPY_TYPES: tuple[tuple[type[sa.types.TypeEngine[Any]], str], ...] = (
    (sa.BigInteger, "int8"),
    (sa.SmallInteger, "int2"),
    (sa.Integer, "int4"),
    (sa.String, "text"),
    (sa.Boolean, "bool"),
    (sa.DateTime, "timestamp"),
    (sa.Date, "date"),
    (sa.Uuid, "uuid"),
)


@cache
def _processors(
    dialect: sa.Dialect, table: sa.Table, names: tuple[str, ...]
) -> tuple[Processor, ...]:
    return tuple(_processor(dialect, table.c[name]) for name in names)


def _processor(dialect: sa.Dialect, column: sa.Column[Any]) -> Processor:
    """The column type's bind processor; on SQLite, for the types the read models use, a
    C-speed method that gives the same text (`test_projection_bulk` holds them equal), which
    only a nullable column wraps in a check for None."""
    if dialect.name == "sqlite":
        for python_type, fast in _SQLITE_FAST.items():
            if isinstance(column.type, python_type):
                return _none_or(fast) if column.nullable and fast is not None else fast
    return column.type.dialect_impl(dialect).bind_processor(dialect)


def _none_or(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda value: None if value is None else convert(value)


# SQLAlchemy's SQLite storage formats: UUIDs as 32 hex digits, dates as YYYY-MM-DD, times as
# YYYY-MM-DD HH:MM:SS.ffffff; booleans as they are (the driver stores them as 0 and 1).
_SQLITE_FAST: dict[type[sa.types.TypeEngine[Any]], Processor] = {
    sa.Uuid: attrgetter("hex"),
    sa.DateTime: partial(datetime.isoformat, sep=" ", timespec="microseconds"),
    sa.Date: date.isoformat,
    sa.Boolean: None,
}
