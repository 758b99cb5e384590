"""Receipts: numbering, reprints, voids on refund, replacements and annual receipts, written
given / when / then on the in-memory ledger with a printer that only hashes the facts."""

from __future__ import annotations

import contextlib
import hashlib
import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import commands as c
from ledger.errors import (
    ConfigurationError,
    DonationAlreadyVoided,
    DonationPartlyRefunded,
    InvalidInput,
    NotFound,
    NothingToReceipt,
    ReceiptAlreadyIssued,
    ReceiptVoided,
    RefundExceedsDonation,
)
from ledger.receipt import Receipt, ReceiptFacts, receipt_id
from tests.unit.conftest import Ledger, new_ledger


class HashingPrinter:
    def __init__(self) -> None:
        self.printed: list[ReceiptFacts] = []

    def print_document(self, facts: ReceiptFacts) -> str:
        self.printed.append(facts)
        return hashlib.sha256(json.dumps(facts.to_json(), sort_keys=True).encode()).hexdigest()


PRINTER = HashingPrinter()


def issue(
    ledger: Ledger, donation_id: UUID, *, reissue: bool = False, key: str | None = None
) -> Any:
    outcome = ledger.run(c.IssueReceipt(donation_id, PRINTER, reissue, key))
    return ledger.state(outcome.aggregate_id)


def annual(ledger: Ledger, donor_id: UUID, year: int, ids: list[UUID], **kw: Any) -> Any:
    outcome = ledger.run(c.IssueAnnualReceipt(donor_id, year, tuple(ids), PRINTER, **kw))
    return ledger.state(outcome.aggregate_id)


def valid_receipts_covering(ledger: Ledger) -> dict[str, list[str]]:
    """donation id → numbers of the valid receipts that list it, from the events alone."""
    lines: dict[str, list[str]] = {}
    valid: dict[str, bool] = {}
    for event in ledger.events_since(0):
        if isinstance(event, Receipt.Issued):
            valid[event.number] = True
            for line in event.facts["lines"]:
                lines.setdefault(line["donation_id"], []).append(event.number)
        elif isinstance(event, Receipt.Voided):
            valid[ledger.state(event.originator_id).number] = False
    return {d: [n for n in numbers if valid[n]] for d, numbers in lines.items()}


