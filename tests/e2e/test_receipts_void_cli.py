"""`fund-ledger receipts void NUMBER --reason TEXT` end to end on SQLite and PostgreSQL: one
line out, the next issue is the 再発行 replacement; refusals are one line on stderr, exit 1,
recording nothing."""

from __future__ import annotations

from tests.e2e.test_receipts_cli import cli, cli_json, donate, given_fund_and_donor

REASON = "寄附者の住所の誤り"


def test_void_prints_one_line_and_the_next_issue_is_the_replacement(database_url: str) -> None:
    fund, donor = given_fund_and_donor(database_url)
    gift = donate(database_url, fund, donor, "30000", "2026-04-01")
    number = cli_json(database_url, "receipts", "issue", "--donation", gift)["number"]

    result = cli(database_url, "receipts", "void", number, "--reason", REASON)

    assert result.exit_code == 0, result.output
    (line,) = result.stdout.strip().splitlines()
    assert line.startswith(f"receipt {number} voided at position ")
    shown = cli_json(database_url, "receipts", "show", number)
    assert (shown["voided"], shown["void_reason"]) == (True, REASON)
    replacement = cli_json(database_url, "receipts", "issue", "--donation", gift)
    assert replacement["number"] == f"{number}-2"
    assert replacement["reissue"] is True


def test_a_retry_with_the_same_key_records_nothing(database_url: str) -> None:
    fund, donor = given_fund_and_donor(database_url)
    gift = donate(database_url, fund, donor, "30000", "2026-04-01")
    number = cli_json(database_url, "receipts", "issue", "--donation", gift)["number"]
    args = ("receipts", "void", number, "--reason", REASON, "--idempotency-key", "void-1")
    first = cli_json(database_url, *args)
    before = cli_json(database_url, "verify")["event_count"]

    again = cli_json(database_url, *args)

    assert (again["replayed"], again["position"]) == (True, first["position"])
    assert cli_json(database_url, "verify")["event_count"] == before


def test_void_of_an_unknown_number_is_one_line_and_exit_1(database_url: str) -> None:
    given_fund_and_donor(database_url)
    before = cli_json(database_url, "verify")["event_count"]

    result = cli(database_url, "receipts", "void", "2026-000077", "--reason", REASON)

    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "no receipt numbered 2026-000077" in line
    assert cli_json(database_url, "verify")["event_count"] == before


def test_voiding_twice_is_one_line_and_exit_1(database_url: str) -> None:
    fund, donor = given_fund_and_donor(database_url)
    gift = donate(database_url, fund, donor, "30000", "2026-04-01")
    number = cli_json(database_url, "receipts", "issue", "--donation", gift)["number"]
    assert cli(database_url, "receipts", "void", number, "--reason", REASON).exit_code == 0

    result = cli(database_url, "receipts", "void", number, "--reason", REASON)

    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "receipt-voided" in line
