"""A fund's statement (基金収支報告書) for a 年度, downloaded from the fund's page by any member
of staff: the same PDF as `GET /v1/funds/{id}/statement.pdf`, made from the ledger at the
moment of the request, with its range, chain hash and closing day (see `api.statement_views`).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from api.console import forms
from api.console.pages.receipts import NO_STORE
from api.console.routing import ConsoleRefused, ConsoleRoute, Staff, services_of
from api.console.web import CONSOLE_PREFIX
from api.statement_views import fiscal_year, fiscal_year_of, statement_pdf
from ledger.errors import InvalidInput

YEAR_REFUSED_JA = "年度は 2000 から 9998 までの数字で入力してください（例: 2026）。"

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)


@router.get("/funds/{fund_id}/statement.pdf")
def download_statement(
    request: Request,
    fund_id: UUID,
    staff: Staff,
    year: Annotated[str | None, Query(description="年度; this 年度 when blank.")] = None,
) -> Response:
    """The fund's statement for 年度 `year` (1 April – 31 March), as of now; a year that is
    no 年度 is refused in Japanese, as a form's field would be."""
    ledger = services_of(request).ledger
    try:
        chosen = forms.year(year, default=fiscal_year_of(ledger.today()))
        period_from, period_to = fiscal_year(chosen)
    except (ValueError, InvalidInput) as error:
        raise ConsoleRefused(422, YEAR_REFUSED_JA) from error
    pdf = statement_pdf(ledger, fund_id, period_from, period_to)
    name = f"statement-{fund_id}-{chosen}.pdf"  # it names donors: kept by no cache
    headers = {"Content-Disposition": f'attachment; filename="{name}"', **NO_STORE}
    return Response(pdf, media_type="application/pdf", headers=headers)
