"""The docker-compose sequence with real processes on the machine's PostgreSQL (issue 7):
`init` twice at once on an empty schema, two `serve --no-project` processes and one
`project`; writers record donations through both APIs while each process in turn gets SIGTERM
and is started again. Afterwards nothing acknowledged is lost, nothing is doubled, the hash
chain verifies, and the read models equal a rebuild.
"""

from __future__ import annotations

import json
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ledger.claim import claim_id
from ledger.donation import Donation
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from projections.database import engine_for
from tests.integration.test_projections import all_events, dump
from tests.processes import Processes, Service, free_port, wait_for_http

WRITERS_PER_API = 2
DONATIONS_PER_WRITER_MAX = 2_000
KEY_TIMEOUT_S = 60.0  # one donation's retries, through a server's restart
REQUEST_TIMEOUT_S = 20.0
RETRY_PAUSE_S = 0.05
PROGRESS_TIMEOUT_S = 90.0
ACKNOWLEDGED_BETWEEN_STOPS = 20
RETRIED_STATUSES = frozenset({503})  # concurrency conflict, database or process not ready
GRACEFUL_EXIT_CODES = frozenset({0, -signal.SIGTERM})


class Writer(threading.Thread):
    """Records donations through one API, one key at a time: a key is retried (same key, same
    body) on a connection error or a 503 until acknowledged with 201."""

    def __init__(self, name: str, base_url: str, token: str, fund_and_donor: dict[str, str]):
        super().__init__(name=name, daemon=True)
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.fund_and_donor = fund_and_donor
        self.stopping = threading.Event()  # finish the current key, then return
        self.abandoned = threading.Event()  # the test is over: return at once
        self.amounts_yen: dict[str, int] = {}  # every key tried
        self.acknowledged: dict[str, str] = {}  # key → donation id answered
        self.failures: list[str] = []  # answers that are neither success nor retryable
        self.interruptions = 0  # connection errors met (a server stopping or down)

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_S) as client:
            for number in range(DONATIONS_PER_WRITER_MAX):
                if self.stopping.is_set() or self.failures:
                    return
                key = f"{self.name}-{number}"
                self.amounts_yen[key] = 1_000 + number
                self.record_until_acknowledged(client, key)

    def record_until_acknowledged(self, client: httpx.Client, key: str) -> None:
        deadline = time.monotonic() + KEY_TIMEOUT_S
        while time.monotonic() < deadline and not self.record(client, key):
            if self.failures or self.abandoned.is_set():
                return
            time.sleep(RETRY_PAUSE_S)

    def record(self, client: httpx.Client, key: str) -> bool:
        body = {**self.fund_and_donor, "amount_yen": self.amounts_yen[key], "method": "cash"}
        headers = {**self.headers, "Idempotency-Key": key}
        try:
            response = client.post("/v1/donations", json=body, headers=headers)
        except httpx.TransportError:
            self.interruptions += 1
            return False
        if response.status_code == 201:
            self.acknowledged[key] = response.json()["id"]
            return True
        if response.status_code not in RETRIED_STATUSES:
            self.failures.append(f"{key}: {response.status_code} {response.text[:500]}")
        return False


@pytest.fixture
def empty_schema_url(postgres_database_url: str) -> str:
    """A schema nobody created yet, as compose's fresh PostgreSQL volume is."""
    return f"{postgres_database_url}?schema=compose_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def processes(tmp_path: Path, empty_schema_url: str) -> Iterator[Processes]:
    with Processes(tmp_path, {"FUND_LEDGER_DATABASE_URL": empty_schema_url}) as group:
        yield group


@pytest.fixture
def writers() -> Iterator[list[Writer]]:
    """The test's writer threads; abandoned when it ends, whatever happened."""
    started: list[Writer] = []
    yield started
    for writer in started:
        writer.stopping.set()
        writer.abandoned.set()
    for writer in started:
        writer.join(timeout=REQUEST_TIMEOUT_S)


def start_api(processes: Processes, port: int, *extra: str) -> Service:
    args = ("serve", "--host", "127.0.0.1", "--port", str(port), "--no-project", *extra)
    api = processes.start(f"api-{port}", *args)
    wait_for_http(f"http://127.0.0.1:{port}/readyz", api)
    return api


def stop_gracefully(service: Service) -> None:
    """SIGTERM must end it cleanly: uvicorn re-raises the signal once its server has shut down
    (exit -SIGTERM, 143 under Docker), the projector returns 0."""
    exit_code = service.stop()
    output = service.output()
    assert exit_code in GRACEFUL_EXIT_CODES, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    if service.name.startswith("api"):
        assert "Application shutdown complete" in output, output[-3000:]


def restart(processes: Processes, service: Service, port: int | None, *extra: str) -> Service:
    """Stop it with SIGTERM, then start the same command again."""
    stop_gracefully(service)
    if port is None:
        return processes.start(service.name, "project")
    return start_api(processes, port, *extra)


