"""Options shared by the commands, and the strict parsing of what they carry.

Amounts, ids and dates arrive as text and are parsed here, not by typer: a malformed value is
an input error (one line, exit 1) like any other the ledger refuses, and nothing is coerced
(`10.0`, `1e4` and `10_000` are not 10 or 10,000 yen). Bounds are the domain's.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

import typer

from ledger import money
from ledger.errors import InvalidInput

_WHOLE_NUMBER = re.compile(r"-?[0-9]+")
WHOLE_NUMBER_DIGITS_MAX = 20  # far above any bound the domain sets
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def whole_number(text: str, option: str) -> int:
    """`text` as an int: ASCII digits with an optional minus sign, nothing else."""
    if not _WHOLE_NUMBER.fullmatch(text):
        raise InvalidInput(option, f"must be a whole number written in digits, got {text!r}")
    if len(text.lstrip("-")) > WHOLE_NUMBER_DIGITS_MAX:
        raise InvalidInput(option, f"must have at most {WHOLE_NUMBER_DIGITS_MAX} digits")
    return int(text)


def amount_yen(text: str, option: str = "--amount") -> int:
    """A positive, bounded amount of integer yen."""
    return money.amount_yen(whole_number(text, option), option)


def optional_amount_yen(text: str | None, option: str) -> int | None:
    return None if text is None else money.target_yen(whole_number(text, option), option)


def aggregate_id(text: str, option: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidInput(
            option, f"must be an id (a UUID as printed by the ledger), got {text!r}"
        ) from None


def day(text: str, option: str) -> date:
    """An ISO calendar date, `YYYY-MM-DD` exactly."""
    if _ISO_DATE.fullmatch(text):
        with contextlib.suppress(ValueError):  # 2026-02-30
            return date.fromisoformat(text)
    raise InvalidInput(option, f"must be a date written YYYY-MM-DD, got {text!r}")


def optional_day(text: str | None, option: str = "--date") -> date | None:
    """None lets the ledger fill in today in Japan."""
    return None if text is None else day(text, option)


def new_idempotency_key() -> str:
    return str(uuid4())


JsonFlag = Annotated[bool, typer.Option("--json", help="Print a JSON object instead of a line.")]
Amount = Annotated[str, typer.Option("--amount", help="Integer yen, e.g. 10000.")]
Reason = Annotated[str, typer.Option("--reason", help="Why (kept in the event).")]
OptionalReason = Annotated[str | None, typer.Option("--reason", help="Why (kept in the event).")]
EffectiveOn = Annotated[
    str | None,
    typer.Option(
        "--date",
        help="Effective date YYYY-MM-DD (the day the money moved); default today in Japan.",
    ),
]
Designation = Annotated[
    str | None, typer.Option("--designation", help="Designation code; omit for general money.")
]
IdempotencyKey = Annotated[
    str,
    typer.Option(
        "--idempotency-key",
        default_factory=new_idempotency_key,
        show_default="a new random key, printed",
        help="Retrying with the same key records nothing twice.",
    ),
]
