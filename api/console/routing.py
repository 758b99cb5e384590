"""Who may see a console page, and what a page shows when something goes wrong.

Every console route is a `ConsoleRoute`: whatever it raises becomes an HTML page in
Japanese, never a JSON problem nor a traceback: no session → the sign-in page; an auditor
posting a form, or a form without its session's CSRF token → 403; an unknown record → 404;
read models behind or the database away → 503; anything else → 500, logged.

Dependencies (as `Annotated` aliases, like `api.http.deps`): `Staff` (any signed-in user),
`StaffAdmin` (administrators only), `AdminForm` (an administrator's form post with its CSRF
token checked: the only way a console page writes).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.console.accounts import StaffRole, StaffSession, find_session
from api.console.messages import PROBLEMS_JA
from api.console.web import CONSOLE_PREFIX, render
from api.http.problems import STORAGE_FAILURES, ProblemError
from api.http.services import Services
from ledger import errors

SESSION_COOKIE = "fund_ledger_console"
POSITION_MAX = 2**63 - 1
# `?position=N`: where a form sends the browser after a write; the page waits for it.
PositionQuery = Annotated[int | None, Query(ge=0, le=POSITION_MAX)]
_log = logging.getLogger("fund_ledger.console")


class SignInRequired(Exception):
    """No valid session: the page sends the browser to the sign-in page."""


class ConsoleRefused(Exception):
    """A request the console refuses outright, with the message to show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Submission:
    """An administrator's form post whose CSRF token matched their session's."""

    staff: StaffSession
    fields: dict[str, str]
    files: dict[str, UploadFile]

    @property
    def idempotency_key(self) -> str | None:
        return self.fields.get("idempotency_key") or None

    @property
    def required_key(self) -> str:
        """The form's idempotency key, which every money form carries (a form without one was
        not made by a console page)."""
        key = self.idempotency_key
        if key is None:
            raise ConsoleRefused(
                400, "フォームが正しくありません。ページを開き直して入力してください。"
            )
        return key


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def now_utc() -> datetime:
    return datetime.now(UTC)


def _session(request: Request) -> StaffSession | None:
    services = services_of(request)
    return find_session(
        services.engine,
        request.cookies.get(SESSION_COOKIE),
        now=now_utc(),
        idle_s=services.settings.console_session_idle_s,
    )


def _staff(request: Request) -> StaffSession:
    session = _session(request)
    if session is None:
        raise SignInRequired
    return session


Staff = Annotated[StaffSession, Depends(_staff)]


def _admin(staff: Staff) -> StaffSession:
    if staff.user.role is not StaffRole.ADMIN:
        raise ConsoleRefused(403, "監査担当のアカウントでは記録や変更はできません。")
    return staff


StaffAdmin = Annotated[StaffSession, Depends(_admin)]


def check_csrf(sent: object, expected: str) -> None:
    """A form's CSRF token must equal the one its page was given (compared in constant time)."""
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise ConsoleRefused(
            403, "フォームの確認用トークンが一致しません。ページを開き直してから送信してください。"
        )


async def _submission(request: Request, staff: Staff) -> Submission:
    form = await request.form()
    check_csrf(form.get("csrf_token"), staff.csrf_token)
    _admin(staff)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    files = {k: v for k, v in form.multi_items() if isinstance(v, UploadFile)}
    return Submission(staff, fields, files)


AdminForm = Annotated[Submission, Depends(_submission)]


class ConsoleRoute(APIRoute):
    """A console route: its failures answer as HTML pages (see the module's docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as error:  # every failure is a page; the unexpected is logged
                return _failure_page(request, error)

        return answer


def _failure_page(request: Request, error: Exception) -> Response:
    if isinstance(error, SignInRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{CONSOLE_PREFIX}/login?next={quote(target)}", status_code=303)
    status, message = _status_and_message(request, error)
    return render(request, "error.html", None, status_code=status, message=message)


def _status_and_message(request: Request, error: Exception) -> tuple[int, str]:
    if isinstance(error, ConsoleRefused):
        return error.status, error.message
    if isinstance(error, errors.NotFound):
        return 404, "お探しの記録は見つかりません。"
    if isinstance(error, RequestValidationError):
        return 404, "お探しのページは見つかりません。"
    if isinstance(error, StarletteHTTPException) and error.status_code == 400:
        # the form parser's refusal: a field over 1 MiB, too many fields, a broken body
        return 400, "送信されたフォームを読み取れませんでした。ページを開き直して送信してください。"
    if isinstance(error, ProblemError):
        return error.kind.status, PROBLEMS_JA.get(error.kind.slug, PROBLEMS_JA["ledger-error"])
    if isinstance(error, errors.LedgerError):
        return 400, PROBLEMS_JA["ledger-error"]
    if isinstance(error, STORAGE_FAILURES):
        _log.warning("database failure on %s %s: %s", request.method, request.url.path, error)
        return 503, PROBLEMS_JA["storage-unavailable"]
    _log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return (
        500,
        "サーバーでエラーが起きました。記録されたかどうかを確かめてから、管理者に連絡してください。",
    )
