"""The events that led to a figure or a record: the audit trail in readable form.

- `fund_history`: every event of one fund that counts for its balances by effective date
  `as_of` (its opening, designations, fee rates in force by then, and each money event dated
  on or before it), in log order, each with the pot's cash and committed money after it. The
  last figures are the fund's balances as of that date (`fund-ledger balances --as-of`).
- `record_history`: every event of a donation, a grant or a donor (a donor's own events and
  those of each of its donations), in log order; for a donation, also the events of every
  receipt that lists it (issued, reprinted, voided), and for a donor, of all its receipts.

Each item says when it was recorded, its effective date, who recorded it and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

from api.audit.entries import MONEY_EVENTS, PAGE_SIZE
from ledger.donation import Donation
from ledger.donor import Donor
from ledger.errors import NotFound
from ledger.fund import Fund
from ledger.journal import JournalEntry, Side, journal_entry
from ledger.money import format_yen
from ledger.receipt import DonorReceipts, Receipt, donor_receipts_id, receipt_id
from ledger.service import FundLedger
from ledger.store import ChainedApplicationRecorder
from ledger.values import GENERAL

_FUND_TOPICS = [
    get_topic(cls)
    for cls in (
        Fund.Opened,
        Fund.FeeRateChanged,
        Fund.DesignationAdded,
        Fund.BooksClosed,
        *MONEY_EVENTS,
    )
]
_KINDS: dict[str, str] = {"Donation": "donation", "Grant": "grant", "Donor": "donor"}


@dataclass(frozen=True)
class HistoryItem:
    position: int
    recorded_at: datetime
    effective_on: date | None
    type: str  # `Donation.Recorded`
    aggregate_id: UUID
    version: int
    actor: str
    reason: str
    summary: str
    amounts_yen: dict[str, int] = field(default_factory=dict)
    pot: str | None = None  # fund history: the pot the event moved, and its figures after
    pot_after_yen: dict[str, int] = field(default_factory=dict)


def fund_history(ledger: FundLedger, fund_id: UUID, as_of: date) -> list[HistoryItem]:
    items: list[HistoryItem] = []
    figures: dict[str, dict[str, int]] = {}
    for position, event in _walk(ledger, _FUND_TOPICS):
        entry = journal_entry(event)
        if entry is None:
            if event.originator_id != fund_id or not _configures_by(event, as_of):
                continue
            opened = _pot_opened(event)
            if opened is None:
                items.append(_item(position, event, None))
                continue
            figures[opened] = {"cash_yen": 0, "committed_yen": 0}
            items.append(
                _item(position, event, None, pot=opened, pot_after_yen=dict(figures[opened]))
            )
            continue
        if entry.fund_id != fund_id or entry.effective_on > as_of:
            continue
        pot = entry.designation or GENERAL
        after = figures.setdefault(pot, {"cash_yen": 0, "committed_yen": 0})
        after["cash_yen"] += _net(entry, f"cash:{pot}")
        after["committed_yen"] -= _net(entry, f"grants_payable:{pot}")
        items.append(_item(position, event, entry, pot=pot, pot_after_yen=dict(after)))
    if not items:
        raise NotFound(f"no fund with id {fund_id}")
    return items


def record_history(ledger: FundLedger, kind: str, record_id: UUID) -> list[HistoryItem]:
    """The events of a donation, a grant or a donor (`kind`), in log order."""
    aggregate_ids = [record_id]
    if kind == "donor":
        aggregate_ids += _donations_of(ledger, record_id)
        aggregate_ids += _receipts_of(ledger, record_id, donation_id=None)
    if kind == "donation":
        donation = ledger.get(record_id)
        if isinstance(donation, Donation):
            aggregate_ids += _receipts_of(ledger, donation.donor_id, donation_id=record_id)
    recorder = ledger.recorder
    assert isinstance(recorder, ChainedApplicationRecorder), "the ledger refuses any other"
    items = []
    for aggregate_id in aggregate_ids:
        for stored in ledger.events.get(aggregate_id):
            event = stored
            assert isinstance(event, DomainEvent), "every ledger event is an aggregate event"
            if aggregate_id == record_id and _kind_of(event) != kind:
                raise NotFound(f"no {kind} with id {record_id}")
            position = recorder.select_position(aggregate_id, event.originator_version)
            assert position is not None, "an event just read is stored"
            items.append(_item(position, event, journal_entry(event)))
    if not items:
        raise NotFound(f"no {kind} with id {record_id}")
    return sorted(items, key=lambda item: item.position)


def _kind_of(event: object) -> str | None:
    """`donation` for an event of a Donation, and so on; None for any other."""
    return _KINDS.get(type(event).__qualname__.partition(".")[0])


def _donations_of(ledger: FundLedger, donor_id: UUID) -> list[UUID]:
    topic = get_topic(Donation.Recorded)
    return [
        event.originator_id
        for _, event in _walk(ledger, [topic])
        if isinstance(event, Donation.Recorded) and event.donor_id == donor_id
    ]


def _receipts_of(ledger: FundLedger, donor_id: UUID, donation_id: UUID | None) -> list[UUID]:
    """The ids of the donor's receipts (those that list `donation_id`, if given)."""
    index = ledger.get(donor_receipts_id(donor_id))
    if not isinstance(index, DonorReceipts):
        return []
    return [
        receipt_id(number)
        for number, receipt in index.receipts.items()
        if donation_id is None or donation_id.hex in receipt["donation_ids"]
    ]


