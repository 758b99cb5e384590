"""`/v1/grants`: award, list, get; disbursements, reductions, cancellation, returns. Every
write needs an `Idempotency-Key`."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.cli.grants import grant_state
from api.http.deps import Admin, CaughtUp, IdempotencyKey, Reader, ServicesDep
from api.http.routes.common import READ_PROBLEMS, WRITE_RESPONSES, record
from api.http.schemas import (
    CancellationCreate,
    DisbursementCreate,
    GrantCreate,
    Page,
    Recorded,
    ReductionCreate,
    ReturnCreate,
)
from ledger.commands import AwardGrant, CancelGrant, DisburseGrant, RecordGrantReturn, ReduceGrant
from ledger.grant import Grant
from projections.grant_register import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, STATUSES, grant_register

router = APIRouter(prefix="/v1/grants", tags=["grants"])


@router.post("", status_code=201, responses=WRITE_RESPONSES)
def award(
    body: GrantCreate,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
) -> Recorded:
    """Award a grant from money available in its designation (or the general pot)."""
    command = AwardGrant(idempotency_key=idempotency_key, **body.model_dump())
    return record(services, command, admin, response)


@router.get("", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def list_grants(
    reader: Reader,
    services: ServicesDep,
    fund_id: UUID | None = None,
    status: Annotated[str | None, Query(description=f"One of {', '.join(STATUSES)}.")] = None,
    after: Annotated[UUID | None, Query(description="The last id of the previous page.")] = None,
    page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
) -> Page:
    """The grant register: by decision date, a page at a time."""
    entries = grant_register(
        services.engine, fund_id=fund_id, status=status, page_size=page_size, after_grant_id=after
    )
    items = [asdict(entry) for entry in entries]
    full = len(items) == page_size
    return Page(items=items, next=f"after={items[-1]['grant_id']}" if full else None)


@router.get("/{grant_id}", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def get_grant(grant_id: UUID, reader: Reader, services: ServicesDep) -> dict[str, Any]:
    """Awarded, disbursed, reduced, unpaid, returned, cancelled."""
    return grant_state(services.load(Grant, grant_id, "grant"))


@router.post("/{grant_id}/disbursements", status_code=201, responses=WRITE_RESPONSES)
def disburse(
    grant_id: UUID,
    body: DisbursementCreate,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
) -> Recorded:
    """Pay part or all of the grant's unpaid rest."""
    command = DisburseGrant(idempotency_key=idempotency_key, grant_id=grant_id, **body.model_dump())
    return record(services, command, admin, response)


@router.post("/{grant_id}/reduce", status_code=201, responses=WRITE_RESPONSES)
def reduce(
    grant_id: UUID,
    body: ReductionCreate,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
) -> Recorded:
    """Reduce the grant; the amount returns from its unpaid rest to the fund."""
    command = ReduceGrant(idempotency_key=idempotency_key, grant_id=grant_id, **body.model_dump())
    return record(services, command, admin, response)


@router.post("/{grant_id}/cancel", status_code=201, responses=WRITE_RESPONSES)
def cancel(
    grant_id: UUID,
    body: CancellationCreate,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
) -> Recorded:
    """Cancel the grant: its whole unpaid rest returns to the fund."""
    command = CancelGrant(idempotency_key=idempotency_key, grant_id=grant_id, **body.model_dump())
    return record(services, command, admin, response)


@router.post("/{grant_id}/returns", status_code=201, responses=WRITE_RESPONSES)
def record_return(
    grant_id: UUID,
    body: ReturnCreate,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
) -> Recorded:
    """Record the grantee's return of unused money (at most what was paid)."""
    command = RecordGrantReturn(
        idempotency_key=idempotency_key, grant_id=grant_id, **body.model_dump()
    )
    return record(services, command, admin, response)
