"""Receipts in the console, on SQLite and PostgreSQL: issued from the donation's page, the PDF
downloaded byte for byte as the API gives it, a double submit issuing one number, a void and
its `-2` replacement marked 再発行, refusals shown again with nothing recorded, an auditor who
reads and downloads but cannot write, and the annual receipts of a year as one ZIP. PDFs are
read back with poppler's pdftotext."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.console.conftest import ADMIN, AUDITOR
from tests.console.pages import Console, forms_of

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"
)
EVENTS_PAGE_SIZE = 1_000


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True).stdout
    return re.sub(r"\s+", "", text.decode())


def head(console: Console) -> int:
    """The newest event's position, read through the API."""
    position = 0
    while True:
        page = console.api.read("/v1/events", after=position, limit=EVENTS_PAGE_SIZE)["items"]
        if not page:
            return position
        position = int(page[-1]["position"])


@pytest.fixture
def fund_id(console: Console) -> str:
    return console.api.open_fund()


def given_donation(
    console: Console, fund_id: str, amount_yen: int = 12_345, on: str = "2026-04-01", **donor: Any
) -> dict[str, Any]:
    api = console.api
    donor_id = api.register_donor(**donor)
    body = {
        "fund_id": fund_id,
        "donor_id": donor_id,
        "amount_yen": amount_yen,
        "method": "bank_transfer",
        "effective_on": on,
    }
    return {**api.created("/v1/donations", body), "donor_id": donor_id}


def page_of(donation: dict[str, Any]) -> str:
    return f"/console/donations/{donation['id']}"


def issue_action(donation: dict[str, Any]) -> str:
    return f"{page_of(donation)}/receipt"


def receipts_of(console: Console, donation: dict[str, Any]) -> list[dict[str, Any]]:
    items = console.api.read(f"/v1/donors/{donation['donor_id']}/receipts")["items"]
    return [r for r in items if str(donation["id"]) in r["donation_ids"]]


def issue_from_page(console: Console, donation: dict[str, Any]) -> str:
    response = console.submit(page_of(donation), issue_action(donation))
    assert response.status_code == 200, response.text
    [number] = [str(r["number"]) for r in receipts_of(console, donation) if r["valid"]]
    assert number in response.text
    return number


@needs_poppler
def test_receipt_issued_from_the_donation_page_downloads_as_the_api_gives_it(
    admin: Console, fund_id: str, tmp_path: Path
) -> None:
    donation = given_donation(admin, fund_id)

    number = issue_from_page(admin, donation)
    download = admin.get(f"/console/receipts/{number}.pdf")

    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"] == f'attachment; filename="{number}.pdf"'
    assert download.content == admin.api.get(f"/v1/receipts/{number}.pdf").content
    summary = admin.api.read(f"/v1/receipts/{number}")
    assert hashlib.sha256(download.content).hexdigest() == summary["sha256"]
    assert f"No.{number}" in pdf_text(download.content, tmp_path)
    page = admin.get(page_of(donation)).text
    assert f"/console/receipts/{number}.pdf" in page
    assert "再発行（紛失など）" in page


def test_a_double_submit_of_the_issue_form_issues_one_number(admin: Console, fund_id: str) -> None:
    donation = given_donation(admin, fund_id)
    form = admin.form(page_of(donation), issue_action(donation))

    first = admin.post(form)
    again = admin.post(form)

    assert first.status_code == again.status_code == 200
    [receipt] = receipts_of(admin, donation)
    assert re.fullmatch(r"20[0-9]{2}-000001", receipt["number"])


@needs_poppler
def test_a_voided_receipt_is_replaced_by_its_next_suffix_marked_reissued(
    admin: Console, fund_id: str, tmp_path: Path
) -> None:
    donation = given_donation(admin, fund_id)
    number = issue_from_page(admin, donation)

    voided = admin.submit(
        page_of(donation), f"/console/receipts/{number}/void", reason="寄附者の住所の誤り"
    )
    page = admin.get(page_of(donation)).text
    replacement = admin.submit(page_of(donation), issue_action(donation))

    assert voided.status_code == 200
    assert "無効" in page
    assert "再発行" in page  # the issue form says what it will issue
    assert replacement.status_code == 200
    numbers = {r["number"]: r["valid"] for r in receipts_of(admin, donation)}
    assert numbers == {number: False, f"{number}-2": True}
    assert admin.api.read(f"/v1/receipts/{number}")["void_reason"] == "寄附者の住所の誤り"
    pdf = admin.get(f"/console/receipts/{number}-2.pdf").content
    assert "再発行" in pdf_text(pdf, tmp_path)
    assert f"No.{number}-2" in pdf_text(pdf, tmp_path)


