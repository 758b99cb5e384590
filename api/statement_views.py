"""A fund's statement (基金収支報告書) built from the ledger's events, and its verification.

The figures come from the log itself, not from a read model: every money event of the fund
at a position up to `last_position` (the log's head when the statement is made), taken by
its effective date (取引年月日) — before the period into the opening figures, within it into
the period's flows and the list of transactions, after it not at all. A late entry dated in
a closed period changes a statement made later, never one made before (its `last_position`
excludes it), so `api.statement_verify` recomputes a statement exactly from its own range.

`first_position` is the fund's opening event (the opening balance counts everything since);
`chain_head_hash` is the hash chain's value at `last_position`, and `books_closed_through` the
day through which the fund's books were closed there: the statement says whether its figures
are final.

Per pot (designation, or general money), as `reports.statement_view` lays out:
- `refunds_yen`: refunds and voids (their amounts). `host_fees_yen`: the fee taken less the
  fee given back by refunds and voids in the period; should a period give back more fee
  than it takes, the excess is netted from `refunds_yen` instead, so that both stay
  non-negative and `closing = opening + donations − refunds − host fees − disbursements +
  returns` holds exactly.
- `restriction_releases_yen` (振替, designations only): designated money released in the
  period — the host fee taken and the disbursements; money coming back (a fee given back, a
  grantee's return) shows in those rows and is not deducted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from api.foundation import FoundationSettings
from ledger.donation import Donation
from ledger.errors import InvalidInput, NotFound
from ledger.fund import Fund
from ledger.grant import Grant
from ledger.service import FundLedger
from ledger.store import ChainedApplicationRecorder
from reports import (
    PotFigures,
    StatementTransaction,
    StatementView,
    TransactionKind,
    render_statement,
)

PAGE_SIZE = 1_000
PERIOD_DAYS_MAX = 366 * 10
_KINDS: dict[type, TransactionKind] = {
    Donation.Recorded: TransactionKind.DONATION,
    Donation.Refunded: TransactionKind.REFUND,
    Donation.Voided: TransactionKind.VOID,
    Grant.Awarded: TransactionKind.GRANT_AWARDED,
    Grant.Reduced: TransactionKind.GRANT_REDUCED,
    Grant.Cancelled: TransactionKind.GRANT_CANCELLED,
    Grant.Disbursed: TransactionKind.DISBURSEMENT,
    Grant.Returned: TransactionKind.RETURN,
}
_FUND_EVENTS = (Fund.Opened, Fund.DesignationAdded, Fund.BooksClosed)
_TOPICS = [get_topic(cls) for cls in (*_FUND_EVENTS, *_KINDS)]


def fiscal_year(year: int) -> tuple[date, date]:
    """年度 `year`: 1 April `year` – 31 March `year + 1`."""
    if not 2000 <= year <= 9998:
        raise InvalidInput("year", "must be a fiscal year from 2000 to 9998")
    return date(year, 4, 1), date(year + 1, 3, 31)


def fiscal_year_of(day: date) -> int:
    """The 年度 that `day` falls in (2026 for 2026-04-01 .. 2027-03-31)."""
    return day.year if day.month >= 4 else day.year - 1


@dataclass
class _Pot:
    opening_cash: int = 0
    opening_committed: int = 0
    flows: dict[str, int] = field(default_factory=dict)
    fee_back: int = 0

    def add(self, name: str, amount: int) -> None:
        self.flows[name] = self.flows.get(name, 0) + amount

    def figures(self, designation_name: str | None) -> PotFigures:
        f = self.flows.get
        fee_taken = f("host_fees_yen", 0)
        host_fees = max(fee_taken - self.fee_back, 0)
        refunds = f("refunds_yen", 0) - max(self.fee_back - fee_taken, 0)
        flows = {
            "donations_yen": f("donations_yen", 0),
            "refunds_yen": refunds,
            "host_fees_yen": host_fees,
            "disbursements_yen": f("disbursements_yen", 0),
            "returns_yen": f("returns_yen", 0),
        }
        closing = (
            self.opening_cash
            + flows["donations_yen"]
            - refunds
            - host_fees
            - flows["disbursements_yen"]
            + flows["returns_yen"]
        )
        awarded, reduced = f("grants_awarded_yen", 0), f("grants_reduced_yen", 0)
        return PotFigures(
            designation_name=designation_name,
            opening_balance_yen=self.opening_cash,
            closing_balance_yen=closing,
            opening_committed_yen=self.opening_committed,
            grants_awarded_yen=awarded,
            grants_reduced_yen=reduced,
            closing_committed_yen=self.opening_committed
            + awarded
            - reduced
            - flows["disbursements_yen"],
            restriction_releases_yen=f("restriction_releases_yen", 0),
            **flows,
        )


def _opening(pot: _Pot, event: Any) -> None:
    """Fold an event dated before the period into the pot's opening figures."""
    amount = event.amount_yen
    if isinstance(event, Donation.Recorded):
        pot.opening_cash += amount - event.fee_yen
    elif isinstance(event, Donation.Refunded):
        pot.opening_cash -= amount - event.fee_returned_yen
    elif isinstance(event, Donation.Voided):
        pot.opening_cash -= amount - event.fee_yen
    elif isinstance(event, Grant.Awarded):
        pot.opening_committed += amount
    elif isinstance(event, Grant.Reduced | Grant.Cancelled):
        pot.opening_committed -= amount
    elif isinstance(event, Grant.Disbursed):
        pot.opening_cash -= amount
        pot.opening_committed -= amount
    elif isinstance(event, Grant.Returned):
        pot.opening_cash += amount


