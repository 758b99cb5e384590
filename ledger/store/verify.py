"""Verify the hash chain over the stored events (BRIEF rule 9).

`verify_chain` walks the events and the chain rows side by side in position order, a page at
a time (memory stays bounded however long the ledger is), recomputes every link and stops at
the first fault:

- `altered`: an event does not match its chain hash. It was changed, or an event before it
  was removed or reordered together with its chain row: each hash covers the previous hash,
  so removing event n and its row makes event n + 1 fail, and swapping two events' contents
  makes the first of them fail.
- `missing-chain-entry`: an event has no chain row: it was inserted behind the application.
- `missing-event`: a chain row has no event: the event was deleted.
- `head-mismatch`: `expected_head` was given and the chain never reaches it.

It checks the ledger as it was when the walk began, so it can run against a live ledger:
events committed meanwhile are left for the next run.

What the chain alone cannot show: someone with write access who rewrites every chain row from
some point on (the hash is public, anyone can recompute it), or who removes the newest events
together with their chain rows, leaves a chain that is consistent with itself. That is what
`expected_head` closes: a head published earlier (printed at the foot of a fund statement)
must still be one of the chain's hashes. Because it covers every event up to its position,
finding it proves that prefix untouched; a ledger that has grown since still passes. (Events
appended after that head with correctly computed links look like any new event: the chain
proves history unchanged, not who wrote the newest entries.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from ledger.errors import InvalidInput
from ledger.store.chain import (
    GENESIS_HASH,
    POSITION_MIN,
    ChainedRecorder,
    MalformedRow,
    StoredRow,
    stored_row_hash,
)

FaultKind = Literal["altered", "missing-chain-entry", "missing-event", "head-mismatch"]
PAGE_SIZE_MAX = 10_000
HASH_PATTERN = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ChainFault:
    """The first place where the stored events and their chain disagree."""

    position: int
    kind: FaultKind
    message: str


@dataclass(frozen=True)
class ChainReport:
    """The verified prefix of the chain, and the fault that ended it if there was one.

    With a fault, `event_count`, `head_position` and `head_hash` describe the events verified
    before it; `head_position` is None when there were none.
    """

    event_count: int
    head_position: int | None
    head_hash: str
    fault: ChainFault | None


def verify_chain(
    recorder: ChainedRecorder, *, page_size: int = 1000, expected_head: str | None = None
) -> ChainReport:
    """Recompute the chain over every stored event; see the module docstring."""
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise InvalidInput("page_size", f"must be from 1 to {PAGE_SIZE_MAX}")
    if expected_head is not None:
        expected_head = expected_head.strip().lower()
        if not HASH_PATTERN.fullmatch(expected_head):
            raise InvalidInput("expected_head", "must be 64 hexadecimal digits")
    last_position = _last_position(recorder)
    events = _paged_events(recorder, page_size, last_position)
    links = _paged_links(recorder, page_size, last_position)
    event, link = next(events, None), next(links, None)
    event_count, head_position, head_hash = 0, None, GENESIS_HASH
    expected_head_seen = expected_head in (None, GENESIS_HASH)
    while event is not None or link is not None:
        fault = _check_link(event, link, head_hash)
        if fault is not None:
            return ChainReport(event_count, head_position, head_hash, fault)
        assert event is not None, "_check_link found both"
        assert link is not None, "_check_link found both"
        event_count, head_position, head_hash = event_count + 1, event.position, link[1]
        expected_head_seen = expected_head_seen or head_hash == expected_head
        event, link = next(events, None), next(links, None)
    fault = None
    if not expected_head_seen:
        fault = ChainFault(
            head_position or 0,
            "head-mismatch",
            f"the chain never reaches the expected head {expected_head}: the ledger was "
            "rewritten, or its newest events were removed",
        )
    return ChainReport(event_count, head_position, head_hash, fault)


def _check_link(
    event: StoredRow | None, link: tuple[int, str] | None, previous_hash: str
) -> ChainFault | None:
    if event is not None and (link is None or event.position < link[0]):
        return ChainFault(
            event.position,
            "missing-chain-entry",
            f"the event at position {event.position} has no chain entry: "
            "it was inserted behind the application's back",
        )
    if link is not None and (event is None or link[0] < event.position):
        return ChainFault(
            link[0],
            "missing-event",
            f"the chain entry at position {link[0]} has no event: the event was deleted",
        )
    assert event is not None, "one of them is not None, the other is not before it"
    assert link is not None, "one of them is not None, the other is not before it"
    try:
        matches = stored_row_hash(previous_hash, event) == link[1]
    except MalformedRow as malformed:
        return ChainFault(
            event.position,
            "altered",
            f"the event at position {event.position} is malformed ({malformed}): it was "
            "changed behind the application's back",
        )
    if not matches:
        return ChainFault(
            event.position,
            "altered",
            f"the event at position {event.position} does not match its chain hash: it was "
            "changed, or an event before it was removed or reordered",
        )
    return None


def _last_position(recorder: ChainedRecorder) -> int:
    """Where the walk stops, so events committed while it runs are left for the next one.

    Read events first, chain second: a write that commits in between is then either wholly
    below the bound or wholly above it (PostgreSQL commits ids in order under the table lock;
    SQLite has one writer). The chain's own end counts too, or an orphan chain row after the
    newest event would go unseen.
    """
    last_event_position = recorder.max_notification_id()
    head = recorder.select_chain_head()
    return max(last_event_position or 0, 0 if head is None else head[0])


def _paged_events(
    recorder: ChainedRecorder, page_size: int, last_position: int
) -> Iterator[StoredRow]:
    """The events as stored, not as the library decodes them: a forged row that the library
    could not convert is still walked, and found at its position."""
    first_position = POSITION_MIN
    while True:
        page = recorder.select_stored_rows(first_position, last_position, page_size)
        yield from page
        if len(page) < page_size or page[-1].position >= last_position:
            return
        first_position = page[-1].position + 1


def _paged_links(
    recorder: ChainedRecorder, page_size: int, last_position: int
) -> Iterator[tuple[int, str]]:
    after_position = POSITION_MIN
    while True:
        page = recorder.select_chain_rows(after_position, page_size)
        yield from (link for link in page if link[0] <= last_position)
        if len(page) < page_size or page[-1][0] >= last_position:
            return
        after_position = page[-1][0]
