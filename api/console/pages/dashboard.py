"""The dashboard: every fund's figures, and one fund's page (cash, committed, available per
designation, progress toward its target, its latest transactions, projection lag if any),
with the download of its statement for a 年度 (`api.console.pages.statements`), and where an
administrator closes the fund's books (決算の締め, BRIEF rule 7).

A page given `?position=N` (where a form sends the browser after recording) waits, bounded,
until the read models include that write, so the figures shown include it.

Closing the books cannot be undone, so its form asks the administrator to tick that they
know it; a refusal is shown next to the day asked for, as the donation form shows its own."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.console.forms import FormErrors, parse
from api.console.pages.common import after_write, record
from api.console.routing import AdminForm, ConsoleRoute, PositionQuery, Staff, services_of
from api.console.web import CONSOLE_PREFIX, new_form_key, render
from api.http.schemas import BooksClosing
from api.statement_views import fiscal_year_of
from ledger.commands import CloseBooks
from ledger.errors import NotFound
from ledger.fund import Fund
from projections.fund_balances import fund_balances
from projections.journal_entries import latest_entries

LATEST_COUNT = 20
CONFIRM_FIELD = "confirm"
CLOSING_MESSAGES_JA = {
    CONFIRM_FIELD: "締めた帳簿は開き直せません。確認のうえチェックしてください。",
    "books-closed": "帳簿はもうこの日より後まで締めています。締めた期間は開き直せません。",
    "invalid-input": "2000年1月1日から今日までの日付を入力してください。",
}

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)

KINDS_JA = {
    "donation": "寄附",
    "refund": "返金",
    "void": "寄附の取消",
    "grant_award": "助成の決定",
    "grant_reduction": "助成の減額",
    "grant_cancellation": "助成の取消",
    "disbursement": "交付",
    "grant_return": "返還",
}


@router.get("/")
def funds_overview(request: Request, staff: Staff, position: PositionQuery = None) -> Response:
    services = services_of(request)
    services.wait_for(position)
    return render(
        request,
        "dashboard.html",
        staff,
        funds=fund_balances(services.engine),
        lag=services.lag(),
    )


@router.get("/funds/{fund_id}")
def fund_dashboard(
    request: Request, fund_id: UUID, staff: Staff, position: PositionQuery = None
) -> Response:
    services_of(request).wait_for(position)
    return _fund_page(request, staff, fund_id, {}, FormErrors(), new_form_key())


@router.post("/funds/{fund_id}/book-closings")
def close_books(request: Request, fund_id: UUID, submission: AdminForm) -> Response:
    """Close the fund's books through the day given, once the administrator ticked that
    closed books never reopen."""
    fields = submission.fields
    key = submission.required_key
    parsed = parse(BooksClosing, fields)
    errors = parsed.errors
    if fields.get(CONFIRM_FIELD) != "on":
        errors.add(CONFIRM_FIELD, CLOSING_MESSAGES_JA[CONFIRM_FIELD])
    elif parsed.model is not None:
        command = CloseBooks(fund_id=fund_id, idempotency_key=key, **parsed.model.model_dump())
        done = record(request, submission, command)
        if done.outcome is not None:
            return after_write(f"{CONSOLE_PREFIX}/funds/{fund_id}", done.outcome)
        errors = _closing_refusal(done.errors)
    return _fund_page(request, submission.staff, fund_id, fields, errors, key, status=422)


def _closing_refusal(errors: FormErrors) -> FormErrors:
    """The ledger's refusal of a closing, said of the day asked for when it is about that day:
    books already closed past it, or a day after today or before 2000."""
    if errors.problem_type == "books-closed" or (
        errors.problem_type == "invalid-input" and "through" in errors.by_field
    ):
        message = CLOSING_MESSAGES_JA[errors.problem_type]
        return FormErrors(by_field={"through": message}, problem_type=errors.problem_type)
    return errors


def _fund_page(
    request: Request,
    staff: Any,
    fund_id: UUID,
    values: dict[str, str],
    errors: FormErrors,
    form_key: str,
    status: int = 200,
) -> Response:
    """The fund's page; for an administrator, with the form that closes its books."""
    services = services_of(request)
    found = fund_balances(services.engine, fund_id)
    if not found:
        raise NotFound(f"no fund with id {fund_id}")
    return render(
        request,
        "fund.html",
        staff,
        status_code=status,
        fund=found[0],
        books_closed_through=services.load(Fund, fund_id, "fund").closed_through,
        pot_names={pot.pot: pot.name for pot in found[0].pots},
        latest=latest_entries(services.engine, fund_id, count=LATEST_COUNT),
        kinds_ja=KINDS_JA,
        lag=services.lag(),
        this_fiscal_year=fiscal_year_of(services.ledger.today()),
        values=values,
        errors=errors,
        form_key=form_key,
    )
