"""Plain data a fund statement (基金収支報告書) is rendered from.

Per pot (one per designation, plus general money) the figures of the period, which must balance:

    closing_balance   = opening_balance + donations − refunds − host_fees − disbursements + returns
    closing_committed = opening_committed + grants_awarded − grants_reduced − disbursements
    available         = closing_balance − closing_committed  (never below zero)

`refunds_yen` includes voided donations; `host_fees_yen` is the fee taken less the fee given back;
`grants_reduced_yen` includes cancellations; `restriction_releases_yen` is designated money that
left its restriction (振替 to 一般正味財産) when disbursed or taken as the host fee.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import Enum
from typing import Final

from reports.views import check_amount, check_text

POTS_MAX: Final = 500
TRANSACTIONS_MAX: Final = 100_000
FIGURE_YEN_MAX: Final = 10**15 - 1
CHAIN_HASH_PATTERN: Final = re.compile(r"[0-9a-f]{64}")


class TransactionKind(Enum):
    DONATION = "donation"
    REFUND = "refund"
    VOID = "void"
    GRANT_AWARDED = "grant_awarded"
    GRANT_REDUCED = "grant_reduced"
    GRANT_CANCELLED = "grant_cancelled"
    DISBURSEMENT = "disbursement"
    RETURN = "return"

    @property
    def label(self) -> str:
        return _KIND_LABELS[self]

    @property
    def gives_fee_back(self) -> bool:
        """Its host fee is fee given back (printed △), not fee taken."""
        return self in (TransactionKind.REFUND, TransactionKind.VOID)


_KIND_LABELS: Final = {
    TransactionKind.DONATION: "寄附",
    TransactionKind.REFUND: "返金",
    TransactionKind.VOID: "寄附取消",
    TransactionKind.GRANT_AWARDED: "助成決定",
    TransactionKind.GRANT_REDUCED: "助成減額",
    TransactionKind.GRANT_CANCELLED: "助成取消",
    TransactionKind.DISBURSEMENT: "交付",
    TransactionKind.RETURN: "返還",
}


@dataclass(frozen=True)
class PotFigures:
    designation_name: str | None  # None: general money (一般)
    opening_balance_yen: int
    donations_yen: int
    refunds_yen: int
    host_fees_yen: int
    disbursements_yen: int
    returns_yen: int
    closing_balance_yen: int
    opening_committed_yen: int
    grants_awarded_yen: int
    grants_reduced_yen: int
    closing_committed_yen: int
    restriction_releases_yen: int

    def __post_init__(self) -> None:
        if self.designation_name is not None:
            check_text("designation_name", self.designation_name)
        for field in fields(self):
            if field.name.endswith("_yen"):
                amount = getattr(self, field.name)
                check_amount(field.name, amount, minimum=0, maximum=FIGURE_YEN_MAX)
        self._check_balances()

    def _check_balances(self) -> None:
        closing = (
            self.opening_balance_yen
            + self.donations_yen
            - self.refunds_yen
            - self.host_fees_yen
            - self.disbursements_yen
            + self.returns_yen
        )
        committed = (
            self.opening_committed_yen
            + self.grants_awarded_yen
            - self.grants_reduced_yen
            - self.disbursements_yen
        )
        pot = self.designation_name or "general"
        if closing != self.closing_balance_yen:
            raise ValueError(f"{pot}: closing balance {self.closing_balance_yen:,} != {closing:,}")
        if committed != self.closing_committed_yen:
            raise ValueError(
                f"{pot}: closing committed {self.closing_committed_yen:,} != {committed:,}"
            )
        if self.available_yen < 0:
            raise ValueError(f"{pot}: committed exceeds the closing balance")

    @property
    def available_yen(self) -> int:
        return self.closing_balance_yen - self.closing_committed_yen

    @classmethod
    def total_of(cls, pots: tuple[PotFigures, ...]) -> PotFigures:
        sums = {
            field.name: sum(getattr(pot, field.name) for pot in pots)
            for field in fields(cls)
            if field.name.endswith("_yen")
        }
        return cls(designation_name="合計", **sums)


@dataclass(frozen=True)
class StatementTransaction:
    position: int  # the event's position in the ledger's log
    effective_on: date  # 取引年月日
    kind: TransactionKind
    counterparty: str  # the donor, or the grantee
    designation_name: str | None
    amount_yen: int
    host_fee_yen: int = 0  # taken (a donation) or given back (a refund or void)

    def __post_init__(self) -> None:
        if isinstance(self.position, bool) or not isinstance(self.position, int):
            raise TypeError("position must be an int")
        check_text("counterparty", self.counterparty)
        if self.designation_name is not None:
            check_text("designation_name", self.designation_name)
        check_amount("amount_yen", self.amount_yen, maximum=FIGURE_YEN_MAX)
        check_amount("host_fee_yen", self.host_fee_yen, minimum=0, maximum=self.amount_yen)


class PeriodClosing(Enum):
    """How much of a statement's period was closed when it was made."""

    OPEN = "open"  # a later entry may still change any of its figures
    IN_PART = "in_part"  # those dated after `books_closed_through` may still change
    WHOLLY = "wholly"  # its figures are final


@dataclass(frozen=True)
class StatementView:
    """A fund's statement for a period (a 年度, 1 April – 31 March, by default)."""

    fund_name: str
    issuer_name: str
    period_from: date
    period_to: date
    issued_on: date
    pots: tuple[PotFigures, ...]
    transactions: tuple[StatementTransaction, ...]
    first_position: int  # the events it covers, in the ledger's log
    last_position: int
    chain_head_hash: str  # the hash chain at last_position
    # Through which day the fund's books were closed at last_position (BRIEF rule 7), None
    # while none were: nothing can be recorded on or before that day any more.
    books_closed_through: date | None = None

    def __post_init__(self) -> None:
        check_text("fund_name", self.fund_name)
        check_text("issuer_name", self.issuer_name)
        if self.period_from > self.period_to:
            raise ValueError("the period ends before it starts")
        if not 1 <= len(self.pots) <= POTS_MAX:
            raise ValueError(f"a statement has 1 to {POTS_MAX} pots")
        names = [pot.designation_name for pot in self.pots]
        if len(set(names)) != len(names):
            raise ValueError("each designation appears once")
        if len(self.transactions) > TRANSACTIONS_MAX:
            raise ValueError(f"a statement lists at most {TRANSACTIONS_MAX:,} transactions")
        if not 1 <= self.first_position <= self.last_position:
            raise ValueError("positions must satisfy 1 <= first_position <= last_position")
        outside = [
            t.position
            for t in self.transactions
            if not self.first_position <= t.position <= self.last_position
        ]
        if outside:
            raise ValueError(f"transaction at position {outside[0]} is outside the range")
        if not CHAIN_HASH_PATTERN.fullmatch(self.chain_head_hash):
            raise ValueError("chain_head_hash must be 64 lower-case hex digits")
        closed = self.books_closed_through
        if closed is not None and (isinstance(closed, datetime) or not isinstance(closed, date)):
            raise TypeError("books_closed_through must be a date or None")

    @property
    def period_closing(self) -> PeriodClosing:
        """Whether the period's figures are final: its books closed through its last day."""
        closed = self.books_closed_through
        if closed is None or closed < self.period_from:
            return PeriodClosing.OPEN
        if closed < self.period_to:
            return PeriodClosing.IN_PART
        return PeriodClosing.WHOLLY

    @property
    def total(self) -> PotFigures:
        return PotFigures.total_of(self.pots)
