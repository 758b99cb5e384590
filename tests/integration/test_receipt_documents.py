"""Issued receipts' PDFs are kept and handed out byte for byte, on SQLite and PostgreSQL:
after the templates change, not after their row is altered; a crash between keeping the
bytes and saving the event leaves only an unreferenced document (which the retry, printing
the same facts, then references) and no gap in the numbers;
and the read models apply a log holding receipt events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api import receipt_documents, receipt_views
from api.foundation import FoundationSettings
from api.receipt_views import DocumentPrinter, receipt_document
from ledger import commands as c
from ledger.errors import StorageError
from ledger.receipt import ReceiptFacts
from ledger.service import FundLedger
from projections import runner
from projections.catalogue import all_projectors
from tests.integration.givens import donation, fund_and_donor


class Crash(Exception):
    pass


class CrashingPrinter(DocumentPrinter):
    """Keeps the document, then dies before the ledger can save the event."""

    def print_document(self, facts: ReceiptFacts) -> str:
        super().print_document(facts)
        raise Crash


def given_a_donation(ledger: FundLedger) -> c.IssueReceipt:
    fund_id, donor_id = fund_and_donor(ledger)
    donation_id = ledger.execute(donation("g-1", fund_id, donor_id, 12_345), actor="t")
    return c.IssueReceipt(donation_id.aggregate_id)


def printer(engine: Engine) -> DocumentPrinter:
    return DocumentPrinter(engine, FoundationSettings().issuer())


def test_download_returns_the_issued_bytes_even_after_the_templates_change(
    ledger: FundLedger, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = given_a_donation(ledger)
    outcome = ledger.execute(c.IssueReceipt(command.donation_id, printer(engine)), actor="t")
    receipt = ledger.get(outcome.aggregate_id)
    _, issued = receipt_document(ledger, engine, receipt.number)
    assert receipt_documents.sha256_of(issued) == receipt.sha256
    assert issued.startswith(b"%PDF")

    monkeypatch.setattr(receipt_views, "render_receipt", lambda view: b"%PDF new template")

    assert receipt_document(ledger, engine, receipt.number)[1] == issued


def test_an_altered_document_is_never_handed_out(ledger: FundLedger, engine: Engine) -> None:
    command = given_a_donation(ledger)
    outcome = ledger.execute(c.IssueReceipt(command.donation_id, printer(engine)), actor="t")
    receipt = ledger.get(outcome.aggregate_id)
    table = receipt_documents.receipt_documents
    with engine.begin() as connection:
        connection.execute(
            sa.update(table).where(table.c.sha256 == receipt.sha256).values(pdf=b"%PDF forged")
        )
    with pytest.raises(StorageError, match="altered"):
        receipt_document(ledger, engine, receipt.number)


def test_a_crash_after_keeping_the_bytes_leaves_an_unreferenced_document_and_no_gap(
    ledger: FundLedger, engine: Engine
) -> None:
    command = given_a_donation(ledger)
    issuer = FoundationSettings().issuer()
    with pytest.raises(Crash):
        ledger.execute(
            c.IssueReceipt(command.donation_id, CrashingPrinter(engine, issuer)), actor="t"
        )
    [orphan] = receipt_documents.unreferenced(engine, [])

    outcome = ledger.execute(c.IssueReceipt(command.donation_id, printer(engine)), actor="t")

    receipt = ledger.get(outcome.aggregate_id)
    assert receipt.number == "2026-000001"
    # The same facts render the same bytes: the retry's document is the one kept before.
    assert receipt.sha256 == orphan
    assert receipt_documents.unreferenced(engine, [receipt.sha256]) == []


def test_read_models_apply_a_log_with_receipts_voids_and_reissues(
    ledger: FundLedger, engine: Engine
) -> None:
    command = given_a_donation(ledger)
    issue = c.IssueReceipt(command.donation_id, printer(engine))
    ledger.execute(issue, actor="t")
    refund = c.RefundDonation("refund-1", command.donation_id, 2_345, "申し出")
    ledger.execute(refund, actor="t")
    ledger.execute(issue, actor="t")

    applied = runner.catch_up(ledger, engine, all_projectors())

    assert applied == ledger.recorder.max_notification_id()


def test_every_recorded_document_is_listed_for_verify_all(
    ledger: FundLedger, engine: Engine
) -> None:
    command = given_a_donation(ledger)
    issue = c.IssueReceipt(command.donation_id, printer(engine))
    first = ledger.get(ledger.execute(issue, actor="t").aggregate_id)
    reprint = c.IssueReceipt(command.donation_id, printer(engine), reissue=True)
    again = ledger.get(ledger.execute(reprint, actor="t").aggregate_id)

    listed = list(receipt_documents.issued_documents(ledger, engine))

    assert [(number, sha) for number, sha, _ in listed] == [
        (first.number, first.sha256),
        (first.number, again.sha256),
    ]
    assert all(receipt_documents.sha256_of(stored) == sha for _, sha, stored in listed)
