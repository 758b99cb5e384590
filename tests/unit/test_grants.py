"""Grants: award, disbursement, reduction, cancellation and return (BRIEF rules 4 and 6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

import pytest

from ledger import commands as c
from ledger.errors import (
    DateOutOfOrder,
    GrantLimitExceeded,
    InvalidInput,
    NotFound,
    Overdraft,
    UnknownDesignation,
)
from ledger.grant import Grant
from tests.unit.conftest import TODAY, Ledger

JUNE_1 = date(2026, 6, 1)
JULY_1 = date(2026, 7, 1)


def award_command(ledger: Ledger, fund_id: UUID, amount: object, **fields: object) -> c.AwardGrant:
    fields.setdefault("effective_on", JUNE_1)
    return c.AwardGrant(
        ledger.key(), fund_id, "NPO法人 保津川", "代表 川田", "川の清掃", amount, **fields
    )


def disburse_command(
    ledger: Ledger, grant_id: UUID, amount: object, on: date = JULY_1
) -> c.DisburseGrant:
    return c.DisburseGrant(ledger.key(), grant_id, amount, on)


def reduce_command(
    ledger: Ledger, grant_id: UUID, amount: object, on: date = JULY_1
) -> c.ReduceGrant:
    return c.ReduceGrant(ledger.key(), grant_id, amount, "事業縮小", on)


def cancel_command(ledger: Ledger, grant_id: UUID, on: date = JULY_1) -> c.CancelGrant:
    return c.CancelGrant(ledger.key(), grant_id, "事業中止", on)


def return_command(
    ledger: Ledger, grant_id: UUID, amount: object, on: date = JULY_1
) -> c.RecordGrantReturn:
    return c.RecordGrantReturn(ledger.key(), grant_id, amount, "未使用分の返還", on)


@pytest.fixture
def fund_with_9650(ledger: Ledger) -> UUID:
    """A fund at 3.5% that received 10,000 yen: 9,650 yen cash, all of it available."""
    fund_id = ledger.open_fund(350, "kids")
    ledger.donate(fund_id, 10_000)
    return fund_id


# Award


def test_award_of_exactly_the_available_money_is_accepted(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    before = ledger.position()
    outcome = ledger.run(award_command(ledger, fund_with_9650, 9_650))

    awarded = [e for e in ledger.events_since(before) if isinstance(e, Grant.Awarded)]
    assert [(e.amount_yen, e.designation, e.effective_on) for e in awarded] == [
        (9_650, None, JUNE_1)
    ]
    assert outcome.amounts_yen == {"amount_yen": 9_650}
    assert (ledger.cash(fund_with_9650), ledger.committed(fund_with_9650)) == (9_650, 9_650)
    assert ledger.available(fund_with_9650) == 0


def test_award_of_one_yen_more_than_available_is_rejected(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    ledger.refused(award_command(ledger, fund_with_9650, 9_651), Overdraft)
    ledger.award(fund_with_9650, 9_000)
    ledger.refused(award_command(ledger, fund_with_9650, 651), Overdraft)
    assert ledger.committed(fund_with_9650) == 9_000


@pytest.mark.parametrize("amount", [0, -1, True, 1.5, Decimal("1"), "1", 10_000_000_001], ids=repr)
def test_award_of_an_invalid_amount_is_rejected(
    ledger: Ledger, fund_with_9650: UUID, amount: object
) -> None:
    ledger.refused(award_command(ledger, fund_with_9650, amount), InvalidInput)


def test_designated_grant_cannot_use_general_money(ledger: Ledger, fund_with_9650: UUID) -> None:
    ledger.refused(award_command(ledger, fund_with_9650, 1, designation="kids"), Overdraft)
    assert ledger.committed(fund_with_9650, "kids") == 0


def test_general_grant_cannot_use_designated_money(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350, "kids")
    ledger.donate(fund_id, 10_000, designation="kids")
    ledger.refused(award_command(ledger, fund_id, 1), Overdraft)
    ledger.award(fund_id, 9_650, designation="kids")
    assert (ledger.available(fund_id, "kids"), ledger.committed(fund_id, "general")) == (0, 0)


def test_grant_of_an_unknown_designation_is_rejected(ledger: Ledger, fund_with_9650: UUID) -> None:
    ledger.refused(
        award_command(ledger, fund_with_9650, 1, designation="river"), UnknownDesignation
    )


def test_grant_from_an_unknown_fund_is_rejected(ledger: Ledger) -> None:
    donor_id = ledger.register_donor()
    ledger.refused(award_command(ledger, donor_id, 1), NotFound)


@pytest.mark.parametrize("day", [date(2026, 11, 29), date(1999, 12, 31)])
def test_award_dated_in_the_future_or_before_2000_is_rejected(
    ledger: Ledger, fund_with_9650: UUID, day: date
) -> None:
    ledger.refused(award_command(ledger, fund_with_9650, 1, effective_on=day), InvalidInput)


def test_award_without_a_grantee_is_rejected(ledger: Ledger, fund_with_9650: UUID) -> None:
    command = c.AwardGrant(ledger.key(), fund_with_9650, " ", "代表", "目的", 1, None, JUNE_1)
    ledger.refused(command, InvalidInput)


# Disbursement


def test_disbursement_of_exactly_the_unpaid_rest_is_accepted(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 2_000)
    rest = ledger.disburse(grant_id, 3_000)

    assert rest.amounts_yen == {"amount_yen": 3_000}
    assert (ledger.cash(fund_with_9650), ledger.committed(fund_with_9650)) == (4_650, 0)
    assert ledger.state(grant_id).unpaid_yen == 0


def test_disbursement_larger_than_the_unpaid_rest_is_rejected(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 2_000)
    ledger.refused(disburse_command(ledger, grant_id, 3_001), GrantLimitExceeded)
    assert (ledger.cash(fund_with_9650), ledger.committed(fund_with_9650)) == (7_650, 3_000)


def test_disbursement_never_exceeds_the_grant_even_with_money_available(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 1_000)
    ledger.refused(disburse_command(ledger, grant_id, 1_001), GrantLimitExceeded)


def test_disbursement_of_designated_money_leaves_the_general_pot_alone(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(0, "kids")
    ledger.donate(fund_id, 1_000, designation="kids")
    ledger.donate(fund_id, 500)
    grant_id = ledger.award(fund_id, 1_000, designation="kids")
    ledger.disburse(grant_id, 400)
    assert (ledger.cash(fund_id, "kids"), ledger.committed(fund_id, "kids")) == (600, 600)
    assert (ledger.cash(fund_id, "general"), ledger.committed(fund_id, "general")) == (500, 0)


def test_disbursement_dated_before_the_decision_is_rejected(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 1_000)  # decided 1 June
    ledger.refused(disburse_command(ledger, grant_id, 1, on=date(2026, 5, 31)), DateOutOfOrder)
    ledger.disburse(grant_id, 1, on=JUNE_1)


def test_disbursement_dated_in_the_future_is_rejected(ledger: Ledger, fund_with_9650: UUID) -> None:
    grant_id = ledger.award(fund_with_9650, 1_000)
    ledger.refused(disburse_command(ledger, grant_id, 1, on=date(2026, 11, 29)), InvalidInput)
    ledger.disburse(grant_id, 1, on=TODAY)


def test_disbursement_of_an_unknown_grant_is_rejected(ledger: Ledger, fund_with_9650: UUID) -> None:
    ledger.refused(disburse_command(ledger, fund_with_9650, 1), NotFound)


# Reduction and cancellation


def test_reduction_returns_that_much_of_the_unpaid_rest_to_available(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 1_000)
    outcome = ledger.run(reduce_command(ledger, grant_id, 1_500))

    assert outcome.amounts_yen == {"amount_yen": 1_500}
    assert ledger.committed(fund_with_9650) == 2_500
    assert ledger.available(fund_with_9650) == 8_650 - 2_500
    assert ledger.state(grant_id).unpaid_yen == 2_500


def test_reduction_larger_than_the_unpaid_rest_is_rejected(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 1_000)
    ledger.refused(reduce_command(ledger, grant_id, 4_001), GrantLimitExceeded)
    ledger.run(reduce_command(ledger, grant_id, 4_000))
    assert ledger.committed(fund_with_9650) == 0


def test_reduction_dated_before_the_decision_is_rejected(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.refused(reduce_command(ledger, grant_id, 1, on=date(2026, 5, 31)), DateOutOfOrder)


def test_cancellation_returns_the_whole_unpaid_rest_to_available(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 1_200)
    ledger.run(reduce_command(ledger, grant_id, 300))

    outcome = ledger.run(cancel_command(ledger, grant_id))

    assert outcome.amounts_yen == {"amount_yen": 3_500}
    assert ledger.committed(fund_with_9650) == 0
    assert ledger.available(fund_with_9650) == 9_650 - 1_200
    assert ledger.state(grant_id).unpaid_yen == 0


def test_cancellation_with_nothing_unpaid_is_rejected(ledger: Ledger, fund_with_9650: UUID) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 5_000)
    ledger.refused(cancel_command(ledger, grant_id), GrantLimitExceeded)


def test_cancellation_after_reducing_to_nothing_is_rejected(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.run(reduce_command(ledger, grant_id, 5_000))
    ledger.refused(cancel_command(ledger, grant_id), GrantLimitExceeded)


def test_second_cancellation_is_rejected(ledger: Ledger, fund_with_9650: UUID) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.run(cancel_command(ledger, grant_id))
    ledger.refused(cancel_command(ledger, grant_id), GrantLimitExceeded)


def test_disbursement_of_a_cancelled_grant_is_rejected(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.run(cancel_command(ledger, grant_id))
    ledger.refused(disburse_command(ledger, grant_id, 1), GrantLimitExceeded)


def test_cancellation_dated_before_the_decision_is_rejected(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.refused(cancel_command(ledger, grant_id, on=date(2026, 5, 31)), DateOutOfOrder)


# Return by the grantee


def test_return_of_everything_paid_is_accepted_and_becomes_available(
    ledger: Ledger, fund_with_9650: UUID
) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 3_000)
    ledger.run(cancel_command(ledger, grant_id))

    outcome = ledger.run(return_command(ledger, grant_id, 3_000))

    assert outcome.amounts_yen == {"amount_yen": 3_000}
    assert (ledger.cash(fund_with_9650), ledger.available(fund_with_9650)) == (9_650, 9_650)


def test_return_of_more_than_was_paid_is_rejected(ledger: Ledger, fund_with_9650: UUID) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 3_000)
    ledger.refused(return_command(ledger, grant_id, 3_001), GrantLimitExceeded)


def test_return_counts_what_was_already_returned(ledger: Ledger, fund_with_9650: UUID) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 3_000)
    ledger.run(return_command(ledger, grant_id, 2_000))
    ledger.refused(return_command(ledger, grant_id, 1_001), GrantLimitExceeded)
    ledger.run(return_command(ledger, grant_id, 1_000))
    assert ledger.cash(fund_with_9650) == 9_650 - 3_000 + 3_000


def test_return_before_any_disbursement_is_rejected(ledger: Ledger, fund_with_9650: UUID) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.refused(return_command(ledger, grant_id, 1), GrantLimitExceeded)


def test_return_dated_before_the_decision_is_rejected(ledger: Ledger, fund_with_9650: UUID) -> None:
    grant_id = ledger.award(fund_with_9650, 5_000)
    ledger.disburse(grant_id, 3_000)
    ledger.refused(return_command(ledger, grant_id, 1, on=date(2026, 5, 31)), DateOutOfOrder)


def test_returned_designated_money_goes_back_to_its_own_pot(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(0, "kids")
    ledger.donate(fund_id, 1_000, designation="kids")
    grant_id = ledger.award(fund_id, 1_000, designation="kids")
    ledger.disburse(grant_id, 1_000)
    ledger.run(return_command(ledger, grant_id, 250))
    assert (ledger.available(fund_id, "kids"), ledger.available(fund_id, "general")) == (250, 0)
