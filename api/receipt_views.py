"""Receipts as documents: the views `reports` renders from a receipt's recorded facts and the
foundation's configured details, the printer a receipt command is given, and the look-ups
of issued receipts and their kept bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy.engine import Engine

from api import receipt_documents
from ledger.errors import NotFound
from ledger.receipt import (
    ANNUAL,
    NUMBER_PATTERN,
    DonorReceipts,
    Receipt,
    ReceiptFacts,
    donor_receipts_id,
    receipt_id,
)
from ledger.service import FundLedger
from reports import (
    AnnualReceiptLine,
    AnnualReceiptView,
    DonorKind,
    DonorView,
    IssuerView,
    ReceiptView,
    render_annual_receipt,
    render_receipt,
)


def receipt_view(facts: ReceiptFacts, issuer: IssuerView) -> ReceiptView | AnnualReceiptView:
    donor = DonorView(
        kind=DonorKind(facts.donor_kind),
        name=facts.donor_name,
        postal_code=facts.donor_postal_code,
        address=facts.donor_address,
    )
    if facts.kind == ANNUAL:
        return AnnualReceiptView(
            receipt_number=facts.number,
            issued_on=facts.issued_on,
            donor=donor,
            year=facts.tax_year,
            lines=tuple(
                AnnualReceiptLine(
                    line.received_on, line.fund_name, line.designation_name, line.amount_yen
                )
                for line in facts.lines
            ),
            issuer=issuer,
            reissue=facts.reissue,
            replaces_receipt_number=facts.replaces_number,
        )
    [line] = facts.lines
    return ReceiptView(
        receipt_number=facts.number,
        issued_on=facts.issued_on,
        donor=donor,
        amount_yen=line.amount_yen,
        received_on=line.received_on,
        fund_name=line.fund_name,
        designation_name=line.designation_name,
        issuer=issuer,
        reissue=facts.reissue,
        replaces_receipt_number=facts.replaces_number,
    )


def render_facts(facts: ReceiptFacts, issuer: IssuerView) -> bytes:
    view = receipt_view(facts, issuer)
    if isinstance(view, AnnualReceiptView):
        return render_annual_receipt(view)
    return render_receipt(view)


def render_job(job: tuple[ReceiptFacts, IssuerView]) -> tuple[ReceiptFacts, bytes]:
    """For a process pool: render one receipt (module-level, so it pickles)."""
    facts, issuer = job
    return facts, render_facts(facts, issuer)


@dataclass
class DocumentPrinter:
    """Renders a receipt's facts with the foundation's details and keeps the bytes before
    the receipt's event is saved (`ledger.receipt.ReceiptPrinter`).

    `prerendered` holds documents rendered ahead (in a process pool) for facts predicted
    before the write, already kept: used when the write's facts are exactly those, else the
    document is rendered here."""

    engine: Engine
    issuer: IssuerView
    prerendered: dict[ReceiptFacts, str] = field(default_factory=dict)
    misses: int = 0  # documents rendered here, for want of a prerendered one

    def print_document(self, facts: ReceiptFacts) -> str:
        sha256 = self.prerendered.get(facts)
        if sha256 is not None:
            return sha256
        self.misses += 1
        [sha256] = receipt_documents.keep(self.engine, [render_facts(facts, self.issuer)])
        return sha256


def find_receipt(ledger: FundLedger, number: str) -> Receipt:
    if not isinstance(number, str) or not NUMBER_PATTERN.fullmatch(number):
        raise NotFound(f"no receipt numbered {number!r}")
    found = ledger.get(receipt_id(number))
    if not isinstance(found, Receipt):
        raise NotFound(f"no receipt numbered {number}")
    return found


def receipt_document(ledger: FundLedger, engine: Engine, number: str) -> tuple[Receipt, bytes]:
    """The receipt and the exact bytes it was issued (or last reprinted) with."""
    receipt = find_receipt(ledger, number)
    return receipt, receipt_documents.fetch(engine, receipt.sha256)


def receipt_summary(receipt: Receipt) -> dict[str, Any]:
    facts = receipt.current_facts
    return {
        "number": receipt.number,
        "kind": receipt.kind,
        "donor_id": str(receipt.donor_id),
        "tax_year": facts.tax_year,
        "issued_on": facts.issued_on.isoformat(),
        "amount_yen": facts.total_yen,
        "donation_ids": [str(line.donation_id) for line in facts.lines],
        "reissue": facts.reissue,
        "replaces_number": facts.replaces_number,
        "voided": receipt.voided,
        "void_reason": receipt.void_reason,
        "sha256": receipt.sha256,
    }


def donor_receipts(ledger: FundLedger, donor_id: UUID) -> list[dict[str, Any]]:
    """The donor's receipts, oldest first (valid and voided)."""
    index = ledger.get(donor_receipts_id(donor_id))
    if not isinstance(index, DonorReceipts):
        return []
    return [
        {
            "number": number,
            "kind": receipt["kind"],
            "tax_year": receipt["tax_year"],
            "issued_on": receipt["issued_on"],
            "amount_yen": receipt["amount_yen"],
            "donation_ids": [str(UUID(d)) for d in receipt["donation_ids"]],
            "valid": receipt["valid"],
        }
        for number, receipt in index.receipts.items()
    ]
