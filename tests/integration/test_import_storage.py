"""Imports on SQLite and PostgreSQL: the samples record exactly their rows, a bad file records
nothing, a second import records nothing new, overlapping files record their union, a file
past the row bound is refused, and an import process killed with SIGKILL at any moment
leaves all of its rows or none."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from api.imports import csvfile
from api.imports.ledger_reads import recorded_donations
from api.imports.run import RowStatus, import_donations
from ledger.errors import ImportRejected, ImportTooLarge
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from tests.unit.test_import_plan import (
    ACTOR,
    DATA,
    SAMPLE_DONATIONS,
    World,
    csv_bytes,
    donations_of,
    seed_world,
)

NOW_UTC = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
CRASH_ROWS = 1_000
KILL_FRACTIONS = (0.1, 0.5, 0.9)  # of the time a whole write took
PROCESS_TIMEOUT_S = 120


@pytest.fixture
def ledger(database_url: str) -> Iterator[FundLedger]:
    app = FundLedger(env=eventsourcing_env(database_url), clock=lambda: NOW_UTC)
    yield app
    app.close()


@pytest.fixture
def world(ledger: FundLedger) -> World:
    return seed_world(ledger)


def test_the_cp932_sample_records_exactly_its_rows(ledger: FundLedger, world: World) -> None:
    data = (DATA / "donations_cp932.csv").read_bytes()

    report = import_donations(ledger, data, world.request(), actor=ACTOR)

    assert report.count(RowStatus.RECORDED) == 4
    assert donations_of(ledger, world) == SAMPLE_DONATIONS


def test_a_file_with_one_bad_row_records_nothing(ledger: FundLedger, world: World) -> None:
    good = [f"2026-04-{day:02d},1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,," for day in range(1, 20)]
    head = ledger.recorder.max_notification_id()

    with pytest.raises(ImportRejected):
        import_donations(
            ledger, csv_bytes(*good, "2026-04-20,1.5,ﾔﾏﾀﾞ ﾀﾛｳ,,,,"), world.request(), actor=ACTOR
        )

    assert ledger.recorder.max_notification_id() == head


def test_importing_twice_records_once_and_overlapping_files_record_the_union(
    ledger: FundLedger, world: World
) -> None:
    rows = [f"2026-04-{day:02d},{day},ﾔﾏﾀﾞ ﾀﾛｳ,BK-{day},,," for day in range(1, 21)]
    import_donations(ledger, csv_bytes(*rows[:12]), world.request(), actor=ACTOR)

    again = import_donations(ledger, csv_bytes(*rows[:12]), world.request(), actor=ACTOR)
    overlapping = import_donations(ledger, csv_bytes(*rows[8:]), world.request(), actor=ACTOR)

    assert again.count(RowStatus.ALREADY_RECORDED) == 12
    assert again.position is None
    assert (
        overlapping.count(RowStatus.ALREADY_RECORDED),
        overlapping.count(RowStatus.RECORDED),
    ) == (4, 8)
    assert sorted(d.amount_yen for d in recorded_donations(ledger, world.fund_id)) == list(
        range(1, 21)
    )


def test_a_file_past_the_row_bound_is_refused_and_records_nothing(
    ledger: FundLedger, world: World
) -> None:
    rows = [f"2026-04-01,{n},ﾔﾏﾀﾞ ﾀﾛｳ,,,," for n in range(1, csvfile.ROW_COUNT_MAX + 2)]
    head = ledger.recorder.max_notification_id()

    with pytest.raises(ImportTooLarge, match="split it"):
        import_donations(ledger, csv_bytes(*rows), world.request(), actor=ACTOR)

    assert ledger.recorder.max_notification_id() == head


def _big_file(path: Path, first_amount_yen: int) -> Path:
    rows = [f"2026-04-01,{first_amount_yen + n},ﾔﾏﾀﾞ ﾀﾛｳ,,,," for n in range(CRASH_ROWS)]
    path.write_bytes(csv_bytes(*rows))
    return path


# The import in a process of its own, which says "writing" just before its one atomic write.
IMPORTER = """
import sys
from uuid import UUID
from api.imports.plan import ImportRequest
from api.imports.run import import_donations
from ledger.service import FundLedger
from ledger.store import eventsourcing_env

url, fund_id, path = sys.argv[1:]
ledger = FundLedger(env=eventsourcing_env(url))
execute_batch = ledger.execute_batch

def announced(commands, *, actor):
    print("writing", flush=True)
    return execute_batch(commands, actor=actor)

ledger.execute_batch = announced
with open(path, "rb") as file:
    import_donations(ledger, file.read(), ImportRequest(UUID(fund_id)), actor="crash-test")
print("done", flush=True)
"""


def _start_import(database_url: str, file: Path, world: World) -> subprocess.Popen[str]:
    command = [sys.executable, "-c", IMPORTER, database_url, str(world.fund_id), str(file)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_line(process: subprocess.Popen[str], expected: str) -> None:
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    assert line == expected, process.stderr.read() if process.stderr else line


def _count_in(ledger: FundLedger, world: World, amounts: range) -> int:
    return sum(d.amount_yen in amounts for d in recorded_donations(ledger, world.fund_id))


def test_an_import_killed_in_the_middle_of_its_write_leaves_all_rows_or_none(
    database_url: str, ledger: FundLedger, world: World, tmp_path: Path
) -> None:
    whole = _start_import(database_url, _big_file(tmp_path / "a.csv", 1), world)
    _wait_for_line(whole, "writing")
    started = time.monotonic()
    _wait_for_line(whole, "done")
    write_s = time.monotonic() - started
    assert whole.wait(PROCESS_TIMEOUT_S) == 0
    file = _big_file(tmp_path / "b.csv", 100_000)
    amounts = range(100_000, 100_000 + CRASH_ROWS)

    counts = []
    for fraction in KILL_FRACTIONS:
        process = _start_import(database_url, file, world)
        try:
            _wait_for_line(process, "writing")
            time.sleep(write_s * fraction)
            process.send_signal(signal.SIGKILL)
            process.wait(PROCESS_TIMEOUT_S)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        counts.append(_count_in(ledger, world, amounts))
        assert counts[-1] in (0, CRASH_ROWS), f"a partial import after a kill: {counts}"

    finishing = _start_import(database_url, file, world)
    assert finishing.wait(PROCESS_TIMEOUT_S) == 0
    assert _count_in(ledger, world, amounts) == CRASH_ROWS
    assert _count_in(ledger, world, range(1, 1 + CRASH_ROWS)) == CRASH_ROWS
