"""`fund-ledger serve`: the HTTP API under uvicorn (one process; the ledger is synchronous, so
FastAPI runs each request in its thread pool)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from api.cli.session import session_of
from api.http.settings import ApiSettings


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    project: Annotated[
        bool,
        typer.Option(
            "--project/--no-project",
            help="Run the projectors in this process (off when `fund-ledger project` runs).",
        ),
    ] = True,
) -> None:
    """Serve the HTTP API (docs at /docs, schema at /openapi.json)."""
    from api.http.app import create_app  # the app imports the CLI's session: import it late

    session = session_of(ctx)
    session.ledger()  # refuse an uninitialised database in one line, before listening
    settings = ApiSettings(database_url=session.settings.database_url, project_in_process=project)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
