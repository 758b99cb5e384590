"""The fund: its fee schedule, its designations, and the balances that must never go negative.

Money lives in *pots*: one per designation (指定正味財産) and the general pot (一般正味財産).
Each pot has `cash` and `committed` (grants awarded, not yet paid). BRIEF rule 4 holds per pot,
and so for the fund: `cash ≥ 0`, `committed ≥ 0`, `available = cash − committed ≥ 0`.

The fund's balances change only through `post_movements`, which every money command reaches
through the application service, so the rule is enforced where it cannot be bypassed. The
fund's version is the concurrency token: two writers acting on one fund conflict at save time
and one of them retries against the new balances.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.errors import BooksClosed, DuplicateDesignation, Overdraft, UnknownDesignation
from ledger.money import format_yen, host_fee_yen
from ledger.values import GENERAL

_SINCE_THE_BEGINNING = date.min.isoformat()


@dataclass(frozen=True)
class Movement:
    """A change to one pot of one fund, caused by one event of a donation or a grant."""

    designation: str | None
    cash_change_yen: int
    committed_change_yen: int
    source_id: UUID
    source_version: int
    effective_on: date  # of the event (not stored in the fund's event: it is the source's)

    @property
    def pot(self) -> str:
        return self.designation or GENERAL

    def to_json(self) -> dict[str, Any]:
        return {
            "designation": self.designation,
            "cash_change_yen": self.cash_change_yen,
            "committed_change_yen": self.committed_change_yen,
            "source_id": self.source_id.hex,
            "source_version": self.source_version,
        }


@dataclass
class PotBalances:
    """The fund's pots plus the movements applied so far, each checked as it is applied."""

    fund: Fund
    cash_yen: dict[str, int]
    committed_yen: dict[str, int]

    def apply(self, movement: Movement) -> None:
        """Apply `movement`, or raise (changing nothing) if it would break BRIEF rule 4."""
        self.fund.check_designation_exists(movement.designation)
        pot = movement.pot
        # A pot missing here belongs to a designation the fund gained after this copy was
        # taken (one unit of work adding it, then giving to it): it opened empty.
        cash_before = self.cash_yen.get(pot, 0)
        committed_before = self.committed_yen.get(pot, 0)
        cash = cash_before + movement.cash_change_yen
        committed = committed_before + movement.committed_change_yen
        if cash < 0 or committed < 0 or cash < committed:
            available = cash_before - committed_before
            raise Overdraft(
                f"not enough money in pot '{pot}' of fund '{self.fund.name}':"
                f" {format_yen(available)} available; this would leave"
                f" cash {format_yen(cash)} against {format_yen(committed)} committed"
            )
        self.cash_yen[pot] = cash
        self.committed_yen[pot] = committed


class Fund(LedgerAggregate):
    class Opened(LedgerAggregate.Created):
        name: str
        host: str
        fee_rate_bp: int
        target_yen: int | None
        actor: str
        request_fingerprint: str

    class FeeRateChanged(LedgerAggregate.Event):
        fee_rate_bp: int
        effective_from: date
        actor: str
        reason: str

    class BooksClosed(LedgerAggregate.Event):
        closed_through: date
        actor: str
        reason: str

    class DesignationAdded(LedgerAggregate.Event):
        designation: str
        name: str
        actor: str

    class MovementsPosted(LedgerAggregate.Event):
        """Mirrors money events of donations and grants onto the fund's balances.

        Carries no journal postings of its own: those come from the events it mirrors.
        """

        movements: list[dict[str, Any]]

    # The last day of the closed books; None while nothing is closed. A class default, not
    # set when the fund opens: snapshots taken before books could be closed lack it.
    closed_through: date | None = None

    @event(Opened)
    def __init__(
        self,
        id: UUID,
        name: str,
        host: str,
        fee_rate_bp: int,
        target_yen: int | None,
        actor: str,
        request_fingerprint: str,
    ) -> None:
        self.name = name
        self.host = host
        self.target_yen = target_yen
        self.request_fingerprint = request_fingerprint
        # ISO date → rate; ISO strings sort like dates, and stay plain JSON in snapshots.
        self.fee_rates_bp: dict[str, int] = {_SINCE_THE_BEGINNING: fee_rate_bp}
        self.designations: dict[str, str] = {}
        self.cash_yen: dict[str, int] = {GENERAL: 0}
        self.committed_yen: dict[str, int] = {GENERAL: 0}

    # Queries

    def fee_rate_bp_on(self, day: date) -> int:
        """The host-fee rate in force on `day`."""
        key = day.isoformat()
        return self.fee_rates_bp[max(k for k in self.fee_rates_bp if k <= key)]

    def host_fee_yen(self, amount: int, day: date) -> int:
        return host_fee_yen(amount, self.fee_rate_bp_on(day))

    def available_yen(self, designation: str | None) -> int:
        pot = designation or GENERAL
        return self.cash_yen[pot] - self.committed_yen[pot]

    def check_designation_exists(self, designation: str | None) -> None:
        if designation is not None and designation not in self.designations:
            raise UnknownDesignation(f"fund '{self.name}' has no designation '{designation}'")

    def check_books_open_on(self, day: date) -> None:
        """BRIEF rule 7: nothing may be dated in a period whose books are closed."""
        if self.closed_through is not None and day <= self.closed_through:
            raise BooksClosed(
                f"the books of fund '{self.name}' are closed through"
                f" {self.closed_through.isoformat()}: {day.isoformat()} is in a closed period;"
                " a late entry or correction is dated in the open period"
            )

    def check_movements(self, movements: Sequence[Movement]) -> None:
        """Raise `Overdraft` if applying `movements` in order would break BRIEF rule 4."""
        balances = self.balances()
        for movement in movements:
            balances.apply(movement)

    def balances(self) -> PotBalances:
        """A scratch copy of the pots, to check movements against before posting them."""
        return PotBalances(self, dict(self.cash_yen), dict(self.committed_yen))

    # Commands

    def change_fee_rate(
        self, fee_rate_bp: int, effective_from: date, actor: str, reason: str
    ) -> None:
        """A new rate from `effective_from` on. Not from a day in closed books: the rate in
        force there is part of what was closed (BRIEF rule 5 computes their fees from it)."""
        self.check_books_open_on(effective_from)
        self._fee_rate_changed(fee_rate_bp, effective_from, actor, reason)

    def close_books(self, through: date, actor: str, reason: str) -> None:
        """Close the books through `through`; closed books are never reopened."""
        if self.closed_through is not None and through < self.closed_through:
            raise BooksClosed(
                f"the books of fund '{self.name}' are closed through"
                f" {self.closed_through.isoformat()}: they cannot be reopened back to"
                f" {through.isoformat()}"
            )
        self._books_closed(through, actor, reason)

    def add_designation(self, designation: str, name: str, actor: str) -> None:
        if designation in self.designations:
            raise DuplicateDesignation(
                f"fund '{self.name}' already has designation '{designation}'"
            )
        self._designation_added(designation, name, actor)

    def post_movements(self, movements: Sequence[Movement]) -> None:
        self.check_movements(movements)
        if movements:
            self._movements_posted([m.to_json() for m in movements])

    # Events

    @event(FeeRateChanged)
    def _fee_rate_changed(
        self, fee_rate_bp: int, effective_from: date, actor: str, reason: str
    ) -> None:
        self.fee_rates_bp[effective_from.isoformat()] = fee_rate_bp

    @event(BooksClosed)
    def _books_closed(self, closed_through: date, actor: str, reason: str) -> None:
        self.closed_through = closed_through

    @event(DesignationAdded)
    def _designation_added(self, designation: str, name: str, actor: str) -> None:
        self.designations[designation] = name
        self.cash_yen[designation] = 0
        self.committed_yen[designation] = 0

    @event(MovementsPosted)
    def _movements_posted(self, movements: list[dict[str, Any]]) -> None:
        for movement in movements:
            pot = movement["designation"] or GENERAL
            self.cash_yen[pot] += movement["cash_change_yen"]
            self.committed_yen[pot] += movement["committed_change_yen"]
