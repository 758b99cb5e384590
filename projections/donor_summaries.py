"""Read model: donor summaries, per donor and per period, and the names donors let us publish.

Per donor, per fund and per period (calendar year, the tax year of donors' annual receipts;
and 年度, 1 April – 31 March, 年度 2026 being 2026-04-01..2027-03-31), running totals moved by
each donation event:

| column                      | moved by                                                     |
|-----------------------------|--------------------------------------------------------------|
| gross_yen                   | donations recorded                                           |
| refunded_yen                | refunds                                                      |
| voided_yen                  | donations voided (the whole amount)                          |
| donations_recorded/_voided  | donation events                                              |
| first/last_donated_on       | the earliest and latest effective date of its donations not  |
|                             | voided (recomputed from `donor_summary_donations` on a void) |

Derived: donation count = recorded − voided; net = gross − refunded − voided.

A period is that of the *donation's* effective date, also for its refunds and voids, whatever
their own dates: a donor's figure for 2026 is what they gave in 2026, net of what was later
given back. So a refund in January never lowers the year it is made in, and a closed year's
figures change when a donation of that year is refunded later. (The fund statements of
`fund_balances` and the journal keep each refund in its own period; this read model answers
"what did this donor give in year Y", the question of a receipt or a thank-you list.)

Refunds and voids do not carry the donor, so the projector keeps each donation's donor, fund,
effective date and amount in its own table, keyed by the donation id. A refund or void of a
donation it has never seen, a donation of an unknown donor, or a correction of an unknown
donor stops the projector. The projector is `projections.donor_summaries_projector`.

The donor's current name, kana, kind and publish_name come from `Donor.Registered` and
`Donor.DetailsCorrected`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.errors import InvalidInput
from projections.indexes import PROJECTOR_READS
from projections.tables import metadata

NAME = "donor_summaries"
FISCAL_YEAR_FIRST_MONTH = 4  # 年度 begins on 1 April
YEAR_MIN = 2000  # no transaction date is earlier (ledger.values.effective_on)
YEAR_MAX = 9999
TOTAL_COLUMNS = (
    "gross_yen",
    "refunded_yen",
    "voided_yen",
    "donations_recorded",
    "donations_voided",
)
DONOR_DETAILS = ("name", "kana", "publish_name")  # the correctable fields this model keeps


class Basis(Enum):
    """Which year a period is: the calendar (tax) year or the fiscal year (年度)."""

    CALENDAR = "calendar"
    FISCAL = "fiscal"

    def year_of(self, day: date) -> int:
        if self is Basis.FISCAL and day.month < FISCAL_YEAR_FIRST_MONTH:
            return day.year - 1
        return day.year

    def first_and_last_day(self, year: int) -> tuple[date, date]:
        if self is Basis.FISCAL:
            return date(year, FISCAL_YEAR_FIRST_MONTH, 1), date(year + 1, 3, 31)
        return date(year, 1, 1), date(year, 12, 31)


donor_summary_donors = sa.Table(
    "donor_summary_donors",
    metadata,
    sa.Column("donor_id", sa.Uuid, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("kana", sa.String, nullable=False),
    sa.Column("publish_name", sa.Boolean, nullable=False),
)
donor_summary_donations = sa.Table(
    "donor_summary_donations",
    metadata,
    sa.Column("donation_id", sa.Uuid, primary_key=True),
    sa.Column("donor_id", sa.Uuid, nullable=False),
    sa.Column("fund_id", sa.Uuid, nullable=False),
    sa.Column("effective_on", sa.Date, nullable=False),
    sa.Column("amount_yen", sa.BigInteger, nullable=False),
    sa.Column("voided", sa.Boolean, nullable=False),
    sa.Index(
        "donor_summary_donations_by_donor",
        "donor_id",
        "fund_id",
        "effective_on",
        info={PROJECTOR_READS: True},  # a void's new first and last dates
    ),
)
donor_summary_periods = sa.Table(
    "donor_summary_periods",
    metadata,
    sa.Column("donor_id", sa.Uuid, primary_key=True),
    sa.Column("fund_id", sa.Uuid, primary_key=True),
    sa.Column("basis", sa.String(8), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    *(sa.Column(name, sa.BigInteger, nullable=False) for name in TOTAL_COLUMNS),
    sa.Column("first_donated_on", sa.Date, nullable=True),
    sa.Column("last_donated_on", sa.Date, nullable=True),
    sa.Index("donor_summary_periods_by_fund", "fund_id", "basis", "year"),
)


@dataclass(frozen=True, kw_only=True)
class PeriodSummary:
    """One donor's donations of one year, over all funds."""

    basis: Basis
    year: int
    gross_yen: int
    refunded_yen: int
    voided_yen: int
    donations_recorded: int
    donations_voided: int
    first_donated_on: date | None  # None when every donation of the year was voided
    last_donated_on: date | None

    @property
    def donation_count(self) -> int:
        return self.donations_recorded - self.donations_voided

    @property
    def net_yen(self) -> int:
        return self.gross_yen - self.refunded_yen - self.voided_yen