def test_reissue_of_a_lost_receipt_keeps_its_number(admin: Console, fund_id: str) -> None:
    donation = given_donation(admin, fund_id)
    number = issue_from_page(admin, donation)
    first_sha256 = admin.api.read(f"/v1/receipts/{number}")["sha256"]

    response = admin.submit(page_of(donation), issue_action(donation))

    assert response.status_code == 200
    assert [r["number"] for r in receipts_of(admin, donation)] == [number]
    summary = admin.api.read(f"/v1/receipts/{number}")
    assert summary["reissue"] is True
    assert summary["sha256"] != first_sha256


def test_issuing_a_covered_donation_again_is_refused_and_records_nothing(
    admin: Console, fund_id: str
) -> None:
    donation = given_donation(admin, fund_id)
    stale = admin.form(page_of(donation), issue_action(donation))
    number = issue_from_page(admin, donation)
    before = head(admin)

    response = admin.post(stale, idempotency_key="console-second-tab")

    assert response.status_code == 422
    assert "有効な受領証明書が既に発行されています" in response.text
    assert head(admin) == before
    assert [r["number"] for r in receipts_of(admin, donation)] == [number]


def test_issuing_for_a_voided_donation_is_refused_with_nothing_to_receipt(
    admin: Console, fund_id: str
) -> None:
    donation = given_donation(admin, fund_id)
    stale = admin.form(page_of(donation), issue_action(donation))
    admin.api.created(f"/v1/donations/{donation['id']}/void", {"reason": "二重入力"})
    before = head(admin)

    response = admin.post(stale)

    assert response.status_code == 422
    assert "証明書に載せる寄附がありません" in response.text
    assert head(admin) == before
    assert issue_action(donation) not in [f.action for f in forms_of(response.text)]


def test_voiding_without_a_reason_or_twice_is_refused_and_records_nothing(
    admin: Console, fund_id: str
) -> None:
    donation = given_donation(admin, fund_id)
    number = issue_from_page(admin, donation)
    void = admin.form(page_of(donation), f"/console/receipts/{number}/void")
    before = head(admin)

    blank = admin.post(void, reason=" ")
    assert blank.status_code == 422
    assert "入力してください" in blank.text
    assert head(admin) == before

    assert admin.post(void, reason="住所の誤り").status_code == 200
    after_void = head(admin)
    twice = admin.post(void, reason="住所の誤り", idempotency_key="console-other-tab")
    assert twice.status_code == 422
    assert "この受領証明書は無効になっています" in twice.text
    assert head(admin) == after_void


def test_the_donor_page_lists_receipts_and_voids_one_back_to_itself(
    admin: Console, fund_id: str
) -> None:
    donation = given_donation(admin, fund_id)
    number = issue_from_page(admin, donation)
    donor_page = f"/console/donors/{donation['donor_id']}"

    response = admin.submit(donor_page, f"/console/receipts/{number}/void", reason="住所の誤り")

    assert response.status_code == 200
    assert str(response.url.path) == donor_page
    assert f"/console/receipts/{number}.pdf" in response.text
    assert f"/console/receipts/{number}/void" not in response.text
    assert admin.api.read(f"/v1/receipts/{number}")["voided"] is True


def test_a_receipt_is_found_by_its_number(admin: Console, fund_id: str) -> None:
    donation = given_donation(admin, fund_id)
    number = issue_from_page(admin, donation)

    found = admin.get("/console/receipts", number=number)
    missing = admin.get("/console/receipts", number="1999-999999")

    assert found.status_code == 200
    assert "¥12,345" in found.text
    assert "山田 太郎" in found.text
    assert missing.status_code == 404
    assert "見つかりません" in missing.text


