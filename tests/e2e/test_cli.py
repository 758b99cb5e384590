"""The `fund-ledger` command line, end to end: typer's runner on the real app object and, for
the console script and its exit codes, real subprocesses; on a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from api.cli import app
from api.cli.boundary import _stdout_reader_gone
from ledger.service import FundLedger

CONSOLE_SCRIPT = Path(sys.executable).with_name("fund-ledger")
FUTURE_DATE = (date.today() + timedelta(days=2)).isoformat()
INIT_FIRST = "run `fund-ledger init` first"

runner = CliRunner()


def cli(url: str, *args: str, **env: str) -> Result:
    return runner.invoke(app, ["--database-url", url, "--actor", "staff:tanaka", *args], env=env)


def cli_json(url: str, *args: str) -> dict[str, Any]:
    result = cli(url, *args, "--json")
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def new_id(url: str, *args: str) -> str:
    return str(cli_json(url, *args)["id"])


def event_count(url: str) -> int:
    return int(cli_json(url, "verify")["event_count"])


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args], capture_output=True, text=True, timeout=60, check=False
    )


@dataclass(frozen=True)
class Book:
    """A fund with designation `hozugawa`, a donor, and a ¥100,000 designated donation."""

    url: str
    fund_id: str
    donor_id: str
    donation_id: str


def open_book(url: str) -> Book:
    assert cli(url, "init").exit_code == 0
    fund_id = new_id(url, "fund", "open", "--name", "亀岡協働基金", "--fee-rate-bp", "350")
    cli_json(url, "fund", "designation-add", fund_id, "hozugawa", "--name", "保津川")
    donor_id = new_id(
        url, "donor", "register", "--kind", "individual", "--name", "山田 花子",
        "--kana", "やまだ はなこ", "--postal-code", "621-0806", "--address", "京都府亀岡市余部町",
    )  # fmt: skip
    donation_id = new_id(
        url, "donation", "record", "--fund", fund_id, "--donor", donor_id,
        "--amount", "100000", "--method", "bank_transfer", "--designation", "hozugawa",
    )  # fmt: skip
    return Book(url, fund_id, donor_id, donation_id)


@pytest.fixture
def book(sqlite_url: str) -> Book:
    return open_book(sqlite_url)


def assert_refused(url: str, args: list[str], message: str) -> None:
    """One line on stderr, exit 1, nothing on stdout, nothing recorded."""
    before = event_count(url)
    result = cli(url, *args)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert event_count(url) == before


NO_SUCH_ID = "00000000-0000-4000-8000-000000000000"
NOT_WHOLE = "--amount: must be a whole number"
TOO_SMALL = "--amount: must be at least 1 yen"
BAD_DATE = "--date: must be a date written YYYY-MM-DD"


def refund_of(amount: str) -> Callable[[Book], list[str]]:
    return lambda b: ["donation", "refund", b.donation_id, "--amount", amount, "--reason", "r"]


def donation_with(**options: str) -> Callable[[Book], list[str]]:
    """`donation record` of ¥1,000 in cash, with `options` (`date="…"` for `--date …`) changed."""

    def args(b: Book) -> list[str]:
        given = {"fund": b.fund_id, "donor": b.donor_id, "amount": "1000", "method": "cash"}
        pairs = [(f"--{name}", value) for name, value in (given | options).items()]
        return ["donation", "record", *(part for pair in pairs for part in pair)]

    return args


def award_of(amount: str) -> Callable[[Book], list[str]]:
    return lambda b: [
        "grant", "award", "--fund", b.fund_id, "--grantee", "保津川を守る会",
        "--representative", "川島 一郎", "--purpose", "clean-up", "--amount", amount,
        "--designation", "hozugawa",
    ]  # fmt: skip


def test_full_happy_path_records_every_command_and_the_chain_verifies(database_url: str) -> None:
    url = database_url
    b = open_book(url)
    refund = cli_json(url, *refund_of("10000")(b))
    assert refund["amounts_yen"] == {"amount_yen": 10000, "fee_returned_yen": 350}
    grant_id = new_id(url, *award_of("50000")(b))
    cli_json(url, "grant", "disburse", grant_id, "--amount", "20000")
    cli_json(url, "grant", "reduce", grant_id, "--amount", "5000", "--reason", "smaller venue")
    cli_json(url, "grant", "return", grant_id, "--amount", "3000", "--reason", "unused")
    cli_json(url, "grant", "cancel", grant_id, "--reason", "project ended")
    mistake = new_id(url, *donation_with(amount="1000", method="cash")(b))
    cli_json(url, "donation", "void", mistake, "--reason", "entered twice")
    new_rate = ["--fee-rate-bp", "400", "--from", "2027-04-01", "--reason", "board decision"]
    cli_json(url, "fund", "fee-rate", b.fund_id, *new_rate)
    moved = ["--address", "京都府亀岡市安町", "--reason", "moved"]
    cli_json(url, "donor", "correct", b.donor_id, *moved)

    fund = cli_json(url, "fund", "show", b.fund_id)
    hozugawa = fund["pots"]["hozugawa"]
    assert hozugawa == {"cash_yen": 69850, "committed_yen": 0, "available_yen": 69850}
    assert fund["pots"]["general"] == {"cash_yen": 0, "committed_yen": 0, "available_yen": 0}
    assert fund["fee_rates_bp"] == [
        {"from": None, "fee_rate_bp": 350},
        {"from": "2027-04-01", "fee_rate_bp": 400},
    ]
    donation = cli_json(url, "donation", "show", b.donation_id)
    assert donation["amount_yen"] == 100000
    assert (donation["fee_yen"], donation["refunded_yen"]) == (3500, 10000)
    assert cli_json(url, "donation", "show", mistake)["voided"] is True
    grant = cli_json(url, "grant", "show", grant_id)
    assert (grant["disbursed_yen"], grant["unpaid_yen"], grant["returned_yen"]) == (20000, 0, 3000)
    assert grant["cancelled"] is True
    assert cli_json(url, "donor", "show", b.donor_id)["address"] == "京都府亀岡市安町"

    logged = cli_json(url, "events", "--limit", "1000")["events"]
    types = {event["type"] for event in logged}
    assert {"Donation.Refunded", "Donation.Voided", "Grant.Returned", "Grant.Cancelled"} <= types
    assert all(len(event["chain_hash"]) == 64 for event in logged)
    verified = cli(url, "verify")
    assert verified.exit_code == 0
    head = logged[-1]["chain_hash"]
    assert f"chain verified: {len(logged)} events, head {head}" in verified.stdout


def test_each_command_prints_one_line_with_the_ids_the_next_command_needs(book: Book) -> None:
    result = cli(book.url, *donation_with(amount="10000")(book))
    assert result.exit_code == 0
    line = result.stdout
    assert line.count("\n") == 1
    assert line.startswith("donation recorded: ")
    assert "¥10,000 (fee ¥350) at position " in line
    donation_id = line.split()[2]
    assert cli(book.url, "donation", "show", donation_id).stdout.startswith(
        f"donation {donation_id}: ¥10,000"
    )


@pytest.mark.parametrize(
    ("args_for", "message"),
    [
        pytest.param(refund_of("0"), TOO_SMALL, id="amount-zero"),
        pytest.param(refund_of("-1"), TOO_SMALL, id="amount-negative"),
        pytest.param(refund_of("1.5"), NOT_WHOLE, id="amount-fraction"),
        pytest.param(refund_of("10.0"), NOT_WHOLE, id="amount-ten-point-zero"),
        pytest.param(refund_of("1e4"), NOT_WHOLE, id="amount-exponent"),
        pytest.param(refund_of("abc"), NOT_WHOLE, id="amount-text"),
        pytest.param(
            donation_with(amount="10000000001"), "at most 10,000,000,000 yen", id="amount-above-max"
        ),
        pytest.param(donation_with(fund=NO_SUCH_ID), "not-found: no fund", id="unknown-fund"),
        pytest.param(donation_with(fund="4f1c-0"), "--fund: must be an id", id="malformed-uuid"),
        pytest.param(award_of("96501"), "error: overdraft: ", id="overdraft"),
        pytest.param(refund_of("100001"), "refund-exceeds-donation", id="refund-above-the-rest"),
        pytest.param(donation_with(date=FUTURE_DATE), "not be in the future", id="future-date"),
        pytest.param(donation_with(date="2026-02-30"), BAD_DATE, id="impossible-date"),
        pytest.param(donation_with(date="01/04/2026"), BAD_DATE, id="bad-date"),
        pytest.param(
            donation_with(designation="x"), "unknown-designation", id="unknown-designation"
        ),
    ],
)
def test_refused_command_prints_one_error_line_exits_1_and_records_nothing(
    book: Book, args_for: Callable[[Book], list[str]], message: str
) -> None:
    assert_refused(book.url, args_for(book), message)


def test_overdraft_is_refused_on_postgres_too(postgres_url: str) -> None:
    assert_refused(postgres_url, award_of("96501")(open_book(postgres_url)), "error: overdraft: ")


def test_retry_with_the_same_idempotency_key_records_nothing_and_says_it_was_a_replay(
    database_url: str,
) -> None:
    b = open_book(database_url)
    args = [*refund_of("1000")(b), "--idempotency-key", "refund-7"]
    first = cli(database_url, *args)
    count = event_count(database_url)
    again = cli(database_url, *args)
    assert again.exit_code == 0
    assert again.stdout.startswith(first.stdout.split(" at position")[0])
    assert "replay of idempotency key refund-7, nothing new recorded" in again.stdout
    assert event_count(database_url) == count
    assert cli_json(database_url, *args)["replayed"] is True
    other_amount = [*refund_of("2000")(b), "--idempotency-key", "refund-7"]
    assert_refused(database_url, other_amount, "idempotency-key-reused")


def test_omitted_idempotency_key_is_generated_and_printed_so_a_retry_is_safe(book: Book) -> None:
    args = donation_with(amount="500", method="card")(book)
    first = cli(book.url, *args)
    key = first.stdout.split("idempotency key ")[1].strip()
    retried = cli(book.url, *args, "--idempotency-key", key)
    assert "replay of idempotency key" in retried.stdout
    assert cli_json(book.url, *args)["idempotency_key"] != key


def test_verify_exits_non_zero_naming_the_position_of_an_event_altered_in_the_file(
    book: Book,
) -> None:
    path = book.url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        (state,) = connection.execute("SELECT state FROM stored_events WHERE rowid = 3").fetchone()
        altered = state.replace("やまだ".encode(), "たなか".encode())
        connection.execute("UPDATE stored_events SET state = ? WHERE rowid = 3", (altered,))
    result = run_script("--database-url", book.url, "verify")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: chain broken at position 3 (altered)")
    assert result.stderr.count("\n") == 1
    report = json.loads(cli(book.url, "verify", "--json").stdout)
    assert report["fault"]["position"] == 3


def test_a_row_forged_so_badly_it_cannot_be_read_is_named_by_verify_and_stops_the_rest(
    book: Book,
) -> None:
    with sqlite3.connect(book.url.removeprefix("sqlite:///")) as connection:
        connection.execute("UPDATE stored_events SET originator_id = 'forged' WHERE rowid = 3")
    verified = run_script("--database-url", book.url, "verify")
    balances = run_script("--database-url", book.url, "balances")
    assert (verified.returncode, verified.stdout) == (1, "")
    assert verified.stderr == (
        "error: chain broken at position 3 (altered): the event at position 3 is malformed"
        " (its originator id is not a UUID): it was changed behind the application's back\n"
    )
    assert (balances.returncode, balances.stdout) == (1, "")
    assert balances.stderr.startswith(
        "error: unreadable-event: the event at position 3 cannot be read"
    )
    assert balances.stderr.count("\n") == 1


def test_verify_with_an_expected_head_the_chain_never_reached_fails(book: Book) -> None:
    assert cli(book.url, "verify", "--expect-head", "f" * 64).exit_code == 1
    head = cli_json(book.url, "verify")["head_hash"]
    assert cli(book.url, "verify", "--expect-head", head).exit_code == 0


def test_console_script_says_run_init_first_until_init_ran(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    refused = run_script("--database-url", url, "events")
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1
    assert INIT_FIRST in refused.stderr
    assert list(tmp_path.iterdir()) == [], "a mistyped path leaves no empty database behind"
    assert run_script("--database-url", url, "init").returncode == 0
    assert run_script("--database-url", url, "init").returncode == 0
    assert run_script("--database-url", url, "events").returncode == 0


def test_postgres_schema_without_tables_says_run_init_first(postgres_database_url: str) -> None:
    url = f"{postgres_database_url}?schema=never_initialised"
    result = cli(url, "fund", "show", NO_SUCH_ID)
    assert result.exit_code == 1
    assert INIT_FIRST in result.stderr


def test_output_cut_short_by_its_reader_ends_quietly_with_the_status_of_sigpipe(
    book: Book,
) -> None:
    """`fund-ledger events | head`: the reader has what it wanted; that is no error to report."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line is written
    try:
        result = subprocess.run(
            [str(CONSOLE_SCRIPT), "--database-url", book.url, "events"],
            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (128 + signal.SIGPIPE, "")


def test_stdout_counts_as_cut_short_only_once_its_reader_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert not _stdout_reader_gone(), "the reader is still there"
        os.close(read_end)
        assert _stdout_reader_gone()
        print("more output", file=stdout, flush=True)  # into /dev/null now: no error


def test_a_broken_pipe_that_is_not_stdout_is_reported_as_an_error(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: FundLedger, aggregate_id: object) -> None:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(FundLedger, "get", broken)
    result = cli(book.url, "fund", "show", book.fund_id)
    assert result.exit_code == 1
    assert result.stderr == (
        "error: unexpected BrokenPipeError: [Errno 32] Broken pipe"
        " (set FUND_LEDGER_DEBUG=1 for the traceback)\n"
    )


def test_usage_errors_exit_2_from_the_console_script() -> None:
    assert run_script("donation", "record", "--amount", "1000").returncode == 2


def test_unreachable_database_is_one_line_naming_it_without_the_password() -> None:
    result = cli("postgresql://kameoka:s3cret-pw@127.0.0.1:1/ledger", "events")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: database unavailable: postgresql://kameoka:***@127.0.0.1:1/ledger"
    )
    assert result.stderr.count("\n") == 1
    assert "s3cret-pw" not in result.output


