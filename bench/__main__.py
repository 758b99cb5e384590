"""`python -m bench`: measure, print the table; `--check` exits 1 when a bar is missed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from bench import profiling, report
from bench.databases import BACKENDS, POSTGRES_URL_DEFAULT
from bench.rounds import Plan, run_rounds
from bench.workloads import Sizes, bare_payload, sample_donation_event


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    plan = _plan(arguments)
    _describe(plan)
    if arguments.profile:
        print(profiling.profile(plan, arguments.profile_dir))
        return 0
    started_s = time.perf_counter()
    results = run_rounds(plan, _progress)
    rows = report.build_rows(results, plan.backends, plan.sizes.batch_size)
    print()
    print(report.format_table(rows))
    print(f"\n{plan.rounds} rounds in {time.perf_counter() - started_s:.0f} s; rate = median;")
    print("spread = half the range over rounds; ratio = median of the per-round ratios.")
    missed = report.bars_missed(rows)
    if missed and arguments.check:
        print(f"bars missed: {', '.join(f'{row.label} ({row.backend})' for row in missed)}")
        return 1
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated: %(default)s"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="measured rounds (default %(default)s)"
    )
    parser.add_argument(
        "--one", type=int, default=800, help="commands one at a time per run (default %(default)s)"
    )
    parser.add_argument(
        "--batches", type=int, default=30, help="batches per run (default %(default)s)"
    )
    parser.add_argument("--batch-size", type=int, default=100, help="default %(default)s")
    parser.add_argument(
        "--raw-batches", type=int, default=100, help="raw commits per run (default %(default)s)"
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL_DEFAULT, help="default %(default)s")
    parser.add_argument("--sqlite-dir", default=None, help="where SQLite files go (default: temp)")
    parser.add_argument("--check", action="store_true", help="exit 1 if a bar is missed")
    parser.add_argument(
        "--profile", action="store_true", help="profile one run of each instead of measuring"
    )
    parser.add_argument("--profile-dir", type=Path, default=None, help="keep the .prof files here")
    return parser


def _plan(arguments: argparse.Namespace) -> Plan:
    backends = [name.strip() for name in arguments.backends.split(",") if name.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        raise SystemExit(f"unknown backend {unknown[0]!r}; choose from {', '.join(BACKENDS)}")
    sizes = Sizes(arguments.one, arguments.batches, arguments.batch_size, arguments.raw_batches)
    if min(arguments.rounds, sizes.one_count, sizes.batch_count, sizes.batch_size) < 1:
        raise SystemExit("--rounds, --one, --batches and --batch-size must be at least 1")
    if sizes.raw_batch_count < 1:
        raise SystemExit("--raw-batches must be at least 1")
    return Plan(backends, arguments.rounds, sizes, arguments.postgres_url, arguments.sqlite_dir)


def _describe(plan: Plan) -> None:
    topic, state = sample_donation_event()
    sizes = plan.sizes
    print(
        f"backends {', '.join(plan.backends)}; {plan.rounds} rounds; per run: {sizes.one_count}"
        f" one at a time, {sizes.batch_count} x {sizes.batch_size} batched,"
        f" {sizes.raw_batch_count} x {sizes.batch_size} raw rows"
    )
    print(
        f"event size: a stored {topic.rpartition(':')[2]} is {len(state)} bytes;"
        f" bare events and raw rows are padded to match ({len(bare_payload())} bytes of padding)"
    )


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
