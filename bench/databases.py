"""Fresh databases for each measurement: a new PostgreSQL schema, or a new SQLite file.

Both the ledger and the bare library get their settings from `eventsourcing_env`, so they
share every persistence setting (pool sizes, timeouts, pre-ping, lock timeout); the bare
library only loses our `APPLICATION_RECORDER_TOPIC` and so runs the stock recorders.
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.sql import SQL, Identifier

from ledger.store.config import eventsourcing_env

POSTGRES = "postgres"
SQLITE = "sqlite"
BACKENDS = (POSTGRES, SQLITE)
POSTGRES_URL_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"
SCHEMA_PREFIX = "bench_"


@dataclass(frozen=True)
class FreshDatabase:
    """One empty database, in the ledger's URL form, alive for one measurement."""

    backend: str
    url: str
    postgres_conninfo: str | None = None  # plain libpq URL (no ?schema=), PostgreSQL only
    schema: str | None = None
    sqlite_path: Path | None = None

    def ledger_env(self, *, create_table: bool = False) -> dict[str, str]:
        return eventsourcing_env(self.url, create_table=create_table)

    def bare_env(self) -> dict[str, str]:
        """The same persistence settings with the library's stock recorders."""
        env = eventsourcing_env(self.url, create_table=True)
        del env["APPLICATION_RECORDER_TOPIC"]
        return env


@contextlib.contextmanager
def fresh_database(
    backend: str, postgres_url: str, sqlite_dir: str | None
) -> Iterator[FreshDatabase]:
    if backend == POSTGRES:
        with _fresh_schema(postgres_url) as database:
            yield database
    elif backend == SQLITE:
        with _fresh_sqlite_file(sqlite_dir) as database:
            yield database
    else:
        raise ValueError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")


@contextlib.contextmanager
def _fresh_schema(postgres_url: str) -> Iterator[FreshDatabase]:
    conninfo = _without_query(postgres_url)
    schema = f"{SCHEMA_PREFIX}{uuid.uuid4().hex[:12]}"
    _execute(conninfo, SQL("CREATE SCHEMA {0}").format(Identifier(schema)))
    try:
        yield FreshDatabase(POSTGRES, f"{conninfo}?schema={schema}", conninfo, schema=schema)
    finally:
        _execute(conninfo, SQL("DROP SCHEMA {0} CASCADE").format(Identifier(schema)))


@contextlib.contextmanager
def _fresh_sqlite_file(sqlite_dir: str | None) -> Iterator[FreshDatabase]:
    with tempfile.TemporaryDirectory(prefix="bench-", dir=sqlite_dir) as directory:
        path = Path(directory) / "ledger.sqlite"
        yield FreshDatabase(SQLITE, f"sqlite:///{path}", sqlite_path=path)


def _without_query(postgres_url: str) -> str:
    """The URL as libpq takes it: scheme `postgresql`, no `?schema=`."""
    parts = urlsplit(postgres_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


def _execute(conninfo: str, statement: SQL | psycopg.sql.Composed) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(statement)
