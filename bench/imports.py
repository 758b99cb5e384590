"""Import benchmark: `python -m bench.imports [--rows 100000] [--rounds 3]` on PostgreSQL.

Measures, side by side in each round, each on a fresh schema holding one fund and `--donors`
donors (registered and cached before timing):

- `import`: the rows as CSV files (UTF-8, half-width katakana payers matched by 名寄せ, half
  with a bank reference) through `api.imports.run.import_donations`: decoding, parsing,
  checking, matching, planning and the one `execute_batch` per file;
- `execute_batch`: the same donations built directly as `RecordDonation` commands, recorded
  by `FundLedger.execute_batch` in the same chunks (the ledger core's batched-record rate);
- `execute_batch x100` (unless `--core-batch-size 0`): the same commands in batches of 100,
  the shape of `python -m bench`'s batched measurement, for reference.

One file holds at most `BATCH_SIZE_MAX` (100,000) rows, because one file is one atomic write:
so 100,000 rows are one file, recorded in one write. The rate is rows / total time; a ratio
(import / execute_batch) is the median of the per-round ratios; the bar is 0.70, against
`execute_batch` of the same chunks. Peak RSS is the process's, after everything so far.
"""

from __future__ import annotations

import argparse
import functools
import resource
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from uuid import UUID

from api.imports.plan import ImportRequest
from api.imports.run import import_donations
from bench.databases import POSTGRES_URL_DEFAULT, FreshDatabase, fresh_database
from ledger import commands as c
from ledger.service import BATCH_SIZE_MAX, FundLedger

ACTOR = "bench"
RATIO_MIN = 0.70
FIRST_DAY = date(2026, 4, 1)
_SYLLABLES = (
    "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワ"
)
_HALF_WIDTH = {
    unicodedata.normalize("NFKC", chr(code)): chr(code) for code in range(0xFF66, 0xFF9E)
}


