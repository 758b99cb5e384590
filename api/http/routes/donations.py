"""`/v1/donations`: record, list, get; refunds and voids. Every write needs an
`Idempotency-Key`: a retry with the same key and body answers as the first time."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.cli.donations import donation_state
from api.http.deps import Admin, CaughtUp, IdempotencyKey, Reader, ServicesDep
from api.http.queries import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, DonationFilter, list_donations
from api.http.routes.common import READ_PROBLEMS, WRITE_RESPONSES, record
from api.http.schemas import DonationCreate, Page, Recorded, RefundCreate, VoidRequest
from ledger.commands import RecordDonation, RefundDonation, VoidDonation
from ledger.donation import Donation

router = APIRouter(prefix="/v1/donations", tags=["donations"])


@router.post("", status_code=201, responses=WRITE_RESPONSES)
def record_donation(
    body: DonationCreate,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
) -> Recorded:
    """Record a donation; the host fee is taken at the rate in force on its date."""
    command = RecordDonation(idempotency_key=idempotency_key, **body.model_dump())
    return record(services, command, admin, response)


@router.get("", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def list_all(
    reader: Reader,
    services: ServicesDep,
    fund_id: UUID | None = None,
    donor_id: UUID | None = None,
    effective_from: Annotated[date | None, Query(alias="from")] = None,
    effective_to: Annotated[date | None, Query(alias="to")] = None,
    after: Annotated[UUID | None, Query(description="The last id of the previous page.")] = None,
    page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
) -> Page:
    """Donations by fund, donor and effective-date range (inclusive), by id, paged."""
    where = DonationFilter(fund_id, donor_id, effective_from, effective_to)
    items = list_donations(services.engine, where, after=after, page_size=page_size)
    full = len(items) == page_size
    return Page(items=items, next=f"after={items[-1]['donation_id']}" if full else None)


@router.get("/{donation_id}", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def get_donation(donation_id: UUID, reader: Reader, services: ServicesDep) -> dict[str, Any]:
    """Amount, fee, what was refunded and given back, whether voided."""
    return donation_state(services.load(Donation, donation_id, "donation"))


@router.post("/{donation_id}/refunds", status_code=201, responses=WRITE_RESPONSES)
def refund(
    donation_id: UUID,
    body: RefundCreate,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
) -> Recorded:
    """Refund part or all of a donation; the host fee is given back pro rata."""
    command = RefundDonation(
        idempotency_key=idempotency_key, donation_id=donation_id, **body.model_dump()
    )
    return record(services, command, admin, response)


@router.post("/{donation_id}/void", status_code=201, responses=WRITE_RESPONSES)
def void(
    donation_id: UUID,
    body: VoidRequest,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
) -> Recorded:
    """Void a donation recorded by mistake (refused once it was refunded)."""
    command = VoidDonation(
        idempotency_key=idempotency_key, donation_id=donation_id, **body.model_dump()
    )
    return record(services, command, admin, response)
