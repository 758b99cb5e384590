"""`/v1/funds`: open, list, get; fee rates, designations, book closings; balances (also as of a
date or a log position); the donors who agreed to have their names published, per year."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.cli.funds import fund_state
from api.cli.projections import fund_json
from api.http.deps import Admin, CaughtUp, OptionalIdempotencyKey, Reader, ServicesDep
from api.http.routes.common import READ_PROBLEMS, WRITE_RESPONSES, record
from api.http.schemas import BooksClosing, DesignationCreate, FeeRateChange, FundCreate, Recorded
from ledger.commands import AddDesignation, ChangeFeeRate, CloseBooks, OpenFund
from ledger.errors import InvalidInput, NotFound
from ledger.fund import Fund
from projections.as_of import balances_at
from projections.donor_summaries import YEAR_MAX, YEAR_MIN, published_donor_names
from projections.fund_balances import fund_balances

router = APIRouter(prefix="/v1/funds", tags=["funds"])


@router.post("", status_code=201, responses=WRITE_RESPONSES)
def open_fund(
    body: FundCreate,
    admin: Admin,
    services: ServicesDep,
    response: Response,
    idempotency_key: OptionalIdempotencyKey = None,
) -> Recorded:
    """Open a fund held by a host, with its operating-fee rate in basis points."""
    command = OpenFund(**body.model_dump(), idempotency_key=idempotency_key)
    return record(services, command, admin, response)


@router.get("", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def list_funds(reader: Reader, services: ServicesDep) -> list[dict[str, Any]]:
    """Every fund with its balances (from the read models), ordered by name."""
    return [fund_json(balance) for balance in fund_balances(services.engine)]


@router.get("/{fund_id}", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def get_fund(fund_id: UUID, reader: Reader, services: ServicesDep) -> dict[str, Any]:
    """The fund as the ledger holds it now: fee-rate schedule, designations, pots."""
    return fund_state(services.load(Fund, fund_id, "fund"))


@router.post("/{fund_id}/fee-rates", status_code=201, responses=WRITE_RESPONSES)
def change_fee_rate(
    fund_id: UUID,
    body: FeeRateChange,
    admin: Admin,
    services: ServicesDep,
    response: Response,
    idempotency_key: OptionalIdempotencyKey = None,
) -> Recorded:
    """Change the fund's fee rate from a date on (donations dated before keep the old rate)."""
    command = ChangeFeeRate(fund_id=fund_id, **body.model_dump(), idempotency_key=idempotency_key)
    return record(services, command, admin, response)


@router.post("/{fund_id}/book-closings", status_code=201, responses=WRITE_RESPONSES)
def close_books(
    fund_id: UUID,
    body: BooksClosing,
    admin: Admin,
    services: ServicesDep,
    response: Response,
    idempotency_key: OptionalIdempotencyKey = None,
) -> Recorded:
    """Close the fund's books through a day (決算の締め): from then on no money event of the
    fund may be dated on or before it (409 `books-closed`); closed books never reopen."""
    command = CloseBooks(fund_id=fund_id, **body.model_dump(), idempotency_key=idempotency_key)
    return record(services, command, admin, response)


@router.post("/{fund_id}/designations", status_code=201, responses=WRITE_RESPONSES)
def add_designation(
    fund_id: UUID,
    body: DesignationCreate,
    admin: Admin,
    services: ServicesDep,
    response: Response,
    idempotency_key: OptionalIdempotencyKey = None,
) -> Recorded:
    """Add a designation (使途指定) that donations and grants can name."""
    command = AddDesignation(fund_id=fund_id, **body.model_dump(), idempotency_key=idempotency_key)
    return record(services, command, admin, response)


@router.get("/{fund_id}/balance", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def balance(
    fund_id: UUID,
    reader: Reader,
    services: ServicesDep,
    as_of: Annotated[
        date | None, Query(description="Balances by effective date, up to this day.")
    ] = None,
    position: Annotated[
        int | None,
        Query(ge=0, le=2**63 - 1, description="Balances as the ledger knew them at this position."),
    ] = None,
) -> dict[str, Any]:
    """Balances per designation and in total: from the read models, or replayed to a date or
    a log position (the live read models are not touched)."""
    if as_of is not None and position is not None:
        raise InvalidInput("as_of", "give either as_of or position, not both")
    if as_of is None and position is None:
        found = fund_balances(services.engine, fund_id)
    else:
        found = balances_at(services.ledger, as_of=as_of, position=position, fund_id=fund_id)
    if not found:
        raise NotFound(f"no fund with id {fund_id}")
    return fund_json(found[0])


@router.get("/{fund_id}/published-donors", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def published_donors(
    fund_id: UUID,
    reader: Reader,
    services: ServicesDep,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX, description="The year, e.g. 2026.")],
    basis: Annotated[
        Literal["fiscal", "calendar"],
        Query(description="`fiscal`: 年度 `year` (1 April – 31 March); `calendar`: the tax year."),
    ] = "fiscal",
) -> dict[str, Any]:
    """Donors who agreed to have their names published and gave to the fund in the year more
    than was given back (寄附者ご芳名), by kana: their names as they stand now."""
    services.load(Fund, fund_id, "fund")  # 404 for a fund that does not exist
    donors = published_donor_names(services.engine, fund_id, year, fiscal=basis == "fiscal")
    return {
        "fund_id": fund_id,
        "basis": basis,
        "year": year,
        "donors": [
            {"donor_id": d.donor_id, "kind": d.kind, "name": d.name, "kana": d.kana} for d in donors
        ],
    }