def test_receipts_of_a_year_are_numbered_from_one_without_gaps(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    numbers = [issue(ledger, ledger.donate(fund_id, 1_000 * n)).number for n in (1, 2, 3)]
    assert numbers == ["2026-000001", "2026-000002", "2026-000003"]


def test_issued_receipt_records_the_printed_facts_and_their_documents_sha256(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350, "hozugawa")
    donation_id = ledger.donate(fund_id, 12_345, designation="hozugawa")
    receipt = issue(ledger, donation_id)
    facts = receipt.current_facts
    assert facts.lines[0].amount_yen == 12_345
    assert facts.lines[0].designation_name == "hozugawa project"
    assert facts.donor_name == "山田 花子"
    assert facts.issued_on == date(2026, 11, 28)
    assert receipt.sha256 == PRINTER.print_document(facts)
    assert not facts.reissue


def test_second_issue_for_a_receipted_donation_is_refused(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    issue(ledger, donation_id)
    ledger.refused(c.IssueReceipt(donation_id, PRINTER), ReceiptAlreadyIssued)


def test_reprint_keeps_its_number_and_is_marked_reissued(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    first = issue(ledger, donation_id)
    again = issue(ledger, donation_id, reissue=True)
    assert again.number == first.number
    assert again.current_facts.reissue
    assert again.sha256 != first.sha256
    assert valid_receipts_covering(ledger) == {donation_id.hex: [first.number]}


def test_refund_voids_the_receipt_in_the_same_write(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    first = issue(ledger, donation_id)
    before = ledger.position()
    ledger.refund(donation_id, 2_000)
    voided = [e for e in ledger.events_since(before) if isinstance(e, Receipt.Voided)]
    assert [e.originator_id for e in voided] == [receipt_id(first.number)]
    assert ledger.state(first.id).voided


def test_replacement_after_a_refund_takes_the_next_suffix_for_the_net_amount(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    first = issue(ledger, donation_id)
    ledger.refund(donation_id, 2_000)
    second = issue(ledger, donation_id)
    ledger.refund(donation_id, 1_000)
    third = issue(ledger, donation_id)
    assert (second.number, third.number) == (f"{first.number}-2", f"{first.number}-3")
    assert second.current_facts.replaces_number == first.number
    assert third.current_facts.replaces_number == second.number
    assert third.current_facts.reissue
    assert third.current_facts.total_yen == 2_000
    assert valid_receipts_covering(ledger) == {donation_id.hex: [third.number]}


def test_a_replacement_takes_no_number_of_the_years_sequence(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    issue(ledger, donation_id)
    ledger.refund(donation_id, 2_000)
    issue(ledger, donation_id)
    assert issue(ledger, ledger.donate(fund_id, 1_000)).number == "2026-000002"


def test_voided_donation_voids_its_receipt_and_gets_no_new_one(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    first = issue(ledger, donation_id)
    ledger.void(donation_id)
    assert ledger.state(first.id).voided
    ledger.refused(c.IssueReceipt(donation_id, PRINTER), NothingToReceipt)


def test_fully_refunded_donation_gets_no_receipt(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    ledger.refund(donation_id, 5_000)
    ledger.refused(c.IssueReceipt(donation_id, PRINTER), NothingToReceipt)


def test_issue_without_a_printer_is_refused(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    ledger.refused(c.IssueReceipt(ledger.donate(fund_id, 5_000)), ConfigurationError)


def test_issue_with_a_used_key_answers_the_first_receipt_and_records_nothing(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    first = ledger.run(c.IssueReceipt(donation_id, PRINTER, idempotency_key="r-1"))
    before = ledger.position()
    again = ledger.run(c.IssueReceipt(donation_id, HashingPrinter(), idempotency_key="r-1"))
    assert again.replayed
    assert again.aggregate_id == first.aggregate_id
    assert ledger.events_since(before) == []


# Annual receipts


def test_annual_receipt_lists_the_years_donations_net_of_refunds_in_date_order(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    later = ledger.donate(fund_id, 3_000, donor_id=donor_id, on=date(2026, 9, 1))
    earlier = ledger.donate(fund_id, 5_000, donor_id=donor_id, on=date(2026, 2, 1))
    ledger.refund(earlier, 1_000)
    receipt = annual(ledger, donor_id, 2026, [later, earlier])
    lines = receipt.current_facts.lines
    assert [(line.donation_id, line.amount_yen) for line in lines] == [
        (earlier, 4_000),
        (later, 3_000),
    ]
    assert receipt.number == "2026-000001"


def test_annual_receipt_supersedes_the_single_receipts_of_its_donations(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    donation_id = ledger.donate(fund_id, 5_000, donor_id=donor_id)
    single = issue(ledger, donation_id)
    yearly = annual(ledger, donor_id, 2026, [donation_id])
    assert ledger.state(single.id).voided
    assert valid_receipts_covering(ledger)[donation_id.hex] == [yearly.number]
    ledger.refused(c.IssueReceipt(donation_id, PRINTER), ReceiptAlreadyIssued)


def test_december_donation_recorded_in_january_is_on_the_earlier_years_receipt() -> None:
    ledger = Ledger(new_ledger(datetime(2027, 1, 10, 3, 0, tzinfo=UTC)))
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    december = ledger.donate(fund_id, 5_000, donor_id=donor_id, on=date(2026, 12, 31))
    receipt = annual(ledger, donor_id, 2026, [december])
    assert receipt.current_facts.tax_year == 2026
    assert receipt.number == "2027-000001"  # numbered in the year it is issued
    error = ledger.refused(c.IssueAnnualReceipt(donor_id, 2027, (december,), PRINTER), InvalidInput)
    assert "not of 2027" in str(error)


def test_annual_receipt_refuses_another_donors_donation(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    others = ledger.donate(fund_id, 5_000)
    ledger.refused(c.IssueAnnualReceipt(donor_id, 2026, (others,), PRINTER), InvalidInput)


@pytest.mark.parametrize("year", [1999, 10_000, True, "2026"])
def test_annual_receipt_refuses_a_year_out_of_bounds(ledger: Ledger, year: Any) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    donation_id = ledger.donate(fund_id, 5_000, donor_id=donor_id)
    ledger.refused(c.IssueAnnualReceipt(donor_id, year, (donation_id,), PRINTER), InvalidInput)


def test_refund_voids_the_annual_receipt_and_the_replacement_is_its_next_suffix(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    ids = [ledger.donate(fund_id, 5_000, donor_id=donor_id) for _ in range(2)]
    first = annual(ledger, donor_id, 2026, ids)
    ledger.refund(ids[0], 5_000)
    assert ledger.state(first.id).voided
    second = annual(ledger, donor_id, 2026, ids[1:])
    assert second.number == f"{first.number}-2"
    assert second.current_facts.total_yen == 5_000
    assert second.current_facts.reissue


# No donation is ever covered by two valid receipts

OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["issue", "reissue", "refund", "void", "annual", "void_receipt"]),
        st.integers(min_value=0, max_value=2),
    ),
    max_size=12,
)


def void_any_receipt(ledger: Ledger, which: int) -> None:
    """Void one of the receipts issued so far (refused if it is voided already)."""
    numbers = [e.number for e in ledger.events_since(0) if isinstance(e, Receipt.Issued)]
    number = numbers[which % len(numbers)] if numbers else "2026-000001"
    with contextlib.suppress(ReceiptVoided, NotFound):
        ledger.run(c.VoidReceipt(number, "住所の誤り"))


@settings(max_examples=40, deadline=None)
@given(OPERATIONS)
def test_no_donation_is_ever_covered_by_two_valid_receipts(
    operations: list[tuple[str, int]],
) -> None:
    ledger = Ledger(new_ledger())
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    ids = [ledger.donate(fund_id, 3_000, donor_id=donor_id) for _ in range(3)]
    for operation, which in operations:
        try:
            if operation in ("issue", "reissue"):
                issue(ledger, ids[which], reissue=operation == "reissue")
            elif operation == "refund":
                ledger.refund(ids[which], 1_000)
            elif operation == "void":
                ledger.void(ids[which])
            elif operation == "void_receipt":
                void_any_receipt(ledger, which)
            else:
                live = [i for i in ids if ledger.state(i).refundable_yen > 0]
                annual(ledger, donor_id, 2026, live, reissue=which == 0)
        except (ReceiptAlreadyIssued, NothingToReceipt, InvalidInput):
            pass  # refused, recording nothing
        except (RefundExceedsDonation, DonationAlreadyVoided, DonationPartlyRefunded):
            pass  # the donation rules refusing a refund or void
        covering = valid_receipts_covering(ledger)
        assert all(len(numbers) <= 1 for numbers in covering.values()), covering
        for donation_id in ids:
            numbers = covering.get(donation_id.hex, [])
            if numbers:  # a valid receipt shows what is left of the donation
                facts = ledger.state(receipt_id(numbers[0])).current_facts
                line = next(x for x in facts.lines if x.donation_id == donation_id)
                assert line.amount_yen == ledger.state(donation_id).refundable_yen
