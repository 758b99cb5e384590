"""Commands: what a caller asks the ledger to do, exactly as given (validated by the service).

Fields are kept as the caller sent them, so the request fingerprint that guards an
idempotency key is computed before any default (such as "today") is filled in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

import orjson


@dataclass(frozen=True)
class OpenFund:
    name: str
    host: str
    fee_rate_bp: int
    target_yen: int | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ChangeFeeRate:
    fund_id: UUID
    fee_rate_bp: int
    effective_from: date
    reason: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class CloseBooks:
    """Close the fund's books through a day (決算の締め): from then on no money event of the
    fund may be dated on or before it; late entries and corrections post in the open period."""

    fund_id: UUID
    through: date
    reason: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class AddDesignation:
    fund_id: UUID
    designation: str
    name: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RegisterDonor:
    kind: str
    name: str
    kana: str
    postal_code: str
    address: str
    email: str | None = None
    publish_name: bool = False
    idempotency_key: str | None = None
    postal_account: str | None = None  # ゆうちょ振替口座, e.g. 00120-3-456789


@dataclass(frozen=True)
class CorrectDonor:
    donor_id: UUID
    changes: dict[str, Any]
    reason: str
    idempotency_key: str | None = None


@dataclass(frozen=True)
class RecordDonation:
    idempotency_key: str
    fund_id: UUID
    donor_id: UUID
    amount_yen: int
    method: str
    effective_on: date | None = None
    designation: str | None = None
    external_reference: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class RefundDonation:
    idempotency_key: str
    donation_id: UUID
    amount_yen: int
    reason: str
    effective_on: date | None = None


@dataclass(frozen=True)
class VoidDonation:
    idempotency_key: str
    donation_id: UUID
    reason: str
    effective_on: date | None = None


@dataclass(frozen=True)
class AwardGrant:
    idempotency_key: str
    fund_id: UUID
    grantee: str
    representative: str
    purpose: str
    amount_yen: int
    designation: str | None = None
    effective_on: date | None = None
    reason: str | None = None


@dataclass(frozen=True)
class DisburseGrant:
    idempotency_key: str
    grant_id: UUID
    amount_yen: int
    effective_on: date | None = None
    reason: str | None = None


@dataclass(frozen=True)
class ReduceGrant:
    idempotency_key: str
    grant_id: UUID
    amount_yen: int
    reason: str
    effective_on: date | None = None


@dataclass(frozen=True)
class CancelGrant:
    idempotency_key: str
    grant_id: UUID
    reason: str
    effective_on: date | None = None


@dataclass(frozen=True)
class RecordGrantReturn:
    idempotency_key: str
    grant_id: UUID
    amount_yen: int
    reason: str
    effective_on: date | None = None


# Receipts. The printer renders and keeps the document (see ledger.receipt); it is how the
# command is carried out, not what is asked, so it is left out of the request fingerprint.


@dataclass(frozen=True)
class IssueReceipt:
    """A receipt for one donation; `reissue` reprints the valid one (marked 再発行)."""

    donation_id: UUID
    printer: Any = field(default=None, compare=False, repr=False)
    reissue: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True)
class IssueAnnualReceipt:
    """The annual receipt of a donor for a calendar year, listing `donation_ids` (every
    donation of that year not voided nor fully refunded); `reissue` reprints the valid one."""

    donor_id: UUID
    year: int
    donation_ids: tuple[UUID, ...]
    printer: Any = field(default=None, compare=False, repr=False)
    reissue: bool = False
    idempotency_key: str | None = None


@dataclass(frozen=True)
class VoidReceipt:
    """Void a receipt issued wrongly (a wrong address, say), so that it can be issued again:
    the next issue for its donation (or its donor's year) is the replacement, marked 再発行."""

    number: str
    reason: str
    idempotency_key: str | None = None


Command = (
    OpenFund
    | ChangeFeeRate
    | CloseBooks
    | AddDesignation
    | RegisterDonor
    | CorrectDonor
    | RecordDonation
    | RefundDonation
    | VoidDonation
    | AwardGrant
    | DisburseGrant
    | ReduceGrant
    | CancelGrant
    | RecordGrantReturn
    | IssueReceipt
    | IssueAnnualReceipt
    | VoidReceipt
)


@dataclass(frozen=True)
class Outcome:
    """What a command did.

    `position` is the log position to wait for to see the command's effect: for a command
    with an idempotency key, that of the key's claim, which is saved after everything else
    the command wrote, and which a replay of the key reports again; otherwise that of its
    main event. None when the command recorded nothing."""

    kind: str
    aggregate_id: UUID
    amounts_yen: dict[str, int] = field(default_factory=dict)
    position: int | None = None
    replayed: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "aggregate_id": self.aggregate_id.hex,
            "amounts_yen": self.amounts_yen,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        return cls(data["kind"], UUID(data["aggregate_id"]), dict(data["amounts_yen"]))


_KINDS: dict[type, str] = {}


def command_kind(command_type: type) -> str:
    """`RecordDonation` → `record_donation`."""
    kind = _KINDS.get(command_type)
    if kind is None:
        name = command_type.__name__
        kind = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
        _KINDS[command_type] = kind
    return kind


_FINGERPRINTED_FIELDS: dict[type, tuple[str, ...]] = {}
_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _fingerprinted_fields(command_type: type) -> tuple[str, ...]:
    fields = _FINGERPRINTED_FIELDS.get(command_type)
    if fields is None:
        names = (f.name for f in dataclasses.fields(command_type))
        fields = _FINGERPRINTED_FIELDS[command_type] = tuple(
            name for name in names if name != "idempotency_key"
        )
    return fields


def request_fingerprint(command: object) -> str:
    """sha256 of the command's kind and content (not its idempotency key), as canonical JSON:
    `[kind, {field: value}]`, keys sorted, ids as hex, dates as ISO 8601, no spaces.

    A field added to a command after keys were first stored is left out while it is None
    (`_ADDED_FIELDS`), so a retry of a request sent before the field existed still matches
    the fingerprint its first use stored."""
    command_type = type(command)
    content = {name: _plain(getattr(command, name)) for name in _fingerprinted_fields(command_type)}
    for name in _ADDED_FIELDS.get(command_type, ()):
        if content[name] is None:
            del content[name]
    return hashlib.sha256(_canonical_json([command_kind(command_type), content])).hexdigest()


def _canonical_json(document: object) -> bytes:
    """`_CANONICAL_JSON`'s bytes, written by orjson (about ten times faster) when it writes
    the same: it refuses the floats (`_Float`), the integers beyond 64 bits and the
    non-string keys that it would write otherwise, and those take the slow path."""
    try:
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return _CANONICAL_JSON.encode(document).encode()


class _Float(float):
    """A float that orjson refuses (it writes some floats otherwise than `json`), and that
    `json` writes as any float."""


def _plain(value: object) -> object:
    """`value` as JSON's own types, so the C encoder does all the work."""
    if isinstance(value, float):
        return _Float(value)
    if value is None or isinstance(value, str | int):
        return value
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return _plain(value.value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return f"{type(value).__name__}:{value!r}"


# Fields added to a command since its first release: fingerprinted only when given.
_ADDED_FIELDS: dict[type, tuple[str, ...]] = {RegisterDonor: ("postal_account",)}

# A receipt command's printer is how it is carried out, not what is asked: not fingerprinted.
_FINGERPRINTED_FIELDS[IssueReceipt] = ("donation_id", "reissue")
_FINGERPRINTED_FIELDS[IssueAnnualReceipt] = ("donor_id", "year", "donation_ids", "reissue")
