"""HTTP API benchmark: the real app under uvicorn beside a minimal FastAPI app doing one raw
SQL statement per request, both on PostgreSQL, both driven by the same load.

Run `python -m bench.api` (see `--help`). It creates a database (dropped at the end),
initialises it as `fund-ledger init` does, opens one fund with `--donors` donors, and starts
two servers in subprocesses (`bench.api_servers`): the ledger as `fund-ledger serve` runs it
(one worker, projectors in process) and the baseline. Each measurement runs `--clients`
keep-alive connections for `--duration-s` from a load process of its own (`bench.api_load`):

- `POST /v1/donations`: donations to the one fund from the donors in turn, each with a
  fresh Idempotency-Key (the baseline: one INSERT);
- `GET /v1/funds/{id}/balance`: the fund's balances from the read models (the baseline: one
  primary-key SELECT).

After an untimed warm-up of every measurement, the rounds alternate ledger and baseline, the
order reversed every other round, so that the machine's drift (20-40% over minutes) falls on
both sides; a ratio is the median of the ratios measured side by side in one round.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg.sql import SQL, Identifier

from api.cli.session import Session
from api.tokens import create_token
from bench import api_servers
from bench.api_load import Load, Sample
from bench.databases import POSTGRES_URL_DEFAULT
from bench.report import render_columns
from ledger import commands as c
from ledger.settings import Settings
from projections.database import engine_for

SERVER_START_S_MAX = 60.0
LOAD_OVERRUN_S = 60.0  # how long a load process may take beyond its duration
P50, P99 = 0.50, 0.99


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    ratio_min: float  # of the baseline's requests per second
    p99_ms_max: float


POST = Endpoint("POST /v1/donations", "POST", 0.30, 300.0)
GET = Endpoint("GET /v1/funds/{id}/balance", "GET", 0.70, 100.0)
ENDPOINTS = (POST, GET)
SIDES = (api_servers.LEDGER, api_servers.BASELINE)


@dataclass(frozen=True)
class Plan:
    postgres_url: str
    rounds: int
    duration_s: float
    warmup_s: float
    clients: int
    donor_count: int


@dataclass(frozen=True)
class Seeded:
    fund_id: str
    donor_ids: list[str]
    admin_headers: dict[str, str]


@dataclass(frozen=True)
class Row:
    endpoint: Endpoint
    rate_per_s: float
    p50_ms: float
    p99_ms: float
    error_count: int
    baseline_rate_per_s: float
    baseline_p99_ms: float
    ratio: float

    @property
    def passed(self) -> bool:
        return self.ratio >= self.endpoint.ratio_min and self.p99_ms < self.endpoint.p99_ms_max


Samples = dict[tuple[str, str], list[Sample]]  # (endpoint name, side) → one per round


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    plan = Plan(
        arguments.postgres_url,
        arguments.rounds,
        arguments.duration_s,
        arguments.warmup_s,
        arguments.clients,
        arguments.donors,
    )
    if min(plan.rounds, plan.clients, plan.donor_count) < 1 or plan.duration_s <= 0:
        raise SystemExit("--rounds, --clients and --donors must be at least 1, --duration-s > 0")
    print(
        f"{plan.rounds} rounds of {plan.duration_s:g} s per endpoint and side,"
        f" {plan.clients} clients, 1 fund, {plan.donor_count} donors; PostgreSQL"
    )
    started_s = time.perf_counter()
    with _fresh_database(plan.postgres_url) as database_url:
        seeded = _seed(database_url, plan.donor_count)
        with _servers(database_url) as ports:
            samples = _measure(plan, seeded, ports)
    rows = _rows(samples)
    print()
    print(format_table(rows))
    print(
        f"\n{plan.rounds} rounds in {time.perf_counter() - started_s:.0f} s; req/s and"
        " latencies = median over rounds; ratio = median of the per-round ratios."
    )
    missed = [row for row in rows if not row.passed]
    if missed and arguments.check:
        print(f"bars missed: {', '.join(row.endpoint.name for row in missed)}")
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.api", description=__doc__)
    parser.add_argument("--postgres-url", default=POSTGRES_URL_DEFAULT, help="default %(default)s")
    parser.add_argument("--rounds", type=int, default=3, help="default %(default)s")
    parser.add_argument(
        "--duration-s", type=float, default=10.0, help="per measurement (default %(default)s)"
    )
    parser.add_argument(
        "--warmup-s", type=float, default=3.0, help="per measurement (default %(default)s)"
    )
    parser.add_argument("--clients", type=int, default=32, help="default %(default)s")
    parser.add_argument("--donors", type=int, default=20, help="default %(default)s")
    parser.add_argument("--check", action="store_true", help="exit 1 if a bar is missed")
    return parser


# The database and its contents


@contextmanager
def _fresh_database(admin_url: str) -> Iterator[str]:
    """A new database on the server of `admin_url`, dropped (WITH FORCE) at the end."""
    parts = urlsplit(admin_url)
    admin_conninfo = urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))
    name = f"bench_api_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute(SQL("CREATE DATABASE {0}").format(Identifier(name)))
    try:
        yield urlunsplit(("postgresql", parts.netloc, f"/{name}", "", ""))
    finally:
        with psycopg.connect(admin_conninfo, autocommit=True) as admin:
            admin.execute(SQL("DROP DATABASE {0} WITH (FORCE)").format(Identifier(name)))


def _seed(database_url: str, donor_count: int) -> Seeded:
    """The ledger's tables, one fund and its donors, an admin token; the baseline's tables
    with the fund's balance row."""
    session = Session(Settings(database_url=database_url, actor="bench"))
    try:
        ledger = session.initialise()
        fund = ledger.execute(
            c.OpenFund(name="亀岡協働基金", host="公益財団法人 京都地域創造基金", fee_rate_bp=300),
            actor="bench",
        )
        donors = ledger.execute_batch(
            [
                c.RegisterDonor(
                    kind="individual",
                    name=f"亀岡 太郎{index:03d}",
                    kana=f"カメオカ タロウ{index:03d}",
                    postal_code="621-0806",
                    address="京都府亀岡市安町野々神8番地",
                )
                for index in range(donor_count)
            ],
            actor="bench",
        )
    finally:
        session.close()
    engine = engine_for(database_url)
    try:
        _, token = create_token(engine, role="admin", name="bench")
    finally:
        engine.dispose()
    with psycopg.connect(database_url) as connection:
        for statement in api_servers.SCHEMA_STATEMENTS:
            connection.execute(statement)
        connection.execute(
            f"INSERT INTO {api_servers.BALANCES_TABLE} VALUES (%s, %s, 0, 0, 0)",
            (fund.aggregate_id, "亀岡協働基金"),
        )
    return Seeded(
        str(fund.aggregate_id),
        [str(donor.aggregate_id) for donor in donors],
        {"Authorization": f"Bearer {token}"},
    )


