"""One atomic write: the aggregates that a command (or a batch of commands) touched, saved together.

Aggregates are loaded once per unit of work, so a batch of donations to one fund sees each
other's effect. Movements on a fund's balances are checked as they are staged (against the
balances plus everything staged before) and posted as one fund event per fund when the unit
commits, so a batch of N donations costs N + 1 events, and commands from concurrent callers
could later be committed together (group commit) without any change to the domain.

Loading. A first attempt trusts the application's aggregate cache, which holds the
aggregates as this process last saved or loaded them and is never mutated in place, so it
costs no read. That is safe because nothing stale can be saved:
- an aggregate the unit changes is saved at its next version, and the store refuses a
  version that already exists (another writer got there first);
- an aggregate the unit only reads (a donation's donor) is saved with its version as a
  *read version*: the store refuses the write if that aggregate has a newer event.
Either refusal is an `IntegrityError`; the service then retries with `fresh=True`, which
brings every aggregate up to date from the store.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, project_aggregate
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from ledger.errors import NotFound
from ledger.fund import Fund, Movement, PotBalances
from ledger.store.positions import event_position

if TYPE_CHECKING:
    from eventsourcing.application import Application

A = TypeVar("A", bound=Aggregate)

_NAMES = {"Fund": "fund", "Donor": "donor", "Donation": "donation", "Grant": "grant"}


class UnitOfWork:
    def __init__(
        self, app: Application[UUID], *, fresh: bool, request_id: str | None = None
    ) -> None:
        self._app = app
        self._fresh = fresh
        self._request_id = request_id
        self._aggregates: dict[UUID, Aggregate] = {}  # to save
        self._read: dict[UUID, Aggregate] = {}  # only read: their versions guard the save
        self._balances: dict[UUID, PotBalances] = {}
        self._movements: dict[UUID, list[Movement]] = {}

    def get(self, cls: type[A], aggregate_id: UUID) -> A:
        """An aggregate to change (a private copy), loaded once per unit of work."""
        found = self._aggregates.get(aggregate_id) or self._load(aggregate_id, copy=True)
        checked = _checked(cls, aggregate_id, found)
        self._aggregates[aggregate_id] = checked
        # Read earlier in this unit, it is now saved at its next version, which guards the
        # write as its read version did; keeping both would refuse our own new event.
        self._read.pop(aggregate_id, None)
        return checked

    def read(self, cls: type[A], aggregate_id: UUID) -> A:
        """An aggregate only to read (never to change): shared, not copied."""
        found = (
            self._aggregates.get(aggregate_id)
            or self._read.get(aggregate_id)
            or self._load(aggregate_id, copy=False)
        )
        checked = _checked(cls, aggregate_id, found)
        if aggregate_id not in self._aggregates:
            self._read[aggregate_id] = checked
        return checked

    def find(self, aggregate_id: UUID) -> Aggregate | None:
        """The stored aggregate with this id, of whatever type, or None (a private copy)."""
        return self._aggregates.get(aggregate_id) or self._load(aggregate_id, copy=True)

    def add(self, aggregate: Aggregate) -> None:
        """Add a new aggregate. Its id colliding with one this unit loaded is the same
        collision the save would meet, raised early so the service looks the key up."""
        if aggregate.id in self._aggregates or aggregate.id in self._read:
            raise IntegrityError(f"id {aggregate.id} is already in use")
        self._aggregates[aggregate.id] = aggregate

    def stage(self, fund: Fund, movement: Movement) -> None:
        """Check `movement` against the fund's books (BRIEF rule 7: its date must be in an
        open period, as the fund stands when the command runs: a closing later in the same
        unit does not undo it) and against the fund's balances and what this unit already
        staged (rule 4, checked again when the unit commits)."""
        fund.check_books_open_on(movement.effective_on)
        balances = self._balances.get(fund.id)
        if balances is None:
            balances = self._balances[fund.id] = fund.balances()
        balances.apply(movement)
        self._movements.setdefault(fund.id, []).append(movement)

    def commit(self, save_last: Collection[UUID] = ()) -> dict[tuple[UUID, int], int]:
        """Post staged movements, save everything atomically; map (id, version) → log position.

        Funds follow the donations and grants whose movements they mirror; the aggregates in
        `save_last` (those that claim idempotency keys) come after everything else, so a
        command's claim is the newest event of its write: a reader that has seen the claim's
        position has seen the whole command.
        """
        for fund_id, movements in self._movements.items():
            fund = self._aggregates[fund_id]
            assert isinstance(fund, Fund)
            fund.post_movements(movements)
        read_versions = [(a.id, a.version) for a in self._read.values()]
        in_log_order = sorted(
            self._aggregates.values(), key=lambda a: (a.id in save_last, isinstance(a, Fund))
        )
        metadata = {} if self._request_id is None else {"request_id": self._request_id}
        recordings = self._app.save(*in_log_order, read_versions=read_versions, **metadata)
        return {
            (r.domain_event.originator_id, r.domain_event.originator_version): r.notification.id
            for r in recordings
        }

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        """The log position of a stored event of an aggregate, or None."""
        return event_position(self._app.recorder, aggregate_id, version)

    def _load(self, aggregate_id: UUID, *, copy: bool) -> Aggregate | None:
        repository = self._app.repository
        try:
            aggregate: Aggregate = repository.get(aggregate_id, deepcopy_from_cache=copy)
        except AggregateNotFoundError:
            return None
        if self._fresh:
            newer = list(self._app.events.get(aggregate_id, gt=aggregate.version))
            if newer:
                if not copy:  # never change the cached object: others may be reading it
                    aggregate = repository.get(aggregate_id)
                return project_aggregate(aggregate, newer)
        return aggregate


def _checked(cls: type[A], aggregate_id: UUID, found: Aggregate | None) -> A:
    if not isinstance(found, cls):
        raise NotFound(f"no {_NAMES.get(cls.__name__, cls.__name__)} with id {aggregate_id}")
    return found
