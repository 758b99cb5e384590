"""The FastAPI application: routers, problem handlers, OpenAPI, and the process's services.

`create_app(settings)` opens nothing; the lifespan opens the ledger and the read models'
engine (refusing, in one line, a database that `fund-ledger init` never prepared), starts
the in-process projector unless configured off, and closes it all on shutdown.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from api.cli.session import Session
from api.console.accounts import check_console_tables
from api.http.draining import StopRequested, install_draining
from api.http.observability import Metrics, configure_logging, install_observability
from api.http.problems import PROBLEM_TYPE_PREFIX, install_problem_handlers
from api.http.routes import (
    audit,
    donations,
    donors,
    funds,
    grants,
    imports,
    receipts,
    service,
    statements,
)
from api.http.services import Services
from api.http.settings import ApiSettings
from api.tokens import check_token_table
from projections.catalogue import all_projectors, check_read_model_tables
from projections.database import engine_for
from projections.worker import ProjectionWorker

API_VERSION = "1.0.0"
DESCRIPTION = """
The ledger of community funds held by 公益財団法人 京都地域創造基金: donations, refunds,
grants and disbursements as an immutable, hash-chained event log.

- **Auth**: `Authorization: Bearer <token>` (made by `fund-ledger token create`). `admin`
  writes and reads, `auditor` reads everything, `donor` reads only its own record.
- **Money** is integer yen (`amount_yen`); dates are ISO 8601 (`YYYY-MM-DD`).
- **Idempotency**: money writes need an `Idempotency-Key` header; a retry with the same key
  and body answers as the first time (header `Idempotent-Replayed: true`) and records
  nothing; the same key with another body is a 409 problem.
- **Read your writes**: every write answers with its log `position`; pass it as
  `min_position` to any read to wait (bounded) until the read models include it.
- **Errors** are RFC 9457 problem documents (`application/problem+json`) whose `type`
  (`urn:fund-ledger:problem:…`) is stable.
"""


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(examples=[PROBLEM_TYPE_PREFIX + "insufficient-funds"])
    title: str
    status: int
    detail: str
    instance: str


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    chosen = settings or ApiSettings()
    app = FastAPI(
        title="fund-ledger",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=_lifespan(chosen),
    )
    install_problem_handlers(app)
    routers = (funds, donors, donations, grants, imports, audit, service, receipts, statements)
    for module in routers:
        app.include_router(module.router)
    # Imported here: the console's modules import api.http's, which import this one.
    from api.console.install import install_console

    install_console(app)
    app.state.metrics = Metrics(gauges=lambda: app.state.services.lag())
    install_observability(app, app.state.metrics)
    app.state.stop_requested = StopRequested()
    install_draining(app, app.state.stop_requested)
    app.openapi = _openapi_with_problem(app)  # type: ignore[method-assign]
    return app


def create_app_from_environment() -> FastAPI:
    """The factory each uvicorn worker calls (`fund-ledger serve --workers N`)."""
    settings = ApiSettings()
    settings.check_production()
    configure_logging(settings.log_format)
    return create_app(settings)


def _lifespan(settings: ApiSettings) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        session = Session(settings)
        # The projector reads the log through a ledger of its own: sharing the requests'
        # connection pool, it could wait for a connection while holding SQLite's write lock,
        # which the requests holding those connections wait for.
        projection_session = Session(settings)
        engine = engine_for(settings.database_url)
        projection = None
        try:
            ledger = session.ledger()
            check_read_model_tables(engine, session.database)
            check_token_table(engine, session.database)
            check_console_tables(engine, session.database)
            if settings.project_in_process:
                projection = ProjectionWorker(
                    projection_session.ledger(),
                    engine,
                    all_projectors(),
                    poll_interval_s=settings.projection_poll_s,
                )
                projection.start()
            services = Services(settings, ledger, engine, projection)
            app.state.services = services
            _freeze_startup_objects()
            try:
                with app.state.stop_requested.listening():
                    yield
            finally:
                gc.unfreeze()
                services.close()
        finally:
            if projection is not None:
                projection.stop()
            engine.dispose()
            projection_session.close()
            session.close()

    return lifespan


def _freeze_startup_objects() -> None:
    """Exempt what start-up built (modules, the app, its routes and schemas: ~140,000 objects)
    from the cyclic garbage collector: they live as long as the process, and each full
    collection walked them all again, a pause of ~50 ms in the middle of some request.
    Shutdown unfreezes them, so that an app stopped in a process that goes on (a test) can be
    collected. No collection first: it cost each start ~50 ms (18 s of the API tests), to
    free the little garbage start-up leaves, which shutdown frees anyway."""
    gc.freeze()


def _openapi_with_problem(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas["Problem"] = Problem.model_json_schema()
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi
