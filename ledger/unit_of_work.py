"""One atomic write: the aggregates that a command (or a batch of commands) touched, saved together.

Aggregates are loaded once per unit of work, so a batch of donations to one fund sees each
other's effect. Movements on a fund's balances are staged (checked against the balances plus
everything staged before) and posted as one fund event per fund when the unit commits, so a
batch of N donations costs N + 1 events, and commands from concurrent callers could later be
committed together (group commit) without any change to the domain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from ledger.errors import NotFound
from ledger.fund import Fund, Movement

if TYPE_CHECKING:
    from eventsourcing.application import Application

A = TypeVar("A", bound=Aggregate)

_NAMES = {"Fund": "fund", "Donor": "donor", "Donation": "donation", "Grant": "grant"}


class UnitOfWork:
    def __init__(self, app: Application[UUID]) -> None:
        self._app = app
        self._aggregates: dict[UUID, Aggregate] = {}
        self._movements: dict[UUID, list[Movement]] = {}

    def get(self, cls: type[A], aggregate_id: UUID) -> A:
        """Load an aggregate once per unit of work; `NotFound` if the id names no such thing."""
        found = self._aggregates.get(aggregate_id)
        if found is None:
            found = self.find(aggregate_id)
        if not isinstance(found, cls):
            raise NotFound(f"no {_NAMES.get(cls.__name__, cls.__name__)} with id {aggregate_id}")
        self._aggregates[aggregate_id] = found
        return found

    def find(self, aggregate_id: UUID) -> Aggregate | None:
        """The stored aggregate with this id, of whatever type, or None."""
        if aggregate_id in self._aggregates:
            return self._aggregates[aggregate_id]
        try:
            aggregate: Aggregate = self._app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        return aggregate

    def add(self, aggregate: Aggregate) -> None:
        """Add a new aggregate. Its id colliding with one this unit loaded is the same
        collision the save would meet, raised early so the service looks the key up."""
        if aggregate.id in self._aggregates:
            raise IntegrityError(f"id {aggregate.id} is already in use")
        self._aggregates[aggregate.id] = aggregate

    def stage(self, fund: Fund, movement: Movement) -> None:
        """Check `movement` against the fund's balances and what this unit already staged."""
        staged = self._movements.setdefault(fund.id, [])
        fund.check_movements([*staged, movement])
        staged.append(movement)

    def commit(self) -> dict[tuple[UUID, int], int]:
        """Post staged movements, save everything atomically; map (id, version) → log position."""
        for fund_id, movements in self._movements.items():
            fund = self._aggregates[fund_id]
            assert isinstance(fund, Fund)
            fund.post_movements(movements)
        recordings = self._app.save(*self._aggregates.values())
        return {
            (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
            for r in recordings
        }

    def touched(self) -> Sequence[UUID]:
        return list(self._aggregates)
