"""Donations, refunds and voids (BRIEF rules 2, 4, 5 and 7), written given / when / then."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import commands as c
from ledger.donation import Donation
from ledger.errors import (
    BatchRejected,
    BatchTooLarge,
    DateOutOfOrder,
    DonationAlreadyVoided,
    DonationPartlyRefunded,
    InvalidInput,
    NotFound,
    Overdraft,
    RefundExceedsDonation,
    UnknownDesignation,
)
from ledger.fund import Fund
from ledger.service import BATCH_SIZE_MAX
from tests.unit.conftest import TODAY, Ledger, new_ledger

AMOUNT_MAX = 10_000_000_000
MAY_1 = date(2026, 5, 1)


def donation_command(
    ledger: Ledger, fund_id: UUID, amount_yen: object, **fields: Any
) -> c.RecordDonation:
    donor_id = fields.pop("donor_id", None) or ledger.register_donor()
    fields.setdefault("effective_on", MAY_1)
    return c.RecordDonation(ledger.key(), fund_id, donor_id, amount_yen, "bank_transfer", **fields)


# Recording


def test_donation_outcome_points_at_the_donations_event_in_the_log(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    outcome = ledger.run(donation_command(ledger, fund_id, 10_000))
    assert outcome.position is not None
    [at_position, *_] = ledger.events_since(outcome.position - 1)
    assert isinstance(at_position, Donation.Recorded)
    assert at_position.originator_id == outcome.aggregate_id


def test_donation_records_its_fee_and_adds_the_rest_to_the_funds_cash(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor("亀岡 太郎")
    before = ledger.position()

    outcome = ledger.run(donation_command(ledger, fund_id, 10_000, donor_id=donor_id))

    recorded = [e for e in ledger.events_since(before) if isinstance(e, Donation.Recorded)]
    assert [(e.amount_yen, e.fee_rate_bp, e.fee_yen, e.effective_on) for e in recorded] == [
        (10_000, 350, 350, MAY_1)
    ]
    assert recorded[0].counterparty == "亀岡 太郎"
    assert recorded[0].actor == "staff:tanaka"
    assert outcome.amounts_yen == {"amount_yen": 10_000, "fee_yen": 350}
    assert outcome.position is not None
    assert not outcome.replayed
    assert ledger.cash(fund_id) == 9_650
    assert ledger.committed(fund_id) == 0


@pytest.mark.parametrize(
    "amount",
    [0, -1, True, False, 1.5, 1.0, Decimal("1"), "1", None, AMOUNT_MAX + 1],
    ids=repr,
)
def test_donation_of_an_amount_that_is_not_positive_bounded_integer_yen_is_rejected(
    ledger: Ledger, amount: object
) -> None:
    fund_id = ledger.open_fund()
    error = ledger.refused(donation_command(ledger, fund_id, amount), InvalidInput)
    assert error.field == "amount_yen"
    assert ledger.cash(fund_id) == 0


def test_donation_of_exactly_the_maximum_amount_is_accepted(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(5000)
    outcome = ledger.run(donation_command(ledger, fund_id, AMOUNT_MAX))
    assert outcome.amounts_yen == {"amount_yen": AMOUNT_MAX, "fee_yen": 5_000_000_000}
    assert ledger.cash(fund_id) == 5_000_000_000


@pytest.mark.parametrize(
    ("amount", "rate", "fee"),
    [
        (1, 350, 0),
        (1, 5000, 0),
        (33, 1, 0),
        (33, 333, 1),
        (33, 350, 1),
        (33, 5000, 16),
        (9_999_999, 0, 0),
        (9_999_999, 1, 999),
        (9_999_999, 333, 332_999),
        (9_999_999, 350, 349_999),
        (9_999_999, 5000, 4_999_999),
    ],
)
def test_donation_fee_is_the_floor_of_amount_times_rate(
    ledger: Ledger, amount: int, rate: int, fee: int
) -> None:
    fund_id = ledger.open_fund(rate)
    outcome = ledger.run(donation_command(ledger, fund_id, amount))
    assert outcome.amounts_yen["fee_yen"] == fee
    assert ledger.cash(fund_id) == amount - fee


def test_donation_to_an_unknown_designation_is_rejected(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350, "kids")
    ledger.refused(
        donation_command(ledger, fund_id, 1_000, designation="river"), UnknownDesignation
    )


def test_donation_designated_general_is_rejected_as_the_name_is_reserved(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    ledger.refused(donation_command(ledger, fund_id, 1_000, designation="general"), InvalidInput)


def test_designated_donation_goes_to_its_own_pot_only(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350, "kids")
    ledger.donate(fund_id, 10_000, designation="kids")
    assert (ledger.cash(fund_id, "kids"), ledger.cash(fund_id, "general")) == (9_650, 0)


def test_donation_to_an_unknown_fund_or_donor_is_rejected(ledger: Ledger) -> None:
    fund_id = ledger.open_fund()
    donor_id = ledger.register_donor()
    ledger.refused(donation_command(ledger, donor_id, 1_000, donor_id=donor_id), NotFound)
    ledger.refused(donation_command(ledger, fund_id, 1_000, donor_id=fund_id), NotFound)


def test_donation_with_an_unknown_payment_method_is_rejected(ledger: Ledger) -> None:
    fund_id = ledger.open_fund()
    command = c.RecordDonation(
        ledger.key(), fund_id, ledger.register_donor(), 1_000, "bitcoin", MAY_1
    )
    ledger.refused(command, InvalidInput)


# Fee rate over time


def test_fee_rate_change_applies_from_its_date_by_the_donations_effective_date(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    ledger.run(c.ChangeFeeRate(fund_id, 1000, date(2026, 4, 1), "2026年度から10%"))

    day_before = ledger.run(
        donation_command(ledger, fund_id, 10_000, effective_on=date(2026, 3, 31))
    )
    on_the_day = ledger.run(
        donation_command(ledger, fund_id, 10_000, effective_on=date(2026, 4, 1))
    )

    assert day_before.amounts_yen["fee_yen"] == 350
    assert on_the_day.amounts_yen["fee_yen"] == 1_000


def test_donation_entered_late_takes_the_rate_of_its_effective_date_not_of_today(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    ledger.run(c.ChangeFeeRate(fund_id, 0, date(2026, 4, 1), "手数料なし"))
    outcome = ledger.run(donation_command(ledger, fund_id, 10_000, effective_on=date(2026, 3, 31)))
    assert outcome.amounts_yen["fee_yen"] == 350


def test_recorded_fee_never_changes_after_a_later_rate_change(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 10_000, on=MAY_1)

    ledger.run(c.ChangeFeeRate(fund_id, 5000, date(2026, 1, 1), "retroactive change"))

    assert ledger.state(donation_id).fee_yen == 350
    assert ledger.cash(fund_id) == 9_650
    full_refund = ledger.refund(donation_id, 10_000)
    assert full_refund.amounts_yen == {"amount_yen": 10_000, "fee_returned_yen": 350}
    assert ledger.cash(fund_id) == 0


# Refunds


def test_refund_of_exactly_the_rest_is_accepted_and_returns_the_rest_of_the_fee(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 33)  # fee floor(33 × 0.035) = 1
    first = ledger.refund(donation_id, 10)  # floor(1 × 10 / 33) = 0 back
    rest = ledger.refund(donation_id, 23)

    assert first.amounts_yen == {"amount_yen": 10, "fee_returned_yen": 0}
    assert rest.amounts_yen == {"amount_yen": 23, "fee_returned_yen": 1}
    assert ledger.cash(fund_id) == 0


def test_refund_larger_than_the_rest_is_rejected(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 10_000)
    ledger.refund(donation_id, 4_000)
    command = c.RefundDonation(ledger.key(), donation_id, 6_001, "返金", date(2026, 6, 1))
    ledger.refused(command, RefundExceedsDonation)
    assert ledger.state(donation_id).refunded_yen == 4_000


def test_second_refund_after_a_full_refund_is_rejected(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 10_000)
    ledger.refund(donation_id, 10_000)
    ledger.refused(
        c.RefundDonation(ledger.key(), donation_id, 1, "返金", date(2026, 6, 1)),
        RefundExceedsDonation,
    )


@pytest.mark.parametrize("amount", [0, -1, True, 1.5, Decimal("1"), "1"], ids=repr)
def test_refund_of_an_invalid_amount_is_rejected(ledger: Ledger, amount: object) -> None:
    donation_id = ledger.donate(ledger.open_fund(), 10_000)
    ledger.refused(
        c.RefundDonation(ledger.key(), donation_id, amount, "返金", date(2026, 6, 1)), InvalidInput
    )


def test_refund_taking_more_cash_than_is_available_is_rejected(ledger: Ledger) -> None:
    # given 10,000 yen (fee 350, cash 9,650) and a grant of 9,000: 650 available
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 10_000)
    ledger.award(fund_id, 9_000)

    # 674 yen gives back floor(350 × 674 / 10000) = 23 of fee: 651 cash, one yen too many
    command = c.RefundDonation(ledger.key(), donation_id, 674, "返金", date(2026, 6, 1))
    ledger.refused(command, Overdraft)
    # 673 yen gives back 23 of fee: exactly the 650 available
    accepted = ledger.refund(donation_id, 673)

    assert accepted.amounts_yen == {"amount_yen": 673, "fee_returned_yen": 23}
    assert ledger.available(fund_id) == 0
    assert ledger.cash(fund_id) == 9_000


def test_refund_of_an_unknown_donation_is_rejected(ledger: Ledger) -> None:
    fund_id = ledger.open_fund()
    ledger.refused(c.RefundDonation(ledger.key(), fund_id, 1, "返金", date(2026, 6, 1)), NotFound)


def test_refund_without_a_reason_is_rejected(ledger: Ledger) -> None:
    donation_id = ledger.donate(ledger.open_fund(), 1_000)
    ledger.refused(
        c.RefundDonation(ledger.key(), donation_id, 1, "  ", date(2026, 6, 1)), InvalidInput
    )


@settings(max_examples=60, deadline=None)
@given(
    amount=st.one_of(st.integers(1, 200), st.integers(1, 10_000_000)),
    rate=st.sampled_from([0, 1, 333, 350, 2500, 5000]),
    data=st.data(),
)
def test_partial_refunds_adding_up_to_the_donation_give_back_exactly_its_fee(
    amount: int, rate: int, data: st.DataObject
) -> None:
    ledger = Ledger(new_ledger())
    fund_id = ledger.open_fund(rate)
    donation_id = ledger.donate(fund_id, amount)
    fee = amount * rate // 10_000
    refunded = fee_back_total = 0
    while refunded < amount:
        part = data.draw(st.one_of(st.just(amount - refunded), st.integers(1, amount - refunded)))
        outcome = ledger.refund(donation_id, part)
        refunded += part
        fee_back_total += outcome.amounts_yen["fee_returned_yen"]
        assert fee_back_total == fee * refunded // amount
    assert fee_back_total == fee
    assert ledger.cash(fund_id) == 0


# Voids


def test_void_reverses_the_donation_and_its_fee_entirely(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 9_999_999)
    before = ledger.position()

    ledger.void(donation_id)

    voided = [e for e in ledger.events_since(before) if isinstance(e, Donation.Voided)]
    assert [(e.amount_yen, e.fee_yen) for e in voided] == [(9_999_999, 349_999)]
    assert ledger.cash(fund_id) == 0
    assert ledger.state(donation_id).refundable_yen == 0


def test_void_after_a_partial_refund_is_rejected(ledger: Ledger) -> None:
    donation_id = ledger.donate(ledger.open_fund(), 10_000)
    ledger.refund(donation_id, 1)
    ledger.refused(
        c.VoidDonation(ledger.key(), donation_id, "誤記", date(2026, 6, 1)), DonationPartlyRefunded
    )


def test_void_after_a_full_refund_is_rejected(ledger: Ledger) -> None:
    donation_id = ledger.donate(ledger.open_fund(), 10_000)
    ledger.refund(donation_id, 10_000)
    ledger.refused(
        c.VoidDonation(ledger.key(), donation_id, "誤記", date(2026, 6, 1)), DonationPartlyRefunded
    )


def test_void_when_the_money_is_no_longer_available_is_rejected(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 10_000)
    ledger.award(fund_id, 1)  # 9,649 available, the void needs 9,650
    ledger.refused(c.VoidDonation(ledger.key(), donation_id, "誤記", date(2026, 6, 1)), Overdraft)
    assert ledger.cash(fund_id) == 9_650


def test_void_needing_exactly_the_available_money_is_accepted(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    kept = ledger.donate(fund_id, 1_000)  # cash 965
    mistaken = ledger.donate(fund_id, 10_000)  # cash 9,650
    ledger.award(fund_id, 965)
    ledger.void(mistaken)
    assert (ledger.cash(fund_id), ledger.available(fund_id)) == (965, 0)
    assert ledger.state(kept).refundable_yen == 1_000


def test_second_void_is_rejected(ledger: Ledger) -> None:
    donation_id = ledger.donate(ledger.open_fund(), 10_000)
    ledger.void(donation_id)
    ledger.refused(
        c.VoidDonation(ledger.key(), donation_id, "誤記", date(2026, 6, 1)), DonationAlreadyVoided
    )


def test_refund_of_a_voided_donation_is_rejected(ledger: Ledger) -> None:
    donation_id = ledger.donate(ledger.open_fund(), 10_000)
    ledger.void(donation_id)
    ledger.refused(
        c.RefundDonation(ledger.key(), donation_id, 1, "返金", date(2026, 6, 1)),
        DonationAlreadyVoided,
    )


# Dates


def test_refund_dated_before_the_donation_is_rejected(ledger: Ledger) -> None:
    donation_id = ledger.donate(ledger.open_fund(), 10_000, on=MAY_1)
    command = c.RefundDonation(ledger.key(), donation_id, 1, "返金", date(2026, 4, 30))
    ledger.refused(command, DateOutOfOrder)
    ledger.refund(donation_id, 1, on=MAY_1)  # the same day is fine


def test_void_dated_before_the_donation_is_rejected(ledger: Ledger) -> None:
    donation_id = ledger.donate(ledger.open_fund(), 10_000, on=MAY_1)
    ledger.refused(
        c.VoidDonation(ledger.key(), donation_id, "誤記", date(2026, 4, 30)), DateOutOfOrder
    )


@pytest.mark.parametrize(
    "day",
    [date(2026, 11, 29), date(2027, 1, 1), date(1999, 12, 31), date(1970, 1, 1)],
)
def test_donation_dated_in_the_future_or_before_2000_is_rejected(ledger: Ledger, day: date) -> None:
    fund_id = ledger.open_fund()
    ledger.refused(donation_command(ledger, fund_id, 1_000, effective_on=day), InvalidInput)


@pytest.mark.parametrize("day", [date(2000, 1, 1), TODAY])
def test_donation_dated_on_1_january_2000_or_today_is_accepted(ledger: Ledger, day: date) -> None:
    fund_id = ledger.open_fund()
    donation_id = ledger.run(
        donation_command(ledger, fund_id, 1_000, effective_on=day)
    ).aggregate_id
    assert ledger.state(donation_id).effective_on == day


@pytest.mark.parametrize(
    "day", [datetime(2026, 5, 1, 9, 0, tzinfo=UTC), "2026-05-01"], ids=["datetime", "text"]
)
def test_donation_date_that_is_not_a_plain_date_is_rejected(ledger: Ledger, day: object) -> None:
    fund_id = ledger.open_fund()
    ledger.refused(donation_command(ledger, fund_id, 1_000, effective_on=day), InvalidInput)


def test_refund_dated_in_the_future_is_rejected(ledger: Ledger) -> None:
    donation_id = ledger.donate(ledger.open_fund(), 10_000)
    command = c.RefundDonation(ledger.key(), donation_id, 1, "返金", date(2026, 11, 29))
    ledger.refused(command, InvalidInput)


def test_donation_without_a_date_is_dated_today_in_japan() -> None:
    # 15:00 UTC on 28 November is midnight on 29 November in Japan
    ledger = Ledger(new_ledger(datetime(2026, 11, 28, 15, 0, tzinfo=UTC)))
    fund_id = ledger.open_fund()
    command = c.RecordDonation(ledger.key(), fund_id, ledger.register_donor(), 1_000, "cash")
    donation_id = ledger.run(command).aggregate_id
    assert ledger.state(donation_id).effective_on == date(2026, 11, 29)


def test_donation_dated_tomorrow_in_utc_but_today_in_japan_is_accepted() -> None:
    ledger = Ledger(new_ledger(datetime(2026, 11, 28, 15, 0, tzinfo=UTC)))
    fund_id = ledger.open_fund()
    ledger.run(donation_command(ledger, fund_id, 1_000, effective_on=date(2026, 11, 29)))
    late_evening = Ledger(new_ledger(datetime(2026, 11, 28, 14, 59, tzinfo=UTC)))
    other_fund = late_evening.open_fund()
    late_evening.refused(
        donation_command(late_evening, other_fund, 1_000, effective_on=date(2026, 11, 29)),
        InvalidInput,
    )


# Batches


def test_batch_of_donations_to_one_fund_records_one_event_each_and_one_fund_event(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    commands = [donation_command(ledger, fund_id, 1_000 + n, donor_id=donor_id) for n in range(25)]
    before = ledger.position()

    outcomes = ledger.run_batch(commands)

    events = ledger.events_since(before)
    assert sum(isinstance(e, Donation.Recorded) for e in events) == 25
    assert sum(isinstance(e, Fund.Event) for e in events) == 1
    assert len(events) == 26
    assert len({o.position for o in outcomes}) == 25
    assert ledger.cash(fund_id) == sum(
        o.amounts_yen["amount_yen"] - o.amounts_yen["fee_yen"] for o in outcomes
    )


def test_batch_can_give_to_a_designation_it_adds_after_giving_to_another_pot(
    ledger: Ledger,
) -> None:
    # Concurrent API requests grouped into one write (group commit) can come in this order.
    fund_id = ledger.open_fund(0)
    donor_id = ledger.register_donor()
    batch = [
        donation_command(ledger, fund_id, 1_000, donor_id=donor_id),
        c.AddDesignation(fund_id, "kids", "子ども事業", idempotency_key=ledger.key()),
        donation_command(ledger, fund_id, 300, donor_id=donor_id, designation="kids"),
    ]

    ledger.run_batch(batch)

    assert (ledger.cash(fund_id), ledger.cash(fund_id, "kids")) == (1_000, 300)


def test_batch_resending_a_fund_its_designation_and_their_donations_replays_them_all(
    ledger: Ledger,
) -> None:
    # Found by the stateful test: the first try runs the commands for real, on a new fund
    # that collides at save time with the stored one, and then looks the keys up.
    open_fund = c.OpenFund("亀岡協働基金", "京都地域創造基金", 0, idempotency_key=ledger.key())
    fund_id = ledger.run(open_fund).aggregate_id
    add_kids = c.AddDesignation(fund_id, "kids", "子ども事業", idempotency_key=ledger.key())
    donor_id = ledger.register_donor()
    to_general = donation_command(ledger, fund_id, 1, donor_id=donor_id)
    to_kids = donation_command(ledger, fund_id, 1, donor_id=donor_id, designation="kids")
    ledger.run_batch([add_kids, to_general, to_kids])
    before = ledger.position()

    outcomes = ledger.run_batch([open_fund, to_general, add_kids, to_kids])

    assert [o.replayed for o in outcomes] == [True] * 4
    assert ledger.events_since(before) == []
    assert (ledger.cash(fund_id), ledger.cash(fund_id, "kids")) == (1, 1)


def test_batch_with_one_bad_command_records_nothing_and_names_its_index(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()
    commands = [donation_command(ledger, fund_id, 1_000, donor_id=donor_id) for _ in range(5)]
    commands[3] = donation_command(ledger, fund_id, 0, donor_id=donor_id)
    before = ledger.position()

    with pytest.raises(BatchRejected) as raised:
        ledger.run_batch(commands)

    assert raised.value.index == 3
    assert isinstance(raised.value.cause, InvalidInput)
    assert ledger.events_since(before) == []
    assert ledger.cash(fund_id) == 0


def test_batch_whose_later_refund_overdraws_what_earlier_commands_left_records_nothing(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(0)
    donation_id = ledger.donate(fund_id, 1_000)
    before = ledger.position()
    batch = [
        c.AwardGrant(ledger.key(), fund_id, "NPO", "代表", "目的", 600, None, date(2026, 6, 1)),
        c.RefundDonation(ledger.key(), donation_id, 401, "返金", date(2026, 6, 1)),
    ]
    with pytest.raises(BatchRejected) as raised:
        ledger.run_batch(batch)
    assert (raised.value.index, type(raised.value.cause)) == (1, Overdraft)
    assert ledger.events_since(before) == []


def test_batch_larger_than_the_maximum_is_rejected_before_anything_runs(ledger: Ledger) -> None:
    fund_id = ledger.open_fund()
    donor_id = ledger.register_donor()
    one = donation_command(ledger, fund_id, 1_000, donor_id=donor_id)
    before = ledger.position()
    with pytest.raises(BatchTooLarge):
        ledger.run_batch([one] * (BATCH_SIZE_MAX + 1))
    assert ledger.events_since(before) == []
