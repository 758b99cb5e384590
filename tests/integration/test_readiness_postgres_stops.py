"""`/readyz` and writes while PostgreSQL goes away and comes back (issue 7), against a private
PostgreSQL cluster made for the test (the machine's shared server stays up for other tests):
unready and 503 problems meanwhile — never a 500, never a traceback — and ready again, with
writes succeeding, once the database returns.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import Processes, Service, free_port, wait_for_http

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
PROBLEM_PREFIX = "urn:fund-ledger:problem:"
PG_CTL_TIMEOUT_S = 30
REQUEST_TIMEOUT_S = 30.0  # the ledger retries a lost connection for a few seconds first
READY_TIMEOUT_S = 10.0  # a readiness probe that hangs is as bad as none (compose: 5 s)
OUTAGE_TIMEOUT_S = 30.0


@dataclass
class Cluster:
    """A PostgreSQL cluster of our own, run by the `postgres` OS user when we are root."""

    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        data = str(self.directory / "data")
        command = [str(POSTGRES_BIN / "pg_ctl"), "--pgdata", data, "--wait", *args]
        run_as_postgres(command, timeout_s=PG_CTL_TIMEOUT_S + 10)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.directory / "postgres.log")
        self.pg_ctl("--timeout", str(PG_CTL_TIMEOUT_S), "-o", options, "-l", log, "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("--timeout", str(PG_CTL_TIMEOUT_S), "--mode", mode, "stop")


def run_as_postgres(command: list[str], *, timeout_s: float) -> None:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    result = subprocess.run(
        [*prefix, *command], capture_output=True, text=True, timeout=timeout_s, check=False
    )
    assert result.returncode == 0, f"{' '.join(command)}: {result.stdout}{result.stderr}"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    if not (POSTGRES_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL 15 server binaries in {POSTGRES_BIN} (initdb) to run a cluster")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without `runuser` to start PostgreSQL as `postgres`")
    # Under /tmp itself: the `postgres` user cannot enter pytest's root-only tmp_path.
    directory = Path(tempfile.mkdtemp(prefix="fund-ledger-readiness-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(directory, "postgres", "postgres")
        initdb = [str(POSTGRES_BIN / "initdb"), "--pgdata", str(directory / "data")]
        run_as_postgres([*initdb, "--auth=trust", "--username=postgres", "--no-sync"], timeout_s=60)
        found = Cluster(directory, free_port())
        found.start()
        try:
            yield found
        finally:
            if (directory / "data" / "postmaster.pid").exists():
                found.stop(mode="immediate")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def processes(tmp_path: Path, cluster: Cluster) -> Iterator[Processes]:
    with Processes(tmp_path, {"FUND_LEDGER_DATABASE_URL": cluster.url}) as group:
        yield group


def assert_problem(response: httpx.Response, status: int, kinds: set[str]) -> None:
    """An RFC 9457 problem of one of `kinds`; no traceback reaches the client."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"] in {PROBLEM_PREFIX + kind for kind in kinds}, problem
    assert "Traceback" not in response.text


def answers_during_outage(client: httpx.Client, path: str, **post: Any) -> httpx.Response:
    """The first answer that is not a 200/201 (the pool may still hold a connection that
    looks alive for a moment); a 500 on the way fails at once, and so does a request that
    is not answered in time."""
    deadline = time.monotonic() + OUTAGE_TIMEOUT_S
    timeout_s = REQUEST_TIMEOUT_S if post else READY_TIMEOUT_S
    while True:
        try:
            if post:
                response = client.post(path, timeout=timeout_s, **post)
            else:
                response = client.get(path, timeout=timeout_s)
        except httpx.TimeoutException:
            pytest.fail(f"{path} gave no answer within {timeout_s} s while PostgreSQL is down")
        assert response.status_code != 500, response.text
        if response.status_code not in {200, 201} or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_readyz_and_writes_answer_503_problems_while_postgres_is_down_and_recover(
    processes: Processes, cluster: Cluster
) -> None:
    processes.run_ok("init")
    token = json.loads(
        processes.run_ok("token", "create", "--role", "admin", "--name", "ops", "--json")
    )["token"]
    port = free_port()
    api = processes.start("api", "serve", "--port", str(port), "--no-project")
    base_url = f"http://127.0.0.1:{port}"
    ready = wait_for_http(f"{base_url}/readyz", api)
    assert ready.json()["status"] == "ready"
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
        donation = given_a_fund_and_donor(client)

        cluster.stop()
        assert_problem(answers_during_outage(client, "/readyz"), 503, {"not-ready"})
        write = {"json": donation, "headers": {"Idempotency-Key": "during-outage"}}
        failed = answers_during_outage(client, "/v1/donations", **write)
        assert_problem(failed, 503, {"storage-unavailable", "not-ready"})
        assert client.get("/healthz").status_code == 200, "alive, only not ready"

        cluster.start()
        wait_for_http(f"{base_url}/readyz", api, timeout_s=OUTAGE_TIMEOUT_S)
        retried = client.post("/v1/donations", json=donation, headers=write["headers"])
        assert retried.status_code == 201, retried.text
        after = client.post("/v1/donations", json=donation, headers={"Idempotency-Key": "after"})
        assert after.status_code == 201, after.text

    api_output = stopped(api)
    assert " 500 " not in api_output, api_output[-3000:]
    assert "Traceback" not in api_output, api_output[-3000:]


def given_a_fund_and_donor(client: httpx.Client) -> dict[str, object]:
    """The body of a donation to a new fund from a new donor."""
    fund = {"name": "亀岡協働基金", "host": "公益財団法人 京都地域創造基金", "fee_rate_bp": 350}
    donor = {
        "kind": "individual",
        "name": "山田 太郎",
        "kana": "ヤマダ タロウ",
        "postal_code": "621-0806",
        "address": "京都府亀岡市余部町1-1",
    }
    fund_response = client.post("/v1/funds", json=fund, headers={"Idempotency-Key": "fund"})
    donor_response = client.post("/v1/donors", json=donor, headers={"Idempotency-Key": "donor"})
    assert fund_response.status_code == 201, fund_response.text
    assert donor_response.status_code == 201, donor_response.text
    return {
        "fund_id": fund_response.json()["id"],
        "donor_id": donor_response.json()["id"],
        "amount_yen": 10_000,
        "method": "bank_transfer",
    }


def stopped(service: Service) -> str:
    service.stop()
    return service.output()
