"""One CLI invocation's settings and its connection to the ledger, opened on first use.

Normal commands never create tables: they check that `fund-ledger init` ran and say so in one
line when it did not. The ledger is closed (its connection pool released) when the command ends.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TypeVar
from urllib.parse import unquote, urlsplit
from uuid import UUID

import psycopg.errors
import sqlalchemy as sa
import typer
from eventsourcing.persistence import PersistenceError

from api.console.accounts import create_console_tables
from api.receipt_documents import ensure_table as ensure_receipt_documents_table
from api.tokens import create_token_table
from ledger.commands import Command, Outcome
from ledger.errors import ConfigurationError, NotFound
from ledger.service import FundLedger
from ledger.settings import Settings
from ledger.store import (
    ChainedApplicationRecorder,
    create_tables,
    database_label,
    eventsourcing_env,
)
from projections.catalogue import create_read_models
from projections.database import engine_for, is_postgres

A = TypeVar("A")
# A session advisory lock keyed by the schema (which may not exist yet), held while `init`
# creates tables.
_INIT_LOCK = sa.text("SELECT pg_advisory_lock(hashtext(:key))")
_INIT_UNLOCK = sa.text("SELECT pg_advisory_unlock(hashtext(:key))")
_NO_AGGREGATE_ID = UUID(int=0)


class Session:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._ledger: FundLedger | None = None

    @property
    def database(self) -> str:
        """The database URL with any password masked."""
        return database_label(self.settings.database_url)

    @property
    def password(self) -> str:
        """The database password, if the URL holds one (to mask it wherever it might show)."""
        try:
            return unquote(urlsplit(self.settings.database_url).password or "")
        except ValueError:
            return ""

    def ledger(self) -> FundLedger:
        """The ledger on an initialised database; `ConfigurationError` if `init` never ran."""
        if self._ledger is None:
            env = eventsourcing_env(self.settings.database_url)
            _check_file_exists(env, self.database)
            self._ledger = FundLedger(env=env)
            _check_initialised(self._ledger, self.database)
        return self._ledger

    def initialise(self) -> FundLedger:
        """Create the tables (idempotent) and return the ledger on them. On PostgreSQL one
        `init` at a time per schema: two creating the same table at once fail on the
        catalogue (compose may start `migrate` twice; an operator may run it by hand)."""
        assert self._ledger is None, "init opens the ledger once"
        engine = engine_for(self.settings.database_url)
        try:
            with engine.connect() as lock_holder:
                key = {"key": f"fund-ledger init:{_schema(self.settings.database_url)}"}
                if is_postgres(engine):
                    lock_holder.execute(_INIT_LOCK, key)
                try:
                    create_tables(self.settings.database_url)
                    create_read_models(self.settings.database_url)
                    create_token_table(engine)
                    create_console_tables(engine)
                    ensure_receipt_documents_table(engine)
                finally:
                    if is_postgres(engine):
                        lock_holder.execute(_INIT_UNLOCK, key)
        finally:
            engine.dispose()
        return self.ledger()

    def execute(self, command: Command) -> Outcome:
        return self.ledger().execute(command, actor=self.settings.actor)

    def load(self, cls: type[A], aggregate_id: UUID, name: str) -> A:
        found = self.ledger().get(aggregate_id)
        if not isinstance(found, cls):
            raise NotFound(f"no {name} with id {aggregate_id}")
        return found

    def recorder(self) -> ChainedApplicationRecorder:
        return chained_recorder(self.ledger())

    def close(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None


def _schema(database_url: str) -> str:
    return eventsourcing_env(database_url).get("POSTGRES_SCHEMA", "")


def session_of(ctx: typer.Context) -> Session:
    session = ctx.find_object(Session)
    assert session is not None, "the root callback stores the session"
    return session


def chained_recorder(ledger: FundLedger) -> ChainedApplicationRecorder:
    recorder = ledger.recorder
    assert isinstance(recorder, ChainedApplicationRecorder), "eventsourcing_env names it"
    return recorder


def _check_file_exists(env: dict[str, str], database: str) -> None:
    """Refuse a SQLite file that is not there before opening it: sqlite3 would create an
    empty one, and a mistyped path would leave that file behind."""
    path = env.get("SQLITE_DBNAME")
    if path is not None and not path.startswith("file:") and not Path(path).exists():
        raise ConfigurationError(
            f"database {database} does not exist: run `fund-ledger init` first"
        )


def _check_initialised(ledger: FundLedger, database: str) -> None:
    """Read each of the ledger's tables once (events, chain, snapshots), so that a missing one
    is named before any work."""
    recorder = chained_recorder(ledger)
    try:
        recorder.max_notification_id()  # not a row: `verify` must reach one it cannot decode
        recorder.select_chain_rows(0, 1)
        if ledger.snapshots is not None:
            ledger.snapshots.recorder.select_events(_NO_AGGREGATE_ID, limit=1)
    except PersistenceError as error:
        if _is_missing_table(error):
            raise ConfigurationError(
                f"database {database} has no ledger tables: run `fund-ledger init` first"
            ) from error
        raise


def _is_missing_table(error: BaseException) -> bool:
    cause = error.__cause__
    if isinstance(cause, psycopg.errors.UndefinedTable):
        return True
    return isinstance(cause, sqlite3.OperationalError) and "no such table" in str(cause)