def open_fund_and_donor(base_url: str, token: str) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "setup-fund"}
    fund = {"name": "亀岡協働基金", "host": "公益財団法人 京都地域創造基金", "fee_rate_bp": 350}
    donor = {
        "kind": "individual",
        "name": "山田 太郎",
        "kana": "ヤマダ タロウ",
        "postal_code": "621-0806",
        "address": "京都府亀岡市余部町1-1",
    }
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        fund_response = client.post("/v1/funds", json=fund)
        client.headers["Idempotency-Key"] = "setup-donor"
        donor_response = client.post("/v1/donors", json=donor)
    assert fund_response.status_code == 201, fund_response.text
    assert donor_response.status_code == 201, donor_response.text
    return {"fund_id": fund_response.json()["id"], "donor_id": donor_response.json()["id"]}


def wait_for_more_acknowledged(writers: list[Writer], more: int) -> None:
    target = sum(len(w.acknowledged) for w in writers) + more
    deadline = time.monotonic() + PROGRESS_TIMEOUT_S
    while sum(len(w.acknowledged) for w in writers) < target:
        assert time.monotonic() < deadline, "the writers stopped getting acknowledged"
        assert not any(w.failures for w in writers), [w.failures for w in writers]
        time.sleep(RETRY_PAUSE_S)


def finish(writers: list[Writer], retry_url: str) -> None:
    """Stop the writers; then retry, with the same key and body, whatever was never
    acknowledged (a request cut by a stopping server may or may not have been recorded)."""
    for writer in writers:
        writer.stopping.set()
    for writer in writers:
        writer.join(timeout=KEY_TIMEOUT_S + REQUEST_TIMEOUT_S)
        assert not writer.is_alive(), f"{writer.name} hangs"
    for writer in writers:
        with httpx.Client(base_url=retry_url, timeout=REQUEST_TIMEOUT_S) as client:
            for key in set(writer.amounts_yen) - set(writer.acknowledged):
                writer.record_until_acknowledged(client, key)
        assert not writer.failures, writer.failures
        assert set(writer.acknowledged) == set(writer.amounts_yen)


@pytest.mark.timeout(600)  # about twenty process starts, each importing the whole app
def test_compose_sequence_survives_sigterm_of_every_process_mid_load(
    processes: Processes, empty_schema_url: str, writers: list[Writer]
) -> None:
    migrations = [processes.start(f"migrate-{n}", "init") for n in (1, 2)]
    for migration in migrations:
        assert migration.wait() == 0, migration.output()
    ports = (free_port(), free_port())
    apis = [start_api(processes, ports[0], "--workers", "2"), start_api(processes, ports[1])]
    projector = processes.start("projector", "project")
    created = processes.run_ok("token", "create", "--role", "admin", "--name", "writer", "--json")
    token = json.loads(created)["token"]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    fund_and_donor = open_fund_and_donor(urls[0], token)
    writers += [
        Writer(f"w{index}-{n}", url, token, fund_and_donor)
        for index, url in enumerate(urls)
        for n in range(WRITERS_PER_API)
    ]
    for writer in writers:
        writer.start()

    wait_for_more_acknowledged(writers, ACKNOWLEDGED_BETWEEN_STOPS)
    apis[0] = restart(processes, apis[0], ports[0], "--workers", "2")
    wait_for_more_acknowledged(writers, ACKNOWLEDGED_BETWEEN_STOPS)
    apis[1] = restart(processes, apis[1], ports[1])
    wait_for_more_acknowledged(writers, ACKNOWLEDGED_BETWEEN_STOPS)
    projector = restart(processes, projector, None)
    wait_for_more_acknowledged(writers, ACKNOWLEDGED_BETWEEN_STOPS)
    finish(writers, urls[1])
    for service in (*apis, projector):
        stop_gracefully(service)

    assert sum(w.interruptions for w in writers) > 0, "no request met a stopping server"
    amounts_yen = {k: amount for w in writers for k, amount in w.amounts_yen.items()}
    answered = {k: donation_id for w in writers for k, donation_id in w.acknowledged.items()}
    assert answered == {key: str(claim_id(key)) for key in amounts_yen}
    assert_each_donation_recorded_once(empty_schema_url, answered)
    assert_read_models_equal_a_rebuild(processes, empty_schema_url, sum(amounts_yen.values()))


def assert_each_donation_recorded_once(database_url: str, answered: dict[str, str]) -> None:
    ledger = FundLedger(env=eventsourcing_env(database_url))
    try:
        recorded = Counter(
            str(event.originator_id)
            for _position, event in all_events(ledger)
            if isinstance(event, Donation.Recorded)
        )
    finally:
        ledger.close()
    assert set(recorded) == set(answered.values()), "acknowledged donations lost, or extra ones"
    assert set(recorded.values()) == {1}, "a donation recorded twice"


def assert_read_models_equal_a_rebuild(
    processes: Processes, database_url: str, received_yen: int
) -> None:
    processes.run_ok("verify")
    processes.run_ok("project", "--once")
    engine = engine_for(database_url)
    try:
        live_balances, live_tables = processes.run_ok("balances", "--json"), dump(engine)
        processes.run_ok("rebuild")
        assert processes.run_ok("balances", "--json") == live_balances
        assert dump(engine) == live_tables
    finally:
        engine.dispose()
    (fund,) = json.loads(live_balances)["funds"]
    assert fund["received_yen"] == received_yen
