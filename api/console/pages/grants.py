"""Grants (助成): the register, the award form, and a grant's page with its history and the
forms that pay it (交付), reduce it (減額), cancel it (取消: the unpaid rest returns to the
fund) or record the grantee's return of unused money (返還).

Like the donation pages, each form carries the idempotency key it was shown with, so a double
click or a reload of the post records once; a refused form is shown again with its values,
the same key, and a Japanese message next to the field the refusal is about. The grant page's
four forms name their controls apart (`disburse-amount_yen`, …) so every label stays unique."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.engine import Engine

from api.audit.history import record_history
from api.audit.times import JAPAN
from api.console.forms import FormErrors, parse
from api.console.pages.common import after_write, designations_of, record
from api.console.routing import (
    AdminForm,
    ConsoleRefused,
    ConsoleRoute,
    PositionQuery,
    Staff,
    StaffAdmin,
    Submission,
    services_of,
)
from api.console.web import CONSOLE_PREFIX, new_form_key, render
from api.http.schemas import (
    CancellationCreate,
    DisbursementCreate,
    GrantCreate,
    ReductionCreate,
    ReturnCreate,
)
from ledger.commands import (
    AwardGrant,
    CancelGrant,
    Command,
    DisburseGrant,
    RecordGrantReturn,
    ReduceGrant,
)
from ledger.fund import Fund
from ledger.grant import Grant
from projections.fund_balances import fund_balances
from projections.grant_register import (
    AWARDED,
    CANCELLED,
    PAID,
    PARTLY_PAID,
    GrantEntry,
    grant_register_entries,
)

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)
REGISTER_SHOWN_MAX = 200
GENERAL_JA = "一般"
STATUS_NAMES_JA = {
    AWARDED: "決定済み（未交付）",
    PARTLY_PAID: "一部交付済み",
    PAID: "交付済み",
    CANCELLED: "取消済み",
}
EVENT_NAMES_JA = {
    "Grant.Awarded": "助成の決定",
    "Grant.Disbursed": "交付",
    "Grant.Reduced": "減額",
    "Grant.Cancelled": "取消（未払額を基金へ戻す）",
    "Grant.Returned": "返還",
}
ActionName = Literal["disburse", "reduce", "cancel", "return"]


@dataclass(frozen=True)
class _Action:
    """What a form on the grant page posts: the API's request schema, and its command."""

    schema: type[BaseModel]
    command: Callable[..., Command]


ACTIONS: dict[str, _Action] = {
    "disburse": _Action(DisbursementCreate, DisburseGrant),
    "reduce": _Action(ReductionCreate, ReduceGrant),
    "cancel": _Action(CancellationCreate, CancelGrant),
    "return": _Action(ReturnCreate, RecordGrantReturn),
}


@dataclass(frozen=True)
class _FormState:
    """One form of the grant page: what it shows, its errors, and its idempotency key."""

    key: str
    values: dict[str, str] = field(default_factory=dict)
    errors: FormErrors = field(default_factory=FormErrors)


@router.get("/grants")
def grant_list(
    request: Request, staff: Staff, fund_id: UUID | None = None, position: PositionQuery = None
) -> Response:
    services = services_of(request)
    services.wait_for(position)
    funds = fund_balances(services.engine)
    names_by_fund = {f.fund_id: {p.pot: p.name for p in f.pots} for f in funds}
    return render(
        request,
        "grants.html",
        staff,
        funds=[(str(f.fund_id), f.name) for f in funds],
        fund_names={f.fund_id: f.name for f in funds},
        fund_id=str(fund_id or ""),
        grants=newest_grants(services.engine, fund_id, REGISTER_SHOWN_MAX),
        shown_max=REGISTER_SHOWN_MAX,
        designation_ja=lambda g: _designation_ja(g.designation, names_by_fund.get(g.fund_id, {})),
        status_ja=STATUS_NAMES_JA,
    )


@router.get("/grants/new")
def new_grant(request: Request, staff: StaffAdmin, fund_id: UUID | None = None) -> Response:
    values = {"fund_id": str(fund_id or "")}
    return _grant_form(request, staff, values, FormErrors(), new_form_key())


@router.post("/grants/new")
def award_grant(request: Request, submission: AdminForm) -> Response:
    fields = submission.fields
    parsed = parse(GrantCreate, fields)
    if parsed.model is not None:
        command = AwardGrant(idempotency_key=_key_of(submission), **parsed.model.model_dump())
        done = record(request, submission, command)
        if done.outcome is not None:
            return after_write(f"{CONSOLE_PREFIX}/grants/{done.outcome.aggregate_id}", done.outcome)
        errors = done.errors
    else:
        errors = parsed.errors
    key = submission.idempotency_key or new_form_key()
    return _grant_form(request, submission.staff, fields, errors, key, status=422)


