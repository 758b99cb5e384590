"""The journal entries of the log, in log order, with their positions: what every journal
export writes.

Read straight from the event log (not the journal read model), so an export needs no
projector and shows exactly what the events say. Only the topics that carry postings, and
the fund openings that name the funds, are fetched and decoded.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.donation import Donation
from ledger.errors import InvalidInput
from ledger.fund import Fund
from ledger.grant import Grant
from ledger.journal import JournalEntry, journal_entry
from ledger.service import FundLedger

PAGE_SIZE = 1_000
MONEY_EVENTS = (
    Donation.Recorded,
    Donation.Refunded,
    Donation.Voided,
    Grant.Awarded,
    Grant.Disbursed,
    Grant.Reduced,
    Grant.Cancelled,
    Grant.Returned,
)
_TOPICS = [get_topic(cls) for cls in (Fund.Opened, *MONEY_EVENTS)]


@dataclass(frozen=True)
class Selection:
    """Which entries to export: one fund or all, and an effective-date range (inclusive)."""

    fund_id: UUID | None = None
    effective_from: date | None = None
    effective_to: date | None = None

    def __post_init__(self) -> None:
        if (
            self.effective_from is not None
            and self.effective_to is not None
            and self.effective_from > self.effective_to
        ):
            raise InvalidInput("--from", "must not be after --to")

    def includes(self, entry: JournalEntry) -> bool:
        return (
            (self.fund_id is None or entry.fund_id == self.fund_id)
            and (self.effective_from is None or entry.effective_on >= self.effective_from)
            and (self.effective_to is None or entry.effective_on <= self.effective_to)
        )


@dataclass(frozen=True)
class PositionedEntry:
    position: int
    entry: JournalEntry
    fund_name: str


def positioned_entries(ledger: FundLedger, selection: Selection) -> Iterator[PositionedEntry]:
    """Every selected journal entry up to the log's head when the walk begins."""
    fund_names: dict[UUID, str] = {}
    last_position = ledger.recorder.max_notification_id() or 0
    after = 0
    while after < last_position:
        page = ledger.recorder.select_notifications(
            after, PAGE_SIZE, stop=last_position, topics=_TOPICS, inclusive_of_start=False
        )
        for notification in page:
            event = ledger.mapper.to_domain_event(notification)
            if isinstance(event, Fund.Opened):
                fund_names[event.originator_id] = event.name
                continue
            entry = journal_entry(event)
            if entry is not None and selection.includes(entry):
                name = fund_names.get(entry.fund_id, "")
                yield PositionedEntry(notification.id, entry, name)
        if len(page) < PAGE_SIZE:
            return
        after = page[-1].id
