"""Read model: the grant register (助成台帳), one row per grant.

Inserted by the award; each disbursement, reduction, cancellation or return then moves the
grant's running totals (never recomputed from the whole log). A page of events is folded in
memory: one INSERT of the grants it awards, one UPDATE per grant it changes (executemany):

| column                 | set or moved by                                                  |
|------------------------|------------------------------------------------------------------|
| awarded_yen            | the award                                                        |
| disbursed_yen          | disbursements (交付)                                              |
| reduced_yen            | reductions and the cancellation (the unpaid rest)                |
| returned_yen           | grantee's returns (返還)                                          |
| unpaid_yen             | awarded − reduced − disbursed                                    |
| cancelled              | the cancellation                                                 |
| status                 | see below, from the totals after the event                       |
| decided_on             | the award's effective date (the selection committee's decision)  |
| last_paid_on           | the latest effective date of a disbursement; None before any     |
| last_changed_position  | the log position of the last event that changed the row          |

Status: `cancelled` once the grant is cancelled, or when it was reduced to nothing before any
payment (nothing paid and nothing left to pay); otherwise `awarded` (nothing paid yet),
`partly_paid` (something paid, something unpaid) or `paid` (nothing unpaid). Whether anything
was returned is `returned_yen > 0` (`GrantEntry.has_returns`), beside the status.

A disbursement, reduction, cancellation or return of a grant the register has never seen
raises `LookupError`: the runner stops with `ProjectionFailed`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.errors import InvalidInput
from ledger.grant import Grant
from projections import bulk
from projections.batch import EventNotApplicable, PositionedEvent, chunks
from projections.tables import metadata

NAME = "grant_register"
PAGE_SIZE_MAX = 1_000
PAGE_SIZE_DEFAULT = 100
AWARDED = "awarded"
PARTLY_PAID = "partly_paid"
PAID = "paid"
CANCELLED = "cancelled"
STATUSES = (AWARDED, PARTLY_PAID, PAID, CANCELLED)

grant_register_entries = sa.Table(
    "grant_register_entries",
    metadata,
    sa.Column("grant_id", sa.Uuid, primary_key=True),
    sa.Column("fund_id", sa.Uuid, nullable=False),
    sa.Column("grantee", sa.String, nullable=False),
    sa.Column("representative", sa.String, nullable=False),
    sa.Column("purpose", sa.String, nullable=False),
    sa.Column("designation", sa.String, nullable=True),
    sa.Column("awarded_yen", sa.BigInteger, nullable=False),
    sa.Column("disbursed_yen", sa.BigInteger, nullable=False),
    sa.Column("reduced_yen", sa.BigInteger, nullable=False),
    sa.Column("returned_yen", sa.BigInteger, nullable=False),
    sa.Column("unpaid_yen", sa.BigInteger, nullable=False),
    sa.Column("cancelled", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("decided_on", sa.Date, nullable=False),
    sa.Column("last_paid_on", sa.Date, nullable=True),
    sa.Column("last_changed_position", sa.BigInteger, nullable=False),
    sa.Index("grant_register_by_date", "decided_on", "grant_id"),
    sa.Index("grant_register_by_fund_date", "fund_id", "decided_on", "grant_id"),
    sa.Index("grant_register_by_status_date", "status", "decided_on", "grant_id"),
)


@dataclass(frozen=True)
class GrantEntry:
    grant_id: UUID
    fund_id: UUID
    grantee: str
    representative: str
    purpose: str
    designation: str | None  # None: general (一般) money
    awarded_yen: int
    disbursed_yen: int
    reduced_yen: int
    returned_yen: int
    unpaid_yen: int
    cancelled: bool
    status: str
    decided_on: date
    last_paid_on: date | None
    last_changed_position: int

    @property
    def has_returns(self) -> bool:
        return self.returned_yen > 0


_MONEY_EVENTS = (Grant.Disbursed, Grant.Reduced, Grant.Cancelled, Grant.Returned)
_KEY = ("grant_id",)
_CHANGING_COLUMNS = (
    "disbursed_yen",
    "reduced_yen",
    "returned_yen",
    "unpaid_yen",
    "cancelled",
    "status",
    "last_paid_on",
    "last_changed_position",
)


class GrantRegisterProjector:
    name = NAME
    tables: Sequence[sa.Table] = (grant_register_entries,)

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        """Fold the page into whole rows, in log order: rows awarded in it are inserted as
        they end up; rows it changes are read once and written back once."""
        awarded: dict[UUID, dict[str, Any]] = {}
        changed = _rows(connection, _changed_grant_ids(events))
        for event, position in events:
            if isinstance(event, Grant.Awarded):
                awarded[event.originator_id] = _awarded_row(event, position)
            elif isinstance(event, _MONEY_EVENTS):
                row = awarded.get(event.originator_id) or changed.get(event.originator_id)
                if row is None:
                    raise EventNotApplicable(
                        position, f"no grant {event.originator_id} was awarded before"
                    )
                _apply_money_event(row, event, position)
        bulk.insert(connection, grant_register_entries, list(awarded.values()))
        # Every row read is changed by at least one event of the page.
        rows = list(changed.values())
        bulk.update(connection, grant_register_entries, rows, keys=_KEY, values=_CHANGING_COLUMNS)


def _changed_grant_ids(events: Sequence[PositionedEvent]) -> list[UUID]:
    awarded = {e.originator_id for e, _ in events if isinstance(e, Grant.Awarded)}
    changed = {e.originator_id for e, _ in events if isinstance(e, _MONEY_EVENTS)}
    return sorted(changed - awarded)


def _rows(connection: sa.Connection, grant_ids: Sequence[UUID]) -> dict[UUID, dict[str, Any]]:
    c = grant_register_entries.c
    found: dict[UUID, dict[str, Any]] = {}
    for some in chunks(grant_ids):
        query = sa.select(grant_register_entries).where(c.grant_id.in_(some))
        found.update((row["grant_id"], dict(row)) for row in connection.execute(query).mappings())
    return found


def _awarded_row(event: Grant.Awarded, position: int) -> dict[str, Any]:
    return {
        "grant_id": event.originator_id,
        "fund_id": event.fund_id,
        "grantee": event.grantee,
        "representative": event.representative,
        "purpose": event.purpose,
        "designation": event.designation,
        "awarded_yen": event.amount_yen,
        "disbursed_yen": 0,
        "reduced_yen": 0,
        "returned_yen": 0,
        "unpaid_yen": event.amount_yen,
        "cancelled": False,
        "status": AWARDED,
        "decided_on": event.effective_on,
        "last_paid_on": None,
        "last_changed_position": position,
    }


def _apply_money_event(
    row: dict[str, Any],
    event: Grant.Disbursed | Grant.Reduced | Grant.Cancelled | Grant.Returned,
    position: int,
) -> None:
    """Move the row's totals by one money event; the status follows from the result."""
    amount_yen = event.amount_yen
    if isinstance(event, Grant.Disbursed):
        row["disbursed_yen"] += amount_yen
        row["unpaid_yen"] -= amount_yen
        last_paid_on = row["last_paid_on"]
        if last_paid_on is None or last_paid_on < event.effective_on:
            row["last_paid_on"] = event.effective_on
    elif isinstance(event, Grant.Reduced | Grant.Cancelled):
        row["reduced_yen"] += amount_yen
        row["unpaid_yen"] -= amount_yen
        if isinstance(event, Grant.Cancelled):
            row["cancelled"] = True
    else:
        row["returned_yen"] += amount_yen
    row["status"] = _status(row["cancelled"], row["disbursed_yen"], row["unpaid_yen"])
    row["last_changed_position"] = position


