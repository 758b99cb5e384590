"""The hash chain over stored events (BRIEF rule 9: tamper evidence).

Every stored event has one row in the chain table,

    event_chain (position BIGINT PRIMARY KEY, hash TEXT NOT NULL)

where `position` is the event's notification id (the SQLite rowid, the PostgreSQL
`notification_id`) and `hash` is `chain_hash` of the previous row's hash and the event as
stored (its state is the stored bytes, after any compression or encryption). The first event
chains on `GENESIS_HASH`. Positions may have gaps (a failed PostgreSQL insert burns sequence
values): "previous" means the row with the next lower position, whatever it is.

Because each hash covers the one before it, changing, removing, inserting or reordering any
event changes every hash from there on; `ledger.store.verify` recomputes and compares them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

GENESIS_HASH = "0" * 64
CHAIN_TABLE_NAME = "event_chain"
# The request that wrote each event (HTTP request id), beside the chain: metadata that ties a
# log line to its events. Not hashed: it says where a write came from, not what it recorded.
REQUESTS_TABLE_NAME = "event_requests"
EVENTS_TABLE_NAME = "stored_events"
# Both databases store positions as signed 64-bit integers; forged rows may sit anywhere in
# that range, even below zero.
POSITION_MIN = -(2**63)
POSITION_MAX = 2**63 - 1


def chain_hash(
    previous_hash: str,
    position: int,
    originator_id: UUID,
    originator_version: int,
    topic: str,
    state: bytes,
) -> str:
    """The lower-case hex SHA-256 of one chain link.

    The hashed bytes are the concatenation, with no separators, of:

        32 bytes   previous_hash, hex-decoded (GENESIS_HASH for the first event)
         8 bytes   position, signed (two's complement) big-endian
        16 bytes   originator_id, the UUID's 16 bytes in RFC 4122 (big-endian) order
         8 bytes   originator_version, signed (two's complement) big-endian
         4 bytes   length of the topic's UTF-8 encoding, unsigned big-endian
         n bytes   topic, UTF-8
         8 bytes   length of state, unsigned big-endian
         m bytes   state, exactly as stored in the events table

    Lengths make the encoding unambiguous (no topic/state split can collide), so an
    auditor can reimplement it from this description alone. Position and version are
    signed because both databases store them as signed 64-bit integers, so any stored row,
    forged ones included, can be hashed; for the positive values the ledger writes, signed
    and unsigned encodings are the same bytes.
    """
    topic_bytes = topic.encode("utf-8")
    digest = hashlib.sha256()
    digest.update(bytes.fromhex(previous_hash))
    digest.update(position.to_bytes(8, "big", signed=True))
    digest.update(originator_id.bytes)
    digest.update(originator_version.to_bytes(8, "big", signed=True))
    digest.update(len(topic_bytes).to_bytes(4, "big"))
    digest.update(topic_bytes)
    digest.update(len(state).to_bytes(8, "big"))
    digest.update(state)
    return digest.hexdigest()


def stored_event_hash(previous_hash: str, position: int, event: StoredEvent) -> str:
    """`chain_hash` of a stored event or notification as the library hands it over."""
    originator_id = event.originator_id
    if not isinstance(originator_id, UUID):
        # The recorders refuse ORIGINATOR_ID_TYPE=text, so a str id is a UUID's text form.
        originator_id = UUID(originator_id)
    return chain_hash(
        previous_hash,
        position,
        originator_id,
        event.originator_version,
        event.topic,
        event.state,
    )


class StoredRow(NamedTuple):
    """An event row exactly as the database returned it, before the library converts it: a
    forged row may hold anything in any column (on SQLite, even NULLs or the wrong types)."""

    position: int
    originator_id: object
    originator_version: object
    topic: object
    state: object


class MalformedRow(Exception):
    """A stored row the ledger cannot have written: `chain_hash` has no encoding for it."""


def stored_row_hash(previous_hash: str, row: StoredRow) -> str:
    """`chain_hash` of a row as stored; `MalformedRow` says which column cannot be encoded."""
    originator_id = row.originator_id
    if isinstance(originator_id, str):  # SQLite keeps the id as text
        try:
            originator_id = UUID(originator_id)
        except ValueError:
            raise MalformedRow("its originator id is not a UUID") from None
    if not isinstance(originator_id, UUID):
        raise MalformedRow("its originator id is not a UUID")
    if type(row.originator_version) is not int:
        raise MalformedRow("its version is not an integer")
    if not isinstance(row.topic, str):
        raise MalformedRow("its topic is not text")
    if not isinstance(row.state, bytes):
        raise MalformedRow("its state is not bytes")
    try:
        return chain_hash(
            previous_hash, row.position, originator_id, row.originator_version, row.topic, row.state
        )
    except UnicodeEncodeError:  # text stored as bytes that are not UTF-8 (SQLite, `_as_stored`)
        raise MalformedRow("its topic is not valid UTF-8 text") from None


def link_new_events(
    head_hash: str, positions: Sequence[int], stored_events: Sequence[StoredEvent]
) -> list[tuple[int, str]]:
    """The chain rows for events just inserted at `positions`, in position order."""
    rows = []
    previous_hash = head_hash
    for position, event in sorted(zip(positions, stored_events, strict=True), key=_position):
        previous_hash = stored_event_hash(previous_hash, position, event)
        rows.append((position, previous_hash))
    return rows


def check_chainable(stored_events: Sequence[StoredEvent]) -> None:
    """Raise (ValueError, OverflowError) now for any event `chain_hash` cannot encode.

    It hashes each event once against a dummy link, through the same code the real link
    uses. Run before the insert: on PostgreSQL the library commits what was inserted even
    when the chain hook raises afterwards, which would leave events without chain rows.
    """
    for event in stored_events:
        stored_event_hash(GENESIS_HASH, 0, event)


def _position(row: tuple[int, StoredEvent]) -> int:
    return row[0]


class ChainedRecorder(Protocol):
    """What `verify_chain` reads; both chained recorders provide it."""

    def select_chain_head(self) -> tuple[int, str] | None:
        """The newest chain row `(position, hash)`, or None while the ledger is empty."""

    def max_notification_id(self) -> int | None:
        """The highest event position (the library's method)."""

    def select_chain_rows(self, after_position: int, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` chain rows `(position, hash)` after `after_position`, in order."""

    def select_stored_rows(
        self, first_position: int, last_position: int, limit: int
    ) -> list[StoredRow]:
        """Up to `limit` events in [first_position, last_position], in order, as stored."""
