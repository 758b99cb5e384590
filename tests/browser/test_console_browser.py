"""A member of staff works through the console in Chromium: signs in, registers a donor,
records a donation, sees the balance change, issues and downloads the receipt, uploads a bank
list and confirms it, signs out. And what the browser must never allow."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from api.console.routing import SESSION_COOKIE
from tests.browser.conftest import PASSWORD, Server, screenshot

pytestmark = pytest.mark.browser


def required(label: str) -> re.Pattern[str]:
    """The accessible name of a required field: its label and the （必須） mark."""
    return re.compile(rf"^{re.escape(label)}\s*（必須）$")


def sign_in(page: Page, name: str = "kanri") -> None:
    page.goto("/console/")
    expect(page).to_have_url(re.compile(r"/console/login"))
    page.get_by_label("ユーザー名").fill(name)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="サインイン").click()
    expect(page.get_by_role("heading", name="ダッシュボード")).to_be_visible()


def register_donor(page: Page) -> None:
    page.get_by_role("link", name="寄附者", exact=True).click()
    page.get_by_role("link", name="寄附者を登録").click()
    page.get_by_label(required("種別")).select_option(label="個人")
    page.get_by_label(required("氏名・名称")).fill("亀岡 花子")
    page.get_by_label(required("フリガナ")).fill("カメオカ ハナコ")
    page.get_by_label(required("郵便番号")).fill("621-0806")
    page.get_by_label(required("住所")).fill("京都府亀岡市余部町宝久保1-1")
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("status")).to_have_text("記録しました。")


def test_staff_member_records_a_donation_and_sees_the_balance(page: Page, server: Server) -> None:
    sign_in(page)
    register_donor(page)
    page.get_by_role("link", name="この寄附者の寄附を記録").click()
    page.get_by_label(required("金額（円）")).fill("10,000")
    page.get_by_label("使途指定").select_option(label="保津川の清掃")
    page.get_by_label("取引年月日").fill("2026-04-01")
    screenshot(page, "console-donation-form", for_docs=True)
    page.get_by_role("button", name="記録する").click()
    expect(page.get_by_role("status")).to_have_text("記録しました。")
    expect(page.locator("[data-figure=amount]")).to_have_text("¥10,000")

    page.get_by_role("link", name="基金のページ").click()
    expect(page.locator("[data-figure=cash]")).to_have_text("¥9,650")  # less the 3.5% fee
    expect(page.locator("[data-figure=progress]")).to_contain_text("2.00%")
    screenshot(page, "console-dashboard", for_docs=True)


def test_staff_member_issues_and_downloads_a_receipt(page: Page, server: Server) -> None:
    sign_in(page)
    register_donor(page)
    page.get_by_role("link", name="この寄附者の寄附を記録").click()
    page.get_by_label(required("金額（円）")).fill("5000")
    page.get_by_label("取引年月日").fill("2026-04-01")
    page.get_by_role("button", name="記録する").click()
    page.get_by_role("button", name="受領証明書を発行").click()
    expect(page.get_by_role("status")).to_have_text("記録しました。")
    number = page.locator("[data-receipt]").first.get_attribute("data-receipt")
    assert number is not None
    assert re.fullmatch(r"2026-\d{6}", number)
    with page.expect_download() as downloading:
        page.get_by_role("link", name="ダウンロード").click()
    download = downloading.value
    assert download.suggested_filename == f"{number}.pdf"
    pdf = Path(download.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert number in text
    assert "¥5,000-" in text


def test_staff_member_uploads_a_bank_list_and_confirms_it(
    page: Page, server: Server, tmp_path: Path
) -> None:
    sign_in(page)
    register_donor(page)
    bank_list = tmp_path / "furikomi.csv"
    bank_list.write_text(
        "取引日,金額,振込依頼人名,参照番号\n"
        '2026-04-03,"20,000",ｶﾒｵｶ ﾊﾅｺ,BK20260403-0001\n'
        "2026-04-04,3000,ｶﾒｵｶ ﾊﾅｺ,BK20260404-0002\n",
        encoding="utf-8",
    )
    page.get_by_role("link", name="振込一覧の取込").click()
    page.get_by_label(required("ファイル（CSV）")).set_input_files(bank_list)
    page.get_by_role("button", name=re.compile("内容を確認する")).click()
    expect(page.get_by_role("heading", name="取込の確認")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("亀岡 花子")  # the payer matched
    screenshot(page, "console-import-preview")
    page.get_by_role("button", name=re.compile("取込を確定する")).click()
    expect(page.locator("[data-figure=result]")).to_contain_text("2")
    page.get_by_role("link", name=re.compile("のページへ")).click()
    expect(page.locator("[data-figure=donations]")).to_have_text("2件")
    expect(page.locator("[data-figure=progress]")).to_contain_text("¥23,000")

    page.get_by_role("button", name="サインアウト").click()
    expect(page.get_by_role("status")).to_have_text("サインアウトしました。")
    page.goto(f"/console/funds/{server.fund_id}")
    expect(page).to_have_url(re.compile(r"/console/login"))


def test_double_click_on_record_records_one_donation(page: Page, server: Server) -> None:
    sign_in(page)
    register_donor(page)
    page.get_by_role("link", name="この寄附者の寄附を記録").click()
    page.get_by_label(required("金額（円）")).fill("3000")
    page.get_by_role("button", name="記録する").dblclick()
    expect(page.get_by_role("status")).to_have_text("記録しました。")
    page.goto(f"/console/funds/{server.fund_id}")
    expect(page.locator("[data-figure=donations]")).to_have_text("1件")


def test_administrator_closes_the_books_behind_a_tick(page: Page, server: Server) -> None:
    sign_in(page)
    page.goto(f"/console/funds/{server.fund_id}")
    page.get_by_text("帳簿を締める（決算の締め）").click()
    page.get_by_label(required("この日まで締める")).fill("2020-03-31")
    page.get_by_label(required("理由")).fill("2019年度決算")
    page.get_by_role("button", name="帳簿を締める").click()
    expect(page.get_by_role("alert")).to_contain_text("確認のうえチェックしてください")

    page.get_by_label("締めた帳簿は開き直せないことを確認しました").check()
    page.get_by_role("button", name="帳簿を締める").click()
    expect(page.get_by_role("status")).to_have_text("記録しました。")
    expect(page.locator("[data-figure=books-closed]")).to_contain_text("令和2年3月31日")


def test_auditor_downloads_the_funds_statement_for_a_year(page: Page, server: Server) -> None:
    sign_in(page, "kansa")
    page.goto(f"/console/funds/{server.fund_id}")
    page.get_by_label("年度").fill("2025")
    with page.expect_download() as downloading:
        page.get_by_role("button", name="基金収支報告書（PDF）").click()
    download = downloading.value
    assert download.suggested_filename == f"statement-{server.fund_id}-2025.pdf"
    pdf = Path(download.path()).read_bytes()
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()
    assert "基金収支報告書" in text
    assert "令和7年4月1日 (2025年4月1日) 〜 令和8年3月31日 (2026年3月31日)" in text


def test_session_cookie_is_not_readable_from_javascript(page: Page, server: Server) -> None:
    sign_in(page)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies[SESSION_COOKIE]["httpOnly"] is True
    assert cookies[SESSION_COOKIE]["sameSite"] == "Strict"
    assert SESSION_COOKIE not in page.evaluate("document.cookie")


def test_auditor_sees_the_figures_but_no_forms(page: Page, server: Server) -> None:
    sign_in(page, "kansa")
    expect(page.get_by_role("link", name="寄附を記録")).to_have_count(0)
    page.goto(f"/console/funds/{server.fund_id}")
    expect(page.locator("[data-figure=cash]")).to_have_text("¥0")
    page.goto("/console/donors/new")
    expect(page.get_by_role("alert")).to_contain_text("監査担当")
