"""`/v1/donors`: register, search, get, correct; a donor's summary per year and 年度.

A donor token reads only its own record and summary; any other id answers 404."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.cli.donors import donor_state
from api.http.deps import (
    Admin,
    CaughtUp,
    OptionalIdempotencyKey,
    PrincipalDep,
    Reader,
    ServicesDep,
    check_donor_access,
)
from api.http.queries import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, search_donors
from api.http.routes.common import READ_PROBLEMS, WRITE_RESPONSES, record
from api.http.schemas import DonorCorrection, DonorCreate, Page, Recorded
from ledger.commands import CorrectDonor, RegisterDonor
from ledger.donor import Donor
from ledger.errors import NotFound
from projections.donor_summaries import PeriodSummary, donor_summary

router = APIRouter(prefix="/v1/donors", tags=["donors"])
PageSize = Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)]


@router.post("", status_code=201, responses=WRITE_RESPONSES)
def register_donor(
    body: DonorCreate,
    admin: Admin,
    services: ServicesDep,
    response: Response,
    idempotency_key: OptionalIdempotencyKey = None,
) -> Recorded:
    """Register an individual (receipts say 様) or an organisation (御中)."""
    command = RegisterDonor(**body.model_dump(), idempotency_key=idempotency_key)
    return record(services, command, admin, response)


@router.get("", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def list_donors(
    reader: Reader,
    services: ServicesDep,
    q: Annotated[str | None, Query(max_length=200, description="Part of a name or kana.")] = None,
    after: Annotated[UUID | None, Query(description="The last id of the previous page.")] = None,
    page_size: PageSize = PAGE_SIZE_DEFAULT,
) -> Page:
    """Donors whose name or kana contains `q`, by id, a page at a time."""
    items = search_donors(services.engine, text=q, after=after, page_size=page_size)
    full = len(items) == page_size
    return Page(items=items, next=f"after={items[-1]['donor_id']}" if full else None)


@router.get("/{donor_id}", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def get_donor(donor_id: UUID, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """The donor's current details."""
    check_donor_access(principal, donor_id)
    return donor_state(services.load(Donor, donor_id, "donor"))


@router.post("/{donor_id}/corrections", status_code=201, responses=WRITE_RESPONSES)
def correct_donor(
    donor_id: UUID,
    body: DonorCorrection,
    admin: Admin,
    services: ServicesDep,
    response: Response,
    idempotency_key: OptionalIdempotencyKey = None,
) -> Recorded:
    """Correct a donor's details: only the fields given change; the correction is an event."""
    command = CorrectDonor(
        donor_id=donor_id,
        changes=body.changes(),
        reason=body.reason,
        idempotency_key=idempotency_key,
    )
    return record(services, command, admin, response)


@router.get("/{donor_id}/summary", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def summary(donor_id: UUID, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    """Donations per calendar year (the tax year) and per 年度 (April–March), over all funds."""
    check_donor_access(principal, donor_id)
    found = donor_summary(services.engine, donor_id)
    if found is None:
        raise NotFound(f"no donor with id {donor_id}")
    return {
        "donor_id": found.donor_id,
        "name": found.name,
        "calendar_years": [_period_json(p) for p in found.calendar_years],
        "fiscal_years": [_period_json(p) for p in found.fiscal_years],
    }


def _period_json(period: PeriodSummary) -> dict[str, Any]:
    return {
        "year": period.year,
        "donation_count": period.donation_count,
        "gross_yen": period.gross_yen,
        "refunded_yen": period.refunded_yen,
        "voided_yen": period.voided_yen,
        "net_yen": period.net_yen,
        "first_donated_on": period.first_donated_on,
        "last_donated_on": period.last_donated_on,
    }
