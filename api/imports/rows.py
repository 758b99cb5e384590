"""One record of a transfer list checked field by field into a `DonationRow`, or its problems.

Every field's problem is reported (not only the first), each with the record's line. Digits
and letters are read after NFKC, so full-width `１０，０００` is 10,000 yen; nothing else is
coerced: `1000.0`, `-500` and `0` are refused.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar
from uuid import UUID

from api.imports.csvfile import Problem, Record
from ledger import money, values
from ledger.errors import InvalidInput
from ledger.handlers.common import REFERENCE_LENGTH_MAX

MEMO_LENGTH_MAX = 500  # the memo and the payer's name share the donation's reason
_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})|([0-9]{4})([0-9]{2})([0-9]{2})")
_YEN = re.compile(r"[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+")
_YEN_DIGITS_MAX = 20

T = TypeVar("T")


@dataclass(frozen=True)
class DonationRow:
    line: int
    effective_on: date
    amount_yen: int
    payer_name: str  # as the bank printed it (NFC, stripped)
    reference: str | None
    donor_id: UUID | None
    designation: str | None
    memo: str | None
    payer_account: str | None = None  # the payer's 振替口座, canonical (`values.postal_account`)


def parse_row(record: Record, today: date) -> tuple[DonationRow | None, list[Problem]]:
    problems: list[Problem] = []
    fields = record.fields

    def checked(code: str, parse: Callable[[str], T], column: str) -> T | None:
        try:
            return parse(fields.get(column, ""))
        except InvalidInput as error:
            problems.append(Problem(record.line, code, error.message))
            return None

    day = checked("bad-date", lambda text: effective_on(text, today), "effective_on")
    amount = checked("bad-amount", amount_yen, "amount_yen")
    payer = checked("bad-payer", lambda text: values.text(text, "payer_name"), "payer_name")
    reference = checked("bad-reference", _reference, "reference")
    donor_id = checked("bad-donor-id", _donor_id, "donor_id")
    designation = checked("bad-designation", _designation, "designation")
    memo = checked("bad-memo", _memo, "memo")
    account = checked("bad-payer-account", _payer_account, "payer_account")
    if problems:
        return None, problems
    assert day is not None, problems
    assert amount is not None, problems
    assert payer is not None, problems
    row = DonationRow(
        record.line, day, amount, payer, reference, donor_id, designation, memo, account
    )
    return row, []


def effective_on(text: str, today: date) -> date:
    """`2026-04-01`, `2026/4/1` or `20260401`: a real date, not before 2000, not after today."""
    raw = _nfkc(text)
    match = _DATE.fullmatch(raw)
    if match:
        year, month, day = (int(part) for part in match.groups() if part is not None)
        with contextlib.suppress(ValueError):  # 2026-02-30
            return values.effective_on(date(year, month, day), today)
    raise InvalidInput("effective_on", f"must be a date like 2026-04-01, got {text!r}")


def amount_yen(text: str) -> int:
    """Whole yen in digits, optionally grouped by commas; positive and bounded."""
    raw = _nfkc(text).removeprefix("¥")
    if "." in raw:
        raise InvalidInput("amount_yen", f"must be whole yen without a decimal point, got {text!r}")
    if raw.startswith("-") and _YEN.fullmatch(raw[1:]):
        raise InvalidInput("amount_yen", f"must be at least 1 yen, got {text!r}")
    if not _YEN.fullmatch(raw) or len(raw) > _YEN_DIGITS_MAX:
        raise InvalidInput("amount_yen", f"must be whole yen written in digits, got {text!r}")
    return money.amount_yen(int(raw.replace(",", "")))


def _reference(text: str) -> str | None:
    raw = _nfkc(text)
    return values.optional_text(raw, "reference", length_max=REFERENCE_LENGTH_MAX)


def _donor_id(text: str) -> UUID | None:
    raw = _nfkc(text)
    if not raw:
        return None
    try:
        return UUID(raw)
    except ValueError:
        raise InvalidInput("donor_id", f"must be a donor's id (a UUID), got {text!r}") from None


def _designation(text: str) -> str | None:
    raw = _nfkc(text)
    return values.designation_code(raw) if raw else None


def _payer_account(text: str) -> str | None:
    return values.optional_postal_account(text, "payer_account")


def _memo(text: str) -> str | None:
    return values.optional_text(text, "memo", length_max=MEMO_LENGTH_MAX)


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()