def test_unexpected_failure_is_one_line_and_the_traceback_shows_only_in_debug(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: FundLedger, aggregate_id: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(FundLedger, "get", broken)
    quiet = cli(book.url, "fund", "show", book.fund_id)
    assert quiet.exit_code == 1
    assert quiet.stderr.splitlines() == [
        "error: unexpected RuntimeError: disk on fire (set FUND_LEDGER_DEBUG=1 for the traceback)"
    ]
    loud = cli(book.url, "fund", "show", book.fund_id, FUND_LEDGER_DEBUG="1")
    assert loud.exit_code == 1
    assert "Traceback" in loud.stderr


def test_a_refused_setting_is_named_by_its_variable_in_one_line(book: Book) -> None:
    result = cli(book.url, "serve", FUND_LEDGER_TOKEN_CACHE_S="-1")

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: configuration: FUND_LEDGER_TOKEN_CACHE_S:"
        " Input should be greater than or equal to 0"
    ]


def test_events_are_paged_after_a_position_with_a_maximum_page_size(book: Book) -> None:
    lines = cli(book.url, "events", "--after", "2", "--limit", "2").stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["3", "4"]
    _position, _recorded_at, event_type, aggregate_id, version = lines[0].split()
    assert (event_type, aggregate_id, version) == ("Donor.Registered", book.donor_id, "v1")
    page = cli_json(book.url, "events", "--after", "2", "--limit", "1")
    assert page["next_after"] == 3
    assert page["events"][0]["fields"]["name"] == "山田 花子"
    assert cli(book.url, "events", "--limit", "1001").exit_code == 2


def test_database_url_and_actor_come_from_the_environment(sqlite_url: str) -> None:
    env = {"FUND_LEDGER_DATABASE_URL": sqlite_url, "FUND_LEDGER_ACTOR": "city:sato"}
    assert runner.invoke(app, ["init"], env=env).exit_code == 0
    opened = runner.invoke(app, ["fund", "open", "--name", "f", "--fee-rate-bp", "0"], env=env)
    assert opened.exit_code == 0, opened.output
    fields = cli_json(sqlite_url, "events")["events"][0]["fields"]
    assert fields["actor"] == "city:sato"
