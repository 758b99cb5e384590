"""What an import reads from the ledger itself (never from a read model, which may lag):
the registered donors with their current name, kana and postal transfer account, and the
donations recorded.

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


_MATCHED_FIELDS = ("name", "kana", "postal_account")


def registered_donors(ledger: FundLedger) -> list[DonorEntry]:
    """Every donor, with the name, kana and postal account its latest correction left."""
    details: dict[UUID, dict[str, str | None]] = {}
    for event in _events(ledger, (Donor.Registered, Donor.DetailsCorrected)):
        if isinstance(event, Donor.Registered):
            details[event.originator_id] = {k: getattr(event, k) for k in _MATCHED_FIELDS}
        elif isinstance(event, Donor.DetailsCorrected):
            changed = {k: v for k, v in event.changes.items() if k in _MATCHED_FIELDS}
            details[event.originator_id].update(changed)
    return [
        DonorEntry(donor_id, str(d["name"]), str(d["kana"]), d["postal_account"])
        for donor_id, d in details.items()
    ]


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
