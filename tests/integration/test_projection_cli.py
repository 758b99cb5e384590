"""`fund-ledger project | rebuild | balances` end to end on a SQLite file: typer's runner on the
real app and, for the polling loop and its stop on SIGTERM, the real console script."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from typing import Any

import pytest

from projections import runner
from projections.catalogue import all_projectors, create_read_models
from projections.database import engine_for
from projections.tables import metadata
from tests.e2e.test_cli import CONSOLE_SCRIPT, Book, cli, cli_json, event_count, open_book

PROJECT_LOOP_TIMEOUT_S = 30


@pytest.fixture
def book(sqlite_url: str) -> Book:
    book = open_book(sqlite_url)
    create_read_models(sqlite_url)  # what `fund-ledger init` will do (see the report)
    return book


def assert_one_line_error(args: list[str], url: str, message: str) -> None:
    result = cli(url, *args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


def test_project_once_applies_every_event_exactly_once(book: Book) -> None:
    first = cli_json(book.url, "project", "--once")
    assert first["applied_count"] == event_count(book.url)
    assert first["position"] == first["positions"]["journal_entries"]

    again = cli(book.url, "project", "--once")
    assert again.exit_code == 0, again.output
    assert again.stdout.endswith(": 0 events applied\n")

    before = event_count(book.url)
    cli_json(book.url, "donation", "void", book.donation_id, "--reason", "二重入力")
    after_void = cli_json(book.url, "project", "--once", "--batch-size", "1")
    assert after_void["applied_count"] == event_count(book.url) - before


def test_balances_agree_with_the_fund_after_catching_up(book: Book) -> None:
    refund = ["donation", "refund", book.donation_id, "--amount", "10000", "--reason", "申し出"]
    cli_json(book.url, *refund)
    fund = cli_json(book.url, "fund", "show", book.fund_id)

    found: dict[str, Any] = cli_json(book.url, "balances", "--fund", book.fund_id)

    [balance] = found["funds"]
    assert balance["name"] == "亀岡協働基金"
    assert balance["donation_count"] == 1
    assert (balance["received_yen"], balance["refunded_yen"]) == (100_000, 10_000)
    assert balance["host_fees_yen"] == 3_500 - 350
    assert balance["restriction_released_yen"] == 3_500 - 350
    pots = {pot["pot"]: pot for pot in balance["pots"]}
    for pot, figures in fund["pots"].items():
        for name in ("cash_yen", "committed_yen", "available_yen"):
            assert pots[pot][name] == figures[name], (pot, name)
    text = cli(book.url, "balances")
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[0].startswith(f"亀岡協働基金 {book.fund_id}: cash ¥86,850,")
    assert "  hozugawa: cash ¥86,850" in text.stdout


def test_rebuild_replays_the_named_read_models(book: Book) -> None:
    cli_json(book.url, "project", "--once")
    everything = cli_json(book.url, "rebuild")
    assert everything["rebuilt"] == [projector.name for projector in all_projectors()]
    assert everything["applied_count"] == event_count(book.url)
    journal = cli_json(book.url, "rebuild", "journal_entries")
    assert journal == {"rebuilt": ["journal_entries"], "applied_count": event_count(book.url)}


def test_rebuild_creates_missing_read_model_tables(book: Book) -> None:
    engine = engine_for(book.url)  # a ledger initialised before it had read models
    metadata.drop_all(engine)
    engine.dispose()
    assert_one_line_error(["project", "--once"], book.url, "run `fund-ledger init`")
    assert cli_json(book.url, "rebuild")["applied_count"] == event_count(book.url)
    assert cli_json(book.url, "project", "--once")["applied_count"] == 0


def test_refused_read_model_commands_print_one_line(book: Book) -> None:
    assert_one_line_error(["rebuild", "nope"], book.url, "no read model 'nope'")
    assert_one_line_error(["balances", "--fund", "x"], book.url, "--fund: must be an id")
    missing = "00000000-0000-4000-8000-000000000000"
    assert_one_line_error(["balances", "--fund", missing], book.url, "no fund with id")


def test_project_polls_until_sigterm_and_finishes_cleanly(book: Book) -> None:
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "--database-url", book.url, "--actor", "staff:t", "project"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    engine = engine_for(book.url)
    try:
        cli_json(book.url, "donation", "refund", book.donation_id, "--amount", "1", "--reason", "r")
        head = event_count(book.url)
        deadline = time.monotonic() + PROJECT_LOOP_TIMEOUT_S
        while runner.tracked_positions(engine).get("journal_entries", 0) < head:
            assert time.monotonic() < deadline, "the loop never caught up"
            assert process.poll() is None, process.stderr
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=PROJECT_LOOP_TIMEOUT_S)
    finally:
        engine.dispose()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    applied = sum(int(line.split(": ")[1].split()[0]) for line in stdout.splitlines())
    assert applied == head
    assert json.loads(cli(book.url, "project", "--once", "--json").stdout)["applied_count"] == 0


def test_balances_replayed_to_the_past_leave_the_read_models_untouched(book: Book) -> None:
    now = cli_json(book.url, "balances", "--fund", book.fund_id)
    engine = engine_for(book.url)
    positions = runner.tracked_positions(engine)

    before_anything = cli_json(book.url, "balances", "--as-of", "2000-01-01")
    at_the_head = cli_json(book.url, "balances", "--position", str(now["position"]))

    assert before_anything["funds"][0]["received_yen"] == 0
    assert at_the_head["funds"] == now["funds"]
    assert runner.tracked_positions(engine) == positions
    engine.dispose()
    both = cli(book.url, "balances", "--as-of", "2026-04-01", "--position", "1")
    assert both.exit_code == 1
    assert both.stderr.count("\n") == 1
