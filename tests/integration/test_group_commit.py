"""`FundLedger.execute_each`: the commands of independent callers in one atomic write (the
HTTP API's group commit), on SQLite and PostgreSQL. Each caller gets its own outcome; a
refused command refuses only itself and records nothing; idempotency keys hold within a
group and across writes; the group's events carry the request id it was given."""

from __future__ import annotations

from uuid import UUID

import pytest

from ledger import commands as c
from ledger.donation import Donation
from ledger.errors import IdempotencyKeyReused, InvalidInput, RefundExceedsDonation
from ledger.fund import Fund
from ledger.service import FundLedger
from tests.integration.givens import donation, fund_and_donor


def refund(key: str, donation_id: UUID, amount_yen: int) -> c.RefundDonation:
    return c.RefundDonation(key, donation_id, amount_yen, "寄附者の申し出")


def head(ledger: FundLedger) -> int:
    return ledger.recorder.max_notification_id() or 0


def test_each_request_of_a_group_gets_its_own_outcome_in_one_write(ledger: FundLedger) -> None:
    fund_id, donor_id = fund_and_donor(ledger)
    before = head(ledger)

    results = ledger.execute_each(
        [
            (donation(f"gift-{n}", fund_id, donor_id, 1_000 * (n + 1)), f"事務局 {n}")
            for n in range(5)
        ],
        request_id="group-1",
    )

    assert [type(r) for r in results] == [c.Outcome] * 5
    outcomes = [r for r in results if isinstance(r, c.Outcome)]
    assert [o.amounts_yen["amount_yen"] for o in outcomes] == [1_000, 2_000, 3_000, 4_000, 5_000]
    assert len({o.aggregate_id for o in outcomes}) == 5
    assert not any(o.replayed for o in outcomes)
    actors = [next(iter(ledger.events.get(o.aggregate_id))).actor for o in outcomes]  # type: ignore[attr-defined]
    assert actors == [f"事務局 {n}" for n in range(5)]
    positions = [o.position or 0 for o in outcomes]
    assert positions == sorted(positions)
    assert positions[-1] == head(ledger)
    stored = ledger.recorder.select_request_ids(before, head(ledger))  # type: ignore[attr-defined]
    assert set(stored.values()) == {"group-1"}
    assert len(stored) == head(ledger) - before  # every event of the write, one write
    fund = ledger.get(fund_id)
    assert isinstance(fund, Fund)
    fees_yen = sum(o.amounts_yen["fee_yen"] for o in outcomes)
    assert fund.balances().cash_yen["general"] == 15_000 - fees_yen


def test_a_refused_command_refuses_only_itself_and_records_nothing(ledger: FundLedger) -> None:
    fund_id, donor_id = fund_and_donor(ledger)
    given = ledger.execute(donation("given", fund_id, donor_id, 10_000), actor="t")

    results = ledger.execute_each(
        [
            (donation("before", fund_id, donor_id, 5_000), "t"),
            (refund("too-much", given.aggregate_id, 10_001), "t"),
            (refund("part", given.aggregate_id, 4_000), "t"),
            (refund("now-too-much", given.aggregate_id, 6_001), "t"),
            (donation("after", fund_id, donor_id, 7_000), "t"),
        ]
    )

    refused = [type(r) for r in results if not isinstance(r, c.Outcome)]
    assert refused == [RefundExceedsDonation, RefundExceedsDonation]
    assert isinstance(results[1], RefundExceedsDonation)
    assert isinstance(results[3], RefundExceedsDonation)
    assert isinstance(results[0], c.Outcome)
    assert isinstance(results[4], c.Outcome)
    gift = ledger.get(given.aggregate_id)
    assert isinstance(gift, Donation)
    assert gift.refunded_yen == 4_000
    refunds = [e for e in ledger.events.get(given.aggregate_id) if isinstance(e, Donation.Refunded)]
    assert [e.amount_yen for e in refunds] == [4_000]


def test_an_actor_that_is_not_valid_refuses_only_its_request(ledger: FundLedger) -> None:
    fund_id, donor_id = fund_and_donor(ledger)

    results = ledger.execute_each(
        [
            (donation("a", fund_id, donor_id, 1_000), ""),
            (donation("b", fund_id, donor_id, 2_000), "t"),
        ]
    )

    assert isinstance(results[0], InvalidInput)
    assert isinstance(results[1], c.Outcome)


def test_one_key_twice_in_a_group_records_once_and_replays_the_second(ledger: FundLedger) -> None:
    fund_id, donor_id = fund_and_donor(ledger)
    gift = donation("same", fund_id, donor_id, 3_000)

    first, second, other_body = ledger.execute_each(
        [(gift, "t"), (gift, "t"), (donation("same", fund_id, donor_id, 3_001), "t")]
    )

    assert isinstance(first, c.Outcome)
    assert isinstance(second, c.Outcome)
    assert not first.replayed
    assert second.replayed
    assert (second.aggregate_id, second.position) == (first.aggregate_id, first.position)
    assert isinstance(other_body, IdempotencyKeyReused)


def test_a_key_recorded_by_an_earlier_write_replays_its_first_outcome(ledger: FundLedger) -> None:
    fund_id, donor_id = fund_and_donor(ledger)
    gift = donation("earlier", fund_id, donor_id, 3_000)
    earlier = ledger.execute(gift, actor="t")
    given = ledger.execute(donation("full", fund_id, donor_id, 2_000), actor="t")
    full_refund = refund("full-refund", given.aggregate_id, 2_000)
    refunded = ledger.execute(full_refund, actor="t")

    again, refund_again, fresh = ledger.execute_each(
        [(gift, "t"), (full_refund, "t"), (donation("fresh", fund_id, donor_id, 1_000), "t")]
    )

    assert isinstance(again, c.Outcome)
    assert isinstance(refund_again, c.Outcome)
    assert again.replayed
    assert (again.aggregate_id, again.position) == (
        earlier.aggregate_id,
        earlier.position,
    )
    assert refund_again.replayed
    assert refund_again.position == refunded.position
    assert isinstance(fresh, c.Outcome)
    assert not fresh.replayed


@pytest.mark.parametrize("count", [0, 1])
def test_a_group_of_none_or_one_is_a_plain_write(ledger: FundLedger, count: int) -> None:
    fund_id, donor_id = fund_and_donor(ledger)

    results = ledger.execute_each([(donation("k", fund_id, donor_id, 1_000), "t")][:count])

    assert len(results) == count
    assert all(isinstance(r, c.Outcome) for r in results)
