"""Voiding a receipt on its own (a receipt issued wrongly), so that it can be issued again:
given / when / then on the in-memory ledger, with the hashing printer of test_receipts."""

from __future__ import annotations

from typing import Any

import pytest

from ledger import commands as c
from ledger.errors import IdempotencyKeyReused, InvalidInput, NotFound, ReceiptVoided
from ledger.receipt import DonorReceipts, Receipt, receipt_id
from tests.unit.conftest import Ledger
from tests.unit.test_receipts import annual, issue, valid_receipts_covering

WRONG_ADDRESS = "住所の誤り"


def void(ledger: Ledger, number: str, *, key: str | None = None) -> c.Outcome:
    return ledger.run(c.VoidReceipt(number, WRONG_ADDRESS, key))


def test_voided_receipt_is_replaced_by_its_next_suffix_with_the_corrected_address(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    donation_id = ledger.donate(fund_id, 5_000, donor_id=donor_id)
    first = issue(ledger, donation_id)
    changes = {"postal_code": "621-0001", "address": "京都府亀岡市旭町1"}
    ledger.run(c.CorrectDonor(donor_id, changes, "転居"))

    void(ledger, first.number)
    replacement = issue(ledger, donation_id)

    assert replacement.number == f"{first.number}-2"
    facts = replacement.current_facts
    assert facts.reissue
    assert facts.replaces_number == first.number
    assert (facts.donor_postal_code, facts.donor_address) == ("621-0001", "京都府亀岡市旭町1")
    assert facts.total_yen == 5_000
    assert ledger.state(first.id).current_facts.donor_address == "京都府亀岡市安町"
    assert valid_receipts_covering(ledger) == {donation_id.hex: [replacement.number]}


def test_void_records_the_receipts_void_and_its_withdrawal_from_the_donors_index(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    first = issue(ledger, donation_id)
    before = ledger.position()

    outcome = void(ledger, first.number)

    events = ledger.events_since(before)
    assert [type(e) for e in events] == [Receipt.Voided, DonorReceipts.Withdrawn]
    assert (events[0].reason, events[1].number) == (WRONG_ADDRESS, first.number)
    assert (outcome.kind, outcome.aggregate_id) == ("void_receipt", receipt_id(first.number))
    voided = ledger.state(first.id)
    assert (voided.voided, voided.void_reason, voided.sha256) == (True, WRONG_ADDRESS, first.sha256)
    assert valid_receipts_covering(ledger) == {donation_id.hex: []}


def test_voided_annual_receipt_is_replaced_by_its_next_suffix(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    ids = [ledger.donate(fund_id, 5_000, donor_id=donor_id) for _ in range(2)]
    first = annual(ledger, donor_id, 2026, ids)

    void(ledger, first.number)
    replacement = annual(ledger, donor_id, 2026, ids)

    assert replacement.number == f"{first.number}-2"
    assert replacement.current_facts.reissue
    assert replacement.current_facts.total_yen == 10_000


def test_replacement_of_a_replacement_takes_the_suffix_after_it(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    first = issue(ledger, donation_id)
    void(ledger, first.number)
    second = issue(ledger, donation_id)
    void(ledger, second.number)
    assert issue(ledger, donation_id).number == f"{first.number}-3"


def test_voiding_a_voided_receipt_is_refused_and_records_nothing(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    first = issue(ledger, ledger.donate(fund_id, 5_000))
    void(ledger, first.number)
    ledger.refused(c.VoidReceipt(first.number, "もう一度"), ReceiptVoided)


def test_voiding_a_receipt_its_refund_voided_is_refused(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    first = issue(ledger, donation_id)
    ledger.refund(donation_id, 1_000)
    ledger.refused(c.VoidReceipt(first.number, WRONG_ADDRESS), ReceiptVoided)


def test_refund_after_a_void_voids_no_receipt_again(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 5_000)
    void(ledger, issue(ledger, donation_id).number)
    before = ledger.position()
    ledger.refund(donation_id, 1_000)
    assert not [e for e in ledger.events_since(before) if isinstance(e, Receipt.Voided)]


def test_voiding_an_unknown_number_is_not_found(ledger: Ledger) -> None:
    ledger.open_fund(350)
    error = ledger.refused(c.VoidReceipt("2026-000077", WRONG_ADDRESS), NotFound)
    assert "no receipt numbered 2026-000077" in str(error)


@pytest.mark.parametrize("number", ["", "2026-77", "2026-000001-", "2026-000001-1000", 2026, None])
def test_voiding_a_malformed_number_is_refused(ledger: Ledger, number: Any) -> None:
    fund_id = ledger.open_fund(350)
    issue(ledger, ledger.donate(fund_id, 5_000))
    error = ledger.refused(c.VoidReceipt(number, WRONG_ADDRESS), InvalidInput)
    assert str(error).startswith("number:")


@pytest.mark.parametrize("reason", ["", "   ", "a\x00b", "x" * 1_001, None])
def test_voiding_without_a_proper_reason_is_refused(ledger: Ledger, reason: Any) -> None:
    fund_id = ledger.open_fund(350)
    first = issue(ledger, ledger.donate(fund_id, 5_000))
    error = ledger.refused(c.VoidReceipt(first.number, reason), InvalidInput)
    assert str(error).startswith("reason:")
    assert not ledger.state(first.id).voided


def test_void_with_a_used_key_answers_the_first_void_and_records_nothing(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    first = issue(ledger, ledger.donate(fund_id, 5_000))
    done = void(ledger, first.number, key="void-1")
    before = ledger.position()

    again = void(ledger, first.number, key="void-1")

    assert again.replayed
    assert (again.kind, again.aggregate_id, again.position) == (
        done.kind,
        done.aggregate_id,
        done.position,
    )
    assert ledger.events_since(before) == []


def test_a_used_void_key_with_another_reason_is_refused(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    first = issue(ledger, ledger.donate(fund_id, 5_000))
    void(ledger, first.number, key="void-1")
    ledger.refused(c.VoidReceipt(first.number, "別の理由", "void-1"), IdempotencyKeyReused)