@dataclass(frozen=True, kw_only=True)
class DonorSummary:
    donor_id: UUID
    kind: str
    name: str
    kana: str
    publish_name: bool
    calendar_years: tuple[PeriodSummary, ...]  # ascending years
    fiscal_years: tuple[PeriodSummary, ...]


@dataclass(frozen=True, kw_only=True)
class PublishedDonor:
    donor_id: UUID
    kind: str
    name: str
    kana: str


def donor_summary(engine: Engine, donor_id: UUID) -> DonorSummary | None:
    """One donor's details and every year they gave in, over all funds, ascending by year;
    None for a donor never registered."""
    p = donor_summary_periods.c
    totals = [sa.func.sum(p[name]).label(name) for name in TOTAL_COLUMNS]
    periods_query = (
        sa.select(
            p.basis,
            p.year,
            *totals,
            sa.func.min(p.first_donated_on).label("first_donated_on"),
            sa.func.max(p.last_donated_on).label("last_donated_on"),
        )
        .where(p.donor_id == donor_id)
        .group_by(p.basis, p.year)
        .order_by(p.basis, p.year)
    )
    donors = donor_summary_donors.c
    with engine.connect() as connection:
        donor = connection.execute(
            sa.select(donor_summary_donors).where(donors.donor_id == donor_id)
        ).one_or_none()
        if donor is None:
            return None
        periods = [
            PeriodSummary(
                basis=Basis(row["basis"]),
                year=row["year"],
                **{name: int(row[name]) for name in TOTAL_COLUMNS},
                first_donated_on=row["first_donated_on"],
                last_donated_on=row["last_donated_on"],
            )
            for row in connection.execute(periods_query).mappings()
        ]
    return DonorSummary(
        **donor._mapping,
        calendar_years=tuple(s for s in periods if s.basis is Basis.CALENDAR),
        fiscal_years=tuple(s for s in periods if s.basis is Basis.FISCAL),
    )


def published_donor_names(
    engine: Engine, fund_id: UUID, year: int, *, fiscal: bool
) -> list[PublishedDonor]:
    """Donors who agreed to have their names published (as they stand now) and gave to the
    fund in the year (calendar, or 年度 when `fiscal`) more than was given back; by kana
    (then name and id, so the order is total)."""
    if isinstance(year, bool) or not isinstance(year, int) or not YEAR_MIN <= year <= YEAR_MAX:
        raise InvalidInput("year", f"must be a year from {YEAR_MIN} to {YEAR_MAX}, got {year!r}")
    basis = Basis.FISCAL if fiscal else Basis.CALENDAR
    donors, p = donor_summary_donors.c, donor_summary_periods.c
    query = (
        sa.select(donors.donor_id, donors.kind, donors.name, donors.kana)
        .join_from(donor_summary_donors, donor_summary_periods, p.donor_id == donors.donor_id)
        .where(
            p.fund_id == fund_id,
            p.basis == basis.value,
            p.year == year,
            donors.publish_name.is_(True),
            p.gross_yen - p.refunded_yen - p.voided_yen > 0,
        )
    )
    with engine.connect() as connection:
        found = [PublishedDonor(**row) for row in connection.execute(query).mappings()]
    # Sorted here, by code point: a database's collation of kana differs between backends.
    return sorted(found, key=lambda d: (d.kana, d.name, str(d.donor_id)))
