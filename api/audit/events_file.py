"""The event log as a file with its chain hashes, and the offline verifier of such a file.

`write_events` writes one JSON object per line (UTF-8, `\\n`), in log order, with exactly the
fields the chain hashes cover (`ledger.store.chain.chain_hash` documents the byte layout):

    {"position": 12, "originator_id": "<uuid>", "originator_version": 1,
     "topic": "ledger.donation:Donation.Recorded", "state": "<base64 of the stored bytes>",
     "hash": "<64 hex digits: the chain hash stored for this event>"}

The hash is the one stored in the database, not recomputed: a database altered behind the
application's back gives a file that fails verification.

`verify_events_file` needs no database: it recomputes each link from the previous line's hash
(the first line chains on 64 zeros), checks that positions increase, and that `head` (a hash
printed earlier, on a statement say) is the hash of one of the lines. An event altered,
removed, inserted or reordered breaks a link or the order; a file rewritten consistently from
some point on, or cut short, no longer reaches an earlier head.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TextIO
from uuid import UUID

from ledger.errors import InvalidInput
from ledger.store import ChainedApplicationRecorder
from ledger.store.chain import GENESIS_HASH, chain_hash

PAGE_SIZE = 1_000
HASH_PATTERN = re.compile(r"[0-9a-f]{64}")
FIELDS = ("position", "originator_id", "originator_version", "topic", "state", "hash")
FileFaultKind = Literal["malformed", "out-of-order", "altered", "head-mismatch"]


def write_events(recorder: ChainedApplicationRecorder, out: TextIO) -> tuple[int, str]:
    """Write every event up to the head when the walk begins; return (count, last hash)."""
    last_position = recorder.max_notification_id() or 0
    after, count, last_hash = 0, 0, GENESIS_HASH
    while after < last_position:
        page = recorder.select_notifications(
            after, PAGE_SIZE, stop=last_position, inclusive_of_start=False
        )
        if not page:
            break
        hashes = _chain_rows(recorder, after, page[-1].id)
        for notification in page:
            stored_hash = hashes.get(notification.id)
            line = {
                "position": notification.id,
                "originator_id": str(notification.originator_id),
                "originator_version": notification.originator_version,
                "topic": notification.topic,
                "state": base64.b64encode(notification.state).decode("ascii"),
                "hash": stored_hash,
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            count, last_hash = count + 1, stored_hash or last_hash
        after = page[-1].id
    return count, last_hash


def _chain_rows(recorder: ChainedApplicationRecorder, after: int, last: int) -> dict[int, str]:
    """The chain rows in (after, last], however many there are."""
    rows: dict[int, str] = {}
    while True:
        page = recorder.select_chain_rows(after, PAGE_SIZE)
        rows.update((position, hash_) for position, hash_ in page if position <= last)
        if len(page) < PAGE_SIZE or page[-1][0] >= last:
            return rows
        after = page[-1][0]


@dataclass(frozen=True)
class FileFault:
    line_number: int  # 1-based; 0 for the head, which is no line
    kind: FileFaultKind
    message: str


@dataclass(frozen=True)
class FileReport:
    event_count: int  # lines verified before any fault
    head_position: int | None
    head_hash: str
    expected_head_position: int | None  # where the given head was found
    fault: FileFault | None


def check_head(head: str) -> str:
    normalised = head.strip().lower()
    if not HASH_PATTERN.fullmatch(normalised):
        raise InvalidInput("--head", "must be 64 hexadecimal digits")
    return normalised


def verify_events_file(lines: Iterable[str], head: str) -> FileReport:
    """Verify an exported events file against `head`; see the module docstring."""
    expected = check_head(head)
    count, position, previous = 0, None, GENESIS_HASH
    found_at = 0 if expected == GENESIS_HASH else None
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            event = _parsed(text)
        except ValueError as error:
            return FileReport(
                count, position, previous, found_at, _fault(number, "malformed", str(error))
            )
        if position is not None and event["position"] <= position:
            message = (
                f"position {event['position']} after position {position}: an event was"
                " inserted or reordered"
            )
            return FileReport(
                count, position, previous, found_at, _fault(number, "out-of-order", message)
            )
        link = chain_hash(
            previous,
            event["position"],
            event["originator_id"],
            event["originator_version"],
            event["topic"],
            event["state"],
        )
        if link != event["hash"]:
            message = (
                f"the event at position {event['position']} does not match its chain hash: it"
                " was altered, or an event before it was removed, inserted or reordered"
            )
            return FileReport(
                count, position, previous, found_at, _fault(number, "altered", message)
            )
        count, position, previous = count + 1, event["position"], link
        if found_at is None and link == expected:
            found_at = position
    fault = None
    if found_at is None:
        fault = _fault(
            0,
            "head-mismatch",
            f"no event in the file has the hash {expected}: the history was rewritten or cut"
            " short since that head was published",
        )
    return FileReport(count, position, previous, found_at, fault)


def _fault(line_number: int, kind: FileFaultKind, message: str) -> FileFault:
    return FileFault(line_number, kind, message)


def _parsed(text: str) -> dict[str, Any]:
    """One line's fields, typed; ValueError naming what is wrong."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg}") from None
    if not isinstance(raw, dict) or set(raw) != set(FIELDS):
        raise ValueError(f"must be an object with exactly the fields {', '.join(FIELDS)}")
    for name in ("position", "originator_version"):
        if not isinstance(raw[name], int) or isinstance(raw[name], bool):
            raise ValueError(f"{name} must be an integer")
        if not -(2**63) <= raw[name] < 2**63:
            raise ValueError(f"{name} must fit in 64 bits")
    if not isinstance(raw["topic"], str) or not isinstance(raw["hash"], str):
        raise ValueError("topic and hash must be text")
    try:
        originator_id = UUID(raw["originator_id"])
        state = base64.b64decode(raw["state"], validate=True)
    except (ValueError, TypeError, AttributeError, binascii.Error):
        raise ValueError("originator_id must be a UUID and state base64") from None
    return {**raw, "originator_id": originator_id, "state": state}