def kana_of(index: int) -> str:
    """A distinct kana name per donor: カメオカ and three syllables from the index."""
    first = len(_SYLLABLES)
    letters = [_SYLLABLES[(index // first**k) % first] for k in range(3)]
    return "カメオカ " + "".join(letters)


def half_width(kana: str) -> str:
    return "".join(_HALF_WIDTH.get(char, char) for char in kana)


def csv_files(row_count: int, donor_count: int) -> list[bytes]:
    header = "effective_on,amount_yen,payer_name,reference\n"
    files = []
    for start in range(0, row_count, BATCH_SIZE_MAX):
        rows = []
        for index in range(start, min(start + BATCH_SIZE_MAX, row_count)):
            day = FIRST_DAY + timedelta(days=index % 200)
            reference = f"BK{index:09d}" if index % 2 == 0 else ""
            payer = half_width(kana_of(index % donor_count))
            rows.append(f"{day.isoformat()},{1_000 + index},{payer},{reference}\n")
        files.append((header + "".join(rows)).encode())
    return files


def _seeded(database: FreshDatabase, donor_count: int) -> tuple[FundLedger, UUID, list[UUID]]:
    FundLedger(env=database.ledger_env(create_table=True)).close()
    ledger = FundLedger(env=database.ledger_env())
    fund = ledger.execute(c.OpenFund("亀岡協働基金", "京都地域創造基金", 300), actor=ACTOR)
    donors = [
        c.RegisterDonor("individual", f"亀岡 {i}", kana_of(i), "621-0806", "亀岡市")
        for i in range(donor_count)
    ]
    outcomes = ledger.execute_batch(donors, actor=ACTOR)
    return ledger, fund.aggregate_id, [outcome.aggregate_id for outcome in outcomes]


def time_import(database: FreshDatabase, files: Sequence[bytes], donor_count: int) -> float:
    ledger, fund_id, _ = _seeded(database, donor_count)
    try:
        started = time.perf_counter()
        for data in files:
            import_donations(ledger, data, ImportRequest(fund_id), actor=ACTOR)
        return time.perf_counter() - started
    finally:
        ledger.close()


def time_core(
    database: FreshDatabase, files: Sequence[bytes], donor_count: int, batch_size: int = 0
) -> float:
    """The same donations as `RecordDonation` commands, built before the clock starts: one
    batch per file, or (`batch_size`) batches of that many."""
    ledger, fund_id, donor_ids = _seeded(database, donor_count)
    batches = [
        [_command(line, fund_id, donor_ids) for line in data.decode().splitlines()[1:]]
        for data in files
    ]
    if batch_size:
        commands = [command for batch in batches for command in batch]
        batches = [commands[i : i + batch_size] for i in range(0, len(commands), batch_size)]
    try:
        started = time.perf_counter()
        for batch in batches:
            ledger.execute_batch(batch, actor=ACTOR)
        return time.perf_counter() - started
    finally:
        ledger.close()


def _command(line: str, fund_id: UUID, donor_ids: Sequence[UUID]) -> c.RecordDonation:
    day, amount, _, reference = line.split(",")
    index = int(amount) - 1_000
    return c.RecordDonation(
        idempotency_key=f"core:{index}",
        fund_id=fund_id,
        donor_id=donor_ids[index % len(donor_ids)],
        amount_yen=int(amount),
        method="bank_transfer",
        effective_on=date.fromisoformat(day),
        external_reference=reference or None,
        reason=f"振込依頼人 {kana_of(index % len(donor_ids))}",
    )


def main(argv: list[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    if min(arguments.rows, arguments.donors, arguments.rounds) < 1:
        raise SystemExit("--rows, --donors and --rounds must be at least 1")
    if arguments.core_batch_size < 0:
        raise SystemExit("--core-batch-size must be 0 (none) or more")
    files = csv_files(arguments.rows, arguments.donors)
    print(f"{arguments.rows:,} rows in {len(files)} files; {arguments.donors:,} donors; PostgreSQL")
    measurements = _measurements(arguments.core_batch_size)
    rates: dict[str, list[float]] = {name: [] for name in measurements}
    ratios: dict[str, list[float]] = {name: [] for name in measurements if name != "import"}
    for round_index in range(arguments.rounds):
        names = list(measurements)[:: 1 if round_index % 2 == 0 else -1]
        elapsed = {}
        for name in names:
            with fresh_database("postgres", arguments.postgres_url, None) as database:
                elapsed[name] = measurements[name](database, files, arguments.donors)
            rates[name].append(arguments.rows / elapsed[name])
        for name, measured in ratios.items():
            measured.append(elapsed[name] / elapsed["import"])
        shown = ", ".join(
            f"import / {name} {measured[-1]:.2f}" for name, measured in ratios.items()
        )
        print(
            f"  round {round_index + 1}: {shown}; peak RSS {_peak_rss_mb():,.0f} MB",
            file=sys.stderr,
            flush=True,
        )
    print("| measurement | rows/s (median) |\n|---|---|")
    for name, measured in rates.items():
        print(f"| {name} | {statistics.median(measured):,.0f} |")
    for name, measured in ratios.items():
        print(f"import / {name} = {statistics.median(measured):.2f}")
    ratio = statistics.median(ratios["execute_batch"])
    verdict = "passed" if ratio >= RATIO_MIN else "MISSED"
    print(f"bar: import / execute_batch {ratio:.2f} >= {RATIO_MIN:.2f}: {verdict}")
    print(f"peak RSS of the process: {_peak_rss_mb():,.0f} MB")
    return 1 if arguments.check and ratio < RATIO_MIN else 0


Measure = Callable[[FreshDatabase, Sequence[bytes], int], float]


def _measurements(core_batch_size: int) -> dict[str, Measure]:
    measurements: dict[str, Measure] = {"import": time_import, "execute_batch": time_core}
    if core_batch_size:
        name = f"execute_batch x{core_batch_size}"
        measurements[name] = functools.partial(time_core, batch_size=core_batch_size)
    return measurements


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.imports", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="default %(default)s")
    parser.add_argument("--donors", type=int, default=1_000, help="default %(default)s")
    parser.add_argument("--rounds", type=int, default=3, help="default %(default)s")
    parser.add_argument(
        "--core-batch-size", type=int, default=100, help="0: skip (default %(default)s)"
    )
    parser.add_argument("--postgres-url", default=POSTGRES_URL_DEFAULT)
    parser.add_argument("--check", action="store_true", help="exit 1 if the bar is missed")
    return parser


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


if __name__ == "__main__":
    sys.exit(main())
