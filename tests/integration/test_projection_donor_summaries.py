"""Donor summaries read model (issue 3), on SQLite and PostgreSQL.

Given a generated history (`new_history`) plus donations on both sides of the calendar-year
and 年度 boundaries, with refunds and voids, then:

- every donor's summary equals a computation here over the recorded events' own fields;
- the names published per fund and period are those of donors who agreed (as corrected) and
  gave more than was given back, sorted by kana;
- a live projection in small catch-ups equals a rebuild;
- a refund or void of a donation the read model never saw stops the projector.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger import commands as c
from ledger.donation import Donation
from ledger.donor import Donor
from ledger.errors import InvalidInput
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from projections import runner
from projections.database import engine_for
from projections.donor_summaries import PeriodSummary, donor_summary, published_donor_names
from projections.donor_summaries_projector import DonorSummariesProjector
from tests.integration.test_projections import NOW_UTC, History, all_events, new_history

BOUNDARY_DAYS = (
    date(2025, 3, 31),
    date(2025, 4, 1),
    date(2025, 12, 31),
    date(2026, 1, 1),
    date(2026, 3, 31),
    date(2026, 4, 1),
)
YEARS = (2024, 2025, 2026, 2027)


@contextmanager
def donor_side(database_url: str) -> Iterator[tuple[FundLedger, Engine]]:
    app = FundLedger(env=eventsourcing_env(database_url), clock=lambda: NOW_UTC)
    engine = engine_for(database_url)
    try:
        runner.create_tables(engine, [DonorSummariesProjector()])
        yield app, engine
    finally:
        engine.dispose()
        app.close()


@pytest.fixture
def ledger_and_engine(database_url: str) -> Iterator[tuple[FundLedger, Engine]]:
    with donor_side(database_url) as pair:
        yield pair


# --- givens ----------------------------------------------------------------------------------


def register(history: History, name: str, kana: str, *, publish_name: bool) -> UUID:
    command = c.RegisterDonor("individual", name, kana, "621-0806", "亀岡市", None, publish_name)
    donor_id = history.run(command)
    assert donor_id is not None
    return donor_id


def donate(history: History, fund_id: UUID, donor_id: UUID, amount_yen: int, day: date) -> UUID:
    command = c.RecordDonation(history.key(), fund_id, donor_id, amount_yen, "cash", day)
    donation_id = history.run(command)
    assert donation_id is not None, "a donation on an empty-enough fund is accepted"
    history.donations[donation_id] = day
    return donation_id


def refund(history: History, donation_id: UUID, amount_yen: int, day: date) -> None:
    assert history.run(c.RefundDonation(history.key(), donation_id, amount_yen, "申し出", day))


def void(history: History, donation_id: UUID, day: date) -> None:
    assert history.run(c.VoidDonation(history.key(), donation_id, "二重入力", day))


def correct(history: History, donor_id: UUID, **changes: object) -> None:
    assert history.run(c.CorrectDonor(donor_id, dict(changes), "本人の申し出"))


def history_across_boundaries(ledger: FundLedger, seed: int) -> History:
    """A generated history whose extra donors (some publishing their names) also gave on each
    side of the year and 年度 boundaries, some of it refunded later or voided."""
    history = new_history(ledger, seed=seed)
    fund_ids = list(history.funds)
    extra = [
        register(history, f"追加 {n}", kana, publish_name=n % 2 == 0)
        for n, kana in enumerate(["ワタナベ", "アオキ", "カトウ", "アオキ", "サトウ"])
    ]
    history.donors.extend(extra)
    for n, day in enumerate(BOUNDARY_DAYS):
        for donor_id in extra[n % 3 :: 2]:
            donation_id = donate(history, fund_ids[n % 2], donor_id, 10_000 + n, day)
            if n % 3 == 1:
                refund(history, donation_id, 10_000 + n, date(2026, 6, 1))  # in full, later
            elif n % 3 == 2 and donor_id == extra[2]:
                void(history, donation_id, day)
    correct(history, extra[1], publish_name=True)
    correct(history, extra[0], publish_name=False, kana="アアア")
    correct(history, extra[2], kana="アオキ")
    for _ in range(120):
        history.step()
    correct(history, extra[0], publish_name=True)
    for _ in range(60):
        history.step()
    return history


# --- an independent computation over the events ------------------------------------------------


@dataclass
class ExpectedPeriod:
    totals: Counter[str] = field(default_factory=Counter)
    days: list[date] = field(default_factory=list)


@dataclass
class Expected:
    donors: dict[UUID, dict[str, object]] = field(default_factory=dict)
    # (donor, fund, basis, year) → totals and the dates of donations not voided
    periods: dict[tuple[UUID, UUID, str, int], ExpectedPeriod] = field(
        default_factory=lambda: defaultdict(ExpectedPeriod)
    )


def years_of(day: date) -> dict[str, int]:
    fiscal_start = date(day.year, 4, 1)
    return {"calendar": day.year, "fiscal": day.year if day >= fiscal_start else day.year - 1}


def expected_from_events(ledger: FundLedger) -> Expected:
    expected = Expected()
    donations: dict[UUID, Donation.Recorded] = {}
    for _position, e in all_events(ledger):
        if isinstance(e, Donor.Registered):
            expected.donors[e.originator_id] = {
                "kind": e.kind, "name": e.name, "kana": e.kana, "publish_name": e.publish_name
            }  # fmt: skip
        elif isinstance(e, Donor.DetailsCorrected):
            details = expected.donors[e.originator_id]
            details.update({k: v for k, v in e.changes.items() if k in details})
        elif isinstance(e, Donation.Recorded | Donation.Refunded | Donation.Voided):
            if isinstance(e, Donation.Recorded):
                donations[e.originator_id] = e
            recorded = donations[e.originator_id]
            for basis, year in years_of(recorded.effective_on).items():
                period = expected.periods[(recorded.donor_id, recorded.fund_id, basis, year)]
                if isinstance(e, Donation.Recorded):
                    period.totals.update(gross_yen=e.amount_yen, donations_recorded=1)
                    period.days.append(e.effective_on)
                elif isinstance(e, Donation.Refunded):
                    period.totals.update(refunded_yen=e.amount_yen)
                else:
                    period.totals.update(voided_yen=e.amount_yen, donations_voided=1)
                    period.days.remove(recorded.effective_on)
    return expected


def expected_summary_periods(
    expected: Expected, donor_id: UUID, basis: str
) -> list[tuple[object, ...]]:
    merged: dict[int, ExpectedPeriod] = defaultdict(ExpectedPeriod)
    for (donor, _fund, period_basis, year), period in expected.periods.items():
        if donor == donor_id and period_basis == basis:
            merged[year].totals.update(period.totals)
            merged[year].days.extend(period.days)
    rows = []
    for year in sorted(merged):
        t, days = merged[year].totals, merged[year].days
        rows.append((year, t["donations_recorded"] - t["donations_voided"], t["gross_yen"],
                     t["refunded_yen"], t["gross_yen"] - t["refunded_yen"] - t["voided_yen"],
                     min(days, default=None), max(days, default=None)))  # fmt: skip
    return rows


def as_rows(periods: tuple[PeriodSummary, ...]) -> list[tuple[object, ...]]:
    return [(p.year, p.donation_count, p.gross_yen, p.refunded_yen, p.net_yen,
             p.first_donated_on, p.last_donated_on) for p in periods]  # fmt: skip


def expected_published(expected: Expected, fund_id: UUID, basis: str, year: int) -> list[str]:
    chosen = []
    for (donor_id, fund, period_basis, period_year), period in expected.periods.items():
        t = period.totals
        net_yen = t["gross_yen"] - t["refunded_yen"] - t["voided_yen"]
        details = expected.donors[donor_id]
        in_period = (fund, period_basis, period_year) == (fund_id, basis, year)
        if in_period and net_yen > 0 and details["publish_name"]:
            chosen.append((str(details["kana"]), str(details["name"]), str(donor_id)))
    return [name for _kana, name, _id in sorted(chosen)]


def dump(engine: Engine) -> dict[str, str]:
    """A checksum of each of this read model's tables, rows in primary-key order."""
    checksums = {}
    with engine.connect() as connection:
        for table in DonorSummariesProjector.tables:
            rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            checksums[table.name] = hashlib.sha256(repr(rows.all()).encode()).hexdigest()
    return checksums


