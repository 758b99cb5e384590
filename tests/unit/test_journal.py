"""BRIEF rule 3 (every money event balances) and the journal's agreement with rule 4's balances."""

from __future__ import annotations

import contextlib
from collections import Counter
from datetime import date
from typing import Any
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import commands as c
from ledger.donation import Donation
from ledger.errors import LedgerError
from ledger.grant import Grant
from ledger.journal import JournalEntry, Side, journal_entry
from tests.unit.conftest import Ledger, new_ledger

MONEY_EVENTS = (
    Donation.Recorded,
    Donation.Refunded,
    Donation.Voided,
    Grant.Awarded,
    Grant.Disbursed,
    Grant.Reduced,
    Grant.Cancelled,
    Grant.Returned,
)
JULY_1 = date(2026, 7, 1)


def balances(entries: list[JournalEntry]) -> Counter[str]:
    """Debits minus credits, per account."""
    total: Counter[str] = Counter()
    for entry in entries:
        for posting in entry.postings:
            total[posting.account] += (
                posting.amount_yen if posting.side is Side.DEBIT else -posting.amount_yen
            )
    return total


def postings(entry: JournalEntry | None) -> list[tuple[str, str, int]]:
    assert entry is not None
    return [(p.side.value, p.account, p.amount_yen) for p in entry.postings]


def new_events(ledger: Ledger, before: int, kind: type) -> list[Any]:
    return [e for e in ledger.events_since(before) if isinstance(e, kind)]


def every_kind_of_money_event(ledger: Ledger) -> UUID:
    fund_id = ledger.open_fund(350, "kids")
    for designation in (None, "kids"):
        refunded = ledger.donate(fund_id, 10_000, designation=designation)
        ledger.refund(refunded, 3_333)
        ledger.void(ledger.donate(fund_id, 33, designation=designation))
        grant_id = ledger.award(fund_id, 5_000, designation=designation)
        ledger.disburse(grant_id, 2_000)
        ledger.run(c.ReduceGrant(ledger.key(), grant_id, 500, "縮小", JULY_1))
        ledger.run(c.RecordGrantReturn(ledger.key(), grant_id, 300, "返還", JULY_1))
        ledger.run(c.CancelGrant(ledger.key(), grant_id, "中止", JULY_1))
    return fund_id


def test_every_money_event_maps_to_a_balanced_entry_and_nothing_else_does(ledger: Ledger) -> None:
    every_kind_of_money_event(ledger)
    events = ledger.events_since(0)

    money = [e for e in events if isinstance(e, MONEY_EVENTS)]
    assert {type(e) for e in money} == set(MONEY_EVENTS)
    for event in events:
        entry = journal_entry(event)
        if not isinstance(event, MONEY_EVENTS):
            assert entry is None, type(event)
            continue
        assert entry is not None, type(event)
        debits = sum(p.amount_yen for p in entry.postings if p.side is Side.DEBIT)
        credits = sum(p.amount_yen for p in entry.postings if p.side is Side.CREDIT)
        assert debits == credits > 0
        assert all(p.amount_yen > 0 for p in entry.postings)
        assert (entry.fund_id, entry.effective_on, entry.source_id) == (
            event.fund_id,
            event.effective_on,
            event.originator_id,
        )


def test_donation_entry_credits_net_assets_and_takes_the_fee_from_cash(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350, "kids")
    before = ledger.position()
    ledger.donate(fund_id, 10_000, designation="kids")
    [recorded] = new_events(ledger, before, Donation.Recorded)
    assert postings(journal_entry(recorded)) == [
        ("debit", "cash:kids", 10_000),
        ("credit", "net_assets:restricted:kids", 10_000),
        ("debit", "host_fee:kids", 350),
        ("credit", "cash:kids", 350),
        ("debit", "net_assets:restricted:kids", 350),
        ("credit", "net_assets:unrestricted", 350),
    ]


