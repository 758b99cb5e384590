"""BRIEF rule 8: a retried request (same idempotency key) records nothing twice and returns the
original result; the same key with different content is refused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import RFC_4122, UUID, uuid5

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import commands as c
from ledger.claim import _KEY_NAMESPACE, claim_id
from ledger.errors import (
    BatchRejected,
    IdempotencyKeyReused,
    InvalidInput,
    RefundExceedsDonation,
)
from tests.unit.conftest import Ledger

MAY_1 = date(2026, 5, 1)
JUNE_1 = date(2026, 6, 1)
JULY_1 = date(2026, 7, 1)


@dataclass(frozen=True)
class World:
    """Given: a fund at 3.5% that received 10,000 and 100,000 yen (cash 106,150), and a
    5,000 yen grant paid 1,000: cash 105,150, committed 4,000, available 101,150."""

    fund_id: UUID
    donor_id: UUID
    donation_id: UUID
    grant_id: UUID


@pytest.fixture
def world(ledger: Ledger) -> World:
    fund_id = ledger.open_fund(350, "kids")
    donor_id = ledger.register_donor()
    donation_id = ledger.donate(fund_id, 10_000, donor_id=donor_id)
    ledger.donate(fund_id, 100_000, donor_id=donor_id)
    grant_id = ledger.award(fund_id, 5_000)
    ledger.disburse(grant_id, 1_000)
    return World(fund_id, donor_id, donation_id, grant_id)


# Each kind of command, with a key, in two versions: `n` is the content that varies.
Build = Callable[[World, str, int], c.Command]
KINDS: dict[str, Build] = {
    "open_fund": lambda w, k, n: c.OpenFund(
        "保津川基金", "京都地域創造基金", 300 + n, idempotency_key=k
    ),
    "register_donor": lambda w, k, n: c.RegisterDonor(
        "individual", f"寄附者{n}", "キフシャ", "621-0806", "亀岡市", idempotency_key=k
    ),
    "record_donation": lambda w, k, n: c.RecordDonation(
        k, w.fund_id, w.donor_id, 1_000 + n, "cash", MAY_1
    ),
    "refund_donation": lambda w, k, n: c.RefundDonation(k, w.donation_id, 100 + n, "返金", JUNE_1),
    "void_donation": lambda w, k, n: c.VoidDonation(k, w.donation_id, f"誤記{n}", JUNE_1),
    "award_grant": lambda w, k, n: c.AwardGrant(
        k, w.fund_id, "NPO", "代表", "目的", 100 + n, None, JUNE_1
    ),
    "disburse_grant": lambda w, k, n: c.DisburseGrant(k, w.grant_id, 100 + n, JULY_1),
    "reduce_grant": lambda w, k, n: c.ReduceGrant(k, w.grant_id, 100 + n, "縮小", JULY_1),
    "cancel_grant": lambda w, k, n: c.CancelGrant(k, w.grant_id, f"中止{n}", JULY_1),
    "record_grant_return": lambda w, k, n: c.RecordGrantReturn(
        k, w.grant_id, 100 + n, "返還", JULY_1
    ),
    "change_fee_rate": lambda w, k, n: c.ChangeFeeRate(
        w.fund_id, 400 + n, date(2027, 4, 1), "改定", idempotency_key=k
    ),
    "add_designation": lambda w, k, n: c.AddDesignation(
        w.fund_id, "river", f"川{n}", idempotency_key=k
    ),
    "correct_donor": lambda w, k, n: c.CorrectDonor(
        w.donor_id, {"name": f"別名{n}"}, "訂正", idempotency_key=k
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_retry_with_the_same_key_and_content_replays_the_outcome_and_records_nothing(
    ledger: Ledger, world: World, kind: str
) -> None:
    command = KINDS[kind](world, "retry-me", 0)
    first = ledger.run(command)
    before = ledger.position()

    again = ledger.run(command)

    assert again.replayed
    assert not first.replayed
    assert (again.kind, again.aggregate_id, again.amounts_yen) == (
        first.kind,
        first.aggregate_id,
        first.amounts_yen,
    )
    assert again.position == first.position
    assert ledger.events_since(before) == []


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_keyed_command_reports_the_position_of_the_newest_event_it_wrote(
    ledger: Ledger, world: World, kind: str
) -> None:
    before = ledger.position()

    outcome = ledger.run(KINDS[kind](world, "where-am-i", 0))

    assert outcome.position is not None
    assert outcome.position == ledger.position() > before


@pytest.mark.parametrize("kind", list(KINDS))
def test_same_key_with_different_content_is_refused(
    ledger: Ledger, world: World, kind: str
) -> None:
    ledger.run(KINDS[kind](world, "used-once", 0))
    ledger.refused(KINDS[kind](world, "used-once", 1), IdempotencyKeyReused)


def cross_kind_pairs() -> list[tuple[str, str]]:
    """Each kind followed by a donation (an award after a donation), and the other way round."""
    pairs = [
        (kind, "award_grant" if kind == "record_donation" else "record_donation") for kind in KINDS
    ]
    pairs += [
        ("record_donation", kind)
        for kind in KINDS
        if kind not in ("record_donation", "award_grant")
    ]
    return pairs


@pytest.mark.parametrize(("first", "then"), cross_kind_pairs())
def test_key_reused_for_another_kind_of_command_is_refused(
    ledger: Ledger, world: World, first: str, then: str
) -> None:
    ledger.run(KINDS[first](world, "one-key", 0))
    ledger.refused(KINDS[then](world, "one-key", 0), IdempotencyKeyReused)


def test_retried_full_refund_replays_instead_of_failing(ledger: Ledger, world: World) -> None:
    command = c.RefundDonation("refund-all", world.donation_id, 10_000, "全額返金", JUNE_1)
    first = ledger.run(command)
    before = ledger.position()
    again = ledger.run(command)
    assert again.replayed
    assert again.amounts_yen == first.amounts_yen == {"amount_yen": 10_000, "fee_returned_yen": 350}
    assert ledger.events_since(before) == []


def test_retried_void_replays_instead_of_failing(ledger: Ledger, world: World) -> None:
    donation_id = ledger.donate(world.fund_id, 2_000)
    command = c.VoidDonation("void-it", donation_id, "二重計上", JUNE_1)
    first = ledger.run(command)
    before = ledger.position()
    again = ledger.run(command)
    assert again.replayed
    assert again.aggregate_id == first.aggregate_id == donation_id
    assert ledger.events_since(before) == []


def test_retried_award_of_all_available_money_replays_instead_of_overdrawing(
    ledger: Ledger, world: World
) -> None:
    command = c.AwardGrant("award-all", world.fund_id, "NPO", "代表", "目的", 101_150, None, JUNE_1)
    first = ledger.run(command)
    again = ledger.run(command)
    assert again.replayed
    assert again.aggregate_id == first.aggregate_id
    assert ledger.available(world.fund_id) == 0


def test_retried_cancellation_replays_instead_of_failing(ledger: Ledger, world: World) -> None:
    command = c.CancelGrant("cancel-it", world.grant_id, "中止", JULY_1)
    first = ledger.run(command)
    again = ledger.run(command)
    assert again.replayed
    assert again.amounts_yen == first.amounts_yen == {"amount_yen": 4_000}


def test_refused_command_does_not_use_up_its_key(ledger: Ledger, world: World) -> None:
    too_much = c.RefundDonation("refund-key", world.donation_id, 10_001, "返金", JUNE_1)
    ledger.refused(too_much, RefundExceedsDonation)
    outcome = ledger.run(c.RefundDonation("refund-key", world.donation_id, 10_000, "返金", JUNE_1))
    assert not outcome.replayed
    assert outcome.amounts_yen == {"amount_yen": 10_000, "fee_returned_yen": 350}


def test_same_content_under_a_new_key_is_a_new_request(ledger: Ledger, world: World) -> None:
    first = ledger.run(KINDS["record_donation"](world, "first", 0))
    second = ledger.run(KINDS["record_donation"](world, "second", 0))
    assert first.aggregate_id != second.aggregate_id
    assert ledger.cash(world.fund_id) == 105_150 + 2 * 965


def test_duplicate_key_inside_a_batch_replays_the_first_command(
    ledger: Ledger, world: World
) -> None:
    command = KINDS["record_donation"](world, "in-batch", 0)
    before = ledger.position()

    first, second = ledger.run_batch([command, command])

    assert (first.replayed, second.replayed) == (False, True)
    assert (second.kind, second.aggregate_id, second.amounts_yen) == (
        first.kind,
        first.aggregate_id,
        first.amounts_yen,
    )
    assert len([e for e in ledger.events_since(before) if type(e).__name__ == "Recorded"]) == 1
    assert ledger.cash(world.fund_id) == 105_150 + 965


def test_duplicate_key_with_different_content_inside_a_batch_rejects_the_batch(
    ledger: Ledger, world: World
) -> None:
    batch = [
        KINDS["refund_donation"](world, "in-batch", 0),
        KINDS["refund_donation"](world, "in-batch", 1),
    ]
    before = ledger.position()
    with pytest.raises(BatchRejected) as raised:
        ledger.run_batch(batch)
    assert raised.value.index == 1
    assert isinstance(raised.value.cause, IdempotencyKeyReused)
    assert ledger.events_since(before) == []


def test_key_reused_across_kinds_inside_a_batch_rejects_the_batch(
    ledger: Ledger, world: World
) -> None:
    batch = [
        KINDS["award_grant"](world, "in-batch", 0),
        KINDS["disburse_grant"](world, "in-batch", 0),
    ]
    before = ledger.position()
    with pytest.raises(BatchRejected) as raised:
        ledger.run_batch(batch)
    assert (raised.value.index, type(raised.value.cause)) == (1, IdempotencyKeyReused)
    assert ledger.events_since(before) == []


def test_retry_inside_a_later_batch_is_replayed_and_the_new_commands_recorded(
    ledger: Ledger, world: World
) -> None:
    refund = KINDS["refund_donation"](world, "earlier", 0)
    first = ledger.run(refund)
    new_donation = KINDS["record_donation"](world, "later", 0)

    replayed, recorded = ledger.run_batch([refund, new_donation])

    assert replayed.replayed
    assert replayed.amounts_yen == first.amounts_yen
    assert not recorded.replayed
    assert recorded.position is not None
    assert ledger.state(world.donation_id).refunded_yen == 100


def test_retried_batch_records_nothing_the_second_time(ledger: Ledger, world: World) -> None:
    batch = [KINDS["record_donation"](world, f"import-{n}", n) for n in range(3)]
    first = ledger.run_batch(batch)
    before = ledger.position()
    again = ledger.run_batch(batch)
    assert [o.replayed for o in again] == [True, True, True]
    assert [o.aggregate_id for o in again] == [o.aggregate_id for o in first]
    assert ledger.events_since(before) == []


@pytest.mark.parametrize("key", ["", " ", "a b", "鍵", "tab\tkey", "x" * 201, None, 1], ids=repr)
def test_invalid_idempotency_key_is_rejected(ledger: Ledger, world: World, key: object) -> None:
    command = c.RecordDonation(key, world.fund_id, world.donor_id, 1_000, "cash", MAY_1)
    ledger.refused(command, InvalidInput)


def test_idempotency_key_of_exactly_200_characters_is_accepted(
    ledger: Ledger, world: World
) -> None:
    command = c.RecordDonation("k" * 200, world.fund_id, world.donor_id, 1_000, "cash", MAY_1)
    assert not ledger.run(command).replayed
    assert ledger.run(command).replayed


def test_key_of_a_donation_reused_for_a_refund_of_that_donation_is_refused(
    ledger: Ledger, world: World
) -> None:
    donation_id = ledger.run(KINDS["record_donation"](world, "shared", 0)).aggregate_id
    ledger.refused(c.RefundDonation("shared", donation_id, 1, "返金", JUNE_1), IdempotencyKeyReused)


def test_key_of_a_grant_reused_for_a_disbursement_of_that_grant_is_refused(
    ledger: Ledger, world: World
) -> None:
    grant_id = ledger.run(KINDS["award_grant"](world, "shared", 0)).aggregate_id
    ledger.refused(c.DisburseGrant("shared", grant_id, 1, JULY_1), IdempotencyKeyReused)


@pytest.mark.parametrize("then", ["record_donation", "award_grant", "refund_donation"])
def test_key_of_a_fund_reused_for_money_in_or_out_of_that_fund_is_refused(
    ledger: Ledger, world: World, then: str
) -> None:
    fund_id = ledger.run(
        c.OpenFund("保津川基金", "京都地域創造基金", 0, idempotency_key="fund-key")
    ).aggregate_id
    donation_id = ledger.donate(fund_id, 10_000)
    in_that_fund = World(fund_id, world.donor_id, donation_id, world.grant_id)
    ledger.refused(KINDS[then](in_that_fund, "fund-key", 0), IdempotencyKeyReused)


def test_batch_with_a_retried_full_refund_replays_it_and_records_the_new_commands(
    ledger: Ledger, world: World
) -> None:
    full_refund = c.RefundDonation("refund-all", world.donation_id, 10_000, "全額返金", JUNE_1)
    ledger.run(full_refund)
    before = ledger.position()

    replayed, recorded = ledger.run_batch([full_refund, KINDS["record_donation"](world, "new", 0)])

    assert replayed.replayed
    assert not recorded.replayed
    assert [type(e).__name__ for e in ledger.events_since(before)].count("Recorded") == 1
    assert ledger.state(world.donation_id).refunded_yen == 10_000


def test_retried_award_after_a_reduction_replays_the_original_outcome(
    ledger: Ledger, world: World
) -> None:
    award = KINDS["award_grant"](world, "award", 900)  # 1,000 yen
    grant_id = ledger.run(award).aggregate_id
    ledger.run(c.ReduceGrant("reduce", grant_id, 400, "縮小", JULY_1))
    again = ledger.run(award)
    assert again.replayed
    assert again.amounts_yen == {"amount_yen": 1_000}
    assert ledger.state(grant_id).unpaid_yen == 600


@pytest.mark.parametrize("money", ["designated_donation", "refund", "award"])
def test_batch_retrying_money_commands_and_then_the_funds_opening_replays_them_all(
    ledger: Ledger, money: str
) -> None:
    # given a fund opened with a key, and a money command on it, both recorded
    open_fund = c.OpenFund("保津川基金", "京都地域創造基金", 0, idempotency_key="fund-key")
    fund_id = ledger.run(open_fund).aggregate_id
    ledger.run(c.AddDesignation(fund_id, "kids", "子ども", idempotency_key="designation-key"))
    donor_id = ledger.register_donor()
    donation = c.RecordDonation("donation-key", fund_id, donor_id, 1_000, "cash", MAY_1, "kids")
    donation_id = ledger.run(donation).aggregate_id
    commands: dict[str, c.Command] = {
        "designated_donation": donation,
        "refund": c.RefundDonation("refund-key", donation_id, 10, "返金", JUNE_1),
        "award": c.AwardGrant("award-key", fund_id, "NPO", "代表", "目的", 500, "kids", JUNE_1),
    }
    ledger.run(commands[money])
    before = ledger.position()

    # when the client retries both, the fund's opening last
    outcomes = ledger.run_batch([commands[money], open_fund])

    assert [o.replayed for o in outcomes] == [True, True]
    assert ledger.events_since(before) == []


@settings(max_examples=2_000)
@given(st.text())
def test_a_keys_claim_id_is_the_uuid5_of_the_key_in_the_claims_namespace(key: str) -> None:
    """Stored aggregates are keyed by these ids: a key used before must find its claim."""
    try:
        expected = uuid5(_KEY_NAMESPACE, key)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            claim_id.__wrapped__(key)
        return
    found = claim_id.__wrapped__(key)
    assert (found, found.version, found.variant) == (expected, 5, RFC_4122)


def test_claim_ids_of_keys_are_those_computed_before() -> None:
    """Ids computed by the earlier `uuid5` call, for an ASCII key and a Japanese one."""
    assert claim_id.__wrapped__("bench-donation-0") == UUID("528efd1a-6dee-59a4-8f43-2f1c82df5e56")
    assert claim_id.__wrapped__("寄付-2026-001") == UUID("89ea4368-87d5-5144-b272-78285af00e35")
