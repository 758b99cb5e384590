"""Receipts (寄附金受領証明書): issued, reprinted and voided as events; numbered gaplessly.

Numbering. A receipt number is `YYYY-NNNNNN`: the calendar year it is issued in and its
sequence in that year, from 1 with no gaps. Each number is the id of its own `Receipt`
aggregate (`receipt_id(number)`, a uuid5), so two issuers that pick the same next number
collide on the id at save time and the service retries the loser against fresh state. A
number N + 1 is only ever created after N was read from the store (or staged in the same
write), and receipts are never deleted, so the numbers of a year are gapless; `last_sequence`
finds the newest one by galloping from a per-process hint (never trusted: only probed).

A replacement after a void takes its lineage's base number with the next suffix
(`2026-000123-2`, `-3`) and is marked 再発行; suffixes do not take a sequence number. A
reprint of a lost receipt keeps its number, is marked 再発行, and records its new document.

Coverage. `DonorReceipts` (one per donor, uuid5 of the donor's id) knows every receipt of the
donor and which valid receipt covers each donation, so the rule "no donation is ever covered
by two valid receipts" is checked in the same atomic write that issues or voids a receipt.

Documents. The ledger never renders: a `ReceiptPrinter` given with the command renders the
facts (everything the document prints but the issuer's configured details), keeps the bytes
and returns their sha256, which the `Issued` or `Reprinted` event records. The bytes are kept
before the event is saved, so every recorded digest has its document; a crash or a conflict
in between leaves at most an unreferenced document, never a receipt without its bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Protocol
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.errors import ReceiptVoided

SEQUENCE_MAX: Final = 999_999
SUFFIX_MAX: Final = 999
NUMBER_PATTERN: Final = re.compile(r"([0-9]{4})-([0-9]{6})(?:-([0-9]{1,3}))?")
DONATION: Final = "donation"  # one donation
ANNUAL: Final = "annual"  # every donation of a donor in a calendar year

_NAMESPACE = uuid5(NAMESPACE_URL, "urn:fund-ledger:receipt")
_LAST_SEQUENCE_HINTS: dict[int, int] = {}  # year → newest sequence this process saw (a hint)


def receipt_id(number: str) -> UUID:
    return uuid5(_NAMESPACE, f"receipt:{number}")


def donor_receipts_id(donor_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"donor-receipts:{donor_id.hex}")


def receipt_number(year: int, sequence: int, suffix: int = 1) -> str:
    assert 1 <= sequence <= SEQUENCE_MAX, sequence
    assert 1 <= suffix <= SUFFIX_MAX, suffix
    base = f"{year:04d}-{sequence:06d}"
    return base if suffix == 1 else f"{base}-{suffix}"


def base_number(number: str) -> str:
    return number.rsplit("-", 1)[0] if number.count("-") == 2 else number


def last_sequence(exists: Callable[[int], bool], year: int) -> int:
    """The newest sequence number of `year` (0 if none), found in O(log n) probes of
    `exists` (which is true exactly for 1..newest) from the hint of this process."""
    low = _LAST_SEQUENCE_HINTS.get(year, 0)
    if low > 0 and not exists(low):
        low, high = 0, low
    else:
        step = 1
        while low + step <= SEQUENCE_MAX and exists(low + step):
            low += step
            step *= 2
        high = min(low + step, SEQUENCE_MAX + 1)
    while high - low > 1:  # exists(low) (or low == 0), not exists(high)
        middle = (low + high) // 2
        if exists(middle):
            low = middle
        else:
            high = middle
    return low


def note_sequence(year: int, sequence: int) -> None:
    _LAST_SEQUENCE_HINTS[year] = sequence


@dataclass(frozen=True)
class ReceiptLine:
    donation_id: UUID
    received_on: date  # the donation's effective date
    fund_name: str
    designation_name: str | None
    amount_yen: int  # net of refunds


@dataclass(frozen=True)
class ReceiptFacts:
    """What a receipt prints, but the issuer's (configured) details."""

    number: str
    kind: str  # DONATION or ANNUAL
    issued_on: date
    donor_kind: str  # individual (様) or organisation (御中)
    donor_name: str
    donor_postal_code: str
    donor_address: str
    tax_year: int  # the calendar year of the donations
    lines: tuple[ReceiptLine, ...]
    reissue: bool = False
    replaces_number: str | None = None

    @property
    def total_yen(self) -> int:
        return sum(line.amount_yen for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "issued_on": self.issued_on.isoformat(),
            "donor_kind": self.donor_kind,
            "donor_name": self.donor_name,
            "donor_postal_code": self.donor_postal_code,
            "donor_address": self.donor_address,
            "tax_year": self.tax_year,
            "lines": [
                {
                    "donation_id": line.donation_id.hex,
                    "received_on": line.received_on.isoformat(),
                    "fund_name": line.fund_name,
                    "designation_name": line.designation_name,
                    "amount_yen": line.amount_yen,
                }
                for line in self.lines
            ],
            "reissue": self.reissue,
            "replaces_number": self.replaces_number,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReceiptFacts:
        lines = tuple(
            ReceiptLine(
                UUID(line["donation_id"]),
                date.fromisoformat(line["received_on"]),
                line["fund_name"],
                line["designation_name"],
                line["amount_yen"],
            )
            for line in data["lines"]
        )
        plain = {k: v for k, v in data.items() if k not in ("issued_on", "lines")}
        return cls(**plain, issued_on=date.fromisoformat(data["issued_on"]), lines=lines)


class ReceiptPrinter(Protocol):
    def print_document(self, facts: ReceiptFacts) -> str:
        """Render the document, keep its bytes, and return their sha256 (hex)."""


class Receipt(LedgerAggregate):
    class Issued(LedgerAggregate.Created):
        number: str
        year: int
        sequence: int
        suffix: int
        kind: str
        donor_id: UUID
        facts: dict[str, Any]
        sha256: str
        actor: str
        reason: str

    class Reprinted(LedgerAggregate.Event):
        facts: dict[str, Any]
        sha256: str
        actor: str
        reason: str

    class Voided(LedgerAggregate.Event):
        actor: str
        reason: str

    @event(Issued)
    def __init__(
        self,
        id: UUID,
        number: str,
        year: int,
        sequence: int,
        suffix: int,
        kind: str,
        donor_id: UUID,
        facts: dict[str, Any],
        sha256: str,
        actor: str,
        reason: str,
    ) -> None:
        self.number = number
        self.year = year
        self.sequence = sequence
        self.suffix = suffix
        self.kind = kind
        self.donor_id = donor_id
        self.facts = facts
        self.sha256 = sha256  # the current document: the last issued or reprinted
        self.voided = False
        self.void_reason: str | None = None

    @property
    def current_facts(self) -> ReceiptFacts:
        return ReceiptFacts.from_json(self.facts)

    def check_valid(self) -> None:
        if self.voided:
            raise ReceiptVoided(f"receipt {self.number} was voided: {self.void_reason}")

    def reprint(self, facts: ReceiptFacts, sha256: str, actor: str, reason: str) -> None:
        self.check_valid()
        self._reprinted(facts.to_json(), sha256, actor, reason)

    def void(self, actor: str, reason: str) -> None:
        self.check_valid()
        self._voided(actor, reason)

    @event(Reprinted)
    def _reprinted(self, facts: dict[str, Any], sha256: str, actor: str, reason: str) -> None:
        self.facts = facts
        self.sha256 = sha256

    @event(Voided)
    def _voided(self, actor: str, reason: str) -> None:
        self.voided = True
        self.void_reason = reason


class DonorReceipts(LedgerAggregate):
    """A donor's receipts and which valid one covers each donation (ids as hex)."""

    class Started(LedgerAggregate.Created):
        donor_id: UUID

    class Added(LedgerAggregate.Event):
        number: str
        kind: str
        tax_year: int
        donation_ids: list[str]
        amount_yen: int
        issued_on: date

    class Withdrawn(LedgerAggregate.Event):
        number: str
        reason: str

    @event(Started)
    def __init__(self, id: UUID, donor_id: UUID) -> None:
        self.donor_id = donor_id
        # number → {kind, tax_year, donation_ids, amount_yen, issued_on (ISO), valid}
        self.receipts: dict[str, dict[str, Any]] = {}
        self.covered_by: dict[str, str] = {}  # donation id → its valid receipt's number

    def valid_receipt_of(self, donation_id: UUID) -> str | None:
        return self.covered_by.get(donation_id.hex)

    def valid_annual(self, tax_year: int) -> str | None:
        return next(
            (n for n, r in self.receipts.items() if r["valid"] and _is_annual(r, tax_year)), None
        )

    def last_voided_annual(self, tax_year: int) -> str | None:
        receipts = self.receipts.items()
        numbers = [n for n, r in receipts if not r["valid"] and _is_annual(r, tax_year)]
        return numbers[-1] if numbers else None

    def last_voided_of(self, donation_id: UUID) -> str | None:
        """The newest voided single-donation receipt of the donation (its lineage), if any."""
        numbers = [
            n
            for n, r in self.receipts.items()
            if not r["valid"] and r["kind"] == DONATION and donation_id.hex in r["donation_ids"]
        ]
        return numbers[-1] if numbers else None

    def next_suffix(self, number: str) -> int:
        base = base_number(number)
        return 1 + max(_suffix(n) for n in self.receipts if base_number(n) == base)

    def add(self, facts: ReceiptFacts) -> None:
        donation_ids = [line.donation_id.hex for line in facts.lines]
        taken = [self.covered_by[d] for d in donation_ids if d in self.covered_by]
        assert not taken, f"donations already covered by {taken}"  # handlers void them first
        self._added(
            facts.number, facts.kind, facts.tax_year, donation_ids, facts.total_yen, facts.issued_on
        )

    def withdraw(self, number: str, reason: str) -> None:
        assert self.receipts[number]["valid"], number
        self._withdrawn(number, reason)

    @event(Added)
    def _added(
        self,
        number: str,
        kind: str,
        tax_year: int,
        donation_ids: list[str],
        amount_yen: int,
        issued_on: date,
    ) -> None:
        self.receipts[number] = {
            "kind": kind,
            "tax_year": tax_year,
            "donation_ids": list(donation_ids),
            "amount_yen": amount_yen,
            "issued_on": issued_on.isoformat(),
            "valid": True,
        }
        for donation_id in donation_ids:
            self.covered_by[donation_id] = number

    @event(Withdrawn)
    def _withdrawn(self, number: str, reason: str) -> None:
        receipt = self.receipts[number]
        receipt["valid"] = False
        for donation_id in receipt["donation_ids"]:
            if self.covered_by.get(donation_id) == number:
                del self.covered_by[donation_id]


def _is_annual(receipt: dict[str, Any], tax_year: int) -> bool:
    return bool(receipt["kind"] == ANNUAL and receipt["tax_year"] == tax_year)


def _suffix(number: str) -> int:
    return int(number.rsplit("-", 1)[1]) if number.count("-") == 2 else 1
