"""The error boundary: whatever goes wrong reaches the user as ONE line on stderr, exit 1.

Usage errors (unknown option, missing argument) stay typer's: exit 2. No traceback is printed
unless `FUND_LEDGER_DEBUG=1`, and a database is only ever named by its label (password masked).
"""

from __future__ import annotations

import os
import sqlite3
import traceback
from typing import Any

import psycopg
import typer
from eventsourcing.persistence import PersistenceError
from typer.core import TyperGroup

from api.cli.session import Session
from ledger.errors import LedgerError, StorageError

DEBUG_VARIABLE = "FUND_LEDGER_DEBUG"
STORAGE_FAILURES = (PersistenceError, psycopg.Error, sqlite3.Error)
_PASSTHROUGH = (typer.Exit, typer.Abort, typer.TyperException)


class LedgerGroup(TyperGroup):
    """The root command group; its `invoke` runs the callback and every subcommand."""

    # typer.Context narrows the vendored click Context that typer does not export.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except _PASSTHROUGH:
            raise
        except Exception as error:
            if os.environ.get(DEBUG_VARIABLE) == "1":
                typer.echo("".join(traceback.format_exception(error)).rstrip(), err=True)
            typer.echo(f"error: {error_line(error, ctx.find_object(Session))}", err=True)
            raise typer.Exit(1) from None


def error_line(error: Exception, session: Session | None) -> str:
    """One line naming what went wrong; never a password, never a traceback."""
    database = session.database if session is not None else "the database"
    if isinstance(error, StorageError):
        text = f"{error.code}: {database}: {error.message}"
    elif isinstance(error, LedgerError):
        text = f"{error.code}: {error.message}"
    elif isinstance(error, STORAGE_FAILURES):
        text = f"database unavailable: {database}: {error}"
    else:
        text = (
            f"unexpected {type(error).__name__}: {error} (set {DEBUG_VARIABLE}=1 for the traceback)"
        )
    return _masked(" ".join(text.split()), session)


def _masked(text: str, session: Session | None) -> str:
    """Drivers may echo connection parameters; make sure the password never shows."""
    password = session.password if session is not None else ""
    return text.replace(password, "***") if password else text
