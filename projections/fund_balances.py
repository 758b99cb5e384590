"""Read model: fund balances, per pot (a designation, or `general`) and per fund.

Running totals, moved by each event (an UPDATE adding the event's amounts), never recomputed
from the whole log. Per pot and, with the same columns, per fund:

| column                      | moved by                                                     |
|-----------------------------|--------------------------------------------------------------|
| received_yen                | donations recorded (gross, before the host fee)              |
| voided_yen                  | donations voided (the whole amount)                          |
| refunded_yen                | refunds                                                      |
| host_fees_yen               | fee taken by donations − fee given back by refunds and voids |
| awarded_yen                 | grants awarded                                               |
| reduced_yen                 | grant reductions and cancellations (the unpaid rest)         |
| disbursed_yen               | disbursements                                                |
| returned_yen                | grantees' returns                                            |
| restriction_released_yen    | 振替 restricted → unrestricted, net of restorations          |
| donations_recorded/_voided  | donation events                                              |

The fee and the release are read from the event's journal entry (`ledger.journal`), not
re-derived: host fees are the net debit of `host_fee:P`; for a designated pot the release is
the net credit of `net_assets:unrestricted`, the only unrestricted postings of its entries.

Derived (BRIEF rule 4, voids counted as reversed receipts): cash = received − voided − refunded
− host fees − disbursed + returned; committed = awarded − reduced − disbursed; available =
cash − committed. Progress toward the target counts donations net of voids and refunds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.domain import DomainEvent
from sqlalchemy.engine import Engine

from ledger.fund import Fund
from ledger.journal import UNRESTRICTED, JournalEntry, Side, journal_entry
from ledger.values import GENERAL
from projections.tables import metadata

NAME = "fund_balances"
BASIS_POINTS = 10_000
TOTAL_COLUMNS = (
    "received_yen",
    "voided_yen",
    "refunded_yen",
    "host_fees_yen",
    "awarded_yen",
    "reduced_yen",
    "disbursed_yen",
    "returned_yen",
    "restriction_released_yen",
    "donations_recorded",
    "donations_voided",
)
# Which total each kind of journal entry moves by the event's amount.
_AMOUNT_COLUMN = {
    "donation": "received_yen",
    "void": "voided_yen",
    "refund": "refunded_yen",
    "grant_award": "awarded_yen",
    "grant_reduction": "reduced_yen",
    "grant_cancellation": "reduced_yen",
    "disbursement": "disbursed_yen",
    "grant_return": "returned_yen",
}
_COUNT_COLUMN = {"donation": "donations_recorded", "void": "donations_voided"}


def _total_columns() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger, nullable=False, default=0) for name in TOTAL_COLUMNS]


fund_balance_funds = sa.Table(
    "fund_balance_funds",
    metadata,
    sa.Column("fund_id", sa.Uuid, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("target_yen", sa.BigInteger, nullable=True),
    *_total_columns(),
)
fund_balance_pots = sa.Table(
    "fund_balance_pots",
    metadata,
    sa.Column("fund_id", sa.Uuid, primary_key=True),
    sa.Column("pot", sa.String, primary_key=True),
    sa.Column("name", sa.String, nullable=False),
    *_total_columns(),
)


@dataclass(frozen=True)
class Balances:
    """One pot's or one fund's totals, with the derived figures of BRIEF rule 4."""

    totals: dict[str, int]

    @property
    def cash_yen(self) -> int:
        t = self.totals
        return (
            t["received_yen"]
            - t["voided_yen"]
            - t["refunded_yen"]
            - t["host_fees_yen"]
            - t["disbursed_yen"]
            + t["returned_yen"]
        )

    @property
    def committed_yen(self) -> int:
        t = self.totals
        return t["awarded_yen"] - t["reduced_yen"] - t["disbursed_yen"]

    @property
    def available_yen(self) -> int:
        return self.cash_yen - self.committed_yen

    @property
    def donated_net_yen(self) -> int:
        t = self.totals
        return t["received_yen"] - t["voided_yen"] - t["refunded_yen"]

    @property
    def donation_count(self) -> int:
        return self.totals["donations_recorded"] - self.totals["donations_voided"]

    def to_json(self) -> dict[str, int]:
        derived = {
            "cash_yen": self.cash_yen,
            "committed_yen": self.committed_yen,
            "available_yen": self.available_yen,
            "donation_count": self.donation_count,
        }
        return {**self.totals, **derived}


@dataclass(frozen=True, kw_only=True)
class PotBalances(Balances):
    pot: str
    name: str


@dataclass(frozen=True, kw_only=True)
class FundBalances(Balances):
    fund_id: UUID
    name: str
    target_yen: int | None
    pots: tuple[PotBalances, ...]

    @property
    def progress_bp(self) -> int | None:
        """Net donations over the target in basis points (floored; no floats near money)."""
        if not self.target_yen:
            return None
        return self.donated_net_yen * BASIS_POINTS // self.target_yen


class FundBalancesProjector:
    name = NAME
    tables: Sequence[sa.Table] = (fund_balance_funds, fund_balance_pots)

    def apply(self, connection: sa.Connection, event: DomainEvent, position: int) -> None:
        if isinstance(event, Fund.Opened):
            zeros = dict.fromkeys(TOTAL_COLUMNS, 0)
            fund_id = event.originator_id
            connection.execute(
                fund_balance_funds.insert().values(
                    fund_id=fund_id, name=event.name, target_yen=event.target_yen, **zeros
                )
            )
            row = {"fund_id": fund_id, "pot": GENERAL, "name": GENERAL, **zeros}
            connection.execute(fund_balance_pots.insert().values(**row))
        elif isinstance(event, Fund.DesignationAdded):
            zeros = dict.fromkeys(TOTAL_COLUMNS, 0)
            row = {"fund_id": event.originator_id, "pot": event.designation, "name": event.name}
            connection.execute(fund_balance_pots.insert().values(**row, **zeros))
        else:
            entry = journal_entry(event)
            if entry is not None:
                self._apply_entry(connection, entry, getattr(event, "amount_yen"))  # noqa: B009

    def _apply_entry(self, connection: sa.Connection, entry: JournalEntry, amount_yen: int) -> None:
        changes = _changes(entry, amount_yen)
        pot = entry.designation or GENERAL
        pots = fund_balance_pots.c
        updated = connection.execute(
            fund_balance_pots.update()
            .where(pots.fund_id == entry.fund_id, pots.pot == pot)
            .values({pots[name]: pots[name] + change for name, change in changes.items()})
        )
        if updated.rowcount != 1:
            raise LookupError(f"no pot {pot!r} of fund {entry.fund_id} was opened before")
        funds = fund_balance_funds.c
        connection.execute(
            fund_balance_funds.update()
            .where(funds.fund_id == entry.fund_id)
            .values({funds[name]: funds[name] + change for name, change in changes.items()})
        )


def _changes(entry: JournalEntry, amount_yen: int) -> dict[str, int]:
    """What one journal entry adds to the totals of its pot."""
    pot = entry.designation or GENERAL
    changes = {_AMOUNT_COLUMN[entry.kind]: amount_yen}
    if entry.kind in _COUNT_COLUMN:
        changes[_COUNT_COLUMN[entry.kind]] = 1
    host_fee = _net_debit(entry, f"host_fee:{pot}")
    if host_fee:
        changes["host_fees_yen"] = host_fee
    if entry.designation is not None:
        released = -_net_debit(entry, UNRESTRICTED)
        if released:
            changes["restriction_released_yen"] = released
    return changes


def _net_debit(entry: JournalEntry, account: str) -> int:
    return sum(
        p.amount_yen if p.side is Side.DEBIT else -p.amount_yen
        for p in entry.postings
        if p.account == account
    )


def fund_balances(engine: Engine, fund_id: UUID | None = None) -> list[FundBalances]:
    """Every fund's balances with its pots (general first), ordered by name; or one fund's."""
    funds_query = sa.select(fund_balance_funds).order_by(
        fund_balance_funds.c.name, fund_balance_funds.c.fund_id
    )
    pots_query = sa.select(fund_balance_pots).order_by(
        fund_balance_pots.c.fund_id, fund_balance_pots.c.pot != GENERAL, fund_balance_pots.c.pot
    )
    if fund_id is not None:
        funds_query = funds_query.where(fund_balance_funds.c.fund_id == fund_id)
        pots_query = pots_query.where(fund_balance_pots.c.fund_id == fund_id)
    with engine.connect() as connection:
        pots: dict[UUID, list[PotBalances]] = {}
        for row in connection.execute(pots_query).mappings():
            pots.setdefault(row["fund_id"], []).append(
                PotBalances(_totals(row), pot=row["pot"], name=row["name"])
            )
        return [
            FundBalances(
                _totals(row),
                fund_id=row["fund_id"],
                name=row["name"],
                target_yen=row["target_yen"],
                pots=tuple(pots.get(row["fund_id"], [])),
            )
            for row in connection.execute(funds_query).mappings()
        ]


def _totals(row: sa.RowMapping | dict[str, Any]) -> dict[str, int]:
    return {name: int(row[name]) for name in TOTAL_COLUMNS}
