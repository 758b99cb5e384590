"""The dashboard: every fund's figures, and one fund's page (cash, committed, available per
designation, progress toward its target, its latest transactions, projection lag if any).

A page given `?position=N` (where a form sends the browser after recording) waits, bounded,
until the read models include that write, so the figures shown include it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request, Response

from api.console.routing import ConsoleRoute, PositionQuery, Staff, services_of
from api.console.web import CONSOLE_PREFIX, render
from ledger.errors import NotFound
from ledger.fund import Fund
from projections.fund_balances import fund_balances
from projections.journal_entries import latest_entries

LATEST_COUNT = 20

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
    services = services_of(request)
    services.wait_for(position)
    found = fund_balances(services.engine, fund_id)
    if not found:
        raise NotFound(f"no fund with id {fund_id}")
    return render(
        request,
        "fund.html",
        staff,
        fund=found[0],
        books_closed_through=services.load(Fund, fund_id, "fund").closed_through,
        pot_names={pot.pot: pot.name for pot in found[0].pots},
        latest=latest_entries(services.engine, fund_id, count=LATEST_COUNT),
        kinds_ja=KINDS_JA,
        lag=services.lag(),
    )
