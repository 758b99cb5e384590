"""One pass over the log for a calendar year's annual receipts: the funds, the donors (as
corrected), each donation of the year with what was refunded of it, and the annual receipts
already issued for the year (valid or voided)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.donation import Donation
from ledger.donor import Donor
from ledger.fund import Fund
from ledger.receipt import ANNUAL, DonorReceipts, ReceiptLine
from ledger.service import FundLedger

PAGE_SIZE = 1_000
_TOPICS = [
    get_topic(cls)
    for cls in (
        Fund.Opened,
        Fund.DesignationAdded,
        Donor.Registered,
        Donor.DetailsCorrected,
        Donation.Recorded,
        Donation.Refunded,
        Donation.Voided,
        DonorReceipts.Started,
        DonorReceipts.Added,
        DonorReceipts.Withdrawn,
    )
]


@dataclass
class YearScan:
    """What the log says about one calendar year's donors, in one pass."""

    year: int
    funds: dict[UUID, tuple[str, dict[str, str]]] = field(default_factory=dict)
    donors: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    donations: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    index_donor: dict[UUID, UUID] = field(default_factory=dict)
    annuals: dict[UUID, dict[str, bool]] = field(default_factory=dict)  # donor → number → valid

    def apply(self, event: Any) -> None:
        if isinstance(event, Fund.Opened):
            self.funds[event.originator_id] = (event.name, {})
        elif isinstance(event, Fund.DesignationAdded):
            self.funds[event.originator_id][1][event.designation] = event.name
        elif isinstance(event, Donor.Registered):
            self.donors[event.originator_id] = {
                k: getattr(event, k) for k in ("kind", "name", "postal_code", "address")
            }
        elif isinstance(event, Donor.DetailsCorrected):
            self.donors[event.originator_id].update(event.changes)
        elif isinstance(event, Donation.Recorded):
            if event.effective_on.year == self.year:
                self.donations[event.originator_id] = {"event": event, "refunded": 0}
        elif isinstance(event, Donation.Refunded | Donation.Voided):
            self._correct(event)
        else:
            self._receipts(event)

    def _correct(self, event: Any) -> None:
        donation = self.donations.get(event.originator_id)
        if donation is not None:
            voided = isinstance(event, Donation.Voided)
            donation["refunded"] += donation["event"].amount_yen if voided else event.amount_yen

    def _receipts(self, event: Any) -> None:
        if isinstance(event, DonorReceipts.Started):
            self.index_donor[event.originator_id] = event.donor_id
            return
        donor_id = self.index_donor[event.originator_id]
        annuals = self.annuals.setdefault(donor_id, {})
        if isinstance(event, DonorReceipts.Added):
            if event.kind == ANNUAL and event.tax_year == self.year:
                annuals[event.number] = True
        elif event.number in annuals:
            annuals[event.number] = False

    def lines_by_donor(self) -> dict[UUID, list[ReceiptLine]]:
        """Each donor's donations of the year, net of refunds, as the ledger will list them."""
        lines: dict[UUID, list[ReceiptLine]] = {}
        for donation_id, donation in self.donations.items():
            recorded = donation["event"]
            net = recorded.amount_yen - donation["refunded"]
            if net > 0:
                fund_name, designations = self.funds[recorded.fund_id]
                designation = recorded.designation
                line = ReceiptLine(
                    donation_id,
                    recorded.effective_on,
                    fund_name,
                    None if designation is None else designations[designation],
                    net,
                )
                lines.setdefault(recorded.donor_id, []).append(line)
        for donor_lines in lines.values():
            donor_lines.sort(key=lambda line: (line.received_on, line.donation_id.hex))
        return lines


def scan_year(ledger: FundLedger, year: int) -> YearScan:
    scan = YearScan(year)
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start, PAGE_SIZE, topics=_TOPICS)
        for notification in page:
            scan.apply(ledger.mapper.to_domain_event(notification))
        if len(page) < PAGE_SIZE:
            return scan
        start = page[-1].id + 1
