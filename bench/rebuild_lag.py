"""Steady-state projection lag: how long after a command commits the read models include it.

A writer process records donations one command at a time, as fast as it can (the
single-command rate of `python -m bench`), and tells each command's position and commit time;
a `ProjectionWorker` in this process keeps the read models caught up (woken by NOTIFY on
PostgreSQL, polling on SQLite), as `fund-ledger project` does beside the API's processes; an
observer thread waits, for each command in turn, until the worker has projected its position
(`wait_for`, told after every committed page) and notes the time since the command returned.
The writer has a process of its own so that it writes at its full rate, not sharing the
worker's interpreter lock (in one process it reached about half of it).
"""

from __future__ import annotations

import multiprocessing
import statistics
import threading
import time
from dataclasses import dataclass
from multiprocessing.queues import Queue
from uuid import UUID

from sqlalchemy.engine import Engine

from ledger import commands as c
from ledger.service import FundLedger
from projections.catalogue import all_projectors
from projections.worker import ProjectionWorker

WAIT_S_MAX = 60.0
DONATION_AMOUNT_YEN = 10_000


@dataclass(frozen=True)
class Lag:
    command_count: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    commands_per_s: float


def measure_lag(
    ledger: FundLedger,
    engine: Engine,
    fund_id: UUID,
    donor_id: UUID,
    *,
    command_count: int,
    poll_interval_s: float,
    ledger_env: dict[str, str],
) -> Lag:
    """`ledger_env` opens the writer's own ledger on the same database."""
    worker = ProjectionWorker(ledger, engine, all_projectors(), poll_interval_s=poll_interval_s)
    worker.start()
    try:
        head = ledger.recorder.max_notification_id() or 0
        if not worker.wait_for(head, WAIT_S_MAX * 10):
            raise RuntimeError("the worker never caught up with the history")
        context = multiprocessing.get_context("spawn")
        committed: Queue[tuple[int, float] | float] = context.Queue()
        lags_s: list[float] = []
        written_s: list[float] = []
        observer = threading.Thread(target=_observe, args=(worker, committed, lags_s, written_s))
        observer.start()
        writer = context.Process(
            target=_write, args=(ledger_env, fund_id, donor_id, command_count, committed)
        )
        writer.start()
        writer.join()
        observer.join()
        if writer.exitcode != 0 or not written_s or len(lags_s) != command_count:
            raise RuntimeError(
                f"the lag was not measured: the writer exited with {writer.exitcode},"
                f" {len(lags_s)} of {command_count} commands were seen projected"
            )
    finally:
        worker.stop()
    lags_ms = sorted(1000 * lag for lag in lags_s)
    return Lag(
        command_count=command_count,
        p50_ms=statistics.median(lags_ms),
        p99_ms=lags_ms[min(len(lags_ms) - 1, int(0.99 * len(lags_ms)))],
        max_ms=lags_ms[-1],
        commands_per_s=command_count / written_s[0],
    )


def _write(
    ledger_env: dict[str, str],
    fund_id: UUID,
    donor_id: UUID,
    command_count: int,
    committed: Queue[tuple[int, float] | float],
) -> None:
    """The writer process: each command's (position, commit time), then the seconds it took.

    `time.monotonic` is the system's monotonic clock, the same in every process."""
    ledger = FundLedger(env=ledger_env)
    try:
        started_s = time.monotonic()
        for index in range(command_count):
            outcome = ledger.execute(_donation(fund_id, donor_id, index), actor="bench")
            assert outcome.position is not None, "a new donation has a position"
            committed.put((outcome.position, time.monotonic()))
        committed.put(time.monotonic() - started_s)
    finally:
        ledger.close()


def _observe(
    worker: ProjectionWorker,
    committed: Queue[tuple[int, float] | float],
    lags_s: list[float],
    written_s: list[float],
) -> None:
    while not isinstance(item := committed.get(timeout=WAIT_S_MAX), float):
        position, committed_s = item
        if not worker.wait_for(position, WAIT_S_MAX):
            raise RuntimeError(f"position {position} was not projected in {WAIT_S_MAX} s")
        lags_s.append(time.monotonic() - committed_s)
    written_s.append(item)


def _donation(fund_id: UUID, donor_id: UUID, index: int) -> c.RecordDonation:
    return c.RecordDonation(
        f"bench-lag-{index}", fund_id, donor_id, DONATION_AMOUNT_YEN + index, "bank_transfer"
    )
