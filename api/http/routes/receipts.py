"""Receipts (寄附金受領証明書): an admin issues them (`POST /v1/donations/{id}/receipts`, with
an `Idempotency-Key`) and voids one issued wrongly (`POST /v1/receipts/{number}/void`), so
that the next issue is its 再発行 replacement; admins and auditors read and download any
(`/v1/receipts/{number}`); a donor lists and downloads only its own
(`/v1/donors/{id}/receipts…`: another donor's answers 404, exactly as an unknown one). A
download is the PDF exactly as it was issued.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response
from pydantic import Field, StrictBool

from api.foundation import FoundationSettings
from api.http.deps import (
    Admin,
    IdempotencyKey,
    PrincipalDep,
    Reader,
    ServicesDep,
    check_donor_access,
)
from api.http.routes.common import READ_PROBLEMS, WRITE_RESPONSES, record
from api.http.schemas import Recorded, Request, Text
from api.receipt_views import (
    DocumentPrinter,
    donor_receipts,
    find_receipt,
    receipt_document,
    receipt_summary,
)
from ledger.commands import IssueReceipt, VoidReceipt
from ledger.errors import NotFound
from reports import IssuerView

router = APIRouter(tags=["receipts"])
PDF_RESPONSES: dict[int | str, dict[str, Any]] = {
    **READ_PROBLEMS,
    200: {"description": "The PDF as issued", "content": {"application/pdf": {}}},
}


class ReceiptRequest(Request):
    reissue: StrictBool = Field(
        default=False, description="Reprint the valid receipt under its number, marked 再発行."
    )


class ReceiptVoidRequest(Request):
    reason: Text = Field(examples=["寄附者の住所の誤り"])


class ReceiptIssued(Recorded):
    number: str = Field(description="The receipt number, e.g. 2026-000123 or 2026-000123-2.")
    sha256: str = Field(description="sha256 of the PDF issued.")


@lru_cache(maxsize=1)
def _issuer() -> IssuerView:
    return FoundationSettings().issuer()


def _pdf(document: bytes, number: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{number}.pdf"'}
    return Response(content=document, media_type="application/pdf", headers=headers)


@router.post("/v1/donations/{donation_id}/receipts", status_code=201, responses=WRITE_RESPONSES)
def issue_receipt(
    donation_id: UUID,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
    body: ReceiptRequest | None = None,
) -> ReceiptIssued:
    """Issue the donation's receipt (numbered now, its PDF kept), or reprint it (`reissue`)."""
    printer = DocumentPrinter(services.engine, _issuer())
    command = IssueReceipt(
        donation_id=donation_id,
        printer=printer,
        reissue=body.reissue if body else False,
        idempotency_key=idempotency_key,
    )
    outcome = services.execute(command, admin, response)
    receipt = services.ledger.get(outcome.aggregate_id)
    recorded = Recorded.of(outcome)
    return ReceiptIssued(**recorded.model_dump(), number=receipt.number, sha256=receipt.sha256)


@router.post("/v1/receipts/{number}/void", status_code=201, responses=WRITE_RESPONSES)
def void_receipt(
    number: str,
    body: ReceiptVoidRequest,
    admin: Admin,
    idempotency_key: IdempotencyKey,
    services: ServicesDep,
    response: Response,
) -> Recorded:
    """Void a receipt issued wrongly (a wrong address, say): the next issue for its donation
    (or its donor's year) is the replacement, numbered with the next suffix, marked 再発行."""
    command = VoidReceipt(number=number, reason=body.reason, idempotency_key=idempotency_key)
    return record(services, command, admin, response)


@router.get("/v1/receipts/{number}.pdf", responses=PDF_RESPONSES, response_class=Response)
def download_receipt(number: str, reader: Reader, services: ServicesDep) -> Response:
    """Any receipt's PDF, byte for byte as issued (or last reprinted)."""
    _, document = receipt_document(services.ledger, services.engine, number)
    return _pdf(document, number)


@router.get("/v1/receipts/{number}", responses=READ_PROBLEMS)
def get_receipt(number: str, reader: Reader, services: ServicesDep) -> dict[str, Any]:
    """A receipt: its donor, donations, amount, whether voided, its PDF's sha256."""
    return receipt_summary(find_receipt(services.ledger, number))


@router.get("/v1/donors/{donor_id}/receipts", responses=READ_PROBLEMS)
def list_donor_receipts(
    donor_id: UUID, principal: PrincipalDep, services: ServicesDep
) -> dict[str, Any]:
    """The donor's receipts, oldest first, valid and voided."""
    check_donor_access(principal, donor_id)
    return {"items": donor_receipts(services.ledger, donor_id)}


@router.get(
    "/v1/donors/{donor_id}/receipts/{number}.pdf",
    responses=PDF_RESPONSES,
    response_class=Response,
)
def download_donor_receipt(
    donor_id: UUID, number: str, principal: PrincipalDep, services: ServicesDep
) -> Response:
    """One of the donor's own receipts, byte for byte as issued."""
    check_donor_access(principal, donor_id)
    receipt, document = receipt_document(services.ledger, services.engine, number)
    if receipt.donor_id != donor_id:
        raise NotFound(f"no receipt numbered {number} for donor {donor_id}")
    return _pdf(document, number)
