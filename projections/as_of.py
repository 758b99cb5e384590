"""Balances at a past point, replayed into a scratch database: the live read models are never
touched.

Two kinds of past (issue 3):
- `as_of` a date: what the fund held by the effective dates (取引年月日) of its transactions,
  whenever they were recorded; a correction entered later but dated earlier counts.
- `position` in the log: what the ledger knew at that moment, whatever the dates.

Events that configure a fund (opening, designations) always count: a pot exists before the
money in it. Money events carry their effective date; a refund or disbursement is never dated
before the donation or award it refers to, so filtering by date keeps every entry whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.domain import DomainEvent
from sqlalchemy.pool import StaticPool

from ledger.errors import InvalidInput
from ledger.service import FundLedger
from projections import runner
from projections.batch import PositionedEvent
from projections.fund_balances import FundBalances, FundBalancesProjector, fund_balances

_PAGE_SIZE = 1_000


def balances_at(
    ledger: FundLedger,
    *,
    as_of: date | None = None,
    position: int | None = None,
    fund_id: UUID | None = None,
) -> list[FundBalances]:
    """Fund balances by effective date `as_of`, or as known at log `position` (one of them)."""
    if (as_of is None) == (position is None):
        raise InvalidInput("as_of", "give either a date or a log position, not both")
    if position is not None and position < 0:
        raise InvalidInput("position", f"must be 0 or more, got {position}")
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    try:
        projector = FundBalancesProjector()
        runner.create_tables(engine, [projector])
        with engine.begin() as connection:
            for page in _pages(ledger, stop=position):
                kept = [(e, at) for e, at in page if as_of is None or _dated_on_or_before(e, as_of)]
                if kept:
                    projector.apply_batch(connection, kept)
        return fund_balances(engine, fund_id)
    finally:
        engine.dispose()


def _pages(ledger: FundLedger, *, stop: int | None) -> Iterator[list[PositionedEvent]]:
    after = 0
    while True:
        page = ledger.recorder.select_notifications(
            after, _PAGE_SIZE, stop=stop, inclusive_of_start=False
        )
        yield [(ledger.mapper.to_domain_event(n), n.id) for n in page]  # type: ignore[misc]
        if len(page) < _PAGE_SIZE:
            return
        after = page[-1].id


def _dated_on_or_before(event: DomainEvent, as_of: date) -> bool:
    effective_on = getattr(event, "effective_on", None)
    return effective_on is None or effective_on <= as_of
