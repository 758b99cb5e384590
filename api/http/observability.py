"""Request ids, logs and metrics of the HTTP API.

- Every request gets an id: the caller's `X-Request-Id` when it is a plausible one, else a
  new uuid4. It is answered in the same header, put on every log line of the request, and
  stored beside the events the request wrote (`event_requests`), so a log line leads to its
  events and an event back to its log lines.
- Logs are plain text or one JSON object a line (`FUND_LEDGER_LOG_FORMAT=json`, by
  python-json-logger). They carry method, route, status, duration and request id, never a
  body: no donor's name or address reaches a log.
- `/metrics` is the Prometheus text exposition (prometheus_client): requests by route and
  status, their latency, and, read at each scrape, the log's head and the read models' lag.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import TextIO

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.lower().encode("latin-1")
_PLAUSIBLE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_log = logging.getLogger("fund_ledger.api.access")


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


def configure_logging(log_format: str, stream: TextIO | None = None) -> None:
    """One handler on the `fund_ledger` loggers (to stderr, or `stream`): text or JSON lines,
    with the request id."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(_RequestIdFilter())
    if log_format == "json":
        handler.setFormatter(
            JsonFormatter(
                "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger("fund_ledger")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


class Metrics:
    def __init__(self, gauges: Callable[[], dict[str, int]]) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "fund_ledger_http_requests",
            "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "fund_ledger_http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route.",
            ["method", "route"],
            registry=self.registry,
        )
        self.registry.register(_LedgerGauges(gauges))


class _LedgerGauges(Collector):
    """Figures read at scrape time: the log's head position and the read models' lag."""

    def __init__(self, gauges: Callable[[], dict[str, int]]) -> None:
        self._gauges = gauges

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            figures = self._gauges()
        except Exception:  # the database is away: /readyz says so; metrics keep answering
            return
        yield GaugeMetricFamily(
            "fund_ledger_events_head_position",
            "Log position of the newest event (events appended so far, gaps included).",
            value=figures["head_position"],
        )
        yield GaugeMetricFamily(
            "fund_ledger_projection_lag_events",
            "Events in the log that the slowest read model has not applied yet.",
            value=figures["lag_events"],
        )


def install_observability(app: FastAPI, metrics: Metrics) -> None:
    app.add_middleware(_Observe, metrics=metrics)


class _Observe:
    """The request id, the metrics and the access log of each HTTP request.

    Pure ASGI middleware: Starlette's `BaseHTTPMiddleware` (`@app.middleware("http")`) runs
    the app in a task of its own and streams its answer through a memory channel, which cost
    about a fifth of a simple GET's time. An error no handler answered propagates as before
    (the outer `ServerErrorMiddleware` answers it) and is neither counted nor logged here.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, _REQUEST_ID_HEADER_BYTES)
        request_id = given if _PLAUSIBLE_REQUEST_ID.match(given) else uuid.uuid4().hex
        status_code = 0

        async def send_with_request_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                header = (_REQUEST_ID_HEADER_BYTES, request_id.encode("latin-1"))
                message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            request_id_var.reset(token)
        duration_s = time.perf_counter() - started
        method = scope["method"]
        route = _route_template(scope)
        self.metrics.requests.labels(method, route, str(status_code)).inc()
        self.metrics.latency.labels(method, route).observe(duration_s)
        _log.info(
            "%s %s %d %.1f ms",
            method,
            route,
            status_code,
            duration_s * 1000,
            extra={"request_id": request_id},
        )


def _header(scope: Scope, name: bytes) -> str:
    """The first value of the header `name` (lower case), or ""."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/funds/{fund_id}`), never the raw path, so
    that ids do not multiply the metrics' series; `unmatched` for a 404."""
    route = scope.get("route")
    return str(getattr(route, "path", "unmatched"))