# --- tests ---------------------------------------------------------------------------------------


def test_summaries_and_published_names_equal_a_computation_over_the_events(
    ledger: FundLedger, engine: Engine
) -> None:
    history = history_across_boundaries(ledger, seed=3)
    assert history.accepted["VoidDonation"] > 1
    assert history.accepted["RefundDonation"] > 1

    applied_count = runner.catch_up(ledger, engine, [DonorSummariesProjector()], batch_size=97)

    assert applied_count == len(all_events(ledger))
    expected = expected_from_events(ledger)
    for donor_id, details in expected.donors.items():
        summary = donor_summary(engine, donor_id)
        assert summary is not None
        assert (summary.kind, summary.name, summary.kana, summary.publish_name) == (
            details["kind"], details["name"], details["kana"], details["publish_name"]
        )  # fmt: skip
        assert as_rows(summary.calendar_years) == expected_summary_periods(
            expected, donor_id, "calendar"
        )
        assert as_rows(summary.fiscal_years) == expected_summary_periods(
            expected, donor_id, "fiscal"
        )
    published_count = 0
    for fund_id in history.funds:
        for year in YEARS:
            for fiscal in (False, True):
                names = [
                    d.name for d in published_donor_names(engine, fund_id, year, fiscal=fiscal)
                ]
                basis = "fiscal" if fiscal else "calendar"
                assert names == expected_published(expected, fund_id, basis, year)
                published_count += len(names)
    assert published_count > 3, "the history must publish some names"


