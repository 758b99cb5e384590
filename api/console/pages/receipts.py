"""Receipts (寄附金受領証明書) in the console: issue one from its donation's page (or reprint
it, marked 再発行, under its own number), void one issued wrongly (the next issue is its `-2`
replacement, marked 再発行), download any PDF exactly as issued, and look one up by number.

Every write is an administrator's form with the idempotency key of the page that showed it:
a double submit issues one number. A refused form (already covered, nothing to receipt,
voided) shows its page again with the Japanese message, status 422, nothing recorded.
The annual receipts of a year are `api.console.pages.annual_receipts`.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api.console.forms import FormErrors, parse
from api.console.pages.common import after_write, record
from api.console.pages.donations import donation_page
from api.console.routing import AdminForm, ConsoleRoute, PositionQuery, Staff, services_of
from api.console.web import CONSOLE_PREFIX, new_form_key, render
from api.foundation import FoundationSettings
from api.http.routes.receipts import ReceiptRequest, ReceiptVoidRequest
from api.receipt_views import DocumentPrinter, find_receipt, receipt_document
from ledger.commands import IssueReceipt, VoidReceipt
from ledger.errors import NotFound
from ledger.receipt import Receipt
from ledger.service import FundLedger
from reports import IssuerView

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)
NumberQuery = Annotated[str, Query(max_length=20)]
# Where a void may send the browser back to: the donor's or the donation's page.
_RETURN_TO = re.compile(
    rf"{CONSOLE_PREFIX}/(donors|donations)/[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}"
)
NO_STORE = {"Cache-Control": "private, no-store"}  # receipts carry donors' names and addresses


@lru_cache(maxsize=1)
def issuer() -> IssuerView:
    """The foundation's details printed on receipts (as the API prints them)."""
    return FoundationSettings().issuer()


@router.post("/donations/{donation_id}/receipt")
def issue_receipt(request: Request, donation_id: UUID, submission: AdminForm) -> Response:
    """Issue the donation's receipt, its replacement after a void, or (`reissue`) a reprint."""
    parsed = parse(ReceiptRequest, submission.fields, amounts=(), checkboxes=("reissue",))
    assert parsed.model is not None, parsed.errors  # a checkbox alone is always valid
    services = services_of(request)
    command = IssueReceipt(
        donation_id=donation_id,
        printer=DocumentPrinter(services.engine, issuer()),
        reissue=parsed.model.reissue,
        idempotency_key=submission.required_key,
    )
    done = record(request, submission, command)
    if done.outcome is not None:
        return after_write(f"{CONSOLE_PREFIX}/donations/{donation_id}", done.outcome)
    return donation_page(
        request,
        submission.staff,
        donation_id,
        receipt_errors=done.errors,
        form_key=submission.required_key,
    )


@router.post("/receipts/{number}/void")
def void_receipt(request: Request, number: str, submission: AdminForm) -> Response:
    """Void a receipt issued wrongly; back to the page the form was on (or the receipt's)."""
    parsed = parse(ReceiptVoidRequest, submission.fields, amounts=())
    errors = parsed.errors
    if parsed.model is not None:
        command = VoidReceipt(
            number=number, reason=parsed.model.reason, idempotency_key=submission.required_key
        )
        done = record(request, submission, command)
        if done.outcome is not None:
            return after_write(_return_path(submission.fields, number), done.outcome)
        errors = done.errors
    return receipts_page(
        request,
        submission.staff,
        number=number,
        void_errors=errors,
        void_values=submission.fields,
        void_key=submission.idempotency_key or new_form_key(),
        status=422,
    )


@router.get("/receipts/{number}.pdf")
def download_receipt(request: Request, number: str, staff: Staff) -> Response:
    """The receipt's PDF byte for byte as issued (or last reprinted)."""
    services = services_of(request)
    _, document = receipt_document(services.ledger, services.engine, number)
    headers = {"Content-Disposition": f'attachment; filename="{number}.pdf"', **NO_STORE}
    return Response(content=document, media_type="application/pdf", headers=headers)


@router.get("/receipts")
def show_receipts(
    request: Request, staff: Staff, number: NumberQuery = "", position: PositionQuery = None
) -> Response:
    """Look a receipt up by its number; the annual receipts' forms."""
    services_of(request).wait_for(position)
    return receipts_page(request, staff, number=number.strip())


def receipts_page(
    request: Request,
    staff: Any,
    *,
    number: str = "",
    void_errors: FormErrors | None = None,
    void_values: dict[str, str] | None = None,
    void_key: str | None = None,
    annual_errors: FormErrors | None = None,
    annual_values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The receipts page: the receipt numbered `number` if any, and the annual forms."""
    services = services_of(request)
    receipt = _receipt_or_none(services.ledger, number)
    last_year = services.ledger.today().year - 1
    return render(
        request,
        "receipts.html",
        staff,
        status_code=404 if number and receipt is None and status == 200 else status,
        number=number,
        receipt=receipt,
        facts=receipt.current_facts if receipt is not None else None,
        void_errors=void_errors or FormErrors(),
        void_values=void_values or {},
        void_key=void_key or new_form_key(),
        annual_errors=annual_errors or FormErrors(),
        annual_values=annual_values or {"year": str(last_year)},
        last_year=last_year,
    )


def _receipt_or_none(ledger: FundLedger, number: str) -> Receipt | None:
    if not number:
        return None
    try:
        return find_receipt(ledger, number)
    except NotFound:
        return None


def _return_path(fields: dict[str, str], number: str) -> str:
    wanted = fields.get("return_to", "")
    if _RETURN_TO.fullmatch(wanted):
        return wanted
    return f"{CONSOLE_PREFIX}/receipts?number={number}"
