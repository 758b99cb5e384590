"""Voiding a receipt issued wrongly through the HTTP API (`POST /v1/receipts/{number}/void`),
on SQLite and PostgreSQL: admin only, idempotent with its key, refused once voided; the next
issue is the replacement with the next suffix, marked 再発行, showing the corrected address.
PDFs read back with pypdf."""

from __future__ import annotations

from tests.e2e.http import Api
from tests.e2e.test_receipts_cli import text_of
from tests.e2e.test_receipts_http import given_a_donation, issue

REASON = {"reason": "寄附者の住所の誤り"}


def void_path(number: str) -> str:
    return f"/v1/receipts/{number}/void"


def test_voided_receipt_is_replaced_by_its_next_suffix_showing_the_corrected_address(
    api: Api,
) -> None:
    gift = given_a_donation(api, 10_000)
    first = issue(api, gift["id"])
    correction = {"address": "京都府亀岡市旭町1", "reason": "住所の誤り"}
    api.created(f"/v1/donors/{gift['donor_id']}/corrections", correction)

    voided = api.post(void_path(first["number"]), REASON)
    replacement = issue(api, gift["id"])

    assert voided.status_code == 201, voided.text
    assert voided.json()["kind"] == "void_receipt"
    assert replacement["number"] == f"{first['number']}-2"
    assert replacement["amounts_yen"] == {"amount_yen": 10_000}
    summary = api.get(f"/v1/receipts/{first['number']}").json()
    assert (summary["voided"], summary["void_reason"]) == (True, REASON["reason"])
    text = text_of(api.get(f"/v1/receipts/{replacement['number']}.pdf").content)
    assert "再発行" in text
    assert "京都府亀岡市旭町1" in text
    assert "余部町" in text_of(api.get(f"/v1/receipts/{first['number']}.pdf").content)


def test_an_auditor_may_not_void_a_receipt(api: Api) -> None:
    receipt = issue(api, given_a_donation(api)["id"])
    response = api.post(void_path(receipt["number"]), REASON, as_=api.auditor)
    assert response.status_code == 403
    assert api.get(f"/v1/receipts/{receipt['number']}").json()["voided"] is False


def test_voiding_a_voided_receipt_again_is_a_conflict(api: Api) -> None:
    receipt = issue(api, given_a_donation(api)["id"])
    api.created(void_path(receipt["number"]), REASON)
    before = api.read("/v1/events")["items"][-1]["position"]

    again = api.post(void_path(receipt["number"]), REASON)

    assert again.status_code == 409
    assert again.json()["type"].endswith("receipt-voided")
    assert api.read("/v1/events", after=before)["items"] == []


def test_a_retry_with_the_same_key_answers_the_first_void(api: Api) -> None:
    receipt = issue(api, given_a_donation(api)["id"])
    first = api.post(void_path(receipt["number"]), REASON, key="void-1")
    again = api.post(void_path(receipt["number"]), REASON, key="void-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"


def test_void_needs_a_reason_and_an_idempotency_key(api: Api) -> None:
    receipt = issue(api, given_a_donation(api)["id"])
    path = void_path(receipt["number"])
    assert api.post(path, {}).status_code == 422
    assert api.post(path, {"reason": ""}).status_code == 422
    unkeyed = api.client.post(path, json=REASON, headers=api.admin)
    assert unkeyed.status_code == 428
    assert api.get(f"/v1/receipts/{receipt['number']}").json()["voided"] is False


def test_void_of_an_unknown_or_malformed_number_is_refused(api: Api) -> None:
    given_a_donation(api)
    unknown = api.post(void_path("2026-999999"), REASON)
    assert unknown.status_code == 404
    assert unknown.json()["type"].endswith("not-found")
    assert api.post(void_path("not-a-number"), REASON).status_code == 422
