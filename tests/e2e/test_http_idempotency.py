"""Idempotency keys through HTTP (BRIEF rule 8), on SQLite and PostgreSQL: a retry answers
exactly as the first time and records nothing, even 16 retries at once; the same key with
another body is a 409 problem; a money write without a key is refused."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.e2e.http import Api

RETRIES_AT_ONCE = 16


@pytest.fixture
def gift(api: Api) -> dict[str, Any]:
    fund_id = api.open_fund()
    donor_id = api.register_donor()
    return {"fund_id": fund_id, "donor_id": donor_id, "amount_yen": 10_000, "method": "cash"}


def donations_recorded(api: Api) -> int:
    log = api.read("/v1/events", limit=1000)["items"]
    return sum(1 for event in log if event["type"] == "Donation.Recorded")


def test_a_retry_answers_the_first_status_and_body_and_records_nothing(
    api: Api, gift: dict[str, Any]
) -> None:
    first = api.post("/v1/donations", gift, key="bank-20260401-0001")

    again = api.post("/v1/donations", gift, key="bank-20260401-0001")

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert donations_recorded(api) == 1


def test_concurrent_retries_with_one_key_record_exactly_one_donation(
    api: Api, gift: dict[str, Any]
) -> None:
    def send(_: int) -> Any:
        return api.post("/v1/donations", gift, key="same-key-16-times")

    with ThreadPoolExecutor(RETRIES_AT_ONCE) as pool:
        responses = list(pool.map(send, range(RETRIES_AT_ONCE)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    first_answers = [r for r in responses if "Idempotent-Replayed" not in r.headers]
    assert len(first_answers) == 1
    assert donations_recorded(api) == 1


def test_the_same_key_with_another_body_is_a_conflict_and_records_nothing(
    api: Api, gift: dict[str, Any]
) -> None:
    api.created("/v1/donations", gift, key="reused")

    other = api.post("/v1/donations", {**gift, "amount_yen": 10_001}, key="reused")

    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["type"] == "urn:fund-ledger:problem:idempotency-key-reused"
    assert donations_recorded(api) == 1


def test_a_key_used_for_one_kind_of_write_is_refused_for_another(
    api: Api, gift: dict[str, Any]
) -> None:
    donation = api.created("/v1/donations", gift, key="one-key")

    refund = api.post(
        f"/v1/donations/{donation['id']}/refunds",
        {"amount_yen": 1_000, "reason": "寄附者の申し出"},
        key="one-key",
    )

    assert refund.status_code == 409
    assert api.read(f"/v1/donations/{donation['id']}")["refunded_yen"] == 0


@pytest.mark.parametrize(
    "path",
    ["/v1/donations", "/v1/grants", "/v1/donations/{id}/refunds", "/v1/grants/{id}/cancel"],
)
def test_a_money_write_without_an_idempotency_key_is_refused(api: Api, path: str) -> None:
    before = api.read("/v1/verify")["event_count"]

    response = api.client.post(path.format(id=api.open_fund()), json={}, headers=api.admin)

    assert response.status_code == 428
    assert response.json()["type"] == "urn:fund-ledger:problem:idempotency-key-required"
    assert api.read("/v1/verify")["event_count"] == before + 1  # only the fund just opened
