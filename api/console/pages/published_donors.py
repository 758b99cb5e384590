"""寄附者ご芳名: the donors of a fund who agreed to have their names published and gave in a
year (年度 or calendar year) more than was given back, by kana, as a list staff can print for
a thank-you page or an annual report. From the donor summaries read model
(`projections.donor_summaries.published_donor_names`); the names are as they stand now."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api.console import forms
from api.console.routing import ConsoleRefused, ConsoleRoute, PositionQuery, Staff, services_of
from api.console.web import CONSOLE_PREFIX, render
from api.statement_views import fiscal_year_of
from ledger.errors import InvalidInput
from ledger.fund import Fund
from projections.donor_summaries import published_donor_names

BASES_JA = {"fiscal": "年度", "calendar": "暦年（1月〜12月）"}
YEAR_REFUSED_JA = "年は 2000 から 9999 までの数字で入力してください（例: 2026）。"
BASIS_REFUSED_JA = "年度か暦年かを一覧から選んでください。"

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)


@router.get("/funds/{fund_id}/published-donors")
def published_donors(
    request: Request,
    fund_id: UUID,
    staff: Staff,
    year: Annotated[str | None, Query()] = None,
    basis: Annotated[str, Query()] = "fiscal",
    position: PositionQuery = None,
) -> Response:
    """The list for the year asked for (this 年度 when none is)."""
    services = services_of(request)
    services.wait_for(position)
    fund = services.load(Fund, fund_id, "fund")
    if basis not in BASES_JA:
        raise ConsoleRefused(422, BASIS_REFUSED_JA)
    try:
        chosen = forms.year(year, default=fiscal_year_of(services.ledger.today()))
        donors = published_donor_names(services.engine, fund_id, chosen, fiscal=basis == "fiscal")
    except (ValueError, InvalidInput) as error:
        raise ConsoleRefused(422, YEAR_REFUSED_JA) from error
    return render(
        request,
        "published_donors.html",
        staff,
        fund_id=fund_id,
        fund_name=fund.name,
        year=chosen,
        basis=basis,
        bases_ja=BASES_JA,
        donors=donors,
    )