# The servers


@contextmanager
def _servers(database_url: str) -> Iterator[dict[str, int]]:
    """Both servers listening; their ports by side. Stopped (SIGTERM, then SIGKILL) at the end."""
    processes: list[subprocess.Popen[bytes]] = []
    ports: dict[str, int] = {}
    try:
        for side in SIDES:
            ports[side] = _free_port()
            command = [sys.executable, "-m", "bench.api_servers", side, database_url]
            processes.append(subprocess.Popen([*command, str(ports[side])]))
        for side in SIDES:
            _wait_until_listening(ports[side])
        yield ports
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_listening(port: int) -> None:
    deadline_s = time.monotonic() + SERVER_START_S_MAX
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline_s:
            raise SystemExit(f"the server on port {port} did not start")
        time.sleep(0.2)


# Measuring


def _measure(plan: Plan, seeded: Seeded, ports: dict[str, int]) -> Samples:
    pairs = [(endpoint, side) for endpoint in ENDPOINTS for side in SIDES]
    for endpoint, side in pairs:
        _run_load(_load(endpoint, side, plan, seeded, ports, plan.warmup_s, "warmup"))
    _progress("warm-up done")
    samples: Samples = {}
    for round_index in range(plan.rounds):
        order = pairs if round_index % 2 == 0 else list(reversed(pairs))
        for endpoint, side in order:
            load = _load(endpoint, side, plan, seeded, ports, plan.duration_s, f"r{round_index}")
            sample = _run_load(load)
            samples.setdefault((endpoint.name, side), []).append(sample)
            _progress(
                f"round {round_index + 1}: {endpoint.name} {side}: {sample.rate_per_s:,.0f} req/s,"
                f" p99 {sample.percentile_ms(P99):.0f} ms, {sample.error_count} errors"
            )
    return samples


