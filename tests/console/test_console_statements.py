"""A fund's statement (基金収支報告書) downloaded from the fund's page: by the administrator and
the auditor alike, for the 年度 chosen (this one by default), carrying the same figures the
ledger verifies; a year that is no 年度 or a fund that does not exist is an error page, and
nobody signed out gets it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from api.statement_views import fiscal_year_of
from ledger.service import JST
from reports import read_statement_metadata
from tests.console.conftest import ADMIN, AUDITOR
from tests.console.pages import Console


def _fund_with_a_donation(console: Console) -> str:
    """A fund (fee 3.5%) given 10,000 yen on 2026-04-01, the first day of 年度 2026, once the
    read models (which the fund's page shows) hold it."""
    api = console.api
    fund_id = api.open_fund()
    gift = api.donate(fund_id, api.register_donor(), 10_000, "2026-04-01")
    api.read(f"/v1/funds/{fund_id}/balance", waiting_for=gift)
    return fund_id


def _download(console: Console, fund_id: str, **typed: str) -> httpx.Response:
    """Submit the statement form of the fund's page with what the user typed."""
    form = console.form(f"/console/funds/{fund_id}", f"/console/funds/{fund_id}/statement.pdf")
    assert form.method == "get"
    return console.get(form.action, **{**form.fields, **typed})


def _figures(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "private, no-store"
    return read_statement_metadata(response.content)


@pytest.mark.parametrize("user", [ADMIN, AUDITOR])
def test_staff_download_the_statement_of_the_year_they_choose(console: Console, user: str) -> None:
    fund_id = _fund_with_a_donation(console)
    assert console.sign_in(user).status_code == 200

    this_year = _figures(_download(console, fund_id, year="2026"))
    year_before = _figures(_download(console, fund_id, year="2025"))

    assert (this_year["period_from"], this_year["period_to"]) == ("2026-04-01", "2027-03-31")
    assert this_year["total"]["donations_yen"] == 10_000
    assert this_year["total"]["closing_balance_yen"] == 9_650
    assert this_year["books_closed_through"] is None
    assert year_before["total"]["donations_yen"] == 0
    assert console.api.read(f"/v1/funds/{fund_id}")["name"] == this_year["fund_name"]


def test_a_year_typed_in_full_width_digits_or_left_blank_is_understood(admin: Console) -> None:
    fund_id = _fund_with_a_donation(admin)
    this_year = fiscal_year_of(datetime.now(JST).date())

    full_width = _figures(_download(admin, fund_id, year="２０２６"))
    blank = _figures(_download(admin, fund_id, year=" "))

    assert full_width["period_from"] == "2026-04-01"
    assert blank["period_from"] == f"{this_year}-04-01"


def test_the_statement_form_offers_this_year_by_default(admin: Console) -> None:
    fund_id = _fund_with_a_donation(admin)
    this_year = fiscal_year_of(datetime.now(JST).date())

    form = admin.form(f"/console/funds/{fund_id}", f"/console/funds/{fund_id}/statement.pdf")
    figures = _figures(admin.get(form.action, **form.fields))

    assert form.fields == {"year": str(this_year)}
    assert figures["period_from"] == f"{this_year}-04-01"


@pytest.mark.parametrize("year", ["1999", "9999", "二〇二六", "2026.5", "-2026"])
def test_a_year_that_is_no_fiscal_year_is_an_error_page(admin: Console, year: str) -> None:
    fund_id = _fund_with_a_donation(admin)

    page = _download(admin, fund_id, year=year)

    assert page.status_code == 422
    assert "年度は 2000 から 9998 までの数字で入力してください（例: 2026）。" in page.text


def test_the_statement_of_a_fund_that_does_not_exist_is_a_not_found_page(admin: Console) -> None:
    page = admin.get("/console/funds/00000000-0000-4000-8000-000000000000/statement.pdf")
    assert page.status_code == 404
    assert "お探しの記録は見つかりません。" in page.text


def test_nobody_signed_out_gets_a_statement(console: Console) -> None:
    fund_id = _fund_with_a_donation(console)

    page = console.get(f"/console/funds/{fund_id}/statement.pdf", year="2026")

    assert page.url.path == "/console/login"
    assert page.headers["content-type"].startswith("text/html")
