"""The grant register read model (issue 3), on SQLite and PostgreSQL.

- after a generated history, every row equals a computation here over the recorded Grant
  events and the Grant aggregates' own state;
- several small catch-ups give the same table as a rebuild;
- the status at its boundaries: exactly paid, cancelled after a partial payment, returned
  after full payment, reduced to nothing;
- paging in (decision date, grant id) order, filters, and the page-size bound;
- a disbursement of a grant the register never saw stops the projector.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger import commands as c
from ledger.errors import InvalidInput
from ledger.grant import Grant
from ledger.service import FundLedger
from projections import runner
from projections.grant_register import (
    PAGE_SIZE_MAX,
    GrantEntry,
    GrantRegisterProjector,
    grant_entry,
    grant_register,
    grant_register_entries,
)
from tests.integration.test_projections import (
    ACTOR,
    HISTORY_STEPS,
    all_events,
    new_history,
    read_side,
)

NAME = "grant_register"


@pytest.fixture
def ledger_and_engine(database_url: str) -> Iterator[tuple[FundLedger, Engine]]:
    with read_side(database_url) as (ledger, engine):
        runner.create_tables(engine, [GrantRegisterProjector()])
        yield ledger, engine


def catch_up(ledger: FundLedger, engine: Engine, batch_size: int = 1_000) -> int:
    return runner.catch_up(ledger, engine, [GrantRegisterProjector()], batch_size=batch_size)


def whole_register(
    engine: Engine, page_size: int = PAGE_SIZE_MAX, **filters: Any
) -> list[GrantEntry]:
    """Every row, page after page (bounded by the number of rows there can be)."""
    rows: list[GrantEntry] = []
    after: UUID | None = None
    for _ in range(10_000):
        page = grant_register(engine, page_size=page_size, after_grant_id=after, **filters)
        rows.extend(page)
        if len(page) < page_size:
            return rows
        after = page[-1].grant_id
    raise AssertionError("the register did not end")


def checksum(engine: Engine) -> str:
    table = grant_register_entries
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table).order_by(table.c.grant_id)).all()
    return hashlib.sha256(repr(rows).encode()).hexdigest()


# --- the reference model ------------------------------------------------------------------


@dataclass
class ExpectedGrant:
    """A grant's register row, folded here from its events' own fields."""

    grant_id: UUID
    fund_id: UUID
    grantee: str
    representative: str
    purpose: str
    designation: str | None
    awarded_yen: int
    decided_on: date
    position: int
    disbursed_yen: int = 0
    reduced_yen: int = 0
    returned_yen: int = 0
    cancelled: bool = False
    paid_on: list[date] = field(default_factory=list)

    @property
    def unpaid_yen(self) -> int:
        return self.awarded_yen - self.reduced_yen - self.disbursed_yen

    @property
    def status(self) -> str:
        if self.cancelled:
            return "cancelled"
        if self.disbursed_yen == 0:
            return "awarded" if self.unpaid_yen > 0 else "cancelled"
        return "partly_paid" if self.unpaid_yen > 0 else "paid"

    def as_entry(self) -> GrantEntry:
        return GrantEntry(
            grant_id=self.grant_id,
            fund_id=self.fund_id,
            grantee=self.grantee,
            representative=self.representative,
            purpose=self.purpose,
            designation=self.designation,
            awarded_yen=self.awarded_yen,
            disbursed_yen=self.disbursed_yen,
            reduced_yen=self.reduced_yen,
            returned_yen=self.returned_yen,
            unpaid_yen=self.unpaid_yen,
            cancelled=self.cancelled,
            status=self.status,
            decided_on=self.decided_on,
            last_paid_on=max(self.paid_on, default=None),
            last_changed_position=self.position,
        )


def expected_register(ledger: FundLedger) -> dict[UUID, GrantEntry]:
    grants: dict[UUID, ExpectedGrant] = {}
    for position, e in all_events(ledger):
        if isinstance(e, Grant.Awarded):
            grants[e.originator_id] = ExpectedGrant(
                e.originator_id, e.fund_id, e.grantee, e.representative, e.purpose,
                e.designation, e.amount_yen, e.effective_on, position,
            )  # fmt: skip
            continue
        if not isinstance(e, Grant.Disbursed | Grant.Reduced | Grant.Cancelled | Grant.Returned):
            continue
        grant = grants[e.originator_id]
        grant.position = position
        if isinstance(e, Grant.Disbursed):
            grant.disbursed_yen += e.amount_yen
            grant.paid_on.append(e.effective_on)
        elif isinstance(e, Grant.Returned):
            grant.returned_yen += e.amount_yen
        else:
            grant.reduced_yen += e.amount_yen
            grant.cancelled = grant.cancelled or isinstance(e, Grant.Cancelled)
    return {grant_id: grant.as_entry() for grant_id, grant in grants.items()}


# --- a small hand-made history for the boundaries -------------------------------------------


@dataclass
class Grants:
    ledger: FundLedger
    fund_id: UUID
    key_number: int = 0

    def key(self) -> str:
        self.key_number += 1
        return f"grants-{self.fund_id}-{self.key_number}"

    def award(self, amount_yen: int, day: date, grantee: str = "NPO 保津川") -> UUID:
        command = c.AwardGrant(self.key(), self.fund_id, grantee, "代表 太郎", "清掃活動",
                               amount_yen, None, day)  # fmt: skip
        return self.ledger.execute(command, actor=ACTOR).aggregate_id

    def disburse(self, grant_id: UUID, amount_yen: int, day: date) -> None:
        self.ledger.execute(c.DisburseGrant(self.key(), grant_id, amount_yen, day), actor=ACTOR)

    def reduce(self, grant_id: UUID, amount_yen: int, day: date) -> None:
        command = c.ReduceGrant(self.key(), grant_id, amount_yen, "縮小", day)
        self.ledger.execute(command, actor=ACTOR)

    def cancel(self, grant_id: UUID, day: date) -> None:
        self.ledger.execute(c.CancelGrant(self.key(), grant_id, "中止", day), actor=ACTOR)

    def record_return(self, grant_id: UUID, amount_yen: int, day: date) -> None:
        command = c.RecordGrantReturn(self.key(), grant_id, amount_yen, "未使用", day)
        self.ledger.execute(command, actor=ACTOR)


def funded(ledger: FundLedger, amount_yen: int = 1_000_000) -> Grants:
    fund = c.OpenFund("亀岡協働基金", "京都地域創造基金", 0)
    fund_id = ledger.execute(fund, actor=ACTOR).aggregate_id
    donor = c.RegisterDonor("individual", "寄附者", "キフシャ", "621-0806", "亀岡市")
    donor_id = ledger.execute(donor, actor=ACTOR).aggregate_id
    day = date(2026, 4, 1)
    donation = c.RecordDonation(f"gift-{fund_id}", fund_id, donor_id, amount_yen, "cash", day)
    ledger.execute(donation, actor=ACTOR)
    return Grants(ledger, fund_id)


def entry(engine: Engine, grant_id: UUID) -> GrantEntry:
    found = grant_entry(engine, grant_id)
    assert found is not None
    return found


# --- tests --------------------------------------------------------------------------------


def test_rows_equal_the_grant_events_and_the_grant_aggregates(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=3)
    for _ in range(HISTORY_STEPS):
        history.step()
    for kind in ("AwardGrant", "DisburseGrant", "ReduceGrant", "CancelGrant", "RecordGrantReturn"):
        assert history.accepted[kind] > 0, kind

    catch_up(ledger, engine, batch_size=97)

    expected = expected_register(ledger)
    found = whole_register(engine, page_size=9)
    assert {row.grant_id: row for row in found} == expected
    assert set(expected) == set(history.grants)
    assert [(row.decided_on, row.grant_id) for row in found] == sorted(
        (row.decided_on, row.grant_id) for row in found
    )
    for row in found:
        assert entry(engine, row.grant_id) == row
        grant = ledger.get(row.grant_id)
        assert isinstance(grant, Grant)
        assert (row.disbursed_yen, row.reduced_yen, row.returned_yen, row.unpaid_yen) == (
            grant.disbursed_yen,
            grant.reduced_yen,
            grant.returned_yen,
            grant.unpaid_yen,
        )
        assert (row.awarded_yen, row.cancelled, row.decided_on) == (
            grant.amount_yen,
            grant.cancelled,
            grant.effective_on,
        )
        assert (row.fund_id, row.designation, row.grantee) == (
            grant.fund_id,
            grant.designation,
            grant.grantee,
        )
    statuses = {row.status for row in found}
    assert statuses == {"awarded", "partly_paid", "paid", "cancelled"}, statuses
    assert any(row.has_returns for row in found)


def test_live_catch_ups_in_small_batches_equal_a_rebuild(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=11)
    applied_count = 0
    for _ in range(5):
        for _ in range(40):
            history.step()
        applied_count += catch_up(ledger, engine, batch_size=7)
    live = checksum(engine)

    rebuilt_count = runner.rebuild(ledger, engine, [GrantRegisterProjector()], batch_size=50)

    assert checksum(engine) == live
    assert rebuilt_count == applied_count == len(all_events(ledger))
    assert runner.tracked_positions(engine)[NAME] == ledger.recorder.max_notification_id()
    assert len(whole_register(engine)) == history.accepted["AwardGrant"]


def test_a_grant_paid_exactly_in_full_is_paid(ledger: FundLedger, engine: Engine) -> None:
    grants = funded(ledger)
    grant_id = grants.award(100_000, date(2026, 5, 1))
    catch_up(ledger, engine)
    assert entry(engine, grant_id).status == "awarded"
    assert entry(engine, grant_id).last_paid_on is None

    grants.disburse(grant_id, 99_999, date(2026, 6, 10))
    catch_up(ledger, engine)
    partly = entry(engine, grant_id)
    assert (partly.status, partly.unpaid_yen, partly.last_paid_on) == (
        "partly_paid",
        1,
        date(2026, 6, 10),
    )

    grants.disburse(grant_id, 1, date(2026, 6, 1))  # entered late: an earlier day
    catch_up(ledger, engine)
    paid = entry(engine, grant_id)
    assert (paid.status, paid.unpaid_yen, paid.disbursed_yen) == ("paid", 0, 100_000)
    assert paid.last_paid_on == date(2026, 6, 10), "the latest payment day, not the last entered"
    last_position = max(p for p, e in all_events(ledger) if isinstance(e, Grant.Disbursed))
    assert paid.last_changed_position == last_position
    assert not paid.cancelled
    assert not paid.has_returns


def test_a_grant_cancelled_after_a_partial_payment_is_cancelled(
    ledger: FundLedger, engine: Engine
) -> None:
    grants = funded(ledger)
    grant_id = grants.award(80_000, date(2026, 5, 1))
    grants.disburse(grant_id, 30_000, date(2026, 5, 20))
    grants.reduce(grant_id, 10_000, date(2026, 6, 1))
    catch_up(ledger, engine)
    assert entry(engine, grant_id).status == "partly_paid"

    grants.cancel(grant_id, date(2026, 7, 1))
    catch_up(ledger, engine)

    cancelled = entry(engine, grant_id)
    assert (cancelled.status, cancelled.cancelled) == ("cancelled", True)
    assert (cancelled.disbursed_yen, cancelled.reduced_yen, cancelled.unpaid_yen) == (
        30_000,
        50_000,
        0,
    )
    assert cancelled.last_paid_on == date(2026, 5, 20)


def test_a_return_after_full_payment_stays_paid_and_shows_the_return(
    ledger: FundLedger, engine: Engine
) -> None:
    grants = funded(ledger)
    grant_id = grants.award(50_000, date(2026, 5, 1))
    grants.disburse(grant_id, 50_000, date(2026, 5, 2))
    catch_up(ledger, engine)
    assert (entry(engine, grant_id).status, entry(engine, grant_id).has_returns) == ("paid", False)

    grants.record_return(grant_id, 50_000, date(2026, 9, 30))
    catch_up(ledger, engine)

    returned = entry(engine, grant_id)
    assert (returned.status, returned.has_returns, returned.returned_yen) == ("paid", True, 50_000)
    assert (returned.disbursed_yen, returned.unpaid_yen) == (50_000, 0)
    assert returned.last_paid_on == date(2026, 5, 2), "a return is not a payment"


def test_reductions_to_nothing_unpaid_give_paid_or_cancelled(
    ledger: FundLedger, engine: Engine
) -> None:
    grants = funded(ledger)
    never_paid = grants.award(20_000, date(2026, 5, 1))
    grants.reduce(never_paid, 20_000, date(2026, 5, 2))
    paid_in_part = grants.award(20_000, date(2026, 5, 1))
    grants.disburse(paid_in_part, 5_000, date(2026, 5, 2))
    grants.reduce(paid_in_part, 15_000, date(2026, 5, 3))

    catch_up(ledger, engine)

    assert (entry(engine, never_paid).status, entry(engine, never_paid).cancelled) == (
        "cancelled",
        False,
    )
    assert (entry(engine, paid_in_part).status, entry(engine, paid_in_part).unpaid_yen) == (
        "paid",
        0,
    )


def test_pages_follow_decision_date_then_grant_id_with_filters(
    ledger: FundLedger, engine: Engine
) -> None:
    grants = funded(ledger)
    days = [date(2026, 6, 1), date(2026, 5, 1), date(2026, 6, 1), date(2026, 4, 2)] * 3
    grant_ids = [grants.award(1_000, day, grantee=f"NPO {i}") for i, day in enumerate(days)]
    grants.disburse(grant_ids[0], 1_000, date(2026, 7, 1))
    grants.disburse(grant_ids[5], 500, date(2026, 7, 1))
    other = funded(ledger)
    other_grant_id = other.award(2_000, date(2026, 4, 1))
    catch_up(ledger, engine)

    everything = grant_register(engine, page_size=PAGE_SIZE_MAX)
    keys = [(row.decided_on, row.grant_id) for row in everything]
    assert keys == sorted(keys)
    assert len(everything) == len(grant_ids) + 1
    for page_size in (1, 2, 5, 13):
        assert whole_register(engine, page_size=page_size) == everything
    assert grant_register(engine, page_size=3, after_grant_id=everything[-1].grant_id) == []

    by_fund = whole_register(engine, page_size=4, fund_id=grants.fund_id)
    assert [row.grant_id for row in by_fund] == [
        row.grant_id for row in everything if row.grant_id != other_grant_id
    ]
    assert [row.grant_id for row in grant_register(engine, fund_id=other.fund_id)] == [
        other_grant_id
    ]
    assert [row.grant_id for row in grant_register(engine, status="paid")] == [grant_ids[0]]
    assert [row.grant_id for row in grant_register(engine, status="partly_paid")] == [grant_ids[5]]
    assert len(whole_register(engine, page_size=2, status="awarded")) == len(grant_ids) - 1
    assert grant_register(engine, status="cancelled", fund_id=grants.fund_id) == []


def test_page_size_and_filters_are_bounded(ledger: FundLedger, engine: Engine) -> None:
    grants = funded(ledger)
    grants.award(1_000, date(2026, 5, 1))
    catch_up(ledger, engine)

    assert len(grant_register(engine, page_size=PAGE_SIZE_MAX)) == 1
    assert len(grant_register(engine, page_size=1)) == 1
    for page_size in (0, -1, PAGE_SIZE_MAX + 1):
        with pytest.raises(InvalidInput, match="page_size"):
            grant_register(engine, page_size=page_size)
    with pytest.raises(InvalidInput, match="status"):
        grant_register(engine, status="pending")
    with pytest.raises(InvalidInput, match="after_grant_id"):
        grant_register(engine, after_grant_id=UUID(int=7))
    assert grant_entry(engine, UUID(int=7)) is None


def test_a_disbursement_of_an_unknown_grant_stops_the_projector(
    ledger: FundLedger, engine: Engine
) -> None:
    grants = funded(ledger)
    grant_id = grants.award(10_000, date(2026, 5, 1))
    catch_up(ledger, engine)
    with engine.begin() as connection:  # the register loses its row, behind its back
        connection.execute(grant_register_entries.delete())
    before = runner.tracked_positions(engine)[NAME]
    grants.disburse(grant_id, 1_000, date(2026, 5, 2))

    with pytest.raises(runner.ProjectionFailed, match="projector 'grant_register'") as raised:
        catch_up(ledger, engine)

    assert f"no grant {grant_id} was awarded before" in str(raised.value)
    assert runner.tracked_positions(engine)[NAME] == before
    assert grant_entry(engine, grant_id) is None
