"""`fund-ledger serve`: the HTTP API under uvicorn.

One worker by default; `--workers N` starts N processes, each creating the app from the
environment (`create_app_from_environment`), so the options given here are passed on as
`FUND_LEDGER_*` variables. The ledger is synchronous: FastAPI runs each request in its thread
pool. SIGTERM lets requests in flight finish and the in-process projector end its batch.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from api.cli.session import session_of
from api.http.settings import ApiSettings

FACTORY = "api.http.app:create_app_from_environment"
GRACEFUL_SHUTDOWN_S = 30
# Each worker imports the whole app before it answers uvicorn's health check; on a loaded
# small host that took 5-25 s, and uvicorn's default of 5 s restarted the workers forever.
WORKER_STARTUP_S_MAX = 120


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=64, help="Processes.")] = 1,
    project: Annotated[
        bool,
        typer.Option(
            "--project/--no-project",
            help="Run the projectors in this process (off when `fund-ledger project` runs).",
        ),
    ] = True,
) -> None:
    """Serve the HTTP API (docs at /docs, schema at /openapi.json, /healthz, /readyz, /metrics)."""
    session = session_of(ctx)
    os.environ["FUND_LEDGER_DATABASE_URL"] = session.settings.database_url
    os.environ["FUND_LEDGER_PROJECT_IN_PROCESS"] = "true" if project else "false"
    settings = ApiSettings()
    settings.check_production()
    session.ledger()  # refuse an uninitialised database in one line, before listening
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        access_log=False,  # the app logs each request itself, with its request id
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        timeout_worker_healthcheck=WORKER_STARTUP_S_MAX,
    )