def _grant_form(
    request: Request,
    staff: Any,
    values: dict[str, str],
    errors: FormErrors,
    form_key: str,
    status: int = 200,
) -> Response:
    funds = fund_balances(services_of(request).engine)
    fund_id = _uuid(values.get("fund_id")) or (funds[0].fund_id if len(funds) == 1 else None)
    if fund_id is not None:
        values = {**values, "fund_id": str(fund_id)}
    known = fund_id is not None and any(f.fund_id == fund_id for f in funds)
    return render(
        request,
        "grant_new.html",
        staff,
        status_code=status,
        values=values,
        errors=errors,
        form_key=form_key,
        funds=[(str(f.fund_id), f.name) for f in funds],
        designations=designations_of(request, fund_id) if known else [],
    )


@router.get("/grants/{grant_id}")
def show_grant(
    request: Request, grant_id: UUID, staff: Staff, position: PositionQuery = None
) -> Response:
    services_of(request).wait_for(position)
    return _grant_page(request, staff, grant_id)


@router.post("/grants/{grant_id}/{action}")
def act_on_grant(
    request: Request, grant_id: UUID, action: ActionName, submission: AdminForm
) -> Response:
    """Disburse, reduce, cancel or record a return: one form of the grant page."""
    chosen = ACTIONS[action]
    parsed = parse(chosen.schema, submission.fields)
    if parsed.model is None:
        errors = parsed.errors
    else:
        command = chosen.command(
            idempotency_key=_key_of(submission), grant_id=grant_id, **parsed.model.model_dump()
        )
        done = record(request, submission, command)
        if done.outcome is not None:
            return after_write(f"{CONSOLE_PREFIX}/grants/{grant_id}", done.outcome)
        errors = done.errors
    key = submission.idempotency_key or new_form_key()
    refused = (action, _FormState(key, submission.fields, errors))
    return _grant_page(request, submission.staff, grant_id, refused)


def _grant_page(
    request: Request,
    staff: Any,
    grant_id: UUID,
    refused: tuple[str, _FormState] | None = None,
) -> Response:
    """The grant as the ledger holds it now, its history, and (for an administrator) its
    forms: a refused one with its values, errors and key, the others fresh."""
    services = services_of(request)
    grant = services.load(Grant, grant_id, "grant")
    fund = services.load(Fund, grant.fund_id, "fund")
    forms = {name: _FormState(new_form_key()) for name in ACTIONS}
    if refused is not None:
        forms[refused[0]] = refused[1]
    return render(
        request,
        "grant.html",
        staff,
        status_code=422 if refused else 200,
        grant=grant,
        fund_name=fund.name,
        designation_name=_designation_ja(grant.designation, fund.designations),
        status_ja=STATUS_NAMES_JA[status_of(grant)],
        history=record_history(services.ledger, "grant", grant_id),
        events_ja=EVENT_NAMES_JA,
        japan=JAPAN,
        forms=forms,
    )


def status_of(grant: Grant) -> str:
    """The grant register's status (see `projections.grant_register`), from the aggregate."""
    if grant.cancelled or (grant.unpaid_yen == 0 and grant.disbursed_yen == 0):
        return CANCELLED
    if grant.unpaid_yen == 0:
        return PAID
    return AWARDED if grant.disbursed_yen == 0 else PARTLY_PAID


def newest_grants(engine: Engine, fund_id: UUID | None, count: int) -> list[GrantEntry]:
    """The register's newest grants (by decision date), of one fund or of all, at most
    `count`."""
    c = grant_register_entries.c
    query = (
        sa.select(grant_register_entries)
        .order_by(c.decided_on.desc(), c.grant_id.desc())
        .limit(count)
    )
    if fund_id is not None:
        query = query.where(c.fund_id == fund_id)
    with engine.connect() as connection:
        return [GrantEntry(**row) for row in connection.execute(query).mappings()]


def _designation_ja(designation: str | None, names: Mapping[str, str]) -> str:
    """A designation's name (its code if unnamed); 一般 for undesignated money."""
    if designation is None:
        return GENERAL_JA
    return names.get(designation, designation)


def _key_of(submission: Submission) -> str:
    """The form's idempotency key; a form without one was not given by a console page."""
    key = submission.idempotency_key
    if key is None:
        raise ConsoleRefused(
            400, "フォームの情報が足りません。ページを開き直してから送信してください。"
        )
    return key


def _uuid(text: str | None) -> UUID | None:
    try:
        return UUID(text) if text else None
    except ValueError:
        return None