def test_a_year_counts_what_was_given_in_it_net_of_what_was_given_back_later(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=7)
    fund_id, other_fund_id = list(history.funds)[:2]
    aoki = register(history, "青木 一郎", "アオキ イチロウ", publish_name=True)
    ito = register(history, "伊藤 二郎", "イトウ ジロウ", publish_name=False)
    ueda = register(history, "上田 三郎", "ウエダ サブロウ", publish_name=True)
    endo = register(history, "遠藤 四郎", "エンドウ シロウ", publish_name=True)
    ono = register(history, "小野 五郎", "オノ ゴロウ", publish_name=True)
    donate(history, fund_id, aoki, 3_000, date(2025, 12, 31))
    donate(history, fund_id, aoki, 5_000, date(2026, 1, 1))
    mistaken = donate(history, fund_id, aoki, 10_000, date(2026, 3, 31))
    donate(history, fund_id, ito, 2_000, date(2026, 4, 1))
    donate(history, fund_id, ueda, 1_000, date(2025, 12, 31))
    given_back = donate(history, fund_id, endo, 10_000, date(2026, 1, 1))
    refund(history, given_back, 4_000, date(2026, 2, 1))
    refund(history, given_back, 6_000, date(2026, 5, 1))  # in 年度 2026, counted in 年度 2025
    void(history, donate(history, fund_id, ono, 7_000, date(2026, 4, 1)), date(2026, 4, 2))
    void(history, mistaken, date(2026, 4, 3))
    projectors = [DonorSummariesProjector()]
    runner.catch_up(ledger, engine, projectors)

    def published(year: int, *, fiscal: bool, fund: UUID = fund_id) -> list[str]:
        return [d.name for d in published_donor_names(engine, fund, year, fiscal=fiscal)]

    assert published(2025, fiscal=False) == ["青木 一郎", "上田 三郎"]
    assert published(2026, fiscal=False) == ["青木 一郎"]
    assert published(2025, fiscal=True) == ["青木 一郎", "上田 三郎"]
    assert published(2026, fiscal=True) == []
    assert published(2025, fiscal=True, fund=other_fund_id) == []

    correct(history, ito, publish_name=True)
    correct(history, ueda, publish_name=False)
    runner.catch_up(ledger, engine, projectors)

    assert published(2025, fiscal=False) == ["青木 一郎"]
    assert published(2025, fiscal=True) == ["青木 一郎"]
    assert published(2026, fiscal=True) == ["伊藤 二郎"]
    assert published(2026, fiscal=False) == ["青木 一郎", "伊藤 二郎"]

    summary = donor_summary(engine, aoki)
    assert summary is not None
    assert as_rows(summary.calendar_years) == [
        (2025, 1, 3_000, 0, 3_000, date(2025, 12, 31), date(2025, 12, 31)),
        (2026, 1, 15_000, 0, 5_000, date(2026, 1, 1), date(2026, 1, 1)),
    ]
    assert as_rows(summary.fiscal_years) == [
        (2025, 2, 18_000, 0, 8_000, date(2025, 12, 31), date(2026, 1, 1)),
    ]
    summary = donor_summary(engine, endo)
    assert summary is not None
    assert as_rows(summary.fiscal_years) == [
        (2025, 1, 10_000, 10_000, 0, date(2026, 1, 1), date(2026, 1, 1))
    ]
    summary = donor_summary(engine, ono)
    assert summary is not None
    assert as_rows(summary.fiscal_years) == [(2026, 0, 7_000, 0, 0, None, None)]
    assert donor_summary(engine, fund_id) is None, "no donor has that id"


