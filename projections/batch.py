"""What every projector shares: a page of events, and how to say one of them cannot be applied.

A projector gets a whole page of events at once (`apply_batch`), folds them in memory, in log
order, into as few statements as it can, and writes them in the runner's transaction. A page
of one event is a page like any other, so there is only one way to apply events.

The runner hands every projector the same `Page`, which computes each event's journal entry
(`ledger.journal.journal_entry`) once, for all the projectors that read it
(`journal_entries`).

A projector that finds, while folding, that an event cannot be applied (a refund of a donation
it never saw, say) raises `EventNotApplicable` with that event's position. Any other error
(the database refusing a row, a bug) carries no position: the runner then replays the page one
event at a time, in a transaction it rolls back, to name the first event that fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import TypeVar

from eventsourcing.domain import DomainEvent

from ledger.journal import JournalEntry, journal_entry

PositionedEvent = tuple[DomainEvent, int]  # an event and its position in the log
# Values per statement in an `IN (...)` list: far below SQLite's 32,766 bound parameters.
IN_LIST_SIZE_MAX = 5_000

T = TypeVar("T")


class EventNotApplicable(Exception):
    """The event at `position` cannot be applied to the read model, for `reason`."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(reason)
        self.position = position
        self.reason = reason


class Page(list[PositionedEvent]):
    """A page of events in log order, as the runner gives it to each projector."""

    @cached_property
    def journal_entries(self) -> list[JournalEntry | None]:
        """Each event's journal entry, None for an event that moves no money; computed on
        first use and then shared (a rebuild spent a seventh of its time computing each
        entry twice)."""
        return [journal_entry(event) for event, _ in self]


def journal_entries(events: Sequence[PositionedEvent]) -> Sequence[JournalEntry | None]:
    """Each event's journal entry (None for one that moves no money), in order: the page's
    own when `events` is a `Page`, else computed here."""
    if isinstance(events, Page):
        return events.journal_entries
    return [journal_entry(event) for event, _ in events]


def chunks(items: Sequence[T], size: int = IN_LIST_SIZE_MAX) -> Iterator[Sequence[T]]:
    """`items` in slices of at most `size`, for `IN (...)` lists and bulk statements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
