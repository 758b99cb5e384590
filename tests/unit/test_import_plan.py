"""Importing transfer lists into the in-memory ledger: what the dry run says, what the import
records (all rows or none), every kind of bad row by its line, idempotency, and a
hypothesis round trip (random valid files in, the same donations back out of the log).

`seed_world` and `donations_of` are shared with the integration and e2e import tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.imports.ledger_reads import recorded_donations
from api.imports.plan import ImportRequest
from api.imports.run import RowStatus, dry_run, import_donations
from ledger import commands as c
from ledger.errors import ImportRejected
from ledger.service import FundLedger
from tests.unit.conftest import new_ledger

DATA = Path(__file__).parents[1] / "data"
SAMPLES = ("donations_utf8.csv", "donations_utf8_bom.csv", "donations_cp932.csv")
HEADER = "effective_on,amount_yen,payer_name,reference,donor_id,designation,memo\n"
ACTOR = "staff:tanaka"
# The rows of every sample, as (date, amount, donor, designation, reference)
SAMPLE_DONATIONS = [
    (date(2026, 4, 1), 10_000, "山田 太郎", None, "BK20260401-0001"),
    (date(2026, 4, 2), 3_000, "鈴木 花子", "hozugawa", "BK20260402-0007"),
    (date(2026, 4, 15), 50_000, "株式会社 保津川商事", None, None),
    (date(2026, 5, 1), 1_000, "山田 太郎", None, None),
]
DONORS = [
    ("individual", "山田 太郎", "ヤマダ タロウ"),
    ("individual", "鈴木 花子", "すずき はなこ"),
    ("organisation", "株式会社 保津川商事", "カブシキカイシャ ホヅガワショウジ"),
    ("individual", "佐藤 一郎", "サトウ イチロウ"),
    ("individual", "佐藤 一郎", "サトウ イチロウ"),  # a namesake: ｻﾄｳ ｲﾁﾛｳ is ambiguous
]


@dataclass(frozen=True)
class World:
    fund_id: UUID
    donor_ids: dict[str, UUID]  # by name (the last of namesakes)

    def request(self, **overrides: Any) -> ImportRequest:
        return ImportRequest(fund_id=self.fund_id, **overrides)


def seed_world(ledger: FundLedger) -> World:
    """The Kameoka fund at 3.50% with designation `hozugawa`, and the donors of the samples."""
    fund = ledger.execute(c.OpenFund("亀岡協働基金", "京都地域創造基金", 350), actor=ACTOR)
    ledger.execute(c.AddDesignation(fund.aggregate_id, "hozugawa", "保津川の清掃"), actor=ACTOR)
    donor_ids = {}
    for kind, name, kana in DONORS:
        donor = c.RegisterDonor(kind, name, kana, "621-0806", "京都府亀岡市")
        donor_ids[name] = ledger.execute(donor, actor=ACTOR).aggregate_id
    return World(fund.aggregate_id, donor_ids)


def donations_of(ledger: FundLedger, world: World) -> list[tuple[Any, ...]]:
    """The donations recorded, read back from the log, as the samples list them."""
    names = {donor_id: name for name, donor_id in world.donor_ids.items()}
    return sorted(
        (d.effective_on, d.amount_yen, names[d.donor_id], d.designation, d.external_reference)
        for d in recorded_donations(ledger, world.fund_id)
    )


@pytest.fixture
def ledger() -> FundLedger:
    return new_ledger()


@pytest.fixture
def world(ledger: FundLedger) -> World:
    return seed_world(ledger)


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


def log_head(ledger: FundLedger) -> int:
    return ledger.recorder.max_notification_id() or 0


@pytest.mark.parametrize("sample", SAMPLES)
def test_a_sample_imports_as_exactly_its_rows(
    ledger: FundLedger, world: World, sample: str
) -> None:
    report = import_donations(ledger, (DATA / sample).read_bytes(), world.request(), actor=ACTOR)

    assert report.count(RowStatus.RECORDED) == 4
    assert donations_of(ledger, world) == SAMPLE_DONATIONS


def test_the_dry_run_reports_donor_fund_designation_amount_and_fee_and_records_nothing(
    ledger: FundLedger, world: World
) -> None:
    head = log_head(ledger)

    report = dry_run(ledger, (DATA / "donations_cp932.csv").read_bytes(), world.request())

    assert log_head(ledger) == head
    assert [
        (r.planned.row.line, r.planned.donor.name, r.planned.row.designation, r.planned.fee_yen)
        for r in report.rows
    ] == [
        (2, "山田 太郎", None, 350),
        (3, "鈴木 花子", "hozugawa", 105),
        (4, "株式会社 保津川商事", None, 1750),
        (5, "山田 太郎", None, 35),
    ]
    assert {r.status for r in report.rows} == {RowStatus.NEW}
    assert report.plan.fund_name == "亀岡協働基金"


def test_the_fee_is_taken_at_the_rate_in_force_on_each_rows_date(
    ledger: FundLedger, world: World
) -> None:
    change = c.ChangeFeeRate(world.fund_id, 1000, date(2026, 5, 1), "理事会決定")
    ledger.execute(change, actor=ACTOR)
    data = csv_bytes("2026-04-30,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,", "2026-05-01,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,")

    report = dry_run(ledger, data, world.request())

    assert [(r.planned.fee_rate_bp, r.planned.fee_yen) for r in report.rows] == [
        (350, 35),
        (1000, 100),
    ]


BAD_ROWS = {
    "bad-date": "2026-02-30,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,",
    "bad-amount": "2026-04-01,0,ﾔﾏﾀﾞ ﾀﾛｳ,,,,",
    "unknown-designation": "2026-04-01,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,nope,",
    "unmatched-payer": "2026-04-01,1000,ﾀﾅｶ ｼﾞﾛｳ,,,,",
    "ambiguous-payer": "2026-04-01,1000,ｻﾄｳ ｲﾁﾛｳ,,,,",
    "unknown-donor": "2026-04-01,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,00000000-0000-4000-8000-000000000000,,",
    "column-count": "2026-04-01,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,",
}
GOOD_ROW = "2026-04-01,5000,ﾔﾏﾀﾞ ﾀﾛｳ,BK-1,,,"


@pytest.mark.parametrize(("code", "bad_row"), BAD_ROWS.items())
def test_a_bad_row_is_named_by_its_line_and_nothing_is_recorded(
    ledger: FundLedger, world: World, code: str, bad_row: str
) -> None:
    data = csv_bytes(GOOD_ROW, bad_row, "2026-04-02,7000,ｽｽﾞｷ ﾊﾅｺ,,,,")
    head = log_head(ledger)

    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, data, world.request(), actor=ACTOR)

    assert [(line, found) for line, found, _ in rejected.value.problems] == [(3, code)]
    assert log_head(ledger) == head
    assert [(p.line, p.code) for p in dry_run(ledger, data, world.request()).problems] == [
        (3, code)
    ]


@pytest.mark.parametrize("amount", ["-1000", "1000.0", "1000.5"])
def test_negative_and_decimal_amounts_are_bad_rows(
    ledger: FundLedger, world: World, amount: str
) -> None:
    data = csv_bytes(GOOD_ROW, f"2026-04-01,{amount},ﾔﾏﾀﾞ ﾀﾛｳ,,,,")

    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, data, world.request(), actor=ACTOR)

    assert [problem[:2] for problem in rejected.value.problems] == [(3, "bad-amount")]


def test_a_duplicated_row_is_reported_on_its_second_line(ledger: FundLedger, world: World) -> None:
    data = csv_bytes(GOOD_ROW, "2026-04-01,100,ﾔﾏﾀﾞ ﾀﾛｳ,,,,", "2026-04-01,100,ﾔﾏﾀﾞ ﾀﾛｳ,,,,")

    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, data, world.request(), actor=ACTOR)

    assert [problem[:2] for problem in rejected.value.problems] == [(4, "duplicate-row")]
    assert "line 3" in rejected.value.problems[0][2]


def test_twin_rows_told_apart_by_their_memo_both_record(ledger: FundLedger, world: World) -> None:
    data = csv_bytes("2026-04-01,100,ﾔﾏﾀﾞ ﾀﾛｳ,,,,1回目", "2026-04-01,100,ﾔﾏﾀﾞ ﾀﾛｳ,,,,2回目")

    report = import_donations(ledger, data, world.request(), actor=ACTOR)

    assert report.count(RowStatus.RECORDED) == 2


def test_one_reference_on_two_different_rows_is_reported(ledger: FundLedger, world: World) -> None:
    data = csv_bytes(GOOD_ROW, "2026-04-02,9000,ｽｽﾞｷ ﾊﾅｺ,BK-1,,,")

    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, data, world.request(), actor=ACTOR)

    assert [problem[:2] for problem in rejected.value.problems] == [(3, "reference-reused")]


def test_a_truncated_file_is_reported_and_records_nothing(ledger: FundLedger, world: World) -> None:
    data = csv_bytes(GOOD_ROW) + b"2026-04-02,70"
    head = log_head(ledger)

    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, data, world.request(), actor=ACTOR)

    assert [problem[:2] for problem in rejected.value.problems] == [(3, "truncated")]
    assert log_head(ledger) == head


def test_every_problem_of_a_file_is_listed_not_only_the_first(
    ledger: FundLedger, world: World
) -> None:
    data = csv_bytes(*BAD_ROWS.values())

    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, data, world.request(), actor=ACTOR)

    assert [problem[:2] for problem in rejected.value.problems] == [
        (line, code) for line, code in enumerate(BAD_ROWS, start=2)
    ]


def test_importing_a_file_twice_records_it_once_and_says_so(
    ledger: FundLedger, world: World
) -> None:
    data = (DATA / "donations_utf8.csv").read_bytes()
    import_donations(ledger, data, world.request(), actor=ACTOR)
    head = log_head(ledger)

    again = import_donations(ledger, data, world.request(), actor=ACTOR)
    in_other_encoding = (DATA / "donations_cp932.csv").read_bytes()
    looked = dry_run(ledger, in_other_encoding, world.request())

    assert log_head(ledger) == head
    assert again.count(RowStatus.ALREADY_RECORDED) == 4
    assert again.position is None
    assert {row.status for row in looked.rows} == {RowStatus.ALREADY_RECORDED}
    assert len(donations_of(ledger, world)) == 4


def test_rows_in_closed_books_are_problems_unless_recorded_before_the_closing(
    ledger: FundLedger, world: World
) -> None:
    recorded = "2026-04-01,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,"
    import_donations(ledger, csv_bytes(recorded), world.request(), actor=ACTOR)
    closing = c.CloseBooks(world.fund_id, date(2026, 4, 30), "4月締め")
    ledger.execute(closing, actor=ACTOR)
    head = log_head(ledger)
    data = csv_bytes(recorded, "2026-04-30,2000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,", "2026-05-01,3000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,")

    looked = dry_run(ledger, data, world.request())
    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, data, world.request(), actor=ACTOR)
    replayed = import_donations(ledger, csv_bytes(recorded), world.request(), actor=ACTOR)

    assert [(p.line, p.code) for p in looked.problems] == [(3, "books-closed")]
    assert [r.status for r in looked.rows] == [RowStatus.ALREADY_RECORDED, *[RowStatus.NEW] * 2]
    assert [(line, code) for line, code, _ in rejected.value.problems] == [(3, "books-closed")]
    assert replayed.count(RowStatus.ALREADY_RECORDED) == 1
    assert log_head(ledger) == head


def test_two_overlapping_files_record_their_union(ledger: FundLedger, world: World) -> None:
    rows = [f"2026-04-{day:02d},{day * 1000},ﾔﾏﾀﾞ ﾀﾛｳ,,,," for day in range(1, 11)]

    import_donations(ledger, csv_bytes(*rows[:6]), world.request(), actor=ACTOR)
    second = import_donations(ledger, csv_bytes(*rows[3:]), world.request(), actor=ACTOR)

    assert (second.count(RowStatus.ALREADY_RECORDED), second.count(RowStatus.RECORDED)) == (3, 4)
    assert [amount for _, amount, *_ in donations_of(ledger, world)] == [
        day * 1000 for day in range(1, 11)
    ]


def test_the_same_reference_imported_with_other_content_is_refused(
    ledger: FundLedger, world: World
) -> None:
    import_donations(ledger, csv_bytes(GOOD_ROW), world.request(), actor=ACTOR)
    changed = csv_bytes("2026-04-03,1000,ｽｽﾞｷ ﾊﾅｺ,,,,", "2026-04-01,6000,ﾔﾏﾀﾞ ﾀﾛｳ,BK-1,,,")
    head = log_head(ledger)

    with pytest.raises(ImportRejected) as rejected:
        import_donations(ledger, changed, world.request(), actor=ACTOR)

    assert [problem[:2] for problem in rejected.value.problems] == [(3, "idempotency-key-reused")]
    assert log_head(ledger) == head
    assert [(p.line, p.code) for p in dry_run(ledger, changed, world.request()).problems] == [
        (3, "idempotency-key-reused")
    ]


# hypothesis: random valid files round-trip

_PAYERS = {"ﾔﾏﾀﾞ ﾀﾛｳ": "山田 太郎", "ｽｽﾞｷ ﾊﾅｺ": "鈴木 花子", "ｶ)ﾎﾂﾞｶﾞﾜｼｮｳｼﾞ": "株式会社 保津川商事"}
_rows = st.tuples(
    st.dates(date(2020, 1, 1), date(2026, 11, 28)),
    st.integers(1, 10_000_000),
    st.sampled_from(sorted(_PAYERS)),
    st.one_of(st.none(), st.text("ABC0123456789-", min_size=1, max_size=12)),
    st.sampled_from([None, "hozugawa"]),
)


def _same_transfer(row: tuple[Any, ...]) -> tuple[Any, ...]:
    day, amount, payer, reference, designation = row
    return ("ref", reference) if reference else ("row", day, amount, payer, designation)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(_rows, min_size=1, max_size=25, unique_by=_same_transfer),
    st.sampled_from(["utf-8", "utf-8-sig", "cp932"]),
)
def test_random_valid_files_round_trip(rows: list[tuple[Any, ...]], encoding: str) -> None:
    ledger = new_ledger()
    world = seed_world(ledger)
    text = "".join(
        f'{day:%Y/%m/%d},"{amount:,}",{payer},{reference or ""},,{designation or ""},\n'
        for day, amount, payer, reference, designation in rows
    )

    import_donations(ledger, (HEADER + text).encode(encoding), world.request(), actor=ACTOR)

    expected = sorted(
        (day, amount, _PAYERS[payer], designation, reference)
        for day, amount, payer, reference, designation in rows
    )
    assert donations_of(ledger, world) == expected


def test_a_row_dated_today_is_accepted_and_tomorrow_is_not(
    ledger: FundLedger, world: World
) -> None:
    today = ledger.today()
    tomorrow = today + timedelta(days=1)
    data = csv_bytes(f"{today.isoformat()},1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,", f"{tomorrow.isoformat()},1,ﾔ,,,,")

    problems = dry_run(ledger, data, world.request()).problems

    assert [(p.line, p.code) for p in problems] == [(3, "bad-date")]
