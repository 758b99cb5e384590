"""Signing in and out of the console.

The sign-in form is protected from cross-site posts by a double-submit token: the page sets a
random value in an HttpOnly, SameSite=Strict cookie and in the form, and a post whose two
copies differ is refused. A successful sign-in opens a server-side session (see
`api.console.accounts`) whose random token is the only thing the session cookie holds:
HttpOnly (no script reads it), SameSite=Strict, `Secure` unless configured off.
"""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from api.console.accounts import SignInRefused, close_session, open_session, sign_in
from api.console.routing import (
    SESSION_COOKIE,
    ConsoleRoute,
    Staff,
    check_csrf,
    now_utc,
    services_of,
)
from api.console.web import CONSOLE_PREFIX, render

SIGN_IN_COOKIE = "fund_ledger_console_sign_in"
NAME_LENGTH_MAX = 100
PASSWORD_LENGTH_MAX = 256
_log = logging.getLogger("fund_ledger.console")

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path inside the console: never another site (`//evil`, `https://…`)."""
    if target and target.startswith(CONSOLE_PREFIX + "/") and "//" not in target:
        return target
    return CONSOLE_PREFIX + "/"


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=CONSOLE_PREFIX,
        secure=services_of(request).settings.console_cookie_secure,
        httponly=True,
        samesite="strict",
    )


def _sign_in_page(
    request: Request, next_path: str, status: int = 200, **context: object
) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        None,
        status_code=status,
        csrf_token=token,
        next_path=next_path,
        **context,
    )
    _set_cookie(request, response, SIGN_IN_COOKIE, token, max_age=3600)
    return response


@router.get("/login")
def sign_in_form(request: Request, next: str | None = None) -> Response:
    return _sign_in_page(request, _safe_next(next))


@router.post("/login")
def sign_in_submit(
    request: Request,
    name: Annotated[str, Form(max_length=NAME_LENGTH_MAX)] = "",
    password: Annotated[str, Form(max_length=PASSWORD_LENGTH_MAX)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    check_csrf(csrf_token, request.cookies.get(SIGN_IN_COOKIE, ""))
    services = services_of(request)
    settings = services.settings
    next_path = _safe_next(next)
    try:
        user = sign_in(
            services.engine,
            name.strip(),
            password,
            now=now_utc(),
            failures_max=settings.console_failures_max,
            lockout_s=settings.console_lockout_s,
        )
    except SignInRefused as refused:
        _log.warning("console sign-in refused for %r: %s", name.strip()[:100], refused.reason)
        message = "ユーザー名またはパスワードが違います。"
        if refused.reason == "locked":
            message = (
                "続けて失敗したため、このアカウントはロックされています。"
                "しばらくしてから、または管理者にロック解除を依頼してください。"
            )
        return _sign_in_page(request, next_path, 401, error=message, name=name.strip())
    cookie_token, _ = open_session(
        services.engine, user, now=now_utc(), idle_s=settings.console_session_idle_s
    )
    _log.info("console sign-in: %s (%s)", user.name, user.role.value)
    response = RedirectResponse(next_path, status_code=303)
    _set_cookie(
        request, response, SESSION_COOKIE, cookie_token, int(settings.console_session_idle_s)
    )
    response.delete_cookie(SIGN_IN_COOKIE, path=CONSOLE_PREFIX)
    return response


@router.post("/logout")
async def sign_out(request: Request, staff: Staff) -> Response:
    form = await request.form()
    check_csrf(form.get("csrf_token"), staff.csrf_token)
    close_session(services_of(request).engine, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse(f"{CONSOLE_PREFIX}/login?signed_out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=CONSOLE_PREFIX)
    return response
