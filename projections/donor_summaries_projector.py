"""The projector of the donor summaries (see `projections.donor_summaries` for the read model).

A page of events is folded in memory, in log order. The donors and donations it refers to are
read once (two SELECTs) to check that they exist and to find a refund's or void's donation;
periods are never read: the page's changes to each period are summed (totals, and the earliest
and latest date of its new donations) and written by one upsert that adds them to the stored
row or inserts it. New rows are inserted in bulk and changed ones updated in bulk, per table.

A void takes a date away from its periods, which a running minimum or maximum cannot undo:
after the page is written, the first and last dates of every period that saw a void are
recomputed from its donations not voided (one SELECT for the page). That equals recomputing at
each void, since later donations only widen the range recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from ledger.donation import Donation
from ledger.donor import Donor
from projections import bulk
from projections.batch import EventNotApplicable, PositionedEvent, chunks
from projections.donor_summaries import (
    DONOR_DETAILS,
    NAME,
    TOTAL_COLUMNS,
    Basis,
    donor_summary_donations,
    donor_summary_donors,
    donor_summary_periods,
)

PeriodKey = tuple[UUID, UUID, str, int]  # donor, fund, basis, year
Row = dict[str, Any]
_KEY_COLUMNS = ("donor_id", "fund_id", "basis", "year")
_DATES = ("first_donated_on", "last_donated_on")
_NO_CHANGES: Row = {**dict.fromkeys(TOTAL_COLUMNS, 0), **dict.fromkeys(_DATES)}
# Each period's basis and year, looked up once (a rebuild asks for every donation's).
_CALENDAR, _CALENDAR_YEAR_OF = Basis.CALENDAR.value, Basis.CALENDAR.year_of
_FISCAL, _FISCAL_YEAR_OF = Basis.FISCAL.value, Basis.FISCAL.year_of


class DonorSummariesProjector:
    name = NAME
    tables: Sequence[sa.Table] = (
        donor_summary_donors,
        donor_summary_donations,
        donor_summary_periods,
    )

    def apply_batch(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        fold = _Fold(connection, events)
        for event, position in events:
            fold.apply(event, position)
        fold.write(connection)


class _Fold:
    """The donors and donations a page refers to, and what it changes."""

    def __init__(self, connection: sa.Connection, events: Sequence[PositionedEvent]) -> None:
        donor_ids = {
            e.donor_id if isinstance(e, Donation.Recorded) else e.originator_id
            for e, _ in events
            if isinstance(e, (Donation.Recorded, Donor.DetailsCorrected))
        }
        corrected_ids = {
            e.originator_id
            for e, _ in events
            if isinstance(e, (Donation.Refunded, Donation.Voided))
        }
        self.donors = _rows_by_id(connection, donor_summary_donors, "donor_id", donor_ids)
        self.donations = _rows_by_id(
            connection, donor_summary_donations, "donation_id", corrected_ids
        )
        self.known_periods = _existing_periods(
            connection, {k for d in self.donations.values() for k in _period_keys(d)}
        )
        self.new_donors: set[UUID] = set()
        self.corrected_donors: set[UUID] = set()
        self.new_donations: set[UUID] = set()
        self.voided_donations: set[UUID] = set()  # existing rows voided by the page
        self.period_changes: dict[PeriodKey, Row] = {}
        self.periods_voided: set[PeriodKey] = set()

    def apply(self, event: object, position: int) -> None:
        if isinstance(event, Donation.Recorded):  # half the log: first
            self._record(event, position)
        elif isinstance(event, Donor.Registered):
            row = {name: getattr(event, name) for name in ("kind", *DONOR_DETAILS)}
            self.donors[event.originator_id] = {"donor_id": event.originator_id, **row}
            self.new_donors.add(event.originator_id)
        elif isinstance(event, Donor.DetailsCorrected):
            self._correct_donor(event, position)
        elif isinstance(event, Donation.Refunded):
            donation = self._donation(event.originator_id, position)
            self._add_to_periods(donation, position, refunded_yen=event.amount_yen)
        elif isinstance(event, Donation.Voided):
            self._void(event, position)

    def _correct_donor(self, event: Donor.DetailsCorrected, position: int) -> None:
        donor = self.donors.get(event.originator_id)
        if donor is None:
            raise EventNotApplicable(
                position, f"no donor {event.originator_id} was registered before"
            )
        donor.update((k, v) for k, v in event.changes.items() if k in DONOR_DETAILS)
        if event.originator_id not in self.new_donors:
            self.corrected_donors.add(event.originator_id)

    def _record(self, event: Donation.Recorded, position: int) -> None:
        if event.donor_id not in self.donors:
            raise EventNotApplicable(position, f"no donor {event.donor_id} was registered before")
        donation = _donation_row(event)
        self.donations[event.originator_id] = donation
        self.new_donations.add(event.originator_id)
        day, amount_yen = event.effective_on, event.amount_yen
        for key in _period_keys(donation):  # known from now on: `period_changes` holds it
            changes = self._changes(key)
            changes["gross_yen"] += amount_yen
            changes["donations_recorded"] += 1
            first, last = changes["first_donated_on"], changes["last_donated_on"]
            if first is None or day < first:
                changes["first_donated_on"] = day
            if last is None or day > last:
                changes["last_donated_on"] = day

    def _void(self, event: Donation.Voided, position: int) -> None:
        donation = self._donation(event.originator_id, position)
        if donation["voided"]:
            raise EventNotApplicable(position, f"donation {event.originator_id} was voided before")
        donation["voided"] = True
        if event.originator_id not in self.new_donations:
            self.voided_donations.add(event.originator_id)
        self._add_to_periods(donation, position, voided_yen=event.amount_yen, donations_voided=1)
        self.periods_voided.update(_period_keys(donation))

    def _donation(self, donation_id: UUID, position: int) -> Row:
        donation = self.donations.get(donation_id)
        if donation is None:
            raise EventNotApplicable(position, f"no donation {donation_id} was recorded before")
        return donation

    def _add_to_periods(self, donation: Row, position: int, **amounts: int) -> None:
        for key in _period_keys(donation):
            if key not in self.period_changes and key not in self.known_periods:
                _, _, basis, year = key
                raise EventNotApplicable(
                    position, f"no {basis} year {year} of donor {donation['donor_id']}"
                )
            changes = self._changes(key)
            for name, amount in amounts.items():
                changes[name] += amount

    def _changes(self, key: PeriodKey) -> Row:
        changes = self.period_changes.get(key)
        if changes is None:
            changes = self.period_changes[key] = _no_changes(key)
        return changes

    def write(self, connection: sa.Connection) -> None:
        """Donors, then donations, then the periods (whose dates may depend on donations)."""
        donors, donations = donor_summary_donors, donor_summary_donations
        bulk.insert(connection, donors, [self.donors[i] for i in self.new_donors])
        corrected = [self.donors[i] for i in self.corrected_donors]
        bulk.update(connection, donors, corrected, keys=("donor_id",), values=DONOR_DETAILS)
        bulk.insert(connection, donations, [self.donations[i] for i in self.new_donations])
        voided = [self.donations[i] for i in self.voided_donations]
        bulk.update(connection, donations, voided, keys=("donation_id",), values=("voided",))
        bulk.upsert(
            connection,
            donor_summary_periods,
            list(self.period_changes.values()),
            keys=_KEY_COLUMNS,
            added=TOTAL_COLUMNS,
            earliest=_DATES[:1],
            latest=_DATES[1:],
        )
        self._recompute_dates(connection)

    def _recompute_dates(self, connection: sa.Connection) -> None:
        """First and last dates of each voided-in period: of its donations not voided, None
        when there are none."""
        if not self.periods_voided:
            return
        days = _days_not_voided(connection, {(k[0], k[1]) for k in self.periods_voided})
        rows = []
        for key in self.periods_voided:
            donor_id, fund_id, basis, year = key
            first_day, last_day = Basis(basis).first_and_last_day(year)
            in_period = [d for d in days.get((donor_id, fund_id), ()) if first_day <= d <= last_day]
            dates = (min(in_period, default=None), max(in_period, default=None))
            rows.append(
                {
                    **dict(zip(_KEY_COLUMNS, key, strict=True)),
                    **dict(zip(_DATES, dates, strict=True)),
                }
            )
        bulk.update(connection, donor_summary_periods, rows, keys=_KEY_COLUMNS, values=_DATES)


def _donation_row(event: Donation.Recorded) -> Row:
    return {
        "donation_id": event.originator_id,
        "donor_id": event.donor_id,
        "fund_id": event.fund_id,
        "effective_on": event.effective_on,
        "amount_yen": event.amount_yen,
        "voided": False,
    }


def _period_keys(donation: Row) -> tuple[PeriodKey, PeriodKey]:
    """The donation's calendar year and 年度."""
    donor_id, fund_id = donation["donor_id"], donation["fund_id"]
    day: date = donation["effective_on"]
    return (
        (donor_id, fund_id, _CALENDAR, _CALENDAR_YEAR_OF(day)),
        (donor_id, fund_id, _FISCAL, _FISCAL_YEAR_OF(day)),
    )


