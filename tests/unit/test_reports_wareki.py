"""和暦 dates and yen as printed on receipts: era boundaries, 元年, year ends, bounds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reports.wareki import (
    FIRST_KNOWN_DAY,
    YEN_MAX,
    DateBeforeKnownEras,
    era_of,
    format_date_ja,
    format_wareki,
    format_year_ja,
    format_yen,
    parse_yen,
)

KNOWN_DAYS = st.dates(min_value=FIRST_KNOWN_DAY, max_value=date(2200, 12, 31))


@pytest.mark.parametrize(
    ("day", "printed"),
    [
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 12, 31), "平成元年12月31日"),
        (date(1990, 1, 1), "平成2年1月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 12, 31), "令和元年12月31日"),
        (date(2020, 1, 1), "令和2年1月1日"),
        (date(2026, 3, 31), "令和8年3月31日"),
        (date(2026, 4, 1), "令和8年4月1日"),
        (date(2027, 3, 31), "令和9年3月31日"),
    ],
)
def test_wareki_at_era_boundaries_and_year_ends(day: date, printed: str) -> None:
    assert format_wareki(day) == printed


def test_date_is_printed_in_wareki_with_the_western_date_beside_it() -> None:
    assert format_date_ja(date(2026, 4, 1)) == "令和8年4月1日 (2026年4月1日)"
    assert format_date_ja(date(2019, 5, 1)) == "令和元年5月1日 (2019年5月1日)"


@pytest.mark.parametrize("day", [date(1989, 1, 7), date(1970, 1, 1), date(1, 1, 1)])
def test_date_before_heisei_is_refused_clearly(day: date) -> None:
    with pytest.raises(DateBeforeKnownEras, match=r"before 1989-01-08 \(平成元年1月8日\)"):
        format_wareki(day)


@pytest.mark.parametrize(
    ("year", "printed"),
    [
        (2026, "令和8年 (2026年)"),
        (2020, "令和2年 (2020年)"),
        (2019, "平成31年・令和元年 (2019年)"),
        (2018, "平成30年 (2018年)"),
    ],
)
def test_calendar_year_in_wareki(year: int, printed: str) -> None:
    assert format_year_ja(year) == printed


def test_calendar_year_1989_began_before_heisei_and_is_refused() -> None:
    with pytest.raises(DateBeforeKnownEras):
        format_year_ja(1989)


@given(KNOWN_DAYS)
def test_era_year_plus_era_start_year_minus_one_is_the_western_year(day: date) -> None:
    era, year = era_of(day)
    assert year + era.first_day.year - 1 == day.year
    assert year >= 1
    assert day >= era.first_day


@given(KNOWN_DAYS)
def test_gannen_is_printed_exactly_in_an_eras_first_year(day: date) -> None:
    era, year = era_of(day)
    assert ("元年" in format_wareki(day)) == (year == 1)
    assert format_wareki(day).startswith(era.name)


@given(st.dates(min_value=FIRST_KNOWN_DAY + timedelta(days=1), max_value=date(2200, 12, 31)))
def test_era_never_goes_back_from_one_day_to_the_next(day: date) -> None:
    eras = [era.first_day for era, _ in (era_of(day - timedelta(days=1)), era_of(day))]
    assert eras[0] <= eras[1]


@pytest.mark.parametrize(
    ("amount_yen", "printed"),
    [
        (0, "¥0-"),
        (1, "¥1-"),
        (999, "¥999-"),
        (1_000, "¥1,000-"),
        (12_345, "¥12,345-"),
        (1_000_000, "¥1,000,000-"),
        (10_000_000_000, "¥10,000,000,000-"),
    ],
)
def test_yen_has_half_width_digits_and_a_comma_every_three(amount_yen: int, printed: str) -> None:
    assert format_yen(amount_yen) == printed
    assert format_yen(amount_yen).isascii() is False  # the yen sign is U+00A5
    assert all(ch.isascii() for ch in format_yen(amount_yen)[1:])


@given(st.integers(min_value=0, max_value=YEN_MAX))
def test_yen_formatting_round_trips(amount_yen: int) -> None:
    assert parse_yen(format_yen(amount_yen)) == amount_yen


@pytest.mark.parametrize("amount", [True, 1.0, "100"])
def test_yen_refuses_anything_but_int(amount: object) -> None:
    with pytest.raises(TypeError):
        format_yen(amount)  # type: ignore[arg-type]


@pytest.mark.parametrize("amount_yen", [-1, YEN_MAX + 1])
def test_yen_refuses_amounts_out_of_bounds(amount_yen: int) -> None:
    with pytest.raises(ValueError, match="between 0 and"):
        format_yen(amount_yen)


@pytest.mark.parametrize("text", ["12,345", "¥12345-", "¥1,2345-", "¥012-", "￥12,345-", "¥-5-"])
def test_yen_parser_refuses_anything_not_printed_by_format_yen(text: str) -> None:
    with pytest.raises(ValueError, match="not a yen amount"):
        parse_yen(text)
