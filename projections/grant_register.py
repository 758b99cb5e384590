"""Read model: the grant register (助成台帳), one row per grant.

Inserted by the award; each disbursement, reduction, cancellation or return then moves the
grant's running totals with one UPDATE (never recomputed from the whole log):

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
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.domain import DomainEvent
from sqlalchemy.engine import Engine

from ledger.errors import InvalidInput
from ledger.grant import Grant
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


class GrantRegisterProjector:
    name = NAME
    tables: Sequence[sa.Table] = (grant_register_entries,)

    def apply(self, connection: sa.Connection, event: DomainEvent, position: int) -> None:
        if isinstance(event, Grant.Awarded):
            connection.execute(
                grant_register_entries.insert().values(**_awarded_row(event, position))
            )
        elif isinstance(event, Grant.Disbursed | Grant.Reduced | Grant.Cancelled | Grant.Returned):
            updated = connection.execute(
                grant_register_entries.update()
                .where(grant_register_entries.c.grant_id == event.originator_id)
                .values(_changes(event, position))
            )
            if updated.rowcount != 1:
                raise LookupError(f"no grant {event.originator_id} was awarded before")


def _awarded_row(event: Grant.Awarded, position: int) -> dict[str, object]:
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


def _changes(
    event: Grant.Disbursed | Grant.Reduced | Grant.Cancelled | Grant.Returned, position: int
) -> dict[sa.Column[object], object]:
    """The SET clause for one money event: totals moved by its amount, status from the result."""
    c = grant_register_entries.c
    amount_yen = event.amount_yen
    disbursed: sa.ColumnElement[int] = c.disbursed_yen
    unpaid: sa.ColumnElement[int] = c.unpaid_yen
    cancelled: sa.ColumnElement[bool] = c.cancelled
    changes: dict[sa.Column[object], object] = {c.last_changed_position: position}
    if isinstance(event, Grant.Disbursed):
        disbursed, unpaid = c.disbursed_yen + amount_yen, c.unpaid_yen - amount_yen
        changes[c.disbursed_yen] = disbursed
        latest = sa.or_(c.last_paid_on.is_(None), c.last_paid_on < event.effective_on)
        changes[c.last_paid_on] = sa.case((latest, event.effective_on), else_=c.last_paid_on)
    elif isinstance(event, Grant.Reduced | Grant.Cancelled):
        unpaid = c.unpaid_yen - amount_yen
        changes[c.reduced_yen] = c.reduced_yen + amount_yen
        if isinstance(event, Grant.Cancelled):
            cancelled = sa.true()
            changes[c.cancelled] = True
    else:
        changes[c.returned_yen] = c.returned_yen + amount_yen
    changes[c.unpaid_yen] = unpaid
    changes[c.status] = _status(cancelled, disbursed, unpaid)
    return changes


def _status(
    cancelled: sa.ColumnElement[bool],
    disbursed: sa.ColumnElement[int],
    unpaid: sa.ColumnElement[int],
) -> sa.ColumnElement[str]:
    """The status of the module docstring, from the row's values after the event."""
    return sa.case(
        (cancelled, CANCELLED),
        (sa.and_(unpaid == 0, disbursed == 0), CANCELLED),
        (unpaid == 0, PAID),
        (disbursed == 0, AWARDED),
        else_=PARTLY_PAID,
    )


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
