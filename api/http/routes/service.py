"""Service endpoints, no token needed: `/healthz` (alive), `/readyz` (can serve: the database
answers and the read models are close enough behind the log), `/metrics` (Prometheus)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.http.deps import ServicesDep
from api.http.problems import NOT_READY, PROBLEM_MEDIA_TYPE, ProblemError

router = APIRouter(tags=["service"])
_NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"description": "Not ready", "content": {PROBLEM_MEDIA_TYPE: {}}}
}


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive (for restart policies): answers without touching the database."""
    return {"status": "ok"}


@router.get("/readyz", responses=_NOT_READY)
def readyz(services: ServicesDep) -> dict[str, Any]:
    """Ready to serve: the database answers and the read models lag at most
    `FUND_LEDGER_READY_LAG_EVENTS_MAX` events (503 problem otherwise)."""
    try:
        figures = services.lag()
    except Exception as error:
        detail = f"the database does not answer ({type(error).__name__})"
        raise ProblemError(NOT_READY, detail) from error
    bound = services.settings.ready_lag_events_max
    if figures["lag_events"] > bound:
        raise ProblemError(
            NOT_READY,
            f"the read models are {figures['lag_events']} events behind (at most {bound})",
        )
    if services.projection is not None and services.projection.failure is not None:
        raise ProblemError(NOT_READY, "the in-process projector stopped; see the log")
    return {"status": "ready", **figures}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
