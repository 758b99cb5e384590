"""The receipts check of `verify --all`: every issued receipt's stored bytes hash to the
sha256 recorded in its issue event.

This is the hook only. Receipts (issued receipts with stored PDF bytes and a sha256 in their
issue event) are being added separately; until they land, `verify --all` reports the check as
not wired. Wiring it means passing `verify_all` a function that yields, for every issued
receipt, its number, the sha256 (lower-case hex) from its issue event, and the stored bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

IssuedReceipt = tuple[str, str, bytes]  # (number, expected sha256 hex, stored bytes)
ReceiptSource = Callable[[], Iterable[IssuedReceipt]]


@dataclass(frozen=True)
class ReceiptReport:
    receipt_count: int  # receipts that matched before any fault
    fault: str | None


def check_receipts(receipts: Iterable[IssuedReceipt]) -> ReceiptReport:
    """Hash each receipt's stored bytes; stop at the first that differs from its event."""
    checked = 0
    for number, expected_sha256, stored in receipts:
        actual = hashlib.sha256(stored).hexdigest()
        if actual != expected_sha256.strip().lower():
            return ReceiptReport(
                checked,
                f"receipt {number}: its stored bytes hash to {actual}, but its issue event"
                f" recorded {expected_sha256}: the stored PDF was altered",
            )
        checked += 1
    return ReceiptReport(checked, None)
