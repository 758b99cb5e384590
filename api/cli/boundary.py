"""The error boundary: whatever goes wrong reaches the user as ONE line on stderr, exit 1.

Usage errors (unknown option, missing argument) stay typer's: exit 2. No traceback is printed
unless `FUND_LEDGER_DEBUG=1`, and a database is only ever named by its label (password masked).

A reader that closes the pipe early (`fund-ledger events | head`) is no error: the command ends
quietly, with the status of a Unix tool ended by SIGPIPE (141).
"""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import sys
import traceback
from typing import Any

import psycopg
import typer
from eventsourcing.persistence import PersistenceError
from pydantic import ValidationError
from typer.core import TyperGroup

from api.cli.session import Session
from api.foundation import FoundationSettings
from api.http.settings import ApiSettings
from ledger.errors import LedgerError, StorageError
from ledger.settings import Settings

DEBUG_VARIABLE = "FUND_LEDGER_DEBUG"
STORAGE_FAILURES = (PersistenceError, psycopg.Error, sqlite3.Error)
_PASSTHROUGH = (typer.Exit, typer.Abort, typer.TyperException)
# The settings read from the environment: a refused value is named by its variable.
_ENV_PREFIXES = {
    cls.__name__: cls.model_config.get("env_prefix", "")
    for cls in (Settings, ApiSettings, FoundationSettings)
}


class LedgerGroup(TyperGroup):
    """The root command group; its `invoke` runs the callback and every subcommand."""

    # typer.Context narrows the vendored click Context that typer does not export.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except _PASSTHROUGH:
            raise
        except Exception as error:
            if isinstance(error, BrokenPipeError) and _stdout_reader_gone():
                raise typer.Exit(128 + signal.SIGPIPE) from None
            if os.environ.get(DEBUG_VARIABLE) == "1":
                typer.echo("".join(traceback.format_exception(error)).rstrip(), err=True)
            typer.echo(f"error: {error_line(error, ctx.find_object(Session))}", err=True)
            raise typer.Exit(1) from None


def _stdout_reader_gone() -> bool:
    """Whether the pipe that stdout writes to has lost its reader (rather than some other pipe
    or socket): the kernel then reports an error condition on it. If so, stdout is pointed at
    /dev/null, so that output still buffered does not fail again at exit."""
    if not hasattr(select, "poll"):  # not on Windows, where there is no SIGPIPE either
        return False
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a stream without a descriptor
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    if not any(events & select.POLLERR for _, events in poller.poll(0)):
        return False
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
    return True


def error_line(error: Exception, session: Session | None) -> str:
    """One line naming what went wrong; never a password, never a traceback."""
    database = session.database if session is not None else "the database"
    if isinstance(error, StorageError):
        text = f"{error.code}: {database}: {error.message}"
    elif isinstance(error, LedgerError):
        text = f"{error.code}: {error.message}"
    elif isinstance(error, STORAGE_FAILURES):
        text = f"database unavailable: {database}: {error}"
    elif isinstance(error, ValidationError) and error.title in _ENV_PREFIXES:
        text = f"configuration: {_settings_problems(error)}"
    else:
        text = (
            f"unexpected {type(error).__name__}: {error} (set {DEBUG_VARIABLE}=1 for the traceback)"
        )
    return _masked(" ".join(text.split()), session)


def _settings_problems(error: ValidationError) -> str:
    """`FUND_LEDGER_X: what is wrong with it`, for each refused setting (never its value,
    which may be a secret)."""
    prefix = _ENV_PREFIXES[error.title]
    return "; ".join(
        f"{prefix}{str(problem['loc'][0]).upper()}: {problem['msg']}" for problem in error.errors()
    )


def _masked(text: str, session: Session | None) -> str:
    """Drivers may echo connection parameters; make sure the password never shows."""
    password = session.password if session is not None else ""
    return text.replace(password, "***") if password else text
