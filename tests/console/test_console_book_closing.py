"""Closing a fund's books (決算の締め) from its page: only once the administrator ticked that
closed books never reopen; a reopening, a day in the future or a day that is no date is
refused next to the day and records nothing; a double submit closes once; the auditor sees
no form and cannot post one (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.console.conftest import AUDITOR
from tests.console.pages import Console, forms_of, head_position


def _opened_fund(console: Console) -> str:
    """A new fund, once the read models (which the fund's page shows) hold it."""
    body = {"name": "亀岡協働基金", "host": "公益財団法人 京都地域創造基金", "fee_rate_bp": 350}
    opened = console.api.created("/v1/funds", body)
    console.api.read(f"/v1/funds/{opened['id']}/balance", waiting_for=opened)
    return str(opened["id"])


def _page(fund_id: str) -> str:
    return f"/console/funds/{fund_id}"


def _action(fund_id: str) -> str:
    return f"/console/funds/{fund_id}/book-closings"


def _close(console: Console, fund_id: str, **typed: str) -> httpx.Response:
    closing = {"through": "2026-03-31", "reason": "2025年度決算", "confirm": "on"}
    return console.submit(_page(fund_id), _action(fund_id), **{**closing, **typed})


def _fund(console: Console, fund_id: str) -> dict[str, Any]:
    state: dict[str, Any] = console.api.read(f"/v1/funds/{fund_id}")
    return state


def test_administrator_closes_the_books_from_the_funds_page(admin_on_both: Console) -> None:
    fund_id = _opened_fund(admin_on_both)

    closed = _close(admin_on_both, fund_id)

    assert closed.status_code == 200, closed.text
    assert closed.url.path == _page(fund_id)
    assert "帳簿は 令和8年3月31日 まで締めています" in closed.text
    assert _fund(admin_on_both, fund_id)["books_closed_through"] == "2026-03-31"
    donation = {
        "fund_id": fund_id,
        "donor_id": admin_on_both.api.register_donor(),
        "amount_yen": 1_000,
        "method": "cash",
        "effective_on": "2026-03-31",
    }
    refused = admin_on_both.api.post("/v1/donations", donation)
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("books-closed")


def test_closing_without_the_tick_is_refused_and_closes_nothing(admin: Console) -> None:
    fund_id = _opened_fund(admin)
    before = head_position(admin.api.database_url)

    refused = _close(admin, fund_id, confirm="")

    assert refused.status_code == 422
    assert 'id="error-confirm"' in refused.text
    assert "締めた帳簿は開き直せません。確認のうえチェックしてください。" in refused.text
    assert '<details id="close-books" open>' in refused.text
    assert head_position(admin.api.database_url) == before
    assert _fund(admin, fund_id)["books_closed_through"] is None


@pytest.mark.parametrize(
    ("through", "message"),
    [
        ("2026-03-30", "帳簿はもうこの日より後まで締めています。締めた期間は開き直せません。"),
        ("2099-12-31", "2000年1月1日から今日までの日付を入力してください。"),
        ("1999-12-31", "2000年1月1日から今日までの日付を入力してください。"),
        ("2026-02-30", "日付を 2026-04-01 の形で入力してください。"),
        ("", "入力してください。"),
    ],
    ids=["reopening", "future", "before-2000", "no-such-day", "blank"],
)
def test_a_day_that_cannot_be_closed_is_refused_next_to_it(
    admin: Console, through: str, message: str
) -> None:
    fund_id = _opened_fund(admin)
    closing = {"through": "2026-03-31", "reason": "2025年度決算"}
    admin.api.created(f"/v1/funds/{fund_id}/book-closings", closing)
    before = head_position(admin.api.database_url)

    refused = _close(admin, fund_id, through=through, reason="締め直し")

    assert refused.status_code == 422
    assert f'<p class="field-error" id="error-through">{message}</p>' in refused.text
    assert 'value="締め直し"' in refused.text  # what was typed is shown again
    assert head_position(admin.api.database_url) == before
    assert _fund(admin, fund_id)["books_closed_through"] == "2026-03-31"


def test_the_same_closing_form_sent_twice_closes_once(admin: Console) -> None:
    fund_id = _opened_fund(admin)
    form = admin.form(_page(fund_id), _action(fund_id))
    closing = {"through": "2026-03-31", "reason": "2025年度決算", "confirm": "on"}

    first = admin.post(form, **closing)
    after_first = head_position(admin.api.database_url)
    second = admin.post(form, **closing)

    assert first.status_code == second.status_code == 200
    assert head_position(admin.api.database_url) == after_first


def test_the_auditor_sees_no_closing_form_and_cannot_post_one(console: Console) -> None:
    fund_id = _opened_fund(console)
    assert console.sign_in(AUDITOR).status_code == 200

    page = console.get(_page(fund_id))
    assert page.status_code == 200
    posting = [form.action for form in forms_of(page.text) if form.method == "post"]
    assert posting == ["/console/logout"]  # the statement's download is a GET
    token = console.form(_page(fund_id), "/console/logout").fields["csrf_token"]
    fields = {"csrf_token": token, "idempotency_key": "console-auditor-try"}
    closing = {"through": "2026-03-31", "reason": "2025年度決算", "confirm": "on"}
    before = head_position(console.api.database_url)

    answer = console.client.post(_action(fund_id), data={**fields, **closing})

    assert answer.status_code == 403
    assert head_position(console.api.database_url) == before
    assert _fund(console, fund_id)["books_closed_through"] is None