def test_an_auditor_downloads_but_gets_no_forms_and_cannot_post(
    console: Console, fund_id: str
) -> None:
    donation = given_donation(console, fund_id)
    console.sign_in(ADMIN)
    number = issue_from_page(console, donation)
    issue_form = console.form(page_of(donation), issue_action(donation))
    console.sign_out()
    console.sign_in(AUDITOR)
    before = head(console)

    page = console.get(page_of(donation))
    receipts_page = console.get("/console/receipts", number=number)
    download = console.get(f"/console/receipts/{number}.pdf")
    csrf = console.form("/console/", "/console/logout").fields["csrf_token"]
    posts = [
        console.post(issue_form, csrf_token=csrf),
        console.client.post(
            f"/console/receipts/{number}/void", data={"csrf_token": csrf, "reason": "誤り"}
        ),
        console.client.post("/console/receipts/annual", data={"csrf_token": csrf, "year": "2026"}),
    ]

    assert page.status_code == receipts_page.status_code == 200
    for shown in (page, receipts_page):
        assert [f.action for f in forms_of(shown.text) if f.method == "post"] == ["/console/logout"]
    assert download.content == console.api.get(f"/v1/receipts/{number}.pdf").content
    assert [p.status_code for p in posts] == [403, 403, 403]
    assert head(console) == before


def annual_zip(console: Console, year: int) -> zipfile.ZipFile:
    response = console.get(f"/console/receipts/annual/{year}.zip")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_annual_receipts_of_a_year_come_as_one_zip_of_the_issued_pdfs(
    admin: Console, fund_id: str
) -> None:
    first = given_donation(admin, fund_id, 10_000, "2026-02-01")
    second = given_donation(
        admin, fund_id, 20_000, "2026-03-01", name="亀岡 花子", kana="カメオカ ハナコ"
    )
    given_donation(admin, fund_id, 30_000, "2025-12-31", name="保津 次郎", kana="ホヅ ジロウ")

    issued = admin.submit("/console/receipts", "/console/receipts/annual", year="2026")

    assert issued.status_code == 200
    assert "2件を発行しました" in issued.text
    numbers = {
        r["number"]
        for gift in (first, second)
        for r in receipts_of(admin, gift)
        if r["kind"] == "annual"
    }
    assert len(numbers) == 2
    archive = annual_zip(admin, 2026)
    assert sorted(archive.namelist()) == sorted(f"{n}.pdf" for n in numbers)
    for number in numbers:
        document = archive.read(f"{number}.pdf")
        assert document == admin.api.get(f"/v1/receipts/{number}.pdf").content
        sha256 = admin.api.read(f"/v1/receipts/{number}")["sha256"]
        assert hashlib.sha256(document).hexdigest() == sha256


def test_running_the_annual_receipts_again_issues_nothing_new(admin: Console, fund_id: str) -> None:
    given_donation(admin, fund_id, 10_000, "2026-02-01")
    given_donation(admin, fund_id, 20_000, "2026-03-01", name="亀岡 花子", kana="カメオカ ハナコ")
    admin.submit("/console/receipts", "/console/receipts/annual", year="2026")
    before = head(admin)
    names = annual_zip(admin, 2026).namelist()

    again = admin.submit("/console/receipts", "/console/receipts/annual", year="2026")

    assert again.status_code == 200
    assert "0件を発行しました。2件は発行済みでした。" in again.text
    assert head(admin) == before
    assert annual_zip(admin, 2026).namelist() == names


def test_an_empty_year_gives_a_message_not_an_empty_zip(admin: Console, fund_id: str) -> None:
    given_donation(admin, fund_id, 10_000, "2026-02-01")
    before = head(admin)

    issued = admin.submit("/console/receipts", "/console/receipts/annual", year="2024")
    download = admin.get("/console/receipts/annual/2024.zip")

    assert issued.status_code == 422
    assert "2024年に寄附のある寄附者がいません" in issued.text
    assert download.status_code == 404
    assert "2024年の有効な年間受領証明書はありません" in download.text
    assert head(admin) == before


def test_an_invalid_year_is_refused_next_to_its_field(admin: Console, fund_id: str) -> None:
    before = head(admin)
    response = admin.submit("/console/receipts", "/console/receipts/annual", year="二〇二六")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in response.text
    assert head(admin) == before
