"""`GET /v1/funds/{fund_id}/statement.pdf?from=&to=`: a fund's statement (基金収支報告書) for
admins and auditors, made from the ledger at the moment of the request (its last position
and chain hash printed and embedded); the current 年度 when no period is given."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from api.http.deps import Reader, ServicesDep
from api.http.routes.receipts import PDF_RESPONSES
from api.statement_views import fiscal_year, fiscal_year_of, statement_pdf
from ledger.errors import InvalidInput

router = APIRouter(tags=["statements"])


@router.get("/v1/funds/{fund_id}/statement.pdf", responses=PDF_RESPONSES, response_class=Response)
def fund_statement(
    fund_id: UUID,
    reader: Reader,
    services: ServicesDep,
    period_from: Annotated[date | None, Query(alias="from")] = None,
    period_to: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    """The fund's statement for the period (both days included; default: this 年度)."""
    today = services.ledger.today()
    if (period_from is None) != (period_to is None):
        raise InvalidInput("from", "give both from and to, or neither")
    if period_from is None or period_to is None:
        period_from, period_to = fiscal_year(fiscal_year_of(today))
    pdf = statement_pdf(services.ledger, fund_id, period_from, period_to)
    name = f"statement-{fund_id}-{period_from}-{period_to}.pdf"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
