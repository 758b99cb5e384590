"""What operators rely on: /healthz, /readyz, /metrics, request ids tied to the events they
wrote, JSON logs without personal data, and production settings that refuse a laptop's."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from api.cli.session import Session
from api.http import create_app
from api.http.observability import configure_logging
from api.http.settings import ApiSettings
from ledger.errors import ConfigurationError
from ledger.service import FundLedger
from ledger.settings import Settings
from ledger.store import eventsourcing_env
from tests.e2e.http import Api


def test_healthz_and_readyz_answer_without_a_token(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_readyz_is_a_503_problem_while_the_read_models_lag_beyond_the_bound(
    sqlite_url: str,
) -> None:
    Session(Settings(database_url=sqlite_url, actor="setup")).initialise()
    settings = ApiSettings(
        database_url=sqlite_url, project_in_process=False, ready_lag_events_max=0
    )
    with TestClient(create_app(settings)) as client:
        api = Api(client, sqlite_url)
        assert client.get("/readyz").status_code == 200
        api.open_fund()

        not_ready = client.get("/readyz")

    assert not_ready.status_code == 503
    assert not_ready.headers["content-type"] == "application/problem+json"
    assert not_ready.json()["type"] == "urn:fund-ledger:problem:not-ready"
    assert "1 events behind" in not_ready.json()["detail"]


def test_an_event_the_service_cannot_decode_is_a_problem_naming_its_position(api: Api) -> None:
    api.open_fund()
    ledger = FundLedger(env=eventsourcing_env(api.database_url))
    try:  # as a later version of the ledger might write it: a type this code does not know
        ledger.recorder.insert_events([StoredEvent(uuid4(), 1, "ledger.future:Audit", b"{}")])
        position = ledger.recorder.max_notification_id()
    finally:
        ledger.close()

    log = api.get("/v1/events")
    verified = api.get("/v1/verify")

    assert log.status_code == 500
    assert log.headers["content-type"] == "application/problem+json"
    assert log.json()["type"] == "urn:fund-ledger:problem:unreadable-event"
    assert log.json()["detail"].startswith(f"the event at position {position} cannot be read")
    assert verified.status_code == 200, verified.text  # its hash is sound: the chain holds
    assert verified.json()["event_count"] == position


def test_a_read_waiting_for_a_position_is_refused_beyond_the_head_and_after_its_wait(
    sqlite_url: str,
) -> None:
    Session(Settings(database_url=sqlite_url, actor="setup")).initialise()
    settings = ApiSettings(database_url=sqlite_url, project_in_process=False, read_wait_s=0.2)
    with TestClient(create_app(settings)) as client:
        api = Api(client, sqlite_url)
        opened = api.created(
            "/v1/funds", {"name": "亀岡協働基金", "host": "財団", "fee_rate_bp": 0}
        )
        path, position = f"/v1/funds/{opened['id']}/balance", opened["position"]

        beyond = api.get(path, min_position=position + 1)
        behind = api.get(path, min_position=position)  # no projector runs anywhere

    assert beyond.status_code == 422
    assert beyond.json()["type"] == "urn:fund-ledger:problem:position-beyond-head"
    assert behind.status_code == 503
    assert behind.json()["type"] == "urn:fund-ledger:problem:read-model-behind"
    assert behind.headers["Retry-After"] == "1"
    assert f"not reached position {position} within 0.2 s" in behind.json()["detail"]


def test_a_read_waiting_on_a_stopped_projector_is_refused_at_once(api: Api) -> None:
    fund_id = api.open_fund()
    ledger = FundLedger(env=eventsourcing_env(api.database_url))
    try:  # the in-process projector stops at it: a type this code does not know
        ledger.recorder.insert_events([StoredEvent(uuid4(), 1, "ledger.future:Audit", b"{}")])
        position = ledger.recorder.max_notification_id()
    finally:
        ledger.close()

    waited = api.get(f"/v1/funds/{fund_id}/balance", min_position=position)

    assert waited.status_code == 503
    assert waited.json()["type"] == "urn:fund-ledger:problem:read-models-stopped"


def test_the_request_id_answered_is_stored_beside_the_events_it_wrote(api: Api) -> None:
    headers = {**api.admin, "X-Request-Id": "req-2026-0001", "Idempotency-Key": "fund-1"}
    body = {"name": "亀岡協働基金", "host": "京都地域創造基金", "fee_rate_bp": 350}

    response = api.client.post("/v1/funds", json=body, headers=headers)
    unmarked = api.client.post("/v1/donors", json={}, headers=api.admin)

    assert response.headers["X-Request-Id"] == "req-2026-0001"
    assert len(unmarked.headers["X-Request-Id"]) == 32  # a fresh uuid4, as hex
    (opened,) = api.read("/v1/events")["items"]
    assert opened["request_id"] == "req-2026-0001"


@pytest.mark.parametrize("given", ["", "x" * 65, "has space", "a/b", "semi;colon"])
def test_an_implausible_request_id_is_replaced_by_a_fresh_one(api: Api, given: str) -> None:
    response = api.client.get("/healthz", headers={"X-Request-Id": given})

    assert response.headers["X-Request-Id"] != given
    assert len(response.headers["X-Request-Id"]) == 32


def test_metrics_count_requests_by_route_template_and_report_the_log_head(api: Api) -> None:
    fund_id = api.open_fund()
    api.read(f"/v1/funds/{fund_id}")

    text = api.client.get("/metrics").text

    route = 'route="/v1/funds/{fund_id}"'
    assert any(
        line.startswith("fund_ledger_http_requests_total{") and route in line
        for line in text.splitlines()
    )
    assert fund_id not in text
    assert "fund_ledger_events_head_position 1.0" in text
    assert "fund_ledger_projection_lag_events" in text


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("json", stream)
    yield stream
    logging.getLogger("fund_ledger").handlers.clear()


def test_json_logs_carry_the_request_id_and_no_donor_details(
    api: Api, json_logs: io.StringIO
) -> None:
    headers = {**api.admin, "X-Request-Id": "req-log-1", "Idempotency-Key": "donor-1"}
    donor = {
        "kind": "individual",
        "name": "山田 太郎",
        "kana": "ヤマダ タロウ",
        "postal_code": "621-0806",
        "address": "京都府亀岡市余部町1-1",
    }

    api.client.post("/v1/donors", json=donor, headers=headers)

    err = json_logs.getvalue()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    (access,) = [line for line in lines if line.get("request_id") == "req-log-1"]
    assert access["message"].startswith("POST /v1/donors 201")
    assert not any(
        secret in json.dumps(lines, ensure_ascii=False)
        for secret in ("山田", "ヤマダ", "亀岡市", "621-0806")
    )


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///fund-ledger.sqlite",
        "postgresql://ledger@db:5432/ledger",
        "postgresql://ledger:postgres@db:5432/ledger",
        "postgresql://ledger:changeme@db:5432/ledger",
    ],
)
def test_production_refuses_sqlite_and_missing_or_default_passwords(url: str) -> None:
    settings = ApiSettings(environment="production", database_url=url)

    with pytest.raises(ConfigurationError) as refused:
        settings.check_production()

    assert "changeme" not in str(refused.value)


def test_production_accepts_postgresql_with_a_real_password() -> None:
    settings = ApiSettings(
        environment="production", database_url="postgresql://ledger:s3cr3t-x9@db:5432/ledger"
    )

    settings.check_production()
