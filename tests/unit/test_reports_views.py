"""The view objects refuse what would print a wrong document."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime

import pytest

from reports.samples import DONOR, sample_annual_receipt, sample_receipt, sample_statement
from reports.statement_metadata import SCHEMA_1, statement_metadata
from reports.statement_view import (
    PeriodClosing,
    PotFigures,
    StatementTransaction,
    TransactionKind,
)
from reports.views import AnnualReceiptLine, DonorKind


def test_individual_is_addressed_sama_and_organisation_onchu() -> None:
    assert DonorKind.INDIVIDUAL.honorific == "様"
    assert DonorKind.ORGANISATION.honorific == "御中"


@pytest.mark.parametrize("number", ["2026-000123", "2026-000123-2", "2026-999999-12"])
def test_receipt_numbers_of_the_agreed_shape_are_accepted(number: str) -> None:
    assert dataclasses.replace(sample_receipt(), receipt_number=number).receipt_number == number


@pytest.mark.parametrize("number", ["", "26-000123", "2026-123", "2026-000123-", "No.2026-000123"])
def test_malformed_receipt_number_is_refused(number: str) -> None:
    with pytest.raises(ValueError, match="receipt_number"):
        dataclasses.replace(sample_receipt(), receipt_number=number)


@pytest.mark.parametrize("amount", [0, -1, 10_000_000_001])
def test_receipt_amount_out_of_bounds_is_refused(amount: int) -> None:
    with pytest.raises(ValueError, match="amount_yen"):
        dataclasses.replace(sample_receipt(), amount_yen=amount)


def test_receipt_amount_that_is_not_int_yen_is_refused() -> None:
    with pytest.raises(TypeError, match="amount_yen"):
        dataclasses.replace(sample_receipt(), amount_yen=True)


def test_receipt_issued_before_the_donation_was_received_is_refused() -> None:
    with pytest.raises(ValueError, match="issued before"):
        dataclasses.replace(sample_receipt(), issued_on=date(2026, 3, 31))


def test_receipt_replacing_another_must_be_marked_reissue() -> None:
    with pytest.raises(ValueError, match="reissue"):
        dataclasses.replace(sample_receipt(reissue=True), reissue=False)


def test_donor_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="donor name"):
        dataclasses.replace(DONOR, name="  ")


def test_annual_receipt_totals_its_donations() -> None:
    view = sample_annual_receipt(4)
    assert view.total_yen == 3_000 + 10_000 + 5_000 + 50_000


def test_annual_receipt_refuses_a_donation_of_another_year() -> None:
    view = sample_annual_receipt(2)
    stray = AnnualReceiptLine(date(2025, 12, 31), "亀岡協働基金", None, 1_000)
    with pytest.raises(ValueError, match="2025-12-31 is not in 2026"):
        dataclasses.replace(view, lines=(*view.lines, stray))


def test_annual_receipt_without_donations_is_refused() -> None:
    with pytest.raises(ValueError, match="1 to"):
        dataclasses.replace(sample_annual_receipt(1), lines=())


def test_statement_total_adds_up_its_pots() -> None:
    view = sample_statement()
    total = view.total
    assert total.closing_balance_yen == sum(p.closing_balance_yen for p in view.pots)
    assert total.available_yen == total.closing_balance_yen - total.closing_committed_yen


def test_pot_whose_closing_balance_does_not_add_up_is_refused() -> None:
    pot = sample_statement().pots[0]
    with pytest.raises(ValueError, match="closing balance"):
        dataclasses.replace(pot, closing_balance_yen=pot.closing_balance_yen + 1)


def test_pot_whose_commitments_do_not_add_up_is_refused() -> None:
    pot = sample_statement().pots[0]
    with pytest.raises(ValueError, match="closing committed"):
        dataclasses.replace(pot, grants_awarded_yen=pot.grants_awarded_yen + 1)


def test_pot_committing_more_than_its_cash_is_refused() -> None:
    with pytest.raises(ValueError, match="committed exceeds"):
        PotFigures(None, 0, 0, 0, 0, 0, 0, 0, 0, 100, 0, 100, 0)


def test_statement_refuses_a_transaction_outside_its_positions() -> None:
    view = sample_statement()
    late = StatementTransaction(
        view.last_position + 1, date(2027, 3, 1), TransactionKind.DONATION, "x", None, 1
    )
    with pytest.raises(ValueError, match="outside the range"):
        dataclasses.replace(view, transactions=(*view.transactions, late))


def test_statement_refuses_a_chain_hash_that_is_not_sha256_hex() -> None:
    with pytest.raises(ValueError, match="chain_head_hash"):
        dataclasses.replace(sample_statement(), chain_head_hash="ABC")


def test_statement_refuses_a_designation_listed_twice() -> None:
    view = sample_statement()
    with pytest.raises(ValueError, match="once"):
        dataclasses.replace(view, pots=(view.pots[0], view.pots[0]))


def test_statement_metadata_is_plain_json_data_with_every_figure() -> None:
    metadata = statement_metadata(sample_statement())
    assert metadata["schema"] == "fund-ledger/statement/2"
    assert metadata["books_closed_through"] is None
    assert metadata["total"]["closing_balance_yen"] == 522_636
    assert metadata["pots"][1]["designation_name"] == "保津川の清掃"
    assert metadata["transactions"][0] == {
        "position": 1021,
        "effective_on": "2026-04-01",
        "kind": "donation",
        "counterparty": "亀岡 花子",
        "designation_name": "保津川の清掃",
        "amount_yen": 12_345,
        "host_fee_yen": 432,
    }


# The sample's period is 2026-04-01 – 2027-03-31.
@pytest.mark.parametrize(
    ("closed_through", "closing"),
    [
        (None, PeriodClosing.OPEN),
        (date(2026, 3, 31), PeriodClosing.OPEN),
        (date(2026, 4, 1), PeriodClosing.IN_PART),
        (date(2027, 3, 30), PeriodClosing.IN_PART),
        (date(2027, 3, 31), PeriodClosing.WHOLLY),
        (date(2027, 4, 10), PeriodClosing.WHOLLY),
    ],
)
def test_statement_period_is_final_only_once_its_last_day_is_closed(
    closed_through: date | None, closing: PeriodClosing
) -> None:
    view = dataclasses.replace(sample_statement(), books_closed_through=closed_through)
    assert view.period_closing is closing


@pytest.mark.parametrize("closed_through", [datetime(2027, 3, 31), "2027-03-31"])
def test_statement_refuses_a_closing_day_that_is_not_a_date(closed_through: object) -> None:
    with pytest.raises(TypeError, match="books_closed_through"):
        dataclasses.replace(sample_statement(), books_closed_through=closed_through)


def test_statement_metadata_carries_the_closing_day_but_not_in_the_first_schema() -> None:
    view = dataclasses.replace(sample_statement(), books_closed_through=date(2027, 3, 31))
    assert statement_metadata(view)["books_closed_through"] == "2027-03-31"
    second = statement_metadata(view)
    del second["books_closed_through"]
    assert statement_metadata(view, schema=SCHEMA_1) == {**second, "schema": SCHEMA_1}


def test_statement_metadata_in_an_unknown_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="no statement schema"):
        statement_metadata(sample_statement(), schema="fund-ledger/statement/3")