def _load(
    endpoint: Endpoint,
    side: str,
    plan: Plan,
    seeded: Seeded,
    ports: dict[str, int],
    duration_s: float,
    label: str,
) -> Load:
    if endpoint is POST:
        return Load(
            port=ports[side],
            method="POST",
            path="/v1/donations",
            headers=seeded.admin_headers,
            clients=plan.clients,
            duration_s=duration_s,
            fund_id=seeded.fund_id,
            donor_ids=seeded.donor_ids,
            key_prefix=f"bench-{side}-{label}",
        )
    return Load(
        port=ports[side],
        method="GET",
        path=f"/v1/funds/{seeded.fund_id}/balance",
        headers=seeded.admin_headers,
        clients=plan.clients,
        duration_s=duration_s,
    )


def _run_load(load: Load) -> Sample:
    """Run `load` in a process of its own (its CPU is not the server's GIL)."""
    answer = subprocess.run(
        [sys.executable, "-m", "bench.api_load", json.dumps(asdict(load))],
        check=True,
        capture_output=True,
        timeout=load.duration_s + LOAD_OVERRUN_S,
    )
    return Sample(**json.loads(answer.stdout))


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


# The table


def _rows(samples: Samples) -> list[Row]:
    rows = []
    for endpoint in ENDPOINTS:
        ours = samples[(endpoint.name, api_servers.LEDGER)]
        theirs = samples[(endpoint.name, api_servers.BASELINE)]
        rows.append(
            Row(
                endpoint=endpoint,
                rate_per_s=statistics.median(s.rate_per_s for s in ours),
                p50_ms=statistics.median(s.percentile_ms(P50) for s in ours),
                p99_ms=statistics.median(s.percentile_ms(P99) for s in ours),
                error_count=sum(s.error_count for s in ours),
                baseline_rate_per_s=statistics.median(s.rate_per_s for s in theirs),
                baseline_p99_ms=statistics.median(s.percentile_ms(P99) for s in theirs),
                ratio=statistics.median(
                    a.rate_per_s / b.rate_per_s for a, b in zip(ours, theirs, strict=True)
                ),
            )
        )
    return rows


def format_table(rows: Sequence[Row]) -> str:
    header = (
        "endpoint",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "baseline req/s",
        "baseline p99 ms",
        "ratio",
        "bar",
        "result",
    )
    lines = [header]
    for row in rows:
        bar = f"ratio ≥ {row.endpoint.ratio_min:.2f}, p99 < {row.endpoint.p99_ms_max:.0f} ms"
        lines.append(
            (
                row.endpoint.name,
                f"{row.rate_per_s:,.0f}",
                f"{row.p50_ms:.1f}",
                f"{row.p99_ms:.1f}",
                str(row.error_count),
                f"{row.baseline_rate_per_s:,.0f}",
                f"{row.baseline_p99_ms:.1f}",
                f"{row.ratio:.2f}",
                bar,
                "pass" if row.passed else "FAIL",
            )
        )
    return render_columns(lines, right_aligned={1, 2, 3, 4, 5, 6, 7})


if __name__ == "__main__":
    sys.exit(main())
