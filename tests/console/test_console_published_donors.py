"""寄附者ご芳名 in the console: reached from the fund's page, for the administrator and the
auditor alike; this 年度 by default, another 年度 or calendar year on request; a year or basis
that is no period is an error page."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest

from api.statement_views import fiscal_year_of
from ledger.service import JST
from tests.console.conftest import ADMIN, AUDITOR
from tests.console.pages import Console
from tests.e2e.test_published_donors import given_a_funds_donors


def _listed(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    found = re.search(
        r'<ol aria-labelledby="list-heading" data-list="published-donors">(.*?)</ol>',
        page.text,
        re.S,
    )
    return [] if found is None else re.findall(r"<li>([^<]*)</li>", found.group(1))


@pytest.mark.parametrize("user", [ADMIN, AUDITOR])
def test_staff_read_the_published_names_of_the_year_they_choose(
    console: Console, user: str
) -> None:
    fund_id, last = given_a_funds_donors(console.api)
    assert console.sign_in(user).status_code == 200
    fund_page = console.get(f"/console/funds/{fund_id}", position=last["position"])
    link = f"/console/funds/{fund_id}/published-donors"
    assert f'href="{link}"' in fund_page.text
    form = console.form(console.get(link, position=last["position"]), link)

    fiscal = console.get(link, **{**form.fields, "year": "2026"})
    calendar = console.get(link, **{**form.fields, "year": "2026", "basis": "calendar"})

    assert _listed(fiscal) == ["亀岡 華子", "株式会社 保津川"]
    assert '<p data-figure="count">2件</p>' in fiscal.text
    assert "2026年度（2026年4月〜2027年3月）" in fiscal.text
    assert _listed(calendar) == ["亀岡 華子", "保津 太郎", "株式会社 保津川"]
    assert "2026年（1月〜12月）" in calendar.text


def test_the_list_is_of_this_fiscal_year_by_default(admin: Console) -> None:
    fund_id, last = given_a_funds_donors(admin.api)
    this_year = fiscal_year_of(datetime.now(JST).date())

    page = admin.get(f"/console/funds/{fund_id}/published-donors", position=last["position"])

    assert f'name="year" type="number" min="2000" max="9999" value="{this_year}"' in page.text
    assert f"{this_year}年度" in page.text


def test_a_year_without_published_donors_says_so(admin: Console) -> None:
    fund_id, last = given_a_funds_donors(admin.api)

    page = admin.get(
        f"/console/funds/{fund_id}/published-donors", year="2030", position=last["position"]
    )

    assert _listed(page) == []
    assert "この期間に、お名前を公表できる寄附者はいません。" in page.text


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"year": "1999"}, "年は 2000 から 9999 までの数字で入力してください"),
        ({"year": "二〇二六"}, "年は 2000 から 9999 までの数字で入力してください"),
        ({"year": "2026", "basis": "monthly"}, "年度か暦年かを一覧から選んでください。"),
    ],
    ids=["1999", "kanji", "unknown-basis"],
)
def test_a_period_that_is_none_is_an_error_page(
    admin: Console, params: dict[str, str], message: str
) -> None:
    fund_id = admin.api.open_fund()

    page = admin.get(f"/console/funds/{fund_id}/published-donors", **params)

    assert page.status_code == 422
    assert message in page.text


def test_the_list_of_a_fund_that_does_not_exist_is_a_not_found_page(admin: Console) -> None:
    page = admin.get("/console/funds/00000000-0000-4000-8000-000000000000/published-donors")
    assert page.status_code == 404
