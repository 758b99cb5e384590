"""An administrator records a donor and their donations through the console's forms, as the
fund's staff do: the balance changes, a double submit records once, a refused form says why
in Japanese next to the field and records nothing."""

from __future__ import annotations

from tests.console.pages import Console, head_position

DONOR = {
    "kind": "individual",
    "name": "保津 川子",
    "kana": "ホヅ カワコ",
    "postal_code": "621-0806",
    "address": "京都府亀岡市余部町3-3",
}


def _fund_and_donor(admin: Console) -> tuple[str, str]:
    fund_id = admin.api.open_fund(target_yen=500_000)
    admin.api.created(
        f"/v1/funds/{fund_id}/designations", {"designation": "hozugawa", "name": "保津川の清掃"}
    )
    registered = admin.submit("/console/donors/new", "/console/donors/new", **DONOR)
    assert registered.status_code == 200, registered.text
    donor_id = registered.url.path.rsplit("/", 1)[1]
    return fund_id, donor_id


def test_recorded_donation_shows_on_the_fund_dashboard(admin_on_both: Console) -> None:
    fund_id, donor_id = _fund_and_donor(admin_on_both)
    page = f"/console/donations/new?donor_id={donor_id}"
    recorded = admin_on_both.submit(
        page,
        "/console/donations/new",
        amount_yen="12,345",
        designation="hozugawa",
        effective_on="2026-04-01",
    )
    assert recorded.status_code == 200, recorded.text
    assert "記録しました" in recorded.text
    assert "¥12,345" in recorded.text
    balance = admin_on_both.api.read(f"/v1/funds/{fund_id}/balance")
    assert balance["donation_count"] == 1
    assert balance["received_yen"] == 12_345
    dashboard = admin_on_both.get(f"/console/funds/{fund_id}")
    assert "保津 川子" in dashboard.text  # the latest transactions
    fee_yen = 12_345 * 350 // 10_000
    assert f"¥{12_345 - fee_yen:,}" in dashboard.text  # cash after the host fee


def test_double_submit_of_the_donation_form_records_one_donation(admin_on_both: Console) -> None:
    fund_id, donor_id = _fund_and_donor(admin_on_both)
    form = admin_on_both.form(
        f"/console/donations/new?donor_id={donor_id}", "/console/donations/new"
    )
    first = admin_on_both.post(form, amount_yen="5000")
    position = head_position(admin_on_both.api.database_url)
    second = admin_on_both.post(form, amount_yen="5000")  # the same form sent again
    assert first.url == second.url
    assert head_position(admin_on_both.api.database_url) == position
    assert admin_on_both.api.read(f"/v1/funds/{fund_id}/balance")["donation_count"] == 1


def test_invalid_amount_is_shown_next_to_the_field_and_records_nothing(
    admin_on_both: Console,
) -> None:
    _, donor_id = _fund_and_donor(admin_on_both)
    form = admin_on_both.form(
        f"/console/donations/new?donor_id={donor_id}", "/console/donations/new"
    )
    before = head_position(admin_on_both.api.database_url)
    response = admin_on_both.post(form, amount_yen="千円")
    assert response.status_code == 422
    assert 'id="error-amount_yen"' in response.text
    assert "半角数字で、整数を入力してください" in response.text
    assert head_position(admin_on_both.api.database_url) == before
    corrected = admin_on_both.post(
        admin_on_both.form(response, "/console/donations/new"), amount_yen="1000"
    )
    assert corrected.status_code == 200
    assert "記録しました" in corrected.text


def test_refund_beyond_what_is_left_is_refused_next_to_the_amount(admin_on_both: Console) -> None:
    _, donor_id = _fund_and_donor(admin_on_both)
    donation = admin_on_both.submit(
        f"/console/donations/new?donor_id={donor_id}", "/console/donations/new", amount_yen="3000"
    )
    action = donation.url.path + "/refund"
    before = head_position(admin_on_both.api.database_url)
    refused = admin_on_both.post(
        admin_on_both.form(donation, action), amount_yen="3001", reason="申し出"
    )
    assert refused.status_code == 422
    assert "返金額が、この寄附の返金できる残額を超えています" in refused.text
    assert head_position(admin_on_both.api.database_url) == before
    refunded = admin_on_both.post(
        admin_on_both.form(refused, action), amount_yen="3000", reason="申し出"
    )
    assert refunded.status_code == 200
    assert "全額返金済み" in refunded.text


def test_a_donation_dated_in_closed_books_is_refused_next_to_its_date(
    admin_on_both: Console,
) -> None:
    fund_id, donor_id = _fund_and_donor(admin_on_both)
    closing = {"through": "2026-03-31", "reason": "2025年度決算"}
    admin_on_both.api.created(f"/v1/funds/{fund_id}/book-closings", closing)
    form = admin_on_both.form(
        f"/console/donations/new?donor_id={donor_id}", "/console/donations/new"
    )
    before = head_position(admin_on_both.api.database_url)

    refused = admin_on_both.post(form, amount_yen="1000", effective_on="2026-03-31")

    assert refused.status_code == 422
    assert 'id="error-effective_on"' in refused.text
    assert "この日付の帳簿は締められています" in refused.text
    assert head_position(admin_on_both.api.database_url) == before
    dashboard = admin_on_both.get(f"/console/funds/{fund_id}")
    assert "帳簿は 令和8年3月31日 まで締めています" in dashboard.text


def test_void_of_a_donation_recorded_by_mistake(admin_on_both: Console) -> None:
    fund_id, donor_id = _fund_and_donor(admin_on_both)
    donation = admin_on_both.submit(
        f"/console/donations/new?donor_id={donor_id}", "/console/donations/new", amount_yen="800"
    )
    voided = admin_on_both.submit(donation.url.path, donation.url.path + "/void", reason="二重入力")
    assert "取消済み" in voided.text
    assert admin_on_both.api.read(f"/v1/funds/{fund_id}/balance")["donation_count"] == 0


def test_donor_is_found_by_kana_and_postal_code(admin_on_both: Console) -> None:
    _fund_and_donor(admin_on_both)
    assert "保津 川子" in admin_on_both.get("/console/donors", q="ホヅ").text
    assert "保津 川子" in admin_on_both.get("/console/donors", postal_code="6210806").text
    assert "保津 川子" not in admin_on_both.get("/console/donors", postal_code="600").text


def test_donor_correction_is_recorded_with_its_reason(admin_on_both: Console) -> None:
    _, donor_id = _fund_and_donor(admin_on_both)
    page = f"/console/donors/{donor_id}/correct"
    corrected = admin_on_both.submit(page, page, address="京都府亀岡市安町1-1", reason="転居")
    assert corrected.status_code == 200
    assert "京都府亀岡市安町1-1" in corrected.text
    unchanged = admin_on_both.submit(page, page, reason="確認")
    assert unchanged.status_code == 422
    assert "変更された項目がありません" in unchanged.text
