"""寄附者ご芳名 through the API and the console, on SQLite and PostgreSQL: the donors of a fund
who agreed to have their names published and gave in the year more than was given back, by
kana, under their current names; per 年度 or calendar year; for admins and auditors only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.http import Api


def _donor(api: Api, name: str, kana: str, *, publish: bool, kind: str = "individual") -> str:
    return api.register_donor(name=name, kana=kana, kind=kind, publish_name=publish)


def _give(api: Api, fund_id: str, donor_id: str, day: str) -> str:
    return str(api.donate(fund_id, donor_id, 10_000, day)["id"])


def given_a_funds_donors(api: Api) -> tuple[str, dict[str, Any]]:
    """A fund whose donors, in 2026, are: two who publish (one giving on 31 March, the last day
    of 年度 2025, one on 1 April), a company that publishes, one who does not, one whose gift
    was refunded in full; and a donor who publishes but gave to another fund only. Returns the
    fund and the last write."""
    fund_id, other_fund_id = api.open_fund(), api.open_fund(name="保津川基金")
    march = _donor(api, "保津 太郎", "ホヅ タロウ", publish=True)
    april = _donor(api, "亀岡 花子", "カメオカ ハナコ", publish=True)
    company = _donor(api, "株式会社 保津川", "ホヅガワ", publish=True, kind="organisation")
    anonymous = _donor(api, "匿名 希望", "トクメイ キボウ", publish=False)
    refunded = _donor(api, "返金 済子", "ヘンキン スミコ", publish=True)
    elsewhere = _donor(api, "他 基金", "アザー", publish=True)
    _give(api, fund_id, march, "2026-03-31")
    _give(api, fund_id, april, "2026-04-01")
    _give(api, fund_id, company, "2026-05-01")
    _give(api, fund_id, anonymous, "2026-05-01")
    gift = _give(api, fund_id, refunded, "2026-05-01")
    api.created(f"/v1/donations/{gift}/refunds", {"amount_yen": 10_000, "reason": "返金"})
    _give(api, other_fund_id, elsewhere, "2026-05-01")
    correction = {"name": "亀岡 華子", "reason": "改姓"}
    last = api.created(f"/v1/donors/{april}/corrections", correction)
    return fund_id, last


def _names(api: Api, fund_id: str, last: dict[str, Any], **params: Any) -> list[str]:
    found = api.read(f"/v1/funds/{fund_id}/published-donors", waiting_for=last, **params)
    return [donor["name"] for donor in found["donors"]]


def test_published_donors_per_fiscal_and_calendar_year_by_kana(api: Api) -> None:
    fund_id, last = given_a_funds_donors(api)

    assert _names(api, fund_id, last, year=2026) == ["亀岡 華子", "株式会社 保津川"]
    assert _names(api, fund_id, last, year=2025, basis="fiscal") == ["保津 太郎"]
    assert _names(api, fund_id, last, year=2026, basis="calendar") == [
        "亀岡 華子",
        "保津 太郎",
        "株式会社 保津川",
    ]
    assert _names(api, fund_id, last, year=2027) == []


def test_published_donors_answer_says_what_it_lists(api: Api) -> None:
    fund_id, last = given_a_funds_donors(api)

    found = api.read(f"/v1/funds/{fund_id}/published-donors", waiting_for=last, year=2025)

    assert {k: v for k, v in found.items() if k != "donors"} == {
        "fund_id": fund_id,
        "basis": "fiscal",
        "year": 2025,
    }
    assert [set(donor) for donor in found["donors"]] == [{"donor_id", "kind", "name", "kana"}]
    assert found["donors"][0]["kana"] == "ホヅ タロウ"


@pytest.mark.parametrize(
    "params",
    [{"year": 1999}, {"year": 10_000}, {"year": "2026年"}, {}, {"year": 2026, "basis": "monthly"}],
    ids=["1999", "10000", "not-a-number", "no-year", "unknown-basis"],
)
def test_a_year_or_basis_that_is_no_period_is_a_422_problem(
    api: Api, params: dict[str, Any]
) -> None:
    fund_id = api.open_fund()

    response = api.get(f"/v1/funds/{fund_id}/published-donors", **params)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_published_donors_of_a_fund_that_does_not_exist_is_a_404_problem(api: Api) -> None:
    response = api.get("/v1/funds/00000000-0000-4000-8000-000000000000/published-donors", year=2026)
    assert response.status_code == 404
    assert response.json()["type"].endswith("not-found")


def test_a_donor_token_cannot_read_the_list(api: Api) -> None:
    fund_id, last = given_a_funds_donors(api)
    donor_id = api.read(f"/v1/funds/{fund_id}/published-donors", waiting_for=last, year=2026)[
        "donors"
    ][0]["donor_id"]
    as_donor = api.token("donor", "亀岡 華子", donor_id)

    response = api.get(f"/v1/funds/{fund_id}/published-donors", as_=as_donor, year=2026)

    assert response.status_code == 403
