"""Receipts through the HTTP API: an admin issues (idempotent with its key) and downloads any;
a donor lists and downloads only its own; a download is byte for byte the issued PDF; a
refund voids the receipt and the next issue is the 再発行 replacement. PDFs are read back
with pdftotext."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.http import Api

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils is not installed"
)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True).stdout
    return re.sub(r"\s+", "", text.decode())


def given_a_donation(api: Api, amount_yen: int = 12_345) -> dict[str, Any]:
    fund_id = api.open_fund()
    donor_id = api.register_donor()
    body = {
        "fund_id": fund_id,
        "donor_id": donor_id,
        "amount_yen": amount_yen,
        "method": "bank_transfer",
        "effective_on": "2026-04-01",
    }
    return {**api.created("/v1/donations", body), "donor_id": donor_id}


def issue(api: Api, donation_id: str, **body: Any) -> dict[str, Any]:
    return api.created(f"/v1/donations/{donation_id}/receipts", body)


def test_admin_issues_a_receipt_and_a_retry_with_its_key_answers_the_same(api: Api) -> None:
    gift = given_a_donation(api)
    first = api.post(f"/v1/donations/{gift['id']}/receipts", {}, key="receipt-1")
    again = api.post(f"/v1/donations/{gift['id']}/receipts", {}, key="receipt-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert re.fullmatch(r"20[0-9]{2}-000001", first.json()["number"])


def test_issuing_again_without_reissue_is_a_conflict(api: Api) -> None:
    gift = given_a_donation(api)
    issue(api, gift["id"])
    response = api.post(f"/v1/donations/{gift['id']}/receipts", {})
    assert response.status_code == 409
    assert response.json()["type"].endswith("receipt-already-issued")


@needs_poppler
def test_donor_downloads_its_own_receipt_exactly_as_issued(api: Api, tmp_path: Path) -> None:
    gift = given_a_donation(api)
    receipt = issue(api, gift["id"])
    own = api.token("donor", "山田 太郎", gift["donor_id"])
    path = f"/v1/donors/{gift['donor_id']}/receipts/{receipt['number']}.pdf"

    first, second = api.get(path, as_=own), api.get(path, as_=own)

    assert first.status_code == 200
    assert first.headers["content-type"] == "application/pdf"
    assert first.content == second.content
    assert api.get(f"/v1/receipts/{receipt['number']}.pdf", as_=api.admin).content == first.content
    text = pdf_text(first.content, tmp_path)
    for expected in ("寄附金受領証明書", f"No.{receipt['number']}", "山田太郎様", "¥12,345-"):
        assert expected in text
    assert "令和8年4月1日(2026年4月1日)" in text


def test_a_donor_cannot_see_another_donors_receipts(api: Api) -> None:
    gift = given_a_donation(api)
    receipt = issue(api, gift["id"])
    other_id = api.register_donor(name="別の 寄附者")
    other = api.token("donor", "別の 寄附者", other_id)
    own_path = f"/v1/donors/{gift['donor_id']}/receipts"
    assert api.get(own_path, as_=other).status_code == 404
    assert api.get(f"{own_path}/{receipt['number']}.pdf", as_=other).status_code == 404
    # nor reach it through its own path
    sneaky = f"/v1/donors/{other_id}/receipts/{receipt['number']}.pdf"
    assert api.get(sneaky, as_=other).status_code == 404


@needs_poppler
def test_refund_voids_the_receipt_and_the_next_issue_is_the_reissued_replacement(
    api: Api, tmp_path: Path
) -> None:
    gift = given_a_donation(api, 10_000)
    first = issue(api, gift["id"])
    refund = {"amount_yen": 4_000, "reason": "寄附者の申し出", "effective_on": "2026-05-01"}
    api.created(f"/v1/donations/{gift['id']}/refunds", refund)

    replacement = issue(api, gift["id"])

    assert replacement["number"] == f"{first['number']}-2"
    assert replacement["amounts_yen"] == {"amount_yen": 6_000}
    listed = api.get(f"/v1/donors/{gift['donor_id']}/receipts").json()["items"]
    assert [(r["number"], r["valid"]) for r in listed] == [
        (first["number"], False),
        (replacement["number"], True),
    ]
    pdf = api.get(f"/v1/receipts/{replacement['number']}.pdf").content
    text = pdf_text(pdf, tmp_path)
    assert "再発行" in text
    assert "¥6,000-" in text
    assert api.get(f"/v1/receipts/{first['number']}").json()["voided"] is True


@needs_poppler
def test_reprint_of_a_lost_receipt_keeps_its_number_and_is_marked_reissued(
    api: Api, tmp_path: Path
) -> None:
    gift = given_a_donation(api)
    first = issue(api, gift["id"])
    reprint = issue(api, gift["id"], reissue=True)
    assert reprint["number"] == first["number"]
    assert reprint["sha256"] != first["sha256"]
    assert "再発行" in pdf_text(api.get(f"/v1/receipts/{first['number']}.pdf").content, tmp_path)


def test_unknown_receipt_numbers_answer_404(api: Api) -> None:
    for number in ("2026-999999", "not-a-number"):
        assert api.get(f"/v1/receipts/{number}.pdf").status_code == 404
        assert api.get(f"/v1/receipts/{number}").status_code == 404