def test_donation_without_a_fee_has_no_zero_postings(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    before = ledger.position()
    ledger.donate(fund_id, 28)  # floor(28 × 0.035) = 0
    [recorded] = new_events(ledger, before, Donation.Recorded)
    assert postings(journal_entry(recorded)) == [
        ("debit", "cash:general", 28),
        ("credit", "net_assets:unrestricted", 28),
    ]


def test_refund_entry_reverses_its_amount_and_gives_back_the_fee_share(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(350)
    donation_id = ledger.donate(fund_id, 10_000, donor_id=ledger.register_donor("亀岡 太郎"))
    before = ledger.position()
    ledger.refund(donation_id, 3_333)  # floor(350 × 3333 / 10000) = 116
    [refunded] = new_events(ledger, before, Donation.Refunded)
    entry = journal_entry(refunded)
    assert postings(entry) == [
        ("debit", "net_assets:unrestricted", 3_333),
        ("credit", "cash:general", 3_333),
        ("debit", "cash:general", 116),
        ("credit", "host_fee:general", 116),
    ]
    assert entry is not None
    assert (entry.kind, entry.counterparty, entry.corrects_version) == ("refund", "亀岡 太郎", 1)
    assert (entry.actor, entry.reason) == ("staff:tanaka", "返金")


def test_disbursement_of_designated_money_releases_the_restriction(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(0, "kids")
    ledger.donate(fund_id, 1_000, designation="kids")
    grant_id = ledger.award(fund_id, 1_000, designation="kids")
    before = ledger.position()
    ledger.disburse(grant_id, 600)
    [disbursed] = new_events(ledger, before, Grant.Disbursed)
    entry = journal_entry(disbursed)
    assert postings(entry) == [
        ("debit", "grants_payable:kids", 600),
        ("credit", "cash:kids", 600),
        ("debit", "net_assets:restricted:kids", 600),
        ("credit", "net_assets:unrestricted", 600),
    ]
    assert entry is not None
    assert entry.corrects_version is None  # a payment, not a correction of the award


def test_disbursement_of_general_money_has_no_restriction_to_release(ledger: Ledger) -> None:
    fund_id = ledger.open_fund(0)
    ledger.donate(fund_id, 1_000)
    grant_id = ledger.award(fund_id, 1_000)
    before = ledger.position()
    ledger.disburse(grant_id, 600)
    [disbursed] = new_events(ledger, before, Grant.Disbursed)
    assert postings(journal_entry(disbursed)) == [
        ("debit", "grants_payable:general", 600),
        ("credit", "cash:general", 600),
    ]


def test_journal_of_a_full_history_agrees_with_every_pots_balances(ledger: Ledger) -> None:
    fund_id = every_kind_of_money_event(ledger)
    total = balances(ledger.journal())
    for pot in ("general", "kids"):
        assert total[f"cash:{pot}"] == ledger.cash(fund_id, pot)
        assert -total[f"grants_payable:{pot}"] == ledger.committed(fund_id, pot)
    assert -total["net_assets:restricted:kids"] == ledger.cash(fund_id, "kids")
    assert sum(total.values()) == 0


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            ["donate", "refund", "void", "award", "disburse", "reduce", "cancel", "return"]
        ),
        st.sampled_from([None, "kids"]),
        st.integers(0, 10),  # which earlier donation or grant
        st.integers(1, 12_000),  # amount, or tenths of what is left
    ),
    max_size=30,
)


def apply(
    ledger: Ledger,
    fund_id: UUID,
    operation: tuple[str, str | None, int, int],
    made: dict[str, list[UUID]],
) -> None:
    name, designation, which, size = operation
    donations, grants = made["donations"], made["grants"]
    amount = max(1, size % 11 * ledger.available(fund_id, designation or "general") // 10)
    day = JULY_1
    if name == "donate":
        donations.append(ledger.donate(fund_id, size, designation=designation))
    elif name == "award":
        grants.append(ledger.award(fund_id, amount, designation=designation))
    elif name in ("refund", "void") and donations:
        donation_id = donations[which % len(donations)]
        rest = ledger.state(donation_id).refundable_yen
        if name == "void":
            ledger.void(donation_id, on=day)
        else:
            ledger.refund(donation_id, max(1, rest * (size % 11) // 10), on=day)
    elif grants:
        grant_id = grants[which % len(grants)]
        grant = ledger.state(grant_id)
        unpaid, paid = grant.unpaid_yen, grant.returnable_yen
        commands = {
            "disburse": c.DisburseGrant(
                ledger.key(), grant_id, max(1, unpaid * (size % 11) // 10), day
            ),
            "reduce": c.ReduceGrant(
                ledger.key(), grant_id, max(1, unpaid * (size % 11) // 10), "縮小", day
            ),
            "cancel": c.CancelGrant(ledger.key(), grant_id, "中止", day),
            "return": c.RecordGrantReturn(
                ledger.key(), grant_id, max(1, paid * (size % 11) // 10), "返還", day
            ),
        }
        ledger.run(commands[name])


@settings(max_examples=60, deadline=None)
@given(rate=st.sampled_from([0, 1, 333, 350, 5000]), operations=OPERATIONS)
def test_journal_cash_and_grants_payable_per_pot_equal_the_funds_balances_after_any_history(
    rate: int, operations: list[tuple[str, str | None, int, int]]
) -> None:
    ledger = Ledger(new_ledger())
    fund_id = ledger.open_fund(rate, "kids")
    made: dict[str, list[UUID]] = {"donations": [], "grants": []}
    for operation in operations:
        # refusals are the other tests' business; here they must only leave the journal alone
        with contextlib.suppress(LedgerError):
            apply(ledger, fund_id, operation, made)

        total = balances(ledger.journal())
        for pot in ("general", "kids"):
            cash, committed = ledger.cash(fund_id, pot), ledger.committed(fund_id, pot)
            assert total[f"cash:{pot}"] == cash
            assert -total[f"grants_payable:{pot}"] == committed
            assert min(cash, committed, cash - committed) >= 0
        assert sum(total.values()) == 0
