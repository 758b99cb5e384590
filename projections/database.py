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

import time
from collections.abc import Mapping
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import dict_row
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import StaticPool

from ledger.store import eventsourcing_env
from ledger.store.config import SQLITE_LOCK_TIMEOUT_SECONDS

POSTGRES_CONNECT_TIMEOUT_S = 5
# A projector waits at most this long for another's tracking rows, or a rebuild for its tables:
# a stuck session makes the others fail loudly instead of hanging forever.
POSTGRES_LOCK_TIMEOUT_S = 30
# The in-process projector holds one connection; the API's requests share the rest (the
# ledger has its own pool). All are kept open: an overflow connection would be closed as
# soon as it is returned, and under load a new one (a new server process) opened for
# nearly every request. Requests beyond the pool wait for a connection.
POSTGRES_POOL_SIZE = 5
POSTGRES_MAX_OVERFLOW = 0
# A pooled connection idle for longer is pinged before use (one round trip, as SQLAlchemy's
# pre-ping), so that one left over from a database restart is replaced instead of failing
# its next user. One used successfully this recently is trusted, which spares a busy API a
# round trip per query; should it fail all the same, SQLAlchemy invalidates the whole pool
# and the request answers a 503 that the client may retry.
POSTGRES_PING_IDLE_S = 0.1
SQLITE_CACHE_KIB = 64 * 1024  # per connection, for the read models' indexes
WRITE_OPTION = "fund_ledger_write"
WRITE_OPTIONS: dict[str, Any] = {WRITE_OPTION: True}
SCHEMA_OPTION = "fund_ledger_schema"


def engine_for(database_url: str) -> Engine:
    """An engine on the read models of `database_url`; raises `ConfigurationError`."""
    env = eventsourcing_env(database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        return _sqlite_engine(env["SQLITE_DBNAME"])
    return _postgres_engine(env)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def in_schema(engine: Engine, schema: str) -> Engine:
    """The PostgreSQL `engine` with unqualified names landing in `schema` instead: the same
    pool, each transaction beginning with `SET LOCAL search_path` (a rebuild's tables)."""
    assert is_postgres(engine), "SQLite has one schema per file"
    return engine.execution_options(**{SCHEMA_OPTION: schema})


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
    engine = sa.create_engine(
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
        hide_parameters=True,
    )
    _ping_when_idle(engine)

    @event.listens_for(engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        schema = connection.get_execution_options().get(SCHEMA_OPTION)
        if schema is not None:
            quoted = connection.dialect.identifier_preparer.quote_identifier(schema)
            connection.exec_driver_sql(f"SET LOCAL search_path TO {quoted}")

    return engine


def read_rows(
    engine: Engine,
    statement: sa.Select[Any] | sa.CompoundSelect[Any],
    parameters: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """The rows of one read-only statement, as dicts: for the hottest reads (a token, a
    fund's balances), where SQLAlchemy's execution layer costs twice what psycopg does.

    On PostgreSQL the statement, compiled once (pass module-level constants), runs straight
    through psycopg on a pooled connection, in autocommit (no BEGIN and ROLLBACK round trips;
    one statement reads one snapshot) and prepared on the server; `parameters` go to psycopg
    as they are (no SQLAlchemy type processing). A connection that fails is discarded, and
    all idle ones with it if the database went away. Elsewhere, SQLAlchemy."""
    if not is_postgres(engine):
        with engine.connect() as connection:
            return [dict(row) for row in connection.execute(statement, parameters).mappings()]
    sql, defaults = _postgres_sql(engine, statement)
    pooled = engine.raw_connection()
    driver = pooled.driver_connection
    assert isinstance(driver, psycopg.Connection), "a postgresql+psycopg engine"
    try:
        driver.autocommit = True
        with driver.cursor(row_factory=dict_row) as cursor:
            rows: list[dict[str, Any]] = cursor.execute(
                sql, {**defaults, **parameters}, prepare=True
            ).fetchall()
        driver.autocommit = False
    except psycopg.Error as error:
        pooled.invalidate(error)  # never reuse a connection left in an unknown state
        if driver.broken or driver.closed:
            # As SQLAlchemy does on a disconnect: the idle ones are likely stale too.
            engine.pool.dispose()
            if not isinstance(error, psycopg.OperationalError):
                raise psycopg.OperationalError("the database connection was lost") from error
        raise
    except BaseException:
        pooled.invalidate()
        raise
    finally:
        pooled.close()
    return rows


def _postgres_sql(
    engine: Engine, statement: sa.Select[Any] | sa.CompoundSelect[Any]
) -> tuple[str, dict[str, Any]]:
    """The statement's SQL for psycopg, and its bound literals (`pot != 'general'`)."""
    found = _COMPILED.get(id(statement))
    if found is None:
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.clear()
        compiled = statement.compile(engine)
        found = _COMPILED[id(statement)] = (statement, str(compiled), dict(compiled.params))
    return found[1], found[2]


_COMPILED: dict[int, tuple[object, str, dict[str, Any]]] = {}  # id → (statement, SQL, literals)
_COMPILED_MAX = 64


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_S] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in_s = record.info.get(_CHECKED_IN_S)
        if checked_in_s is None or time.monotonic() - checked_in_s < POSTGRES_PING_IDLE_S:
            return
        try:
            autocommit_before = dbapi_connection.autocommit
            dbapi_connection.autocommit = True  # one round trip, no transaction left open
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.autocommit = autocommit_before
        except psycopg.Error as error:
            # As SQLAlchemy's pre-ping: replace this connection and every older one.
            raise sa.exc.InvalidatePoolError(str(error)) from error


_CHECKED_IN_S = "fund_ledger_checked_in_s"
