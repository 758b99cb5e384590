"""Many clients writing at once through HTTP, on SQLite and PostgreSQL: the API records their
commands in groups (one atomic write each, `api.http.writer`), and still every client gets
its own answer — its donation, its replay, or its own refusal — and every event leads back to
the requests that wrote it."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.e2e.http import Api

CLIENTS = 32
DONATIONS = 48
GIVEN_YEN = 10_000
REFUNDS = 8
REFUND_YEN = 3_000  # 3 fit in the given donation, 5 do not
RETRIES = 8
QUEUEING_S = 0.5  # writes held back, so that the requests queue up and go in groups


def send(api: Api, path: str, body: dict[str, Any], key: str, request_id: str) -> httpx.Response:
    headers = {**api.admin, "Idempotency-Key": key, "X-Request-Id": request_id}
    response: httpx.Response = api.client.post(path, json=body, headers=headers)
    return response


@pytest.fixture
def given(api: Api) -> dict[str, str]:
    fund_id = api.open_fund()
    donor_id = api.register_donor()
    gift = {"fund_id": fund_id, "donor_id": donor_id, "amount_yen": GIVEN_YEN, "method": "cash"}
    donation_id = str(api.created("/v1/donations", gift)["id"])
    return {"fund_id": fund_id, "donor_id": donor_id, "donation_id": donation_id}


def all_at_once(api: Api, given: dict[str, str]) -> dict[str, list[httpx.Response]]:
    """Donations, refunds of the given donation and retries of one key, sent together while
    the writer is held back for a moment."""
    gift = {"fund_id": given["fund_id"], "donor_id": given["donor_id"], "method": "cash"}
    refund = {"amount_yen": REFUND_YEN, "reason": "寄附者の申し出"}
    refunds_path = f"/v1/donations/{given['donation_id']}/refunds"
    futures: dict[str, list[Future[httpx.Response]]] = {}
    with ThreadPoolExecutor(CLIENTS) as pool, api.client.app.state.services.writing():  # type: ignore[attr-defined]
        for n in range(DONATIONS):
            body = {**gift, "amount_yen": 1_000 + n}
            args = (api, "/v1/donations", body, f"gift-{n}", f"req-gift-{n}")
            futures.setdefault("donations", []).append(pool.submit(send, *args))
        for n in range(REFUNDS):
            args = (api, refunds_path, refund, f"refund-{n}", f"req-refund-{n}")
            futures.setdefault("refunds", []).append(pool.submit(send, *args))
        for n in range(RETRIES):
            body = {**gift, "amount_yen": 5_000}
            args = (api, "/v1/donations", body, "same-key", f"req-retry-{n}")
            futures.setdefault("retries", []).append(pool.submit(send, *args))
        time.sleep(QUEUEING_S)
    return {kind: [f.result() for f in found] for kind, found in futures.items()}


@pytest.fixture
def writer_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The writer's log lines (attached to its logger: `fund_ledger` may not propagate)."""
    logger = logging.getLogger("fund_ledger.api.writer")
    logger.addHandler(caplog.handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield caplog
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)


def test_every_client_gets_its_own_answer_when_writes_go_in_groups(
    api: Api, given: dict[str, str]
) -> None:
    answers = all_at_once(api, given)

    donations = answers["donations"]
    assert [r.status_code for r in donations] == [201] * DONATIONS
    assert [r.json()["amounts_yen"]["amount_yen"] for r in donations] == [
        1_000 + n for n in range(DONATIONS)
    ]
    assert len({r.json()["id"] for r in donations}) == DONATIONS
    refunds = answers["refunds"]
    assert sorted(r.status_code for r in refunds) == [201] * 3 + [409] * 5
    refused = [r.json()["type"] for r in refunds if r.status_code == 409]
    assert set(refused) == {"urn:fund-ledger:problem:refund-exceeds-donation"}
    retries = answers["retries"]
    assert {r.status_code for r in retries} == {201}
    assert len({r.content for r in retries}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in retries) == 1
    last = max(int(r.headers["Ledger-Position"]) for r in [*donations, *retries])
    balance = api.read(f"/v1/funds/{given['fund_id']}/balance", min_position=last)
    donated_yen = GIVEN_YEN + sum(1_000 + n for n in range(DONATIONS)) + 5_000
    assert balance["received_yen"] == donated_yen
    assert balance["refunded_yen"] == 3 * REFUND_YEN
    assert balance["donations_recorded"] == 1 + DONATIONS + 1


def test_every_event_of_a_group_leads_to_the_requests_that_wrote_it(
    api: Api, given: dict[str, str], writer_log: pytest.LogCaptureFixture
) -> None:
    answers = all_at_once(api, given)

    first = min(int(r.headers["Ledger-Position"]) for r in answers["donations"])
    events = api.read("/v1/events", after=first - 1, limit=1000)["items"]
    group_ids = {e["request_id"] for e in events if (e["request_id"] or "").startswith("group-")}
    assert group_ids, "the held-back requests went in groups"
    sent = {r.headers["X-Request-Id"] for found in answers.values() for r in found}
    assert {e["request_id"] for e in events} <= sent | group_ids
    members: dict[str, set[str]] = {}
    for record in writer_log.records:
        for group_id in group_ids & set(record.getMessage().split()):
            members.setdefault(group_id, set()).add(record.request_id)  # type: ignore[attr-defined]
    assert set(members) == group_ids
    assert all(found <= sent and len(found) > 1 for found in members.values())
