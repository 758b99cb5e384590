"""Steady-state projection lag: how long after a command commits the read models include it.

A writer records donations one command at a time, as fast as it can, in one thread; a
`ProjectionWorker` keeps the read models caught up (woken by NOTIFY on PostgreSQL, polling on
SQLite); an observer thread waits, for each command in turn, until the worker has projected
its position (`wait_for`, told after every committed page) and notes the time since the
command returned. The writer never wakes the worker: the lag is what another process's
writes would see.
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass
from queue import Queue
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
) -> Lag:
    worker = ProjectionWorker(ledger, engine, all_projectors(), poll_interval_s=poll_interval_s)
    worker.start()
    try:
        head = ledger.recorder.max_notification_id() or 0
        if not worker.wait_for(head, WAIT_S_MAX * 10):
            raise RuntimeError("the worker never caught up with the history")
        committed: Queue[tuple[int, float] | None] = Queue()
        lags_s: list[float] = []
        observer = threading.Thread(target=_observe, args=(worker, committed, lags_s))
        observer.start()
        started_s = time.perf_counter()
        for index in range(command_count):
            outcome = ledger.execute(_donation(fund_id, donor_id, index), actor="bench")
            assert outcome.position is not None, "a new donation has a position"
            committed.put((outcome.position, time.perf_counter()))
        written_s = time.perf_counter() - started_s
        committed.put(None)
        observer.join()
    finally:
        worker.stop()
    lags_ms = sorted(1000 * lag for lag in lags_s)
    return Lag(
        command_count=command_count,
        p50_ms=statistics.median(lags_ms),
        p99_ms=lags_ms[min(len(lags_ms) - 1, int(0.99 * len(lags_ms)))],
        max_ms=lags_ms[-1],
        commands_per_s=command_count / written_s,
    )


def _observe(
    worker: ProjectionWorker, committed: Queue[tuple[int, float] | None], lags_s: list[float]
) -> None:
    while (item := committed.get()) is not None:
        position, committed_s = item
        if not worker.wait_for(position, WAIT_S_MAX):
            raise RuntimeError(f"position {position} was not projected in {WAIT_S_MAX} s")
        lags_s.append(time.perf_counter() - committed_s)


def _donation(fund_id: UUID, donor_id: UUID, index: int) -> c.RecordDonation:
    return c.RecordDonation(
        f"bench-lag-{index}", fund_id, donor_id, DONATION_AMOUNT_YEN + index, "bank_transfer"
    )
