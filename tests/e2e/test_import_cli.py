"""`fund-ledger import donations`: the dry run's rows and problems, the import's one line, a
refusal's problems on stderr with their lines, and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from tests.e2e.test_cli import cli
from tests.unit.test_import_plan import DATA, World, csv_bytes, seed_world


@pytest.fixture
def world(sqlite_url: str) -> World:
    ledger = FundLedger(env=eventsourcing_env(sqlite_url))
    try:
        return seed_world(ledger)
    finally:
        ledger.close()


def test_the_dry_run_prints_each_row_and_records_nothing(sqlite_url: str, world: World) -> None:
    sample = str(DATA / "donations_cp932.csv")

    result = cli(
        sqlite_url, "import", "donations", sample, "--fund", str(world.fund_id), "--dry-run"
    )
    then = cli(sqlite_url, "import", "donations", sample, "--fund", str(world.fund_id), "--dry-run")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("line 2: ¥10,000 (fee ¥350) on 2026-04-01, ﾔﾏﾀﾞ ﾀﾛｳ → 山田 太郎")
    assert "hozugawa: would record" in lines[1]
    assert lines[-1].startswith("dry run, nothing recorded: 4 rows")
    assert then.stdout == result.stdout


def test_an_import_records_then_a_second_says_nothing_new(sqlite_url: str, world: World) -> None:
    sample = str(DATA / "donations_utf8_bom.csv")
    args = ("import", "donations", sample, "--fund", str(world.fund_id))

    first = cli(sqlite_url, *args)
    second = cli(sqlite_url, *args, "--json")

    assert first.exit_code == 0, first.output
    assert "4 donations recorded" in first.stdout
    report = json.loads(second.stdout)
    assert (report["recorded"], report["already_recorded"], report["position"]) == (0, 4, None)


def test_a_refused_import_lists_each_problem_by_line_and_exits_1(
    sqlite_url: str, world: World, tmp_path: Path
) -> None:
    file = tmp_path / "bad.csv"
    file.write_bytes(csv_bytes("2026-04-01,1000,ﾔﾏﾀﾞ ﾀﾛｳ,,,,", "2026-04-01,0,ﾔﾏﾀﾞ ﾀﾛｳ,,,,"))

    result = cli(sqlite_url, "import", "donations", str(file), "--fund", str(world.fund_id))

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "line 3: bad-amount: amount_yen: must be at least 1 yen, got 0"
    assert lines[-1].startswith("error: import-rejected: 1 problem(s) on 1 line(s)")
    assert result.stdout == ""


def test_a_dry_run_with_problems_exits_1(sqlite_url: str, world: World, tmp_path: Path) -> None:
    file = tmp_path / "bad.csv"
    file.write_bytes(csv_bytes("2026-04-01,1000,ﾀﾅｶ,,,,"))

    result = cli(
        sqlite_url, "import", "donations", str(file), "--fund", str(world.fund_id), "--dry-run"
    )

    assert result.exit_code == 1
    assert result.stderr.startswith("line 2: unmatched-payer:")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--encoding", "latin-1"), "--encoding: must be one of auto, utf-8, cp932"),
        (("--method", "cash"), "method: must be one of bank_transfer, postal_transfer"),
    ],
)
def test_bad_options_are_one_line_errors(
    sqlite_url: str, world: World, args: tuple[str, ...], message: str
) -> None:
    sample = str(DATA / "donations_utf8.csv")

    result = cli(sqlite_url, "import", "donations", sample, "--fund", str(world.fund_id), *args)

    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_a_missing_file_or_unknown_fund_is_a_one_line_error(sqlite_url: str, world: World) -> None:
    missing = cli(
        sqlite_url, "import", "donations", "/nonexistent.csv", "--fund", str(world.fund_id)
    )
    sample = str(DATA / "donations_utf8.csv")
    unknown = cli(
        sqlite_url, "import", "donations", sample, "--fund", str(world.donor_ids["山田 太郎"])
    )

    assert (missing.exit_code, unknown.exit_code) == (1, 1)
    assert "cannot read '/nonexistent.csv'" in missing.stderr
    assert "not-found: no fund with id" in unknown.stderr
