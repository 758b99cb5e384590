"""The read models' database: the same `FUND_LEDGER_DATABASE_URL` as the events.

The URL is parsed by `ledger.store.eventsourcing_env`, so the read models accept exactly the
URLs the ledger accepts and sit beside its events: on SQLite in the same file (WAL mode, set by
the ledger), on PostgreSQL in the same database and schema (the schema becomes the connection's
`search_path`, so unqualified table names land in it).

SQLite transactions begin `IMMEDIATE` when a connection asks for it (`WRITE_OPTIONS`): a
projector takes the write lock before it reads its tracking position, so two projector
processes can never both apply the events after one position. PostgreSQL gets the same from
`SELECT … FOR UPDATE` on the tracking rows (see `runner`).

Errors never carry the URL: `hide_parameters` keeps values out of SQLAlchemy's messages, and
the URL object masks its password when printed.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import StaticPool

from ledger.store import eventsourcing_env
from ledger.store.config import SQLITE_LOCK_TIMEOUT_SECONDS

POSTGRES_CONNECT_TIMEOUT_S = 5
# A projector waits at most this long for another's tracking rows, or a rebuild for its tables:
# a stuck session makes the others fail loudly instead of hanging forever.
POSTGRES_LOCK_TIMEOUT_S = 30
POSTGRES_POOL_SIZE = 2  # one projector connection, one reader: the ledger has its own pool
POSTGRES_MAX_OVERFLOW = 3
SQLITE_CACHE_KIB = 64 * 1024  # per connection, for the read models' indexes
WRITE_OPTION = "fund_ledger_write"
WRITE_OPTIONS: dict[str, Any] = {WRITE_OPTION: True}


def engine_for(database_url: str) -> Engine:
    """An engine on the read models of `database_url`; raises `ConfigurationError`."""
    env = eventsourcing_env(database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return _sqlite_engine(env["SQLITE_DBNAME"])
    return _postgres_engine(env)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _sqlite_engine(dbname: str) -> Engine:
    if dbname.startswith("file:mem-"):
        # `sqlite:///:memory:`: the ledger's private memory database cannot be shared, so the
        # read models get their own, held by one connection for the engine's lifetime.
        engine = sa.create_engine("sqlite://", poolclass=StaticPool, hide_parameters=True)
    else:
        engine = sa.create_engine(
            URL.create("sqlite", database=dbname),
            connect_args={"timeout": SQLITE_LOCK_TIMEOUT_SECONDS},
            hide_parameters=True,
        )

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        # Let `begin` below emit BEGIN itself (pysqlite's implicit BEGIN comes too late).
        dbapi_connection.isolation_level = None
        # In WAL mode, NORMAL syncs at checkpoints instead of at every commit: a power cut
        # can lose the last read-model commits, but each with its tracking position, so the
        # projector applies those events again. The events' own connections keep FULL.
        dbapi_connection.execute("PRAGMA synchronous=NORMAL")
        # A page of journal rows touches pages all over its indexes: keep them in memory.
        dbapi_connection.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgres_engine(env: dict[str, str]) -> Engine:
    host = env["POSTGRES_HOST"]
    url = URL.create(
        "postgresql+psycopg",
        username=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"] or None,
        host=None if host.startswith("/") else host,
        port=int(env["POSTGRES_PORT"]),
        database=env["POSTGRES_DBNAME"],
        query={"host": host} if host.startswith("/") else {},
    )
    return sa.create_engine(
        url,
        connect_args={
            "options": (
                f"-c search_path={env['POSTGRES_SCHEMA']}"
                f" -c lock_timeout={POSTGRES_LOCK_TIMEOUT_S}s"
            ),
            "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
        },
        pool_size=POSTGRES_POOL_SIZE,
        max_overflow=POSTGRES_MAX_OVERFLOW,
        pool_pre_ping=True,
        hide_parameters=True,
    )
