"""The routes' dependencies, as `Annotated` aliases: who is asking, may they, and the headers
and query parameters that every write or read shares.

Access, by role (see `api.tokens`):
- `Admin`: admin tokens only (every write);
- `Reader`: admin and auditor tokens (every read of the ledger);
- `donor_reader(donor_id)`: admin, auditor, or the donor's own token. Another donor's id
  answers 404, exactly as an unknown id, so that a donor cannot probe who else gave.

Every dependency costs FastAPI's resolution on each request, and each sync one a hand-off to
its thread pool: those that do no I/O are `async def`, and the services are taken from the
request rather than from a dependency of their own. A token is looked up in the database
(`api.tokens.authenticate`, in the thread pool) unless it was found valid within the last
`token_cache_s` (`api.http.principals`): a revoked token stops working at most that long
after it was revoked.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.http.problems import FORBIDDEN, IDEMPOTENCY_KEY_REQUIRED, UNAUTHENTICATED, ProblemError
from api.http.services import Services
from api.tokens import Principal, Role, authenticate
from ledger.errors import NotFound
from ledger.values import IDEMPOTENCY_KEY_LENGTH_MAX

_bearer = HTTPBearer(
    auto_error=False,
    description="A token made by `fund-ledger token create` (roles: admin, auditor, donor).",
)


def _services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def _services(request: Request) -> Services:
    return _services_of(request)


ServicesDep = Annotated[Services, Depends(_services)]


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def _authenticated(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    challenge = {"WWW-Authenticate": 'Bearer realm="fund-ledger"'}
    if credentials is None:
        raise ProblemError(UNAUTHENTICATED, "send Authorization: Bearer <token>", challenge)
    services = _services_of(request)
    token = credentials.credentials
    principal = services.principals.get(token)
    if principal is None:
        principal = await run_in_threadpool(authenticate, services.engine, token)
        if principal is None:
            raise ProblemError(UNAUTHENTICATED, "the token is unknown or revoked", challenge)
        services.principals.put(token, principal)
    return principal


# `_admin` and `_reader` authenticate themselves rather than depend on `_principal`: each
# level of dependencies costs FastAPI's resolution on every request.
async def _principal(request: Request, credentials: Credentials) -> Principal:
    return await _authenticated(request, credentials)


PrincipalDep = Annotated[Principal, Depends(_principal)]


async def _admin(request: Request, credentials: Credentials) -> Principal:
    principal = await _authenticated(request, credentials)
    if principal.role is not Role.ADMIN:
        raise ProblemError(FORBIDDEN, f"a {principal.role.value} token cannot record changes")
    return principal


async def _reader(request: Request, credentials: Credentials) -> Principal:
    principal = await _authenticated(request, credentials)
    if principal.role not in (Role.ADMIN, Role.AUDITOR):
        raise ProblemError(FORBIDDEN, "a donor token reads only its own donor record")
    return principal


Admin = Annotated[Principal, Depends(_admin)]
Reader = Annotated[Principal, Depends(_reader)]


def check_donor_access(principal: Principal, donor_id: UUID) -> None:
    """Admins and auditors read any donor; a donor only itself (others look nonexistent)."""
    if principal.role is Role.DONOR and principal.donor_id != donor_id:
        raise NotFound(f"no donor with id {donor_id}")


async def _required_key(
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=IDEMPOTENCY_KEY_LENGTH_MAX,
            description="Unique per intended change: a retry with the same key and body"
            " records nothing and answers as the first time.",
        ),
    ] = None,
) -> str:
    if idempotency_key is None:
        raise ProblemError(IDEMPOTENCY_KEY_REQUIRED, "money requests need an Idempotency-Key")
    return idempotency_key


IdempotencyKey = Annotated[str, Depends(_required_key)]
OptionalIdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=IDEMPOTENCY_KEY_LENGTH_MAX,
        description="Optional: a retry with the same key and body records nothing.",
    ),
]


async def _caught_up(
    request: Request,
    min_position: Annotated[
        int | None,
        Query(
            ge=0,
            le=2**63 - 1,
            description="Wait (bounded) until the read models include this log position,"
            " e.g. the `position` a write answered.",
        ),
    ] = None,
) -> None:
    if min_position is not None and min_position > 0:
        await run_in_threadpool(_services_of(request).wait_for, min_position)


CaughtUp = Depends(_caught_up)