def test_live_projection_in_small_catch_ups_equals_a_rebuild(
    ledger: FundLedger, engine: Engine
) -> None:
    history = history_across_boundaries(ledger, seed=11)
    projectors = [DonorSummariesProjector()]
    applied_count = runner.catch_up(ledger, engine, projectors, batch_size=5)
    for _ in range(5):
        for _ in range(30):
            history.step()
        applied_count += runner.catch_up(ledger, engine, projectors, batch_size=7)
    live = dump(engine)

    rebuilt_count = runner.rebuild(ledger, engine, projectors, batch_size=50)

    assert dump(engine) == live
    assert rebuilt_count == applied_count == len(all_events(ledger))


@pytest.mark.parametrize("command", ["refund", "void"])
def test_a_refund_or_void_of_an_unknown_donation_stops_the_projector(
    ledger: FundLedger, engine: Engine, command: str
) -> None:
    history = new_history(ledger, seed=19)
    fund_id = next(iter(history.funds))
    donation_id = donate(history, fund_id, history.donors[0], 10_000, date(2026, 5, 1))
    projectors = [DonorSummariesProjector()]
    runner.catch_up(ledger, engine, projectors)
    with engine.begin() as connection:  # the read model forgets the donation, behind its back
        connection.execute(sa.text("DELETE FROM donor_summary_donations"))
    before = runner.tracked_positions(engine)
    if command == "refund":
        refund(history, donation_id, 1_000, date(2026, 6, 1))
    else:
        void(history, donation_id, date(2026, 6, 1))

    with pytest.raises(runner.ProjectionFailed, match="projector 'donor_summaries'") as raised:
        runner.catch_up(ledger, engine, projectors)

    assert f"no donation {donation_id} was recorded before" in str(raised.value)
    assert runner.tracked_positions(engine) == before


@pytest.mark.parametrize("year", [1999, 10_000, True, "2026"])
def test_published_names_refuse_a_year_out_of_range(engine: Engine, year: object) -> None:
    with pytest.raises(InvalidInput, match="year"):
        published_donor_names(engine, UUID(int=1), year, fiscal=False)  # type: ignore[arg-type]
