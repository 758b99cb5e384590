"""Plain data the receipts are rendered from. The caller fills them from the ledger's read
models and from configuration (the foundation's name, address, representative and certification
statement are never written into the renderers).

Views check what would make a wrong document (an amount that is not whole yen, a donation
outside the year of an annual receipt, a malformed receipt number) and raise `ValueError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Final

RECEIPT_NUMBER_PATTERN: Final = re.compile(r"[0-9]{4}-[0-9]{6}(-[0-9]{1,3})?")
TEXT_LENGTH_MAX: Final = 2_000  # any one name, address or statement
LINES_MAX: Final = 10_000  # donations on one annual receipt
AMOUNT_YEN_MAX: Final = 10_000_000_000  # the ledger's bound on one amount


class DonorKind(Enum):
    INDIVIDUAL = "individual"  # addressed with 様
    ORGANISATION = "organisation"  # addressed with 御中

    @property
    def honorific(self) -> str:
        return "様" if self is DonorKind.INDIVIDUAL else "御中"


def check_text(field: str, value: str, *, required: bool = True) -> None:
    if not isinstance(value, str):
        raise TypeError(f"{field} must be a str, got {type(value).__name__}")
    if required and not value.strip():
        raise ValueError(f"{field} must not be empty")
    if len(value) > TEXT_LENGTH_MAX:
        raise ValueError(f"{field} is longer than {TEXT_LENGTH_MAX} characters")


def check_amount(field: str, amount_yen: int, *, minimum: int = 1, maximum: int) -> None:
    if isinstance(amount_yen, bool) or not isinstance(amount_yen, int):
        raise TypeError(f"{field} must be an int (yen), got {type(amount_yen).__name__}")
    if not minimum <= amount_yen <= maximum:
        raise ValueError(f"{field} must be between {minimum} and {maximum:,} yen: {amount_yen:,}")


def check_receipt_number(field: str, value: str) -> None:
    if not RECEIPT_NUMBER_PATTERN.fullmatch(value):
        raise ValueError(f"{field} must look like 2026-000123 or 2026-000123-2, got {value!r}")


@dataclass(frozen=True)
class DonorView:
    kind: DonorKind
    name: str
    postal_code: str  # "621-0806"; may be empty
    address: str

    def __post_init__(self) -> None:
        check_text("donor name", self.name)
        check_text("donor postal code", self.postal_code, required=False)
        check_text("donor address", self.address, required=False)


@dataclass(frozen=True)
class IssuerView:
    """The host foundation, as its configuration says."""

    name: str  # 公益財団法人 京都地域創造基金
    postal_code: str
    address: str
    representative: str  # 理事長 …
    certification_statement: str  # its 公益認定 and what it means for 寄附金控除

    def __post_init__(self) -> None:
        for field in ("name", "address", "representative", "certification_statement"):
            check_text(f"issuer {field}", getattr(self, field))
        check_text("issuer postal code", self.postal_code, required=False)


@dataclass(frozen=True)
class ReceiptView:
    """One 寄附金受領証明書 for one donation."""

    receipt_number: str  # 2026-000123, or 2026-000123-2 for a reissue after a refund
    issued_on: date
    donor: DonorView
    amount_yen: int
    received_on: date  # 受領年月日: the donation's effective date
    fund_name: str
    designation_name: str | None  # None: general money (一般)
    issuer: IssuerView
    reissue: bool = False  # printed 再発行 (a reprint under its own number, or a new suffix)
    replaces_receipt_number: str | None = None  # the voided receipt this one replaces

    def __post_init__(self) -> None:
        check_receipt_number("receipt_number", self.receipt_number)
        check_amount("amount_yen", self.amount_yen, maximum=AMOUNT_YEN_MAX)
        check_text("fund_name", self.fund_name)
        if self.designation_name is not None:
            check_text("designation_name", self.designation_name)
        if self.replaces_receipt_number is not None:
            check_receipt_number("replaces_receipt_number", self.replaces_receipt_number)
            if not self.reissue:
                raise ValueError("a receipt that replaces another is a reissue (reissue=True)")
        if self.received_on > self.issued_on:
            raise ValueError("a receipt cannot be issued before the donation was received")


@dataclass(frozen=True)
class AnnualReceiptLine:
    received_on: date
    fund_name: str
    designation_name: str | None
    amount_yen: int

    def __post_init__(self) -> None:
        check_amount("amount_yen", self.amount_yen, maximum=AMOUNT_YEN_MAX)
        check_text("fund_name", self.fund_name)
        if self.designation_name is not None:
            check_text("designation_name", self.designation_name)


@dataclass(frozen=True)
class AnnualReceiptView:
    """One 年間寄附金受領証明書: every donation of one donor in one calendar year."""

    receipt_number: str
    issued_on: date
    donor: DonorView
    year: int  # the calendar year (tax year), 1 January – 31 December
    lines: tuple[AnnualReceiptLine, ...]
    issuer: IssuerView
    reissue: bool = False
    replaces_receipt_number: str | None = None

    def __post_init__(self) -> None:
        check_receipt_number("receipt_number", self.receipt_number)
        if not 1 <= len(self.lines) <= LINES_MAX:
            raise ValueError(f"an annual receipt lists 1 to {LINES_MAX} donations")
        outside = [line for line in self.lines if line.received_on.year != self.year]
        if outside:
            raise ValueError(f"{outside[0].received_on.isoformat()} is not in {self.year}")
        if max(line.received_on for line in self.lines) > self.issued_on:
            raise ValueError("a receipt cannot be issued before the donation was received")
        if self.replaces_receipt_number is not None:
            check_receipt_number("replaces_receipt_number", self.replaces_receipt_number)
            if not self.reissue:
                raise ValueError("a receipt that replaces another is a reissue (reissue=True)")

    @property
    def total_yen(self) -> int:
        return sum(line.amount_yen for line in self.lines)
