"""`fund-ledger`: the command line of the fund ledger.

    fund-ledger [--database-url URL] [--actor NAME] COMMAND …

Every command prints one readable line (the ids the next command needs) or, with `--json`, one
JSON object. Whatever fails is one line on stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli import (
    donations,
    donors,
    export,
    funds,
    grants,
    history,
    imports,
    log,
    projections,
    receipts,
    serve,
    statement,
    tokens,
    users,
)
from api.cli.boundary import LedgerGroup
from api.cli.session import Session
from ledger.settings import DATABASE_URL_DEFAULT, Settings

app = typer.Typer(
    cls=LedgerGroup,
    name="fund-ledger",
    help="Event-sourced ledger for community funds.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(funds.app, name="fund")
app.add_typer(donors.app, name="donor")
app.add_typer(donations.app, name="donation")
app.add_typer(grants.app, name="grant")
app.add_typer(receipts.app, name="receipts")
app.add_typer(statement.app, name="statement")
app.add_typer(tokens.app, name="token")
app.add_typer(users.app, name="user")
app.add_typer(imports.app, name="import")
app.add_typer(export.app, name="export")
app.command("serve")(serve.serve)
app.command("init")(log.init)
app.command("events")(log.events)
app.command("verify")(log.verify)
app.command("history")(history.history)
projections.register(app)


@app.callback()
def configure(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help=f"Env FUND_LEDGER_DATABASE_URL; default {DATABASE_URL_DEFAULT}.",
            show_default=False,
        ),
    ] = None,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            help="Who records (env FUND_LEDGER_ACTOR; default the OS user).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Event-sourced ledger for community funds."""
    given = {"database_url": database_url, "actor": actor}
    session = Session(
        Settings(**{name: value for name, value in given.items() if value is not None})
    )
    ctx.obj = session
    ctx.call_on_close(session.close)


def main() -> None:
    app(prog_name="fund-ledger")
