"""Who may do what in the console: sign-in, lock-out, sessions, CSRF, roles. Every refused
post records nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from api.console.routing import SESSION_COOKIE
from tests.console.conftest import ADMIN, AUDITOR, console_for
from tests.console.pages import Console, head_position

DONOR = {
    "kind": "individual",
    "name": "亀岡 花子",
    "kana": "カメオカ ハナコ",
    "postal_code": "621-0806",
    "address": "京都府亀岡市余部町2-2",
}


def test_a_page_without_a_session_sends_the_browser_to_sign_in(console: Console) -> None:
    response = console.client.get("/console/donors?q=x", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?next=/console/donors%3Fq%3Dx"


def test_sign_in_returns_to_the_page_asked_for(console: Console) -> None:
    page = console.get("/console/donors")  # redirected to the sign-in form with `next`
    response = console.post(
        console.form(page, "/console/login"), name=ADMIN, password="kameoka-fund-2026"
    )
    assert response.status_code == 200
    assert response.url.path == "/console/donors"


def test_sign_in_never_redirects_to_another_site(console: Console) -> None:
    form = console.form("/console/login?next=//evil.example/x", "/console/login")
    response = console.post(form, follow=False, name=ADMIN, password="kameoka-fund-2026")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/"


def test_session_cookie_is_http_only_secure_and_same_site_strict(console: Console) -> None:
    form = console.form("/console/login", "/console/login")
    response = console.post(form, follow=False, name=ADMIN, password="kameoka-fund-2026")
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and value.startswith(SESSION_COOKIE + "=")
    )
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=strict", "path=/console"} <= attributes


def test_wrong_password_is_refused_in_japanese(console: Console) -> None:
    response = console.sign_in(ADMIN, "not-the-password")
    assert response.status_code == 401
    assert "ユーザー名またはパスワードが違います" in response.text
    assert console.client.get("/console/", follow_redirects=False).status_code == 303


@pytest.fixture
def strict_console(database_url: str) -> Iterator[Console]:
    yield from console_for(database_url, console_failures_max=3, console_lockout_s=600)


def test_repeated_wrong_passwords_lock_the_account(strict_console: Console) -> None:
    for _ in range(3):
        assert strict_console.sign_in(ADMIN, "wrong password!").status_code == 401
    response = strict_console.sign_in(ADMIN)  # the right password, but locked now
    assert response.status_code == 401
    assert "ロックされています" in response.text
    assert strict_console.client.get("/console/", follow_redirects=False).status_code == 303


def test_sign_in_form_posted_without_its_cookie_token_is_refused(console: Console) -> None:
    form = console.form("/console/login", "/console/login")
    console.client.cookies.clear()
    response = console.post(form, name=ADMIN, password="kameoka-fund-2026")
    assert response.status_code == 403
    assert console.client.get("/console/", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session_on_the_server(admin: Console) -> None:
    cookie = admin.client.cookies[SESSION_COOKIE]
    assert admin.sign_out().url.path == "/console/login"
    admin.client.cookies.set(SESSION_COOKIE, cookie, domain="testserver", path="/console")
    assert admin.client.get("/console/", follow_redirects=False).status_code == 303


def test_form_posted_without_csrf_token_records_nothing(admin: Console) -> None:
    form = admin.form("/console/donors/new", "/console/donors/new")
    del form.fields["csrf_token"]
    before = head_position(admin.api.database_url)
    response = admin.post(form, **DONOR)
    assert response.status_code == 403
    assert "確認用トークン" in response.text
    assert head_position(admin.api.database_url) == before


def test_form_posted_with_another_sessions_token_records_nothing(console: Console) -> None:
    console.sign_in(AUDITOR)
    others_token = console.form("/console/", "/console/logout").fields["csrf_token"]
    console.client.cookies.clear()
    console.sign_in(ADMIN)
    form = console.form("/console/donors/new", "/console/donors/new")
    assert form.fields["csrf_token"] != others_token
    before = head_position(console.api.database_url)
    response = console.post(form, csrf_token=others_token, **DONOR)
    assert response.status_code == 403
    assert head_position(console.api.database_url) == before


def test_auditor_sees_no_forms_and_their_post_records_nothing(console: Console) -> None:
    console.sign_in(AUDITOR)
    assert console.get("/console/donors/new").status_code == 403
    page = console.get("/console/donors")
    assert "寄附者を登録" not in page.text
    token = console.form(page, "/console/logout").fields["csrf_token"]
    before = head_position(console.api.database_url)
    response = console.client.post(
        "/console/donors/new",
        data={"csrf_token": token, "idempotency_key": "console-x", **DONOR},
    )
    assert response.status_code == 403
    assert "監査担当" in response.text
    assert head_position(console.api.database_url) == before


def test_errors_are_pages_in_japanese_not_problem_documents(admin: Console) -> None:
    response = admin.get("/console/donors/7b0a4f5e-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "見つかりません" in response.text
    assert admin.get("/console/donations/not-a-uuid").status_code == 404
