"""Donors: search (name, kana, postal code), register, a donor's page (details, donations,
receipts), and corrections of their details (each one an event with its reason)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api.cli.donors import donor_state
from api.console.forms import FormErrors, parse
from api.console.pages.common import after_write, record
from api.console.routing import (
    AdminForm,
    ConsoleRoute,
    PositionQuery,
    Staff,
    StaffAdmin,
    services_of,
)
from api.console.web import CONSOLE_PREFIX, new_form_key, render
from api.http.queries import DonationFilter, list_donations
from api.http.schemas import DonorCorrection, DonorCreate
from api.receipt_views import donor_receipts
from ledger.commands import CorrectDonor, RegisterDonor
from ledger.donor import CORRECTABLE_FIELDS, Donor
from projections.donor_directory import search_donor_directory
from projections.donor_summaries import donor_summary

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)
SEARCH_PAGE_SIZE = 50
DONATIONS_SHOWN_MAX = 200


@router.get("/donors")
def search_donors(
    request: Request,
    staff: Staff,
    q: Annotated[str, Query(max_length=200)] = "",
    postal_code: Annotated[str, Query(max_length=20)] = "",
    after: UUID | None = None,
) -> Response:
    searched = bool(q.strip() or postal_code.strip())
    found = (
        search_donor_directory(
            services_of(request).engine,
            text=q.strip() or None,
            postal_code=postal_code.strip() or None,
            after=after,
            page_size=SEARCH_PAGE_SIZE,
        )
        if searched or after is not None
        else []
    )
    return render(
        request,
        "donors.html",
        staff,
        q=q,
        postal_code=postal_code,
        searched=searched,
        donors=found,
        next_after=found[-1].donor_id if len(found) == SEARCH_PAGE_SIZE else None,
    )


@router.get("/donors/new")
def new_donor(request: Request, staff: StaffAdmin) -> Response:
    values = {"kind": "individual"}
    return render(
        request,
        "donor_new.html",
        staff,
        values=values,
        errors=FormErrors(),
        form_key=new_form_key(),
    )


@router.post("/donors/new")
def register_donor(request: Request, submission: AdminForm) -> Response:
    parsed = parse(DonorCreate, submission.fields, amounts=(), checkboxes=("publish_name",))
    errors = parsed.errors
    if parsed.model is not None:
        command = RegisterDonor(
            **parsed.model.model_dump(), idempotency_key=submission.idempotency_key
        )
        done = record(request, submission, command)
        if done.outcome is not None:
            return after_write(f"{CONSOLE_PREFIX}/donors/{done.outcome.aggregate_id}", done.outcome)
        errors = done.errors
    return render(
        request,
        "donor_new.html",
        submission.staff,
        status_code=422,
        values=submission.fields,
        errors=errors,
        form_key=submission.idempotency_key or new_form_key(),
    )


@router.get("/donors/{donor_id}")
def show_donor(
    request: Request, donor_id: UUID, staff: Staff, position: PositionQuery = None
) -> Response:
    services = services_of(request)
    services.wait_for(position)
    donor = services.load(Donor, donor_id, "donor")
    donations = list_donations(
        services.engine,
        DonationFilter(donor_id=donor_id),
        after=None,
        page_size=DONATIONS_SHOWN_MAX,
    )
    donations.sort(key=lambda d: (d["effective_on"], str(d["donation_id"])), reverse=True)
    return render(
        request,
        "donor.html",
        staff,
        donor=donor,
        donations=donations,
        summary=donor_summary(services.engine, donor_id),
        receipts=donor_receipts(services.ledger, donor_id),
        receipt_key=new_form_key(),
    )


@router.get("/donors/{donor_id}/correct")
def correct_form(request: Request, donor_id: UUID, staff: StaffAdmin) -> Response:
    donor = services_of(request).load(Donor, donor_id, "donor")
    state = donor_state(donor)
    values = {name: state[name] for name in CORRECTABLE_FIELDS if state.get(name) is not None}
    values["publish_name"] = "on" if state["publish_name"] else ""
    return _correct_page(request, staff, donor, values, FormErrors(), new_form_key())


@router.post("/donors/{donor_id}/correct")
def correct_donor(request: Request, donor_id: UUID, submission: AdminForm) -> Response:
    donor = services_of(request).load(Donor, donor_id, "donor")
    parsed = parse(DonorCorrection, submission.fields, amounts=(), checkboxes=("publish_name",))
    errors = parsed.errors
    if parsed.model is not None:
        current = donor_state(donor)
        changes = {
            name: value
            for name, value in parsed.model.changes().items()
            if current.get(name) != value
        }
        if current["postal_account"] and not submission.fields.get("postal_account", "").strip():
            changes["postal_account"] = None  # the account's field emptied: clear it
        if not changes:
            errors = FormErrors()
            errors.add(None, "変更された項目がありません。")
        else:
            command = CorrectDonor(
                donor_id=donor_id,
                changes=changes,
                reason=parsed.model.reason,
                idempotency_key=submission.idempotency_key,
            )
            done = record(request, submission, command)
            if done.outcome is not None:
                return after_write(f"{CONSOLE_PREFIX}/donors/{donor_id}", done.outcome)
            errors = done.errors
    key = submission.idempotency_key or new_form_key()
    return _correct_page(request, submission.staff, donor, submission.fields, errors, key, 422)


def _correct_page(
    request: Request,
    staff: Any,
    donor: Donor,
    values: dict[str, Any],
    errors: FormErrors,
    form_key: str,
    status: int = 200,
) -> Response:
    return render(
        request,
        "donor_correct.html",
        staff,
        status_code=status,
        donor=donor,
        values=values,
        errors=errors,
        form_key=form_key,
    )
