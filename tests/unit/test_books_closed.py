"""Closing a fund's books (BRIEF rule 7): a late entry or correction posts in the open period,
never in a closed one; closed books never reopen."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from uuid import UUID

import pytest

from ledger import commands as c
from ledger.errors import BatchRejected, BooksClosed, InvalidInput
from ledger.fund import Fund
from tests.unit.conftest import TODAY, Ledger, new_ledger

MARCH_31 = date(2026, 3, 31)  # the last day of 2025年度
APRIL_1 = MARCH_31 + timedelta(days=1)
MARCH_1 = date(2026, 3, 1)


def close(ledger: Ledger, fund_id: UUID, through: object) -> c.CloseBooks:
    return c.CloseBooks(fund_id, through, "2025年度決算", idempotency_key=ledger.key())


@pytest.fixture
def fund(ledger: Ledger) -> UUID:
    """A fund with money in March (a donation and a grant paid in part), then closed through
    31 March."""
    fund_id = ledger.open_fund(350, "kids")
    ledger.donate(fund_id, 100_000, on=MARCH_1)
    ledger.disburse(ledger.award(fund_id, 10_000, on=MARCH_1), 1_000, on=MARCH_1)
    ledger.run(close(ledger, fund_id, MARCH_31))
    return fund_id


def test_a_donation_dated_on_the_last_closed_day_is_refused_and_one_a_day_later_recorded(
    ledger: Ledger, fund: UUID
) -> None:
    command = c.RecordDonation(ledger.key(), fund, ledger.register_donor(), 5_000, "cash", MARCH_31)

    error = ledger.refused(command, BooksClosed)

    assert "closed through 2026-03-31" in error.message
    assert ledger.donate(fund, 5_000, on=APRIL_1)


Correction = Callable[[Ledger, UUID, date], c.Command]


def _donation(ledger: Ledger, fund: UUID) -> UUID:
    return ledger.donate(fund, 20_000, on=MARCH_1)


def _grant(ledger: Ledger, fund: UUID) -> UUID:
    return ledger.award(fund, 20_000, on=MARCH_1)


def _paid_grant(ledger: Ledger, fund: UUID) -> UUID:
    grant_id = _grant(ledger, fund)
    ledger.disburse(grant_id, 5_000, on=MARCH_1)
    return grant_id


CORRECTIONS: dict[str, Correction] = {
    "refund": lambda ledger, fund, day: c.RefundDonation(
        ledger.key(), _donation(ledger, fund), 1_000, "返金", day
    ),
    "void": lambda ledger, fund, day: c.VoidDonation(
        ledger.key(), _donation(ledger, fund), "二重計上", day
    ),
    "award": lambda ledger, fund, day: c.AwardGrant(
        ledger.key(), fund, "NPO法人 保津川", "代表 川田", "川の清掃", 1_000, None, day
    ),
    "disburse": lambda ledger, fund, day: c.DisburseGrant(
        ledger.key(), _grant(ledger, fund), 1_000, day
    ),
    "reduce": lambda ledger, fund, day: c.ReduceGrant(
        ledger.key(), _grant(ledger, fund), 1_000, "縮小", day
    ),
    "cancel": lambda ledger, fund, day: c.CancelGrant(
        ledger.key(), _grant(ledger, fund), "中止", day
    ),
    "return": lambda ledger, fund, day: c.RecordGrantReturn(
        ledger.key(), _paid_grant(ledger, fund), 1_000, "返還", day
    ),
}


@pytest.mark.parametrize("kind", CORRECTIONS)
def test_every_money_event_dated_in_the_closed_period_is_refused_and_posts_in_the_open_one(
    kind: str,
) -> None:
    ledger = Ledger(new_ledger())
    fund_id = ledger.open_fund(350)
    ledger.donate(fund_id, 100_000, on=MARCH_1)
    make = CORRECTIONS[kind]
    closed = make(ledger, fund_id, MARCH_31)
    in_the_open_period = make(ledger, fund_id, APRIL_1)
    ledger.run(close(ledger, fund_id, MARCH_31))
    cash_before = ledger.cash(fund_id)

    ledger.refused(closed, BooksClosed)

    assert ledger.cash(fund_id) == cash_before
    assert ledger.run(in_the_open_period).position is not None


def test_a_fee_rate_change_from_the_last_closed_day_is_refused_and_from_the_next_day_made(
    ledger: Ledger, fund: UUID
) -> None:
    rate_before = ledger.state(fund).fee_rates_bp

    error = ledger.refused(c.ChangeFeeRate(fund, 500, MARCH_31, "遡って改定"), BooksClosed)

    assert "closed through 2026-03-31" in error.message
    assert ledger.state(fund).fee_rates_bp == rate_before
    ledger.run(c.ChangeFeeRate(fund, 500, APRIL_1, "2026年度から5%"))
    assert ledger.state(fund).fee_rate_bp_on(APRIL_1) == 500
    assert ledger.state(fund).fee_rate_bp_on(MARCH_31) == 350


def test_closed_books_never_reopen_but_may_close_further(ledger: Ledger, fund: UUID) -> None:
    error = ledger.refused(close(ledger, fund, MARCH_1), BooksClosed)

    assert "cannot be reopened back to 2026-03-01" in error.message
    ledger.run(close(ledger, fund, MARCH_31))
    ledger.run(close(ledger, fund, date(2026, 9, 30)))
    assert ledger.state(fund).closed_through == date(2026, 9, 30)
    ledger.refused(close(ledger, fund, MARCH_31), BooksClosed)


@pytest.mark.parametrize(
    "through", [TODAY + timedelta(days=1), date(1999, 12, 31), "2026-03-31", None], ids=repr
)
def test_a_closing_in_the_future_or_not_a_date_is_refused(
    ledger: Ledger, fund: UUID, through: object
) -> None:
    error = ledger.refused(close(ledger, fund, through), InvalidInput)

    assert error.message.startswith("through: ")


def test_a_donation_before_a_closing_in_the_same_batch_is_recorded_one_after_is_refused(
    ledger: Ledger,
) -> None:
    fund_id = ledger.open_fund(350)
    donor_id = ledger.register_donor()

    def donation(day: date) -> c.RecordDonation:
        return c.RecordDonation(ledger.key(), fund_id, donor_id, 3_000, "cash", day)

    ledger.run_batch([donation(MARCH_31), close(ledger, fund_id, MARCH_31), donation(APRIL_1)])
    before = ledger.position()
    late = [close(ledger, fund_id, MARCH_31), donation(MARCH_31)]

    with pytest.raises(BatchRejected) as raised:
        ledger.run_batch(late)

    assert (raised.value.index, type(raised.value.cause)) == (1, BooksClosed)
    assert ledger.events_since(before) == []
    assert ledger.cash(fund_id) == 2 * (3_000 - 105)


def test_a_fund_snapshot_keeps_its_closing_and_one_taken_before_closings_reads_open(
    ledger: Ledger, fund: UUID
) -> None:
    closed = ledger.state(fund)
    never_closed = ledger.state(ledger.open_fund(350))
    assert "closed_through" not in vars(never_closed)  # as in snapshots older than closings

    assert Fund.Snapshot.take(closed).mutate(None).closed_through == MARCH_31
    assert Fund.Snapshot.take(never_closed).mutate(None).closed_through is None