def _walk(ledger: FundLedger, topics: list[str]) -> Iterator[tuple[int, DomainEvent]]:
    last = ledger.recorder.max_notification_id() or 0
    after = 0
    while after < last:
        page = ledger.recorder.select_notifications(
            after, PAGE_SIZE, stop=last, topics=topics, inclusive_of_start=False
        )
        for notification in page:
            event = ledger.mapper.to_domain_event(notification)
            assert isinstance(event, DomainEvent), "every ledger event is an aggregate event"
            yield notification.id, event
        if len(page) < PAGE_SIZE:
            return
        after = page[-1].id


def _pot_opened(event: DomainEvent) -> str | None:
    if isinstance(event, Fund.Opened):
        return GENERAL
    if isinstance(event, Fund.DesignationAdded):
        return event.designation
    return None


def _configures_by(event: DomainEvent, as_of: date) -> bool:
    """A fee rate counts from its first day, a closing of the books from its last; an opening
    and a designation always count."""
    if isinstance(event, Fund.FeeRateChanged):
        return event.effective_from <= as_of
    if isinstance(event, Fund.BooksClosed):
        return event.closed_through <= as_of
    return True


def _net(entry: JournalEntry, account: str) -> int:
    return sum(
        p.amount_yen if p.side is Side.DEBIT else -p.amount_yen
        for p in entry.postings
        if p.account == account
    )


def _item(
    position: int, event: DomainEvent, entry: JournalEntry | None, **figures: Any
) -> HistoryItem:
    e: Any = event
    summary, amounts = _summary(event, entry)
    return HistoryItem(
        position=position,
        recorded_at=event.timestamp,
        effective_on=(
            getattr(e, "effective_on", None)
            or getattr(e, "effective_from", None)
            or getattr(e, "closed_through", None)
        ),
        type=type(event).__qualname__,
        aggregate_id=event.originator_id,
        version=event.originator_version,
        actor=getattr(e, "actor", ""),
        reason=getattr(e, "reason", ""),
        summary=summary,
        amounts_yen=amounts,
        **figures,
    )


def _summary(event: DomainEvent, entry: JournalEntry | None) -> tuple[str, dict[str, int]]:
    e: Any = event
    if entry is not None:
        amounts = {
            name: getattr(e, name)
            for name in ("amount_yen", "fee_yen", "fee_returned_yen")
            if isinstance(getattr(e, name, None), int)
        }
        money = " ".join(
            f"{name.removesuffix('_yen').replace('_', ' ')} {format_yen(value)}"
            for name, value in amounts.items()
        )
        pot = entry.designation or GENERAL
        return f"{entry.kind} {money}, pot {pot}, counterparty {entry.counterparty}", amounts
    if isinstance(event, Fund.Opened):
        return f"fund {e.name!r} opened at fee rate {e.fee_rate_bp} bp", {}
    if isinstance(event, Fund.FeeRateChanged):
        return f"fee rate {e.fee_rate_bp} bp from {e.effective_from}", {}
    if isinstance(event, Fund.DesignationAdded):
        return f"designation {e.designation} ({e.name}) added", {}
    if isinstance(event, Fund.BooksClosed):
        return f"books closed through {e.closed_through}", {}
    if isinstance(event, Donor.Registered):
        return f"donor {e.name} ({e.kind}) registered", {}
    if isinstance(event, Receipt.Issued):
        return f"receipt {e.number} ({e.kind}) issued, sha256 {e.sha256[:12]}…", {}
    if isinstance(event, Receipt.Reprinted):
        return f"receipt reprinted (再発行), sha256 {e.sha256[:12]}…", {}
    if isinstance(event, Receipt.Voided):
        return "receipt voided", {}
    if isinstance(event, Donor.DetailsCorrected):
        changed = ", ".join(f"{name} → {value}" for name, value in e.changes.items())
        return f"donor details corrected: {changed}", {}
    return type(event).__qualname__, {}