def _status(cancelled: bool, disbursed_yen: int, unpaid_yen: int) -> str:
    """The status of the module docstring, from the row's values after the event."""
    if cancelled or (unpaid_yen == 0 and disbursed_yen == 0):
        return CANCELLED
    if unpaid_yen == 0:
        return PAID
    return AWARDED if disbursed_yen == 0 else PARTLY_PAID


def grant_register(
    engine: Engine,
    *,
    fund_id: UUID | None = None,
    status: str | None = None,
    page_size: int = PAGE_SIZE_DEFAULT,
    after_grant_id: UUID | None = None,
) -> list[GrantEntry]:
    """Grants of `fund_id` (all funds for None) in `status` (any for None), ordered by decision
    date then grant id, at most `page_size`: the next page starts after the last row's grant."""
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise InvalidInput("page_size", f"must be from 1 to {PAGE_SIZE_MAX}, got {page_size}")
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", f"must be one of {', '.join(STATUSES)}, got {status!r}")
    c = grant_register_entries.c
    conditions: list[sa.ColumnElement[bool]] = []
    if fund_id is not None:
        conditions.append(c.fund_id == fund_id)
    if status is not None:
        conditions.append(c.status == status)
    with engine.connect() as connection:
        if after_grant_id is not None:
            after_decided_on = connection.scalar(
                sa.select(c.decided_on).where(c.grant_id == after_grant_id)
            )
            if after_decided_on is None:
                raise InvalidInput("after_grant_id", f"no grant {after_grant_id} in the register")
            conditions.append(
                sa.or_(
                    c.decided_on > after_decided_on,
                    sa.and_(c.decided_on == after_decided_on, c.grant_id > after_grant_id),
                )
            )
        query = (
            sa.select(grant_register_entries)
            .where(*conditions)
            .order_by(c.decided_on, c.grant_id)
            .limit(page_size)
        )
        return [GrantEntry(**row) for row in connection.execute(query).mappings()]


def grant_entry(engine: Engine, grant_id: UUID) -> GrantEntry | None:
    """The register row of one grant; None when no such grant was awarded."""
    query = sa.select(grant_register_entries).where(grant_register_entries.c.grant_id == grant_id)
    with engine.connect() as connection:
        row = connection.execute(query).mappings().first()
    return None if row is None else GrantEntry(**row)
