"""The whole life of a fund through HTTP, on SQLite and PostgreSQL: open, designations,
donors, donations, a refund, a void, a grant paid in two disbursements, a reduction, a
grantee's return; the balances read back (at the write's position) after every step."""

from __future__ import annotations

from typing import Any

from tests.e2e.http import Api

GENERAL = "general"


def pot(balance: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [p for p in balance["pots"] if p["pot"] == name]
    return found


def figures(balance: dict[str, Any], name: str) -> tuple[int, int, int]:
    found = pot(balance, name)
    return found["cash_yen"], found["committed_yen"], found["available_yen"]


def test_the_life_of_a_fund_through_http_keeps_every_balance_right(api: Api) -> None:
    fund_id = api.open_fund(target_yen=500_000)
    designation = api.created(
        f"/v1/funds/{fund_id}/designations", {"designation": "hozugawa", "name": "保津川の清掃"}
    )
    donor_id = api.register_donor()
    company_id = api.register_donor(kind="organisation", name="株式会社 亀岡", kana="カメオカ")

    general_gift = api.created(
        "/v1/donations",
        {
            "fund_id": fund_id,
            "donor_id": donor_id,
            "amount_yen": 100_000,
            "method": "bank_transfer",
            "effective_on": "2026-04-01",
            "external_reference": "bank-0001",
        },
    )
    assert general_gift["amounts_yen"] == {"amount_yen": 100_000, "fee_yen": 3_500}
    balance = api.read(f"/v1/funds/{fund_id}/balance", waiting_for=general_gift)
    assert figures(balance, GENERAL) == (96_500, 0, 96_500)
    assert balance["progress_bp"] == 2_000

    designated_gift = api.created(
        "/v1/donations",
        {
            "fund_id": fund_id,
            "donor_id": company_id,
            "amount_yen": 333_333,
            "method": "postal_transfer",
            "effective_on": "2026-05-10",
            "designation": "hozugawa",
        },
    )
    fee_yen = 333_333 * 350 // 10_000
    assert designated_gift["amounts_yen"]["fee_yen"] == fee_yen == 11_666
    balance = api.read(f"/v1/funds/{fund_id}/balance", waiting_for=designated_gift)
    assert figures(balance, "hozugawa") == (333_333 - fee_yen, 0, 333_333 - fee_yen)
    assert pot(balance, "hozugawa")["restriction_released_yen"] == fee_yen

    refund = api.created(
        f"/v1/donations/{general_gift['id']}/refunds",
        {"amount_yen": 40_000, "reason": "寄附者の申し出", "effective_on": "2026-06-01"},
    )
    fee_back = 3_500 * 40_000 // 100_000
    balance = api.read(f"/v1/funds/{fund_id}/balance", waiting_for=refund)
    general_cash = 96_500 - 40_000 + fee_back  # the refund less the fee given back
    assert figures(balance, GENERAL) == (general_cash, 0, general_cash)
    donation = api.read(f"/v1/donations/{general_gift['id']}")
    assert (donation["refunded_yen"], donation["fee_returned_yen"]) == (40_000, fee_back)

    mistake = api.created(
        "/v1/donations",
        {"fund_id": fund_id, "donor_id": donor_id, "amount_yen": 5_000, "method": "cash"},
    )
    void = api.created(f"/v1/donations/{mistake['id']}/void", {"reason": "二重入力"})
    balance = api.read(f"/v1/funds/{fund_id}/balance", waiting_for=void)
    assert figures(balance, GENERAL) == (general_cash, 0, general_cash)
    assert balance["donation_count"] == 2

    grant = api.created(
        "/v1/grants",
        {
            "fund_id": fund_id,
            "grantee": "NPO法人 保津川",
            "representative": "代表 鈴木",
            "purpose": "河川清掃",
            "amount_yen": 300_000,
            "designation": "hozugawa",
            "effective_on": "2026-07-01",
        },
    )
    hozugawa_cash = 333_333 - fee_yen
    balance = api.read(f"/v1/funds/{fund_id}/balance", waiting_for=grant)
    assert figures(balance, "hozugawa") == (hozugawa_cash, 300_000, hozugawa_cash - 300_000)

    first_payment = api.created(f"/v1/grants/{grant['id']}/disbursements", {"amount_yen": 200_000})
    balance = api.read(f"/v1/funds/{fund_id}/balance", waiting_for=first_payment)
    assert figures(balance, "hozugawa") == (
        hozugawa_cash - 200_000,
        100_000,
        hozugawa_cash - 300_000,
    )

    reduction = api.created(
        f"/v1/grants/{grant['id']}/reduce", {"amount_yen": 30_000, "reason": "事業縮小"}
    )
    second_payment = api.created(f"/v1/grants/{grant['id']}/disbursements", {"amount_yen": 70_000})
    assert reduction["position"] < second_payment["position"]
    returned = api.created(
        f"/v1/grants/{grant['id']}/returns", {"amount_yen": 5_000, "reason": "未使用分の返還"}
    )
    balance = api.read(f"/v1/funds/{fund_id}/balance", waiting_for=returned)
    hozugawa_left = hozugawa_cash - 270_000 + 5_000
    assert figures(balance, "hozugawa") == (hozugawa_left, 0, hozugawa_left)
    grant_now = api.read(f"/v1/grants/{grant['id']}")
    assert (grant_now["disbursed_yen"], grant_now["unpaid_yen"]) == (270_000, 0)
    assert grant_now["returned_yen"] == 5_000

    register = api.read("/v1/grants", fund_id=fund_id, waiting_for=returned)
    assert [g["grant_id"] for g in register["items"]] == [grant["id"]]
    summary = api.read(f"/v1/donors/{donor_id}/summary", waiting_for=returned)
    (year_2026,) = summary["calendar_years"]
    assert (year_2026["gross_yen"], year_2026["refunded_yen"]) == (105_000, 40_000)
    assert year_2026["net_yen"] == 105_000 - 40_000 - 5_000
    fund = api.read(f"/v1/funds/{fund_id}")
    assert fund["designations"] == {"hozugawa": "保津川の清掃"}
    assert designation["kind"] == "add_designation"


def test_journal_search_finds_a_donation_by_counterparty_and_amount(api: Api) -> None:
    fund_id = api.open_fund()
    donor_id = api.register_donor(name="亀岡 花子")
    gift = api.created(
        "/v1/donations",
        {"fund_id": fund_id, "donor_id": donor_id, "amount_yen": 12_345, "method": "card"},
    )

    found = api.read(
        "/v1/journal",
        waiting_for=gift,
        counterparty="亀岡 花子",
        amount_min_yen=12_345,
        amount_max_yen=12_345,
    )

    assert {row["account"] for row in found["items"]} == {"cash:general", "net_assets:unrestricted"}
    assert all(row["counterparty"] == "亀岡 花子" for row in found["items"])


def test_event_log_and_verify_agree_on_the_chain_head(api: Api) -> None:
    api.open_fund()
    api.register_donor()

    log = api.read("/v1/events", limit=10)
    report = api.read("/v1/verify")

    assert [e["type"] for e in log["items"]] == ["Fund.Opened", "Donor.Registered"]
    assert report["fault"] is None
    assert report["event_count"] == 2
    assert report["head_hash"] == log["items"][-1]["chain_hash"]
    assert api.read("/v1/verify", expected_head=log["items"][0]["chain_hash"])["fault"] is None
