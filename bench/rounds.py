"""Rounds: every measurement once per backend per round, each on a fresh database.

Measurements that are compared stand next to each other in `MEASUREMENTS`, and every other
round runs them in reverse order, so neither side of a comparison always runs first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bench import workloads
from bench.databases import fresh_database
from bench.workloads import NO_PROBE, Sizes, Timing, Workload

WARMUP_SIZE_DIVISOR = 5


@dataclass(frozen=True)
class Measurement:
    name: str
    label: str
    unit: str
    workload: Workload


MEASUREMENTS = (
    Measurement("ledger_one", "ledger execute", "donations/s", workloads.ledger_one),
    Measurement("bare_one", "bare save x1", "events/s", workloads.bare_one),
    Measurement("ledger_batch", "ledger execute_batch xN", "donations/s", workloads.ledger_batch),
    Measurement("bare_batch", "bare save xN", "events/s", workloads.bare_batch),
    Measurement("raw_batch", "raw executemany xN", "rows/s", workloads.raw_batch),
)
MEASUREMENTS_BY_NAME = {measurement.name: measurement for measurement in MEASUREMENTS}


@dataclass(frozen=True)
class Plan:
    backends: Sequence[str]
    rounds: int
    sizes: Sizes
    postgres_url: str
    sqlite_dir: str | None


Results = dict[tuple[str, str], list[Timing]]  # (measurement name, backend) → one per round
Progress = Callable[[str], None]


def run_rounds(plan: Plan, progress: Progress) -> Results:
    """One untimed warm-up round at a fifth of the size, then `plan.rounds` measured rounds."""
    warmup_sizes = _scaled_down(plan.sizes, WARMUP_SIZE_DIVISOR)
    for backend in plan.backends:
        for measurement in MEASUREMENTS:
            run_once(measurement, backend, plan, warmup_sizes)
    progress("warm-up round done")
    results: Results = {}
    for round_index in range(plan.rounds):
        order = MEASUREMENTS if round_index % 2 == 0 else tuple(reversed(MEASUREMENTS))
        for backend in plan.backends:
            for measurement in order:
                timing = run_once(measurement, backend, plan, plan.sizes)
                results.setdefault((measurement.name, backend), []).append(timing)
        progress(f"round {round_index + 1}/{plan.rounds} done")
    return results


def run_once(measurement: Measurement, backend: str, plan: Plan, sizes: Sizes) -> Timing:
    with fresh_database(backend, plan.postgres_url, plan.sqlite_dir) as database:
        return measurement.workload(database, sizes, NO_PROBE)


def _scaled_down(sizes: Sizes, divisor: int) -> Sizes:
    return replace(
        sizes,
        one_count=max(1, sizes.one_count // divisor),
        batch_count=max(1, sizes.batch_count // divisor),
        raw_batch_count=max(1, sizes.raw_batch_count // divisor),
    )
