"""Every error as an RFC 9457 problem document (`application/problem+json`).

One table maps each domain error to an HTTP status and a stable problem `type`; routes never
raise HTTP errors for domain rules. The `type` is `urn:fund-ledger:problem:<slug>` and its
slug never changes once published: clients may switch on it. Unexpected exceptions become a
500 problem with no detail (the traceback goes to the server's log, never to the client).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy.exc
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger import errors

PROBLEM_TYPE_PREFIX = "urn:fund-ledger:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"

_log = logging.getLogger("fund_ledger.api")
# Failures of the database itself (not of a request): answered 503 `storage-unavailable`.
STORAGE_FAILURES: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.TimeoutError,  # no pooled connection within the pool's timeout
    StoreOperationalError,
    StoreInterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


@dataclass(frozen=True)
class ProblemKind:
    status: int
    slug: str
    title: str

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug


# Most specific first: the first class an error is an instance of decides.
DOMAIN_PROBLEMS: tuple[tuple[type[errors.LedgerError], ProblemKind], ...] = (
    (errors.Overdraft, ProblemKind(409, "insufficient-funds", "Not enough money available")),
    (
        errors.RefundExceedsDonation,
        ProblemKind(409, "refund-exceeds-donation", "Refund exceeds what is left"),
    ),
    (errors.DonationAlreadyVoided, ProblemKind(409, "donation-voided", "Donation is voided")),
    (
        errors.DonationPartlyRefunded,
        ProblemKind(409, "donation-refunded", "Donation was already refunded"),
    ),
    (
        errors.GrantLimitExceeded,
        ProblemKind(409, "grant-limit-exceeded", "Amount exceeds what the grant allows"),
    ),
    (errors.UnknownDesignation, ProblemKind(422, "unknown-designation", "Unknown designation")),
    (
        errors.DuplicateDesignation,
        ProblemKind(409, "duplicate-designation", "Designation already exists"),
    ),
    (errors.DateOutOfOrder, ProblemKind(422, "date-out-of-order", "Date out of order")),
    (errors.BooksClosed, ProblemKind(409, "books-closed", "The books are closed for that date")),
    (
        errors.ReceiptAlreadyIssued,
        ProblemKind(409, "receipt-already-issued", "A valid receipt already covers it"),
    ),
    (errors.ReceiptVoided, ProblemKind(409, "receipt-voided", "Receipt is voided")),
    (errors.NothingToReceipt, ProblemKind(409, "nothing-to-receipt", "Nothing to receipt")),
    (errors.RuleViolation, ProblemKind(409, "rule-violation", "A ledger rule would be broken")),
    (errors.InvalidInput, ProblemKind(422, "invalid-input", "Invalid input")),
    (errors.NotFound, ProblemKind(404, "not-found", "Not found")),
    (
        errors.IdempotencyKeyReused,
        ProblemKind(409, "idempotency-key-reused", "Idempotency key used for another request"),
    ),
    (
        errors.ConcurrencyConflict,
        ProblemKind(503, "concurrency-conflict", "Too many concurrent changes; retry"),
    ),
    (errors.BatchTooLarge, ProblemKind(413, "batch-too-large", "Batch too large")),
    (
        errors.ImportRejected,
        ProblemKind(422, "import-rejected", "The file has problems; nothing was recorded"),
    ),
    (errors.ImportTooLarge, ProblemKind(413, "import-too-large", "The file is too large")),
    (errors.StorageError, ProblemKind(503, "storage-unavailable", "The database failed")),
    (
        errors.ConfigurationError,
        ProblemKind(503, "misconfigured", "The service is not configured correctly"),
    ),
    (
        errors.UnreadableEvent,
        ProblemKind(500, "unreadable-event", "The log holds an event that cannot be read"),
    ),
    (errors.LedgerError, ProblemKind(400, "ledger-error", "Request refused")),
)

INVALID_REQUEST = ProblemKind(422, "invalid-request", "The request is malformed")
UNAUTHENTICATED = ProblemKind(401, "unauthenticated", "A valid bearer token is required")
FORBIDDEN = ProblemKind(403, "forbidden", "This token may not do that")
IDEMPOTENCY_KEY_REQUIRED = ProblemKind(
    428, "idempotency-key-required", "This request needs an Idempotency-Key header"
)
READ_MODEL_BEHIND = ProblemKind(
    503, "read-model-behind", "The read models have not reached the requested position yet"
)
READ_MODELS_STOPPED = ProblemKind(
    503, "read-models-stopped", "The read models stopped; an operator must look at the log"
)
NOT_READY = ProblemKind(503, "not-ready", "The service is not ready to serve")
INTERNAL = ProblemKind(500, "internal-error", "Internal error")
POSITION_BEYOND_HEAD = ProblemKind(422, "position-beyond-head", "No write has that position yet")
_HTTP_PROBLEMS = {
    400: INVALID_REQUEST,  # FastAPI's answer to a body it cannot decode (not UTF-8)
    404: ProblemKind(404, "not-found", "Not found"),
    405: ProblemKind(405, "method-not-allowed", "Method not allowed"),
}


class ProblemError(Exception):
    """Raised by the API's own checks (authentication, headers) to answer with a problem."""

    def __init__(
        self, kind: ProblemKind, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.headers = headers or {}


def problem_kind_of(error: errors.LedgerError) -> ProblemKind:
    for cls, kind in DOMAIN_PROBLEMS:
        if isinstance(error, cls):
            return kind
    raise AssertionError(f"LedgerError is last in DOMAIN_PROBLEMS: {type(error)}")


def problem_response(
    kind: ProblemKind,
    detail: str,
    request: Request,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": kind.type,
        "title": kind.title,
        "status": kind.status,
        "detail": detail,
        "instance": request.url.path,
        **extensions,
    }
    return JSONResponse(body, kind.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.LedgerError, _ledger_error)
    app.add_exception_handler(ProblemError, _problem_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for failure in STORAGE_FAILURES:
        app.add_exception_handler(failure, _storage_failure)
    app.add_exception_handler(Exception, _unexpected_error)


async def _ledger_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, errors.LedgerError)
    cause = error.cause if isinstance(error, errors.BatchRejected) else error
    kind = problem_kind_of(cause)
    if isinstance(cause, errors.InvalidInput):
        return problem_response(kind, cause.message, request, field=cause.field)
    return problem_response(kind, cause.message, request)


async def _problem_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ProblemError)
    return problem_response(error.kind, error.detail, request, headers=error.headers)


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    found = [
        {"location": ".".join(str(part) for part in e.get("loc", ())), "message": e.get("msg")}
        for e in error.errors()
    ]
    detail = "; ".join(f"{e['location']}: {e['message']}" for e in found[:5])
    return problem_response(INVALID_REQUEST, detail, request, errors=found)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    kind = _HTTP_PROBLEMS.get(
        error.status_code, ProblemKind(error.status_code, "http-error", "HTTP error")
    )
    headers = dict(error.headers) if error.headers else None
    return problem_response(kind, str(error.detail), request, headers=headers)


async def _storage_failure(request: Request, error: Exception) -> JSONResponse:
    """The database is away or refusing connections: a 503 the client may retry (the
    driver's message goes to the log only: it can name hosts and users)."""
    _log.warning("database failure on %s %s: %s", request.method, request.url.path, error)
    kind = problem_kind_of(errors.StorageError(""))
    return problem_response(
        kind, "the database is unavailable; retry later", request, headers={"Retry-After": "5"}
    )


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    _log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem_response(INTERNAL, "the server failed; the error was logged", request)