def _no_changes(key: PeriodKey) -> Row:
    changes = dict(zip(_KEY_COLUMNS, key, strict=True))
    changes.update(_NO_CHANGES)
    return changes


def _rows_by_id(
    connection: sa.Connection, table: sa.Table, id_column: str, ids: set[UUID]
) -> dict[UUID, Row]:
    found: dict[UUID, Row] = {}
    for some in chunks(sorted(ids)):
        query = sa.select(table).where(table.c[id_column].in_(some))
        found.update((row[id_column], dict(row)) for row in connection.execute(query).mappings())
    return found


def _existing_periods(connection: sa.Connection, keys: set[PeriodKey]) -> set[PeriodKey]:
    p = donor_summary_periods.c
    found: set[PeriodKey] = set()
    for some in chunks(sorted(keys, key=str), 1_000):
        query = sa.select(p.donor_id, p.fund_id, p.basis, p.year).where(
            sa.tuple_(p.donor_id, p.fund_id, p.basis, p.year).in_(some)
        )
        found.update(
            (row.donor_id, row.fund_id, row.basis, row.year) for row in connection.execute(query)
        )
    return found


def _days_not_voided(
    connection: sa.Connection, pairs: set[tuple[UUID, UUID]]
) -> dict[tuple[UUID, UUID], list[date]]:
    d = donor_summary_donations.c
    days: dict[tuple[UUID, UUID], list[date]] = {}
    for some in chunks(sorted(pairs, key=str), 2_000):
        query = sa.select(d.donor_id, d.fund_id, d.effective_on).where(
            sa.tuple_(d.donor_id, d.fund_id).in_(some), d.voided.is_(False)
        )
        for row in connection.execute(query):
            days.setdefault((row.donor_id, row.fund_id), []).append(row.effective_on)
    return days