def _flow(pot: _Pot, event: Any) -> int:
    """Fold an event dated in the period into the pot's flows; the host fee it shows."""
    amount, designated = event.amount_yen, event.designation is not None
    if isinstance(event, Donation.Recorded):
        pot.add("donations_yen", amount)
        pot.add("host_fees_yen", event.fee_yen)
        pot.add("restriction_releases_yen", event.fee_yen if designated else 0)
        return int(event.fee_yen)
    if isinstance(event, Donation.Refunded | Donation.Voided):
        fee_back = event.fee_returned_yen if isinstance(event, Donation.Refunded) else event.fee_yen
        pot.add("refunds_yen", amount)
        pot.fee_back += fee_back
        return int(fee_back)
    if isinstance(event, Grant.Awarded):
        pot.add("grants_awarded_yen", amount)
    elif isinstance(event, Grant.Reduced | Grant.Cancelled):
        pot.add("grants_reduced_yen", amount)
    elif isinstance(event, Grant.Disbursed):
        pot.add("disbursements_yen", amount)
        pot.add("restriction_releases_yen", amount if designated else 0)
    elif isinstance(event, Grant.Returned):
        pot.add("returns_yen", amount)
    return 0


@dataclass
class _Fold:
    fund_id: UUID
    period_from: date
    period_to: date
    fund_name: str | None = None
    first_position: int | None = None
    books_closed_through: date | None = None
    designations: dict[str | None, str | None] = field(default_factory=lambda: {None: None})
    pots: dict[str | None, _Pot] = field(default_factory=lambda: {None: _Pot()})
    transactions: list[StatementTransaction] = field(default_factory=list)

    def apply(self, event: Any, position: int) -> None:
        if isinstance(event, _FUND_EVENTS):
            if event.originator_id == self.fund_id:
                self._configure(event, position)
            return
        if event.fund_id != self.fund_id or event.effective_on > self.period_to:
            return
        pot = self.pots[event.designation]
        if event.effective_on < self.period_from:
            _opening(pot, event)
            return
        fee = _flow(pot, event)
        counterparty = event.grantee if isinstance(event, Grant.Awarded) else event.counterparty
        self.transactions.append(
            StatementTransaction(
                position=position,
                effective_on=event.effective_on,
                kind=_KINDS[type(event)],
                counterparty=counterparty,
                designation_name=self.designations[event.designation],
                amount_yen=event.amount_yen,
                host_fee_yen=fee,
            )
        )

    def _configure(self, event: Any, position: int) -> None:
        if isinstance(event, Fund.Opened):
            self.fund_name, self.first_position = event.name, position
        elif isinstance(event, Fund.BooksClosed):
            self.books_closed_through = event.closed_through
        else:
            self.designations[event.designation] = event.name
            self.pots[event.designation] = _Pot()


def statement_view(
    ledger: FundLedger,
    fund_id: UUID,
    period_from: date,
    period_to: date,
    *,
    issued_on: date,
    issuer_name: str,
    last_position: int | None = None,
) -> StatementView:
    """The fund's statement for the period, from the log up to `last_position` (its head)."""
    if period_from > period_to:
        raise InvalidInput("period", "ends before it starts")
    if (period_to - period_from).days > PERIOD_DAYS_MAX:
        raise InvalidInput("period", "is longer than ten years")
    recorder = ledger.recorder
    last = (recorder.max_notification_id() or 0) if last_position is None else last_position
    fold = _Fold(fund_id, period_from, period_to)
    start = 1
    while start <= last:
        page = recorder.select_notifications(start, PAGE_SIZE, stop=last, topics=_TOPICS)
        for notification in page:
            fold.apply(ledger.mapper.to_domain_event(notification), notification.id)
        if len(page) < PAGE_SIZE:
            break
        start = page[-1].id + 1
    if fold.fund_name is None or fold.first_position is None:
        raise NotFound(f"no fund with id {fund_id} at position {last}")
    return StatementView(
        fund_name=fold.fund_name,
        issuer_name=issuer_name,
        period_from=period_from,
        period_to=period_to,
        issued_on=issued_on,
        pots=tuple(pot.figures(fold.designations[code]) for code, pot in fold.pots.items()),
        transactions=tuple(fold.transactions),
        first_position=fold.first_position,
        last_position=last,
        chain_head_hash=chain_hash_at(ledger, last),
        books_closed_through=fold.books_closed_through,
    )


def statement_pdf(ledger: FundLedger, fund_id: UUID, period_from: date, period_to: date) -> bytes:
    """The fund's statement for the period as PDF bytes, made now, by the foundation."""
    view = statement_view(
        ledger,
        fund_id,
        period_from,
        period_to,
        issued_on=ledger.today(),
        issuer_name=FoundationSettings().name,
    )
    return render_statement(view)


def chain_hash_at(ledger: FundLedger, position: int) -> str:
    recorder = ledger.recorder
    assert isinstance(recorder, ChainedApplicationRecorder), type(recorder)
    rows = recorder.select_chain_rows(position - 1, 1) if position >= 1 else []
    if not rows or rows[0][0] != position:
        raise NotFound(f"the log has no event at position {position}")
    return rows[0][1]
