"""`python -m bench.export`: journal export speed per format, and the tools reading it.

On a fresh PostgreSQL schema holding a realistic history (`bench.verify.write_events`; not
timed) of about `--postings` journal postings:

- export: seconds to write the whole journal as hledger, beancount and CSV (UTF-8), exactly
  as `fund-ledger export journal` does (the log read and decoded, every entry formatted);
- the same balances three ways: `hledger -f FILE bal`, beancount loading the export
  (`beancount.loader.load_file`, what `bean-check` does) and summing its postings, and ours:
  the fund-balances read model (after projecting) and `balances_at` replaying the log.

The tools run in their own processes; a tool that is not installed is reported as such.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.audit.csv_export import write_csv
from api.audit.entries import Selection, positioned_entries
from api.audit.plaintext import write_beancount, write_hledger
from bench.databases import POSTGRES, POSTGRES_URL_DEFAULT, fresh_database
from bench.report import render_columns
from bench.verify import write_events
from ledger.service import FundLedger
from projections import runner
from projections.as_of import balances_at
from projections.catalogue import all_projectors, create_read_model_tables
from projections.database import engine_for
from projections.fund_balances import fund_balances

POSTINGS_DEFAULT = 1_000_000
POSTINGS_PER_EVENT = 3.5  # measured on the planner's mix (all events, postings per event)
BEANCOUNT_SUM = """
import sys
from beancount import loader
from beancount.core import data
entries, errors, _ = loader.load_file(sys.argv[1])
assert not errors, errors[:3]
totals = {}
for entry in entries:
    if isinstance(entry, data.Transaction):
        for posting in entry.postings:
            totals[posting.account] = totals.get(posting.account, 0) + posting.units.number
print(len(totals))
"""


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    rows: list[tuple[str, ...]] = [("what", "postings", "seconds", "postings/s", "file MB")]
    with (
        fresh_database(POSTGRES, arguments.postgres_url, None) as database,
        tempfile.TemporaryDirectory(prefix="bench-export-") as directory,
    ):
        FundLedger(env=database.ledger_env(create_table=True)).close()
        ledger = FundLedger(env=database.ledger_env())
        engine = engine_for(database.url)
        try:
            started_s = time.perf_counter()
            head = write_events(ledger, int(arguments.postings / POSTINGS_PER_EVENT))
            _say(f"{head:,} events written in {time.perf_counter() - started_s:.0f} s")
            files = _exports(ledger, Path(directory), rows)
            create_read_model_tables(engine)
            runner.catch_up(ledger, engine, all_projectors(), batch_size=runner.BATCH_SIZE_MAX)
            postings = rows[1][1]
            rows.append(_timed("ours: balances from the read model", postings,
                               lambda: fund_balances(engine)))  # fmt: skip
            rows.append(_timed("ours: balances replayed (balances_at)", postings,
                               lambda: balances_at(ledger, position=head)))  # fmt: skip
            rows.append(_tool("hledger -f FILE bal", postings,
                              ["hledger", "-f", str(files["hledger"]), "bal"]))  # fmt: skip
            beancount = [sys.executable, "-c", BEANCOUNT_SUM, str(files["beancount"])]
            rows.append(_tool("beancount load + sum", postings, beancount))
        finally:
            engine.dispose()
            ledger.close()
    print()
    print(render_columns(rows, right_aligned={1, 2, 3, 4}))
    return 0


def _exports(ledger: FundLedger, directory: Path, rows: list[tuple[str, ...]]) -> dict[str, Path]:
    files = {}
    for name, suffix in (("hledger", "journal"), ("beancount", "beancount"), ("csv", "csv")):
        path = directory / f"journal.{suffix}"
        gc.collect()
        started_s = time.perf_counter()
        entries = positioned_entries(ledger, Selection())
        if name == "csv":
            with path.open("wb") as binary:
                count = write_csv(entries, binary, encoding="utf-8")
        else:
            writer = write_hledger if name == "hledger" else write_beancount
            with path.open("w", encoding="utf-8", newline="\n") as text:
                count = writer(entries, text)
        elapsed_s = time.perf_counter() - started_s
        size_mb = path.stat().st_size / 1e6
        rows.append((f"export {name}", f"{count:,}", f"{elapsed_s:.1f}",
                     f"{count / elapsed_s:,.0f}", f"{size_mb:.0f}"))  # fmt: skip
        _say(f"exported {name}: {count:,} postings in {elapsed_s:.1f} s")
        files[name] = path
    return files


def _timed(label: str, postings: str, run: Callable[[], Any]) -> tuple[str, ...]:
    gc.collect()
    started_s = time.perf_counter()
    run()
    elapsed_s = time.perf_counter() - started_s
    return (label, postings, f"{elapsed_s:.2f}", "", "")


def _tool(label: str, postings: str, command: list[str]) -> tuple[str, ...]:
    if shutil.which(command[0]) is None:
        return (label, postings, "not installed", "", "")
    started_s = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed_s = time.perf_counter() - started_s
    if done.returncode != 0:
        return (label, postings, f"failed: {done.stderr.strip()[:60]}", "", "")
    _say(f"{label}: {elapsed_s:.1f} s")
    return (label, postings, f"{elapsed_s:.1f}", "", "")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__)
    parser.add_argument("--postings", type=int, default=POSTINGS_DEFAULT,
                        help="about this many journal postings (default %(default)s)")  # fmt: skip
    parser.add_argument("--postgres-url", default=POSTGRES_URL_DEFAULT)
    return parser


def _say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
