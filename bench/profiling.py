"""`--profile`: where the time per donation (ledger) or per event (bare library) goes.

Each ledger and bare measurement runs once under cProfile (only its timed part). The report
lists, per call site, the cumulative time per donation or event: sites nest (indented), so a
site's time includes the sites below it. A site is one function's total over all its callers
(cProfile keeps no call paths): the last two rows say so in their labels. cProfile's own
overhead inflates Python-heavy sites against time spent blocked on the database, so read the
columns against each other, and the rates of the plain run for absolute numbers.
"""

from __future__ import annotations

import contextlib
import cProfile
import functools
import importlib
import pstats
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.databases import POSTGRES, SQLITE, fresh_database
from bench.report import render_columns
from bench.rounds import MEASUREMENTS_BY_NAME, Plan
from bench.workloads import Timing

PROFILED = ("ledger_one", "bare_one", "ledger_batch", "bare_batch")
ProfileKey = tuple[str, int, str]
POLL_KEY: ProfileKey = ("~", 0, "<method 'poll' of 'select.poll' objects>")


@dataclass(frozen=True)
class Site:
    label: str
    depth: int
    plus: Sequence[str]  # "module:Qualified.name" whose cumulative times are added ...
    minus: Sequence[str] = ()  # ... less these (the part of a subclass method that is super's)


@dataclass(frozen=True)
class Recorders:
    """Where the recorder methods of one backend live."""

    chained: str  # our hash-chained application recorder
    stock: str  # the library's application recorder it extends
    inserting: str  # the class whose insert_events runs
    selecting: str  # the class whose select_events runs


RECORDERS = {
    POSTGRES: Recorders(
        chained="ledger.store.postgres:ChainedPostgresApplicationRecorder",
        stock="eventsourcing.postgres:PostgresApplicationRecorder",
        inserting="eventsourcing.postgres:PostgresApplicationRecorder",
        selecting="eventsourcing.postgres:PostgresAggregateRecorder",
    ),
    SQLITE: Recorders(
        chained="ledger.store.sqlite:ChainedSQLiteApplicationRecorder",
        stock="eventsourcing.sqlite:SQLiteApplicationRecorder",
        inserting="eventsourcing.sqlite:SQLiteAggregateRecorder",
        selecting="eventsourcing.sqlite:SQLiteAggregateRecorder",
    ),
}


def sites(backend: str) -> list[Site]:
    recorders = RECORDERS[backend]
    chained, stock = recorders.chained, recorders.stock
    select_events = f"{recorders.selecting}.select_events"
    insert_events = f"{recorders.inserting}.insert_events"
    return [
        Site("one unit of work (FundLedger._attempt)", 0, ["ledger.service:FundLedger._attempt"]),
        Site("request fingerprint (json + sha256)", 1, ["ledger.commands:request_fingerprint"]),
        Site("handler: validate, read, build events", 1, ["ledger.handlers:record_donation"]),
        Site(
            "reads: Repository.get (fund, donor)", 2, ["eventsourcing.application:Repository.get"]
        ),
        Site("fast-forward query (select_events)", 3, [select_events]),
        Site(
            "decode events (Mapper.to_domain_event)",
            3,
            ["eventsourcing.persistence:Mapper.to_domain_event"],
        ),
        Site("deepcopy from the cache", 3, ["copy:deepcopy"]),
        Site("stage movements (UnitOfWork.stage)", 2, ["ledger.unit_of_work:UnitOfWork.stage"]),
        Site("Application.save", 1, ["eventsourcing.application:Application.save"]),
        Site(
            "encode events (Mapper.to_stored_event)",
            2,
            ["eventsourcing.persistence:Mapper.to_stored_event"],
        ),
        Site("recorder.insert_events", 2, [insert_events]),
        Site(
            "hash chain (link hashes, chain rows)",
            3,
            [f"{chained}._insert_events", f"{chained}._fetch_ids_after_insert_events"],
            [f"{stock}._insert_events", f"{stock}._fetch_ids_after_insert_events"],
        ),
        Site(
            "snapshots (Application._take_snapshots)",
            2,
            ["eventsourcing.application:Application._take_snapshots"],
        ),
        Site(
            "all callers: pool checkouts (+ pre-ping)",
            0,
            ["psycopg_pool.pool:ConnectionPool.getconn"],
        ),
        Site("all callers: blocked in poll() on PostgreSQL", 0, ["~poll"]),
    ]


def profile(plan: Plan, profile_dir: Path | None) -> str:
    sizes = plan.sizes
    blocks = []
    for backend in plan.backends:
        stats: dict[str, tuple[pstats.Stats, Timing]] = {}
        for name in PROFILED:
            measurement = MEASUREMENTS_BY_NAME[name]
            profiler = cProfile.Profile()
            with fresh_database(backend, plan.postgres_url, plan.sqlite_dir) as database:
                timing = measurement.workload(
                    database, sizes, functools.partial(_enabled, profiler)
                )
            if profile_dir is not None:
                profile_dir.mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(profile_dir / f"{name}-{backend}.prof")
            stats[name] = (pstats.Stats(profiler), timing)
        blocks.append(_format_block(backend, stats, sizes.batch_size))
    return "\n\n".join(blocks)


@contextlib.contextmanager
def _enabled(profiler: cProfile.Profile) -> Iterator[None]:
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()


def _format_block(
    backend: str, stats: dict[str, tuple[pstats.Stats, Timing]], batch_size: int
) -> str:
    columns = [
        ("ledger x1", "ledger_one"),
        ("bare x1", "bare_one"),
        (f"ledger x{batch_size}", "ledger_batch"),
        (f"bare x{batch_size}", "bare_batch"),
    ]
    title = f"{backend}: µs per donation (ledger) or per event (bare), under cProfile"
    header = ["call site", *(label for label, _ in columns)]
    lines = [
        header,
        [
            "wall time (timed part)",
            *(_us(stats[name][1].elapsed_s, stats[name][1].count) for _, name in columns),
        ],
    ]
    for site in sites(backend):
        cells = [_site_cell(site, *stats[name]) for _, name in columns]
        if any(cells):
            lines.append(["  " * (site.depth + 1) + site.label, *cells])
    return "\n".join([title, render_columns(lines, right_aligned=set(range(1, len(header))))])


def _site_cell(site: Site, stats: pstats.Stats, timing: Timing) -> str:
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    plus = [table[key][3] for key in _keys(site.plus) if key in table]
    if not plus:
        return ""
    minus = [table[key][3] for key in _keys(site.minus) if key in table]
    return _us(sum(plus) - sum(minus), timing.count)


def _keys(names: Sequence[str]) -> list[ProfileKey]:
    keys = [POLL_KEY if name == "~poll" else _code_key(name) for name in names]
    return [key for key in keys if key is not None]


def _code_key(dotted: str) -> ProfileKey | None:
    """cProfile's key for a function named "module:Qualified.name"; None if there is none."""
    module_name, _, qualified = dotted.partition(":")
    target: Any = importlib.import_module(module_name)
    for part in qualified.split("."):
        target = getattr(target, part, None)
    if target is None:
        return None
    code = getattr(target, "__wrapped__", target).__code__
    return (code.co_filename, code.co_firstlineno, code.co_name)


def _us(elapsed_s: float, count: int) -> str:
    return f"{1e6 * elapsed_s / count:,.0f}"
