"""The library's mapper, with one difference: an event it cannot decode is an `UnreadableEvent`
that names its log position, instead of whatever the decoding happened to raise.

The ledger never stores such an event: an unknown topic, a state that is not the JSON it
wrote, a malformed id mean a row written or changed behind the application's back. Every
reader of the log (the projectors, replays, exports, receipts) then stops with one clear
error saying where, and `fund-ledger verify` says whether the chain was broken there.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, Notification, StoredEvent
from eventsourcing.utils import TopicError

from ledger.errors import UnreadableEvent

REASON_LENGTH_MAX = 200


class LedgerMapper(Mapper[UUID]):
    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        try:
            return super().to_domain_event(stored_event)
        except Exception as error:
            raise unreadable(stored_event, error) from error


def unreadable(stored_event: StoredEvent, error: Exception) -> UnreadableEvent:
    """The error for a stored event (a log notification, or one of an aggregate's events)
    that `error` kept from being decoded."""
    if isinstance(error, TopicError):
        reason = f"unknown event type {_shown(stored_event.topic)}"
    else:
        reason = f"{type(error).__name__}: {error}"
    reason = " ".join(reason.split())[:REASON_LENGTH_MAX]
    if isinstance(stored_event, Notification):
        return UnreadableEvent(
            f"the event at position {stored_event.id} cannot be read ({reason});"
            " `fund-ledger verify` checks whether the log was changed",
            stored_event.id,
        )
    return UnreadableEvent(
        f"version {_shown(stored_event.originator_version)} of {stored_event.originator_id}"
        f" cannot be read ({reason}); `fund-ledger verify` checks whether the log was changed",
        None,
    )


def _shown(value: Any) -> str:
    return repr(value)[:80]
