"""Each ledger process trusts its own cache of funds and donors; another process's writes
must still never be overwritten or missed (unit_of_work.py explains why it is safe)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from ledger import commands as c
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from tests.integration.givens import donation, fund_and_donor

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


@pytest.fixture
def two_processes(database_url: str) -> Iterator[tuple[FundLedger, FundLedger]]:
    """Two ledgers on one database, each with its own pool and cache, like two workers."""
    first = FundLedger(env=eventsourcing_env(database_url), clock=lambda: NOW)
    second = FundLedger(env=eventsourcing_env(database_url), clock=lambda: NOW)
    yield first, second
    first.close()
    second.close()


def _fund_and_donor(ledger: FundLedger) -> tuple[UUID, UUID]:
    return fund_and_donor(ledger, fee_rate_bp=0)


def _donate(ledger: FundLedger, key: str, fund_id: UUID, donor_id: UUID, amount: int) -> UUID:
    return ledger.execute(donation(key, fund_id, donor_id, amount), actor="a").aggregate_id


def test_donation_after_another_process_corrected_the_donor_carries_the_new_name(
    two_processes: tuple[FundLedger, FundLedger],
) -> None:
    first, second = two_processes
    fund_id, donor_id = _fund_and_donor(first)
    _donate(first, "before", fund_id, donor_id, 1_000)  # the donor is now in first's cache

    second.execute(c.CorrectDonor(donor_id, {"name": "山田 太朗"}, "誤字"), actor="b")
    donation_id = _donate(first, "after", fund_id, donor_id, 1_000)

    assert first.get(donation_id).counterparty == "山田 太朗"


def test_donation_after_another_process_moved_the_funds_money_sees_the_new_balance(
    two_processes: tuple[FundLedger, FundLedger],
) -> None:
    first, second = two_processes
    fund_id, donor_id = _fund_and_donor(first)
    _donate(first, "first", fund_id, donor_id, 1_000)  # the fund is now in first's cache

    _donate(second, "second", fund_id, donor_id, 2_000)
    _donate(first, "third", fund_id, donor_id, 4_000)

    assert first.get(fund_id).cash_yen["general"] == 7_000
    assert second.get(fund_id).cash_yen["general"] == 7_000


def test_award_refused_on_stale_cache_is_not_refused_when_fresh_money_covers_it(
    two_processes: tuple[FundLedger, FundLedger],
) -> None:
    first, second = two_processes
    fund_id, donor_id = _fund_and_donor(first)
    _donate(first, "first", fund_id, donor_id, 1_000)

    _donate(second, "second", fund_id, donor_id, 2_000)
    award = c.AwardGrant("g", fund_id, "NPO", "代表", "清掃", 2_500, None, date(2026, 5, 1))
    outcome = first.execute(award, actor="a")

    assert outcome.position is not None
    assert first.get(fund_id).committed_yen["general"] == 2_500
