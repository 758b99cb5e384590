"""Donations: record one (from a donor's page, for a fund), see one, refund or void it.

Each form carries the idempotency key it was shown with, so a double click or a reload of
the post records once; a refused form is shown again with its values, the same key, and a
Japanese message next to the field the refusal is about."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.console.forms import FormErrors, parse
from api.console.pages.common import after_write, designations_of, record
from api.console.routing import (
    AdminForm,
    ConsoleRoute,
    PositionQuery,
    Staff,
    StaffAdmin,
    Submission,
    services_of,
)
from api.console.web import CONSOLE_PREFIX, new_form_key, render
from api.http.schemas import DonationCreate, RefundCreate, VoidRequest
from api.receipt_views import donor_receipts
from ledger.commands import RecordDonation, RefundDonation, VoidDonation
from ledger.donation import Donation
from ledger.donor import Donor
from ledger.errors import NotFound
from ledger.service import FundLedger
from projections.fund_balances import fund_balances

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)


@router.get("/donations/new")
def new_donation(
    request: Request,
    staff: StaffAdmin,
    fund_id: UUID | None = None,
    donor_id: UUID | None = None,
) -> Response:
    values = {"fund_id": str(fund_id or ""), "donor_id": str(donor_id or "")}
    values["method"] = "bank_transfer"
    return _donation_form(request, staff, values, FormErrors(), new_form_key())


@router.post("/donations/new")
def record_donation(request: Request, submission: AdminForm) -> Response:
    fields = submission.fields
    parsed = parse(DonationCreate, fields)
    if parsed.model is not None:
        command = RecordDonation(
            idempotency_key=submission.required_key, **parsed.model.model_dump()
        )
        done = record(request, submission, command)
        if done.outcome is not None:
            return after_write(
                f"{CONSOLE_PREFIX}/donations/{done.outcome.aggregate_id}", done.outcome
            )
        errors = done.errors
    else:
        errors = parsed.errors
    key = submission.idempotency_key or new_form_key()
    return _donation_form(request, submission.staff, fields, errors, key, status=422)


def _donation_form(
    request: Request,
    staff: Any,
    values: dict[str, str],
    errors: FormErrors,
    form_key: str,
    status: int = 200,
) -> Response:
    services = services_of(request)
    funds = fund_balances(services.engine)
    fund_id = _uuid(values.get("fund_id")) or (funds[0].fund_id if len(funds) == 1 else None)
    if fund_id is not None:
        values = {**values, "fund_id": str(fund_id)}
    donor = _donor(request, _uuid(values.get("donor_id")))
    return render(
        request,
        "donation_new.html",
        staff,
        status_code=status,
        values=values,
        errors=errors,
        form_key=form_key,
        funds=[(str(f.fund_id), f.name) for f in funds],
        designations=designations_of(request, fund_id) if _known(funds, fund_id) else [],
        donor=donor,
    )


@router.get("/donations/{donation_id}")
def show_donation(
    request: Request, donation_id: UUID, staff: Staff, position: PositionQuery = None
) -> Response:
    services_of(request).wait_for(position)
    return donation_page(request, staff, donation_id)


@router.post("/donations/{donation_id}/refund")
def refund_donation(request: Request, donation_id: UUID, submission: AdminForm) -> Response:
    return _act(request, donation_id, submission, RefundCreate, RefundDonation, "refund_errors")


@router.post("/donations/{donation_id}/void")
def void_donation(request: Request, donation_id: UUID, submission: AdminForm) -> Response:
    return _act(request, donation_id, submission, VoidRequest, VoidDonation, "void_errors")


def _act(
    request: Request,
    donation_id: UUID,
    submission: Submission,
    schema: type[RefundCreate | VoidRequest],
    command_class: type[RefundDonation | VoidDonation],
    errors_for: str,
) -> Response:
    """A refund or a void from the donation's page; refused, that form again with its errors."""
    parsed = parse(schema, submission.fields)
    errors = parsed.errors
    if parsed.model is not None:
        command = command_class(
            idempotency_key=submission.required_key,
            donation_id=donation_id,
            **parsed.model.model_dump(),
        )
        done = record(request, submission, command)
        if done.outcome is not None:
            return after_write(f"{CONSOLE_PREFIX}/donations/{donation_id}", done.outcome)
        errors = done.errors
    refused: dict[str, Any] = {errors_for: errors}
    return donation_page(
        request,
        submission.staff,
        donation_id,
        values=submission.fields,
        form_key=submission.idempotency_key,
        **refused,
    )


def donation_page(
    request: Request,
    staff: Any,
    donation_id: UUID,
    *,
    refund_errors: FormErrors | None = None,
    void_errors: FormErrors | None = None,
    receipt_errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    form_key: str | None = None,
) -> Response:
    """The donation's page; after a refused form, that form again with its values, its key
    and its errors (status 422), the other forms fresh."""
    services = services_of(request)
    donation = services.load(Donation, donation_id, "donation")
    refused = bool(refund_errors or void_errors or receipt_errors)

    def key_of(errors: FormErrors | None) -> str:
        return form_key if errors and form_key else new_form_key()

    return render(
        request,
        "donation.html",
        staff,
        status_code=422 if refused else 200,
        donation=donation,
        left_yen=donation.amount_yen - donation.refunded_yen,
        receipts=receipts_of_donation(services.ledger, donation),
        refund_errors=refund_errors or FormErrors(),
        void_errors=void_errors or FormErrors(),
        receipt_errors=receipt_errors or FormErrors(),
        refund_values=values if refund_errors else {},
        void_values=values if void_errors else {},
        refund_key=key_of(refund_errors),
        void_key=key_of(void_errors),
        receipt_key=key_of(receipt_errors),
    )


def receipts_of_donation(ledger: FundLedger, donation: Donation) -> list[dict[str, Any]]:
    """The donor's receipts that list this donation (its own, and an annual one), oldest first."""
    return [
        r
        for r in donor_receipts(ledger, donation.donor_id)
        if str(donation.id) in r["donation_ids"]
    ]


def _uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None


def _known(funds: list[Any], fund_id: UUID | None) -> bool:
    return fund_id is not None and any(f.fund_id == fund_id for f in funds)


def _donor(request: Request, donor_id: UUID | None) -> Donor | None:
    if donor_id is None:
        return None
    try:
        return services_of(request).load(Donor, donor_id, "donor")
    except NotFound:
        return None
