"""Validation of the non-money values a command carries: text, codes, dates, keys.

Each function returns the normalised value or raises `InvalidInput` naming the field.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from ledger.errors import InvalidInput

NAME_LENGTH_MAX = 200
TEXT_LENGTH_MAX = 1_000
IDEMPOTENCY_KEY_LENGTH_MAX = 200
EFFECTIVE_ON_MIN = date(2000, 1, 1)
GENERAL = "general"  # the pot of undesignated (一般) money; never a designation code

_DESIGNATION_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_POSTAL_CODE = re.compile(r"^〒?\s*([0-9]{3})-?([0-9]{4})$")
# ゆうちょ振替口座: 口座記号 (5 digits, the first 0), a digit, 口座番号 (1–6 digits); the three
# parts apart by one hyphen or space each, or run together.
_POSTAL_ACCOUNT = re.compile(r"^(0[0-9]{4})[- ]?([0-9])[- ]?([0-9]{1,6})$")
POSTAL_ACCOUNT_NUMBER_DIGITS = 6
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]+$")


def text(value: object, field: str, *, length_max: int = NAME_LENGTH_MAX) -> str:
    """Non-empty text without control characters, NFC-normalised and stripped."""
    if not isinstance(value, str):
        raise InvalidInput(field, f"must be text, not {type(value).__name__}")
    normalised = unicodedata.normalize("NFC", value).strip()
    if not normalised:
        raise InvalidInput(field, "must not be empty")
    if len(normalised) > length_max:
        raise InvalidInput(field, f"must be at most {length_max} characters, got {len(normalised)}")
    if _CONTROL_CHARACTER.search(normalised):
        raise InvalidInput(field, "must not contain control characters")
    return normalised


def optional_text(value: object, field: str, *, length_max: int = NAME_LENGTH_MAX) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return text(value, field, length_max=length_max)


def designation_code(value: object, field: str = "designation") -> str:
    """A designation's code: lower-case ASCII letters, digits and hyphens, 1–40 characters."""
    if not isinstance(value, str) or not _DESIGNATION_CODE.match(value):
        raise InvalidInput(
            field,
            "must be 1–40 lower-case letters, digits or hyphens, starting with a letter or digit",
        )
    if value == GENERAL:
        raise InvalidInput(field, f"'{GENERAL}' is reserved for undesignated money")
    return value


def optional_designation(value: object, field: str = "designation") -> str | None:
    return None if value is None else designation_code(value, field)


def postal_code(value: object, field: str = "postal_code") -> str:
    """Japanese postal code, normalised to `123-4567`; full-width digits and a leading 〒 are
    accepted, digits of other scripts are not."""
    raw = unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else ""
    match = _POSTAL_CODE.match(raw)
    if not match:
        raise InvalidInput(field, "must be a postal code like 621-0806")
    return f"{match.group(1)}-{match.group(2)}"


def postal_account(value: object, field: str = "postal_account") -> str:
    """A ゆうちょ postal transfer account (振替口座), normalised to `00120-3-045678`.

    Read after NFKC, so full-width digits and hyphens are accepted; the parts may be apart by
    a hyphen or a space, or run together (`001203456789`). The canonical form keeps the
    digits as given (ASCII) and pads the 口座番号 with zeros to six digits, because lists
    print `00120-3-45678` and `00120-3-045678` for one account: one account, one spelling,
    so canonical forms compare equal exactly when the accounts are the same."""
    raw = unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else ""
    match = _POSTAL_ACCOUNT.match(raw)
    if not match or not int(match.group(3)):
        raise InvalidInput(
            field,
            "must be a postal transfer account (振替口座) like 00120-3-456789: five digits"
            " starting with 0, one digit, then an account number of up to six digits",
        )
    number = match.group(3).zfill(POSTAL_ACCOUNT_NUMBER_DIGITS)
    return f"{match.group(1)}-{match.group(2)}-{number}"


def optional_postal_account(value: object, field: str = "postal_account") -> str | None:
    """None for no account (None or blank text), else `postal_account`."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return postal_account(value, field)


def email(value: object, field: str = "email") -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.match(value.strip()):
        raise InvalidInput(field, "must be an e-mail address like name@example.jp")
    return value.strip()


def calendar_date(value: object, field: str) -> date:
    """A date (not a date and time) from `EFFECTIVE_ON_MIN` on."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput(field, "must be a date (YYYY-MM-DD)")
    if value < EFFECTIVE_ON_MIN:
        raise InvalidInput(field, f"must not be before {EFFECTIVE_ON_MIN.isoformat()}")
    return value


def effective_on(value: object, today: date, field: str = "effective_on") -> date:
    """A transaction date (取引年月日): a real date, not before 2000, not in the future."""
    value = calendar_date(value, field)
    if value > today:
        raise InvalidInput(field, f"must not be in the future (today is {today.isoformat()})")
    return value


def idempotency_key(value: object, field: str = "idempotency_key") -> str:
    """Printable ASCII without spaces, 1–200 characters (a UUID is ideal)."""
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY.match(value):
        raise InvalidInput(field, "must be 1–200 printable ASCII characters without spaces")
    if len(value) > IDEMPOTENCY_KEY_LENGTH_MAX:
        raise InvalidInput(field, f"must be at most {IDEMPOTENCY_KEY_LENGTH_MAX} characters")
    return value


_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id(value: object) -> str:
    """An id of the request that caused a write: 1–64 letters, digits and `._:-`."""
    if not isinstance(value, str) or not _REQUEST_ID.match(value):
        raise InvalidInput("request_id", "must be 1 to 64 letters, digits, '.', '_', ':' or '-'")
    return value
