"""`python -m bench.rebuild`: rebuild throughput of the read models, and projection lag.

For each backend and size, on a fresh database holding a realistic history of that many
events (`bench.rebuild_history`, written with `FundLedger.execute_batch`; not timed):

- baseline: events per second merely reading the log a page at a time
  (`recorder.select_notifications`, 1,000 a page) and decoding each notification with
  `ledger.mapper.to_domain_event`, the least any projection must do;
- rebuild: events per second of `runner.rebuild` of all the read models (drop, replay
  every page, build the indexes left aside);
- ratio: rebuild / baseline, against the issue's bar of 0.40. The baseline is measured just
  before and just after the rebuild and the two averaged, so machine drift hits both sides.

And, after each rebuild, the journal's floor (`bench.journal_floor`): the database's own time
to write the journal read model's rows, already built, and to index them; with the baseline's
decoding, the ceiling ratio of a rebuild that did nothing else.

Then, on the smallest size, the steady-state lag (`bench.rebuild_lag`): p50 / p99 / max
milliseconds from a command's commit to the read models including it, against a bar of 1 s.

`--events 20000 --backends sqlite` is a quick run; the default sizes take tens of minutes,
mostly writing the histories.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from bench.databases import BACKENDS, POSTGRES, POSTGRES_URL_DEFAULT, FreshDatabase, fresh_database
from bench.journal_floor import JournalFloor, measure_journal_floor
from bench.rebuild_history import write_history
from bench.rebuild_lag import Lag, measure_lag
from bench.report import render_columns
from ledger.service import FundLedger
from projections import runner
from projections.catalogue import all_projectors, create_read_model_tables
from projections.database import engine_for

RATIO_MIN = 0.40
LAG_MS_MAX = 1_000
BASELINE_PAGE_SIZE = 1_000
SIZES_DEFAULT = (100_000, 1_000_000)


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    rows = [("backend", "events", "baseline ev/s", "rebuild ev/s", "ratio", "bar", "result")]
    lags: list[tuple[str, Lag]] = []
    floors: list[tuple[str, float, JournalFloor]] = []
    for backend in arguments.backends:
        for index, size in enumerate(sorted(arguments.events)):
            measure_lag_here = index == 0 and arguments.lag_commands > 0
            with fresh_database(backend, arguments.postgres_url, arguments.sqlite_dir) as database:
                baseline, rebuilt, floor, lag = _measure(
                    database, size, arguments, lag=measure_lag_here
                )
            ratio = rebuilt / baseline
            rows.append((backend, f"{size:,}", f"{baseline:,.0f}", f"{rebuilt:,.0f}",
                         f"{ratio:.2f}", f"≥ {RATIO_MIN:.2f}",
                         "pass" if ratio >= RATIO_MIN else "FAIL"))  # fmt: skip
            floors.append((backend, baseline, floor))
            if lag is not None:
                lags.append((backend, lag))
    print()
    print(render_columns(rows, right_aligned={1, 2, 3, 4}))
    print()
    print(_floor_table(floors))
    if lags:
        print()
        print(_lag_table(lags))
    return 0


def _measure(
    database: FreshDatabase, size: int, arguments: argparse.Namespace, *, lag: bool
) -> tuple[float, float, JournalFloor, Lag | None]:
    FundLedger(env=database.ledger_env(create_table=True)).close()
    ledger = FundLedger(env=database.ledger_env())
    engine = engine_for(database.url)
    try:
        create_read_model_tables(engine)
        started_s = time.perf_counter()
        written = write_history(ledger, size, progress=_progress(database.backend, size))
        _say(f"{database.backend}: {written.head:,} events written in {_since(started_s)}")
        before = _baseline_rate(ledger)
        rebuilt = _rebuild_rate(ledger, engine, arguments.batch_size)
        floor = measure_journal_floor(engine, written.head, events_per_page=arguments.batch_size)
        after = _baseline_rate(ledger)
        _say(f"{database.backend}: baseline {before:,.0f} / {after:,.0f}, rebuild {rebuilt:,.0f}")
        measured_lag = None
        if lag:
            poll_s = arguments.sqlite_poll_s if database.backend != POSTGRES else 1.0
            measured_lag = measure_lag(ledger, engine, written.fund_id, written.donor_id,
                                       command_count=arguments.lag_commands,
                                       poll_interval_s=poll_s,
                                       ledger_env=database.ledger_env())  # fmt: skip
        return (before + after) / 2, rebuilt, floor, measured_lag
    finally:
        engine.dispose()
        ledger.close()


def _baseline_rate(ledger: FundLedger) -> float:
    """Events per second reading and decoding the whole log, a page at a time."""
    gc.collect()
    started_s = time.perf_counter()
    count, after = 0, 0
    while True:
        page = ledger.recorder.select_notifications(
            after, BASELINE_PAGE_SIZE, inclusive_of_start=False
        )
        for notification in page:
            ledger.mapper.to_domain_event(notification)
        count += len(page)
        if len(page) < BASELINE_PAGE_SIZE:
            return count / (time.perf_counter() - started_s)
        after = page[-1].id


def _rebuild_rate(ledger: FundLedger, engine: Engine, batch_size: int) -> float:
    gc.collect()
    started_s = time.perf_counter()
    count = runner.rebuild(ledger, engine, all_projectors(), batch_size=batch_size)
    return count / (time.perf_counter() - started_s)


def _floor_table(floors: Sequence[tuple[str, float, JournalFloor]]) -> str:
    rows = [("journal floor", "backend", "events", "rows", "write µs/ev", "index µs/ev",
             "decode µs/ev", "ceiling", "bar")]  # fmt: skip
    for backend, baseline, floor in floors:
        decode_us = 1e6 / baseline
        ceiling = decode_us / (decode_us + floor.us_per_event())
        rows.append(("rows only, no projection", backend, f"{floor.event_count:,}",
                     f"{floor.row_count:,}", f"{floor.write_s / floor.event_count * 1e6:.1f}",
                     f"{floor.index_s / floor.event_count * 1e6:.1f}", f"{decode_us:.1f}",
                     f"{ceiling:.2f}", f"≥ {RATIO_MIN:.2f}"))  # fmt: skip
    return render_columns(rows, right_aligned={2, 3, 4, 5, 6, 7})


def _lag_table(lags: Sequence[tuple[str, Lag]]) -> str:
    rows = [
        ("lag", "backend", "commands", "writes/s", "p50 ms", "p99 ms", "max ms", "bar", "result")
    ]
    for backend, lag in lags:
        rows.append(("commit → read model", backend, f"{lag.command_count:,}",
                     f"{lag.commands_per_s:,.0f}", f"{lag.p50_ms:.1f}", f"{lag.p99_ms:.1f}",
                     f"{lag.max_ms:.1f}", f"< {LAG_MS_MAX} ms",
                     "pass" if lag.max_ms < LAG_MS_MAX else "FAIL"))  # fmt: skip
    return render_columns(rows, right_aligned={2, 3, 4, 5, 6})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.rebuild", description=__doc__)
    parser.add_argument("--events", type=int, nargs="+", default=list(SIZES_DEFAULT),
                        help="history sizes (default %(default)s)")  # fmt: skip
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--batch-size", type=int, default=runner.BATCH_SIZE_MAX,
                        help="events per rebuild page (default %(default)s)")  # fmt: skip
    parser.add_argument("--lag-commands", type=int, default=500,
                        help="commands written while measuring lag; 0 skips it")  # fmt: skip
    parser.add_argument("--sqlite-poll-s", type=float, default=0.1,
                        help="the worker's poll on SQLite (default %(default)s)")  # fmt: skip
    parser.add_argument("--postgres-url", default=POSTGRES_URL_DEFAULT)
    parser.add_argument("--sqlite-dir", default=None, help="where SQLite files go (default: temp)")
    return parser


def _progress(backend: str, size: int) -> Callable[[int], None]:
    last_said = [time.monotonic()]

    def progress(head: int) -> None:
        if time.monotonic() - last_said[0] > 30:
            last_said[0] = time.monotonic()
            _say(f"{backend}: writing the history, {head:,} of {size:,} events")

    return progress


def _say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _since(started_s: float) -> str:
    return f"{time.perf_counter() - started_s:.0f} s"


if __name__ == "__main__":
    sys.exit(main())
