"""Closing a fund's books through the API and the CLI (BRIEF rule 7): a money command dated
in the closed period is refused with `books-closed` and records nothing; the open period
takes it; the fund shows where its books are closed."""

from __future__ import annotations

from datetime import date, timedelta

from tests.e2e.http import Api
from tests.e2e.test_cli import assert_refused, cli, cli_json, open_book

CLOSED_THROUGH = date.today() - timedelta(days=30)
FIRST_OPEN_DAY = CLOSED_THROUGH + timedelta(days=1)


def test_a_donation_dated_in_closed_books_is_a_409_problem_and_records_nothing(api: Api) -> None:
    fund_id = api.open_fund()
    gift = {"fund_id": fund_id, "donor_id": api.register_donor(), "method": "cash"}
    closing = {"through": CLOSED_THROUGH.isoformat(), "reason": "2025年度決算"}
    api.created(f"/v1/funds/{fund_id}/book-closings", closing)
    late = {**gift, "amount_yen": 5_000, "effective_on": CLOSED_THROUGH.isoformat()}
    log_before = api.read("/v1/events", limit=1000)["items"]

    refused = api.post("/v1/donations", late)
    reopened = api.post(f"/v1/funds/{fund_id}/book-closings", {**closing, "through": "2020-03-31"})
    by_auditor = api.post(f"/v1/funds/{fund_id}/book-closings", closing, as_=api.auditor)
    log_after = api.read("/v1/events", limit=1000)["items"]
    api.created("/v1/donations", {**late, "effective_on": FIRST_OPEN_DAY.isoformat()})

    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:fund-ledger:problem:books-closed"
    assert f"closed through {CLOSED_THROUGH.isoformat()}" in refused.json()["detail"]
    assert reopened.status_code == 409
    assert by_auditor.status_code == 403
    assert log_after == log_before, "the refusals recorded nothing"
    fund = api.read(f"/v1/funds/{fund_id}")
    assert fund["books_closed_through"] == CLOSED_THROUGH.isoformat()
    assert fund["pots"]["general"]["cash_yen"] == 5_000 - 175


def test_the_cli_closes_the_books_and_refuses_a_donation_dated_in_them_in_one_line(
    sqlite_url: str,
) -> None:
    book = open_book(sqlite_url)
    closed = cli(
        book.url, "fund", "close-books", book.fund_id,
        "--through", CLOSED_THROUGH.isoformat(), "--reason", "決算",
    )  # fmt: skip
    assert closed.exit_code == 0, closed.output

    assert_refused(
        book.url,
        ["donation", "record", "--fund", book.fund_id, "--donor", book.donor_id,
         "--amount", "1000", "--method", "cash", "--date", CLOSED_THROUGH.isoformat()],
        f"books-closed: the books of fund '亀岡協働基金' are closed through {CLOSED_THROUGH}",
    )  # fmt: skip
    shown = cli(book.url, "fund", "show", book.fund_id)
    assert f"books closed through {CLOSED_THROUGH.isoformat()}" in shown.stdout
    assert cli_json(book.url, "fund", "show", book.fund_id)["books_closed_through"] == str(
        CLOSED_THROUGH
    )
    closings = [
        (e["effective_on"], e["summary"])
        for e in cli_json(
            book.url, "history", "--fund", book.fund_id, "--as-of", str(date.today())
        )["events"]
        if e["type"] == "Fund.BooksClosed"
    ]
    assert closings == [(str(CLOSED_THROUGH), f"books closed through {CLOSED_THROUGH}")]
    earlier = str(CLOSED_THROUGH - timedelta(days=1))
    before_it = cli_json(book.url, "history", "--fund", book.fund_id, "--as-of", earlier)
    assert "Fund.BooksClosed" not in {e["type"] for e in before_it["events"]}
