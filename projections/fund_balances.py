"""Read model: fund balances, per pot (a designation, or `general`) and per fund.

Running totals, moved by each page of events (one UPDATE per pot and per fund adding the
page's amounts, folded in memory), never recomputed from the whole log. Per pot and, with the
same columns, per fund:

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
from sqlalchemy.engine import Engine

from ledger.fund import Fund
from ledger.journal import UNRESTRICTED, JournalEntry, Side
from ledger.values import GENERAL
from projections import batch, bulk
from projections.batch import EventNotApplicable, PositionedEvent, chunks
from projections.database import read_rows
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
_FUND_KEY = ("fund_id",)
_POT_KEY = ("fund_id", "pot")


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

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        """Fold the page into new rows (funds and pots opened in it, with their totals) and
        one delta per existing pot and fund, then write them in four statements at most."""
        fold = _Fold()
        moves: list[tuple[int, JournalEntry, int]] = []
        for (event, position), entry in zip(events, batch.journal_entries(events), strict=True):
            if isinstance(event, Fund.Opened):
                fold.open_fund(event)
            elif isinstance(event, Fund.DesignationAdded):
                fold.open_pot(event.originator_id, event.designation, event.name, position)
            elif entry is not None:
                moves.append((position, entry, getattr(event, "amount_yen")))  # noqa: B009
        fold.existing_pots = _existing_pots(connection, {e.fund_id for _, e, _ in moves})
        for position, entry, amount_yen in moves:
            fold.move(
                position, entry.fund_id, entry.designation or GENERAL, _changes(entry, amount_yen)
            )
        fold.write(connection)


class _Fold:
    """A page of balance changes: rows to insert, and deltas to add to existing rows."""

    def __init__(self) -> None:
        self.new_funds: dict[UUID, dict[str, Any]] = {}
        self.new_pots: dict[tuple[UUID, str], dict[str, Any]] = {}
        self.opened_at: dict[tuple[UUID, str], int] = {}  # position of a new pot's opening
        self.existing_pots: set[tuple[UUID, str]] = set()
        self.fund_deltas: dict[UUID, dict[str, int]] = {}
        self.pot_deltas: dict[tuple[UUID, str], dict[str, int]] = {}

    def open_fund(self, event: Fund.Opened) -> None:
        fund_id = event.originator_id
        zeros = dict.fromkeys(TOTAL_COLUMNS, 0)
        row = {"fund_id": fund_id, "name": event.name, "target_yen": event.target_yen, **zeros}
        self.new_funds[fund_id] = row
        self.open_pot(fund_id, GENERAL, GENERAL, 0)

    def open_pot(self, fund_id: UUID, pot: str, name: str, position: int) -> None:
        zeros = dict.fromkeys(TOTAL_COLUMNS, 0)
        self.new_pots[(fund_id, pot)] = {"fund_id": fund_id, "pot": pot, "name": name, **zeros}
        self.opened_at[(fund_id, pot)] = position

    def move(self, position: int, fund_id: UUID, pot: str, changes: dict[str, int]) -> None:
        """Add one event's changes to its pot and fund; the pot must be opened before it."""
        key = (fund_id, pot)
        if key in self.new_pots and self.opened_at[key] < position:
            pot_totals = self.new_pots[key]
        elif key in self.existing_pots:
            pot_totals = self.pot_deltas.setdefault(key, dict.fromkeys(TOTAL_COLUMNS, 0))
        else:
            raise EventNotApplicable(
                position, f"no pot {pot!r} of fund {fund_id} was opened before"
            )
        fund_totals = self.new_funds.get(fund_id)
        if fund_totals is None:
            fund_totals = self.fund_deltas.setdefault(fund_id, dict.fromkeys(TOTAL_COLUMNS, 0))
        for name, change in changes.items():
            pot_totals[name] += change
            fund_totals[name] += change

    def write(self, connection: sa.Connection) -> None:
        bulk.insert(connection, fund_balance_funds, list(self.new_funds.values()))
        bulk.insert(connection, fund_balance_pots, list(self.new_pots.values()))
        pot_rows = [{"fund_id": f, "pot": p, **d} for (f, p), d in self.pot_deltas.items()]
        bulk.update(connection, fund_balance_pots, pot_rows, keys=_POT_KEY, added=TOTAL_COLUMNS)
        fund_rows = [{"fund_id": f, **d} for f, d in self.fund_deltas.items()]
        bulk.update(connection, fund_balance_funds, fund_rows, keys=_FUND_KEY, added=TOTAL_COLUMNS)


def _existing_pots(connection: sa.Connection, fund_ids: set[UUID]) -> set[tuple[UUID, str]]:
    pots = fund_balance_pots.c
    found: set[tuple[UUID, str]] = set()
    for some in chunks(sorted(fund_ids)):
        query = sa.select(pots.fund_id, pots.pot).where(pots.fund_id.in_(some))
        found.update((row.fund_id, row.pot) for row in connection.execute(query))
    return found


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
    """Every fund's balances with its pots (general first), ordered by name; or one fund's.

    One statement (funds and pots as one UNION ALL): the figures come from one snapshot,
    in one round trip."""
    if fund_id is None:
        rows = read_rows(engine, _ALL_FUNDS, {})
    else:
        rows = read_rows(engine, _ONE_FUND, {"fund_id": fund_id})
    found: dict[UUID, list[PotBalances]] = {}
    for row in rows:
        if row["row_kind"] == _POT_ROW:
            found.setdefault(row["fund_id"], []).append(
                PotBalances(_totals(row), pot=row["pot"], name=row["name"])
            )
    return [
        FundBalances(
            _totals(row),
            fund_id=row["fund_id"],
            name=row["name"],
            target_yen=row["target_yen"],
            pots=tuple(found.get(row["fund_id"], [])),
        )
        for row in rows
        if row["row_kind"] == _FUND_ROW
    ]


_FUND_ROW, _POT_ROW = 0, 1


def _balances_query(one_fund: bool) -> sa.CompoundSelect[Any]:
    """Funds by name (then id), before every pot; a fund's pots general first, then by pot."""
    funds, pots = fund_balance_funds.c, fund_balance_pots.c
    funds_query = sa.select(
        sa.literal_column(str(_FUND_ROW)).label("row_kind"),
        funds.name.label("fund_name"),
        funds.fund_id,
        sa.false().label("not_general"),
        sa.cast(sa.null(), sa.String).label("pot"),
        funds.name,
        funds.target_yen,
        *[funds[name] for name in TOTAL_COLUMNS],
    )
    pots_query = sa.select(
        sa.literal_column(str(_POT_ROW)),
        sa.cast(sa.null(), sa.String),
        pots.fund_id,
        pots.pot != GENERAL,
        pots.pot,
        pots.name,
        sa.cast(sa.null(), sa.BigInteger),
        *[pots[name] for name in TOTAL_COLUMNS],
    )
    if one_fund:
        funds_query = funds_query.where(funds.fund_id == sa.bindparam("fund_id"))
        pots_query = pots_query.where(pots.fund_id == sa.bindparam("fund_id"))
    both = sa.union_all(funds_query, pots_query)
    order = ("row_kind", "fund_name", "fund_id", "not_general", "pot")
    return both.order_by(*[both.selected_columns[name] for name in order])


_ALL_FUNDS = _balances_query(one_fund=False)
_ONE_FUND = _balances_query(one_fund=True)


def _totals(row: sa.RowMapping | dict[str, Any]) -> dict[str, int]:
    return {name: int(row[name]) for name in TOTAL_COLUMNS}
