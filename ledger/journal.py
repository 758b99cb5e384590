"""The double-entry mapping of every money event (BRIEF rule 3), as plain data.

Chart of accounts, per fund; `P` is a pot (a designation code, or `general`):

| account                        | kind        | Japanese            |
|--------------------------------|-------------|---------------------|
| `cash:P`                       | asset       | 現金預金            |
| `grants_payable:P`             | liability   | 未払助成金          |
| `net_assets:restricted:D`      | net assets  | 指定正味財産 (D)    |
| `net_assets:unrestricted`      | net assets  | 一般正味財産        |
| `host_fee:P`                   | expense     | 運営費              |
| `grants:P`                     | expense     | 助成金              |

Donations are credited to the net assets of their pot (restricted for a designation,
unrestricted for general money); the host fee leaves the pot's cash as an expense. A grant is
an expense and a liability when awarded; paying it settles the liability from cash. Designated
money that is spent (paid to a grantee, or taken as the host fee) is released from its
restriction (振替: restricted → unrestricted) by that amount, and restored when it comes back
(a grantee's return, a fee given back by a refund or void). So per pot `cash:P` = BRIEF rule
4's cash, `grants_payable:P` = its committed, and for a designation the restricted net
assets equal its cash.

`Fund.MovementsPosted` mirrors these events onto the fund's balances and has no postings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any
from uuid import UUID

from ledger.donation import Donation
from ledger.grant import Grant
from ledger.values import GENERAL

UNRESTRICTED = "net_assets:unrestricted"
# Events that correct the donation or grant they belong to: each points at its creation.
_CORRECTIONS = (Donation.Refunded, Donation.Voided, Grant.Reduced, Grant.Cancelled)


class Side(Enum):
    DEBIT = "debit"
    CREDIT = "credit"


@dataclass(frozen=True)
class Posting:
    account: str
    side: Side
    amount_yen: int


@dataclass(frozen=True)
class JournalEntry:
    kind: str
    fund_id: UUID
    designation: str | None
    effective_on: date
    recorded_at: datetime
    counterparty: str
    actor: str
    reason: str
    source_id: UUID
    source_version: int
    corrects_version: int | None  # the source's event this one corrects (its creation), if any
    postings: tuple[Posting, ...]

    def is_balanced(self) -> bool:
        debits = sum(p.amount_yen for p in self.postings if p.side is Side.DEBIT)
        credits = sum(p.amount_yen for p in self.postings if p.side is Side.CREDIT)
        return debits == credits and all(p.amount_yen > 0 for p in self.postings)


def _net_assets(designation: str | None) -> str:
    return UNRESTRICTED if designation is None else f"net_assets:restricted:{designation}"


def _pair(debit: str, credit: str, amount: int) -> list[Posting]:
    if amount == 0:
        return []
    return [Posting(debit, Side.DEBIT, amount), Posting(credit, Side.CREDIT, amount)]


def _postings(event: Any) -> tuple[str, list[Posting]] | None:
    pot = event.designation or GENERAL
    cash, payable = f"cash:{pot}", f"grants_payable:{pot}"
    fee, grants = f"host_fee:{pot}", f"grants:{pot}"
    assets = _net_assets(event.designation)
    amount = event.amount_yen
    designated = event.designation is not None
    if isinstance(event, Donation.Recorded):
        fee_yen = event.fee_yen
        release = _pair(assets, UNRESTRICTED, fee_yen) if designated else []
        return "donation", _pair(cash, assets, amount) + _pair(fee, cash, fee_yen) + release
    if isinstance(event, Donation.Refunded | Donation.Voided):
        if isinstance(event, Donation.Refunded):
            kind, fee_back = "refund", event.fee_returned_yen
        else:
            kind, fee_back = "void", event.fee_yen
        restore = _pair(UNRESTRICTED, assets, fee_back) if designated else []
        return kind, _pair(assets, cash, amount) + _pair(cash, fee, fee_back) + restore
    if isinstance(event, Grant.Awarded):
        return "grant_award", _pair(grants, payable, amount)
    if isinstance(event, Grant.Reduced | Grant.Cancelled):
        kind = "grant_cancellation" if isinstance(event, Grant.Cancelled) else "grant_reduction"
        return kind, _pair(payable, grants, amount)
    if isinstance(event, Grant.Disbursed):
        release = _pair(assets, UNRESTRICTED, amount) if designated else []
        return "disbursement", _pair(payable, cash, amount) + release
    if isinstance(event, Grant.Returned):
        restore = _pair(UNRESTRICTED, assets, amount) if designated else []
        return "grant_return", _pair(cash, grants, amount) + restore
    return None


def journal_entry(event: object) -> JournalEntry | None:
    """The journal entry of a money event; None for events that move no money."""
    mapped = (
        _postings(event)
        if hasattr(event, "amount_yen") and hasattr(event, "effective_on")
        else None
    )
    if mapped is None:
        return None
    kind, postings = mapped
    e: Any = event
    corrects = isinstance(event, _CORRECTIONS)
    entry = JournalEntry(
        kind=kind,
        fund_id=e.fund_id,
        designation=e.designation,
        effective_on=e.effective_on,
        recorded_at=e.timestamp,
        counterparty=e.grantee if isinstance(event, Grant.Awarded) else e.counterparty,
        actor=e.actor,
        reason=e.reason,
        source_id=e.originator_id,
        source_version=e.originator_version,
        corrects_version=1 if corrects else None,
        postings=tuple(postings),
    )
    assert entry.is_balanced(), entry
    return entry
