"""What an import reads from the ledger itself (never from a read model, which may lag):
the registered donors with their current name and kana, and the donations recorded.

Both walk the log filtered by event topic, a page at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from api.imports.matching import DonorEntry
from ledger.donation import Donation
from ledger.donor import Donor
from ledger.service import FundLedger

PAGE_SIZE = 1_000


def registered_donors(ledger: FundLedger) -> list[DonorEntry]:
    """Every donor, with the name and kana its latest correction left."""
    details: dict[UUID, dict[str, str]] = {}
    for event in _events(ledger, (Donor.Registered, Donor.DetailsCorrected)):
        if isinstance(event, Donor.Registered):
            details[event.originator_id] = {"name": event.name, "kana": event.kana}
        elif isinstance(event, Donor.DetailsCorrected):
            changed = {k: v for k, v in event.changes.items() if k in ("name", "kana")}
            details[event.originator_id].update(changed)
    return [DonorEntry(donor_id, d["name"], d["kana"]) for donor_id, d in details.items()]


def recorded_donations(ledger: FundLedger, fund_id: UUID | None = None) -> list[Donation.Recorded]:
    """Every donation recorded (to `fund_id`, if given), in log order."""
    return [
        event
        for event in _events(ledger, (Donation.Recorded,))
        if isinstance(event, Donation.Recorded) and fund_id in (None, event.fund_id)
    ]


def _events(ledger: FundLedger, classes: Sequence[type]) -> Iterator[DomainEvent]:
    topics = [get_topic(cls) for cls in classes]
    last = 0
    while True:
        page = ledger.recorder.select_notifications(
            last, PAGE_SIZE, topics=topics, inclusive_of_start=False
        )
        for notification in page:
            event = ledger.mapper.to_domain_event(notification)
            assert isinstance(event, DomainEvent), "every ledger event is an aggregate event"
            yield event
        if len(page) < PAGE_SIZE:
            return
        last = page[-1].id
