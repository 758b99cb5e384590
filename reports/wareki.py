"""Dates in 和暦 with the Western date beside them, and yen as printed on receipts.

    >>> format_date_ja(date(2026, 4, 1))
    '令和8年4月1日 (2026年4月1日)'
    >>> format_wareki(date(2019, 5, 1)), format_wareki(date(2019, 4, 30))
    ('令和元年5月1日', '平成31年4月30日')
    >>> format_yen(12345)
    '¥12,345-'

Only the eras a donation can fall in are known: 平成 (from 1989-01-08) and 令和 (from
2019-05-01). An earlier date is refused with `DateBeforeKnownEras`, never printed wrongly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final


@dataclass(frozen=True)
class Era:
    name: str
    first_day: date


ERAS: Final = (  # newest first
    Era("令和", date(2019, 5, 1)),
    Era("平成", date(1989, 1, 8)),
)
FIRST_KNOWN_DAY: Final = ERAS[-1].first_day

YEN_MAX: Final = 10**15 - 1  # well above any fund's total; a bound, not a business rule
YEN_SIGN: Final = "\u00a5"  # ¥, the half-width yen sign
_YEN_PATTERN: Final = re.compile(r"¥(0|[1-9][0-9]{0,2}(?:,[0-9]{3})*)-")


class DateBeforeKnownEras(ValueError):
    """A date before 平成 (1989-01-08), for which no era is known here."""

    def __init__(self, day: date) -> None:
        super().__init__(
            f"{day.isoformat()} is before {FIRST_KNOWN_DAY.isoformat()} (平成元年1月8日); "
            "only 平成 and 令和 dates can be printed"
        )
        self.day = day


def era_of(day: date) -> tuple[Era, int]:
    """The era of `day` and its year within that era (1 for the first year, printed 元年)."""
    for era in ERAS:
        if day >= era.first_day:
            return era, day.year - era.first_day.year + 1
    raise DateBeforeKnownEras(day)


def format_wareki(day: date) -> str:
    """`令和8年4月1日`; the first year of an era is `元年`."""
    era, year = era_of(day)
    year_text = "元" if year == 1 else str(year)
    return f"{era.name}{year_text}年{day.month}月{day.day}日"


def format_western(day: date) -> str:
    """`2026年4月1日`."""
    return f"{day.year}年{day.month}月{day.day}日"


def format_date_ja(day: date) -> str:
    """`令和8年4月1日 (2026年4月1日)`: the 和暦 date with the Western date beside it."""
    return f"{format_wareki(day)} ({format_western(day)})"


def format_year_ja(year: int) -> str:
    """`令和8年 (2026年)`; `平成31年・令和元年 (2019年)` for the year the era changed."""
    names = []
    for day in (date(year, 1, 1), date(year, 12, 31)):
        era, era_year = era_of(day)
        name = f"{era.name}{'元' if era_year == 1 else era_year}年"
        if name not in names:
            names.append(name)
    return f"{'・'.join(names)} ({year}年)"


def format_yen(amount_yen: int) -> str:
    """`¥12,345-`: half-width digits, a comma every three, a closing hyphen."""
    if isinstance(amount_yen, bool) or not isinstance(amount_yen, int):
        raise TypeError(f"amount_yen must be an int, got {type(amount_yen).__name__}")
    if not 0 <= amount_yen <= YEN_MAX:
        raise ValueError(f"amount_yen must be between 0 and {YEN_MAX:,}, got {amount_yen:,}")
    return f"{YEN_SIGN}{amount_yen:,}-"


def parse_yen(text: str) -> int:
    """The inverse of `format_yen`; anything else is refused."""
    match = _YEN_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(f"not a yen amount as printed (¥12,345-): {text!r}")
    return int(match.group(1).replace(",", ""))
