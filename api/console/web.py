"""How a console page is rendered: one Jinja2 environment, its filters (yen, 和暦), and the
context every page shares (the signed-in user, the CSRF token, the navigation)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from api.console.accounts import StaffRole, StaffSession
from api.console.messages import FIELD_LABELS_JA
from reports.wareki import DateBeforeKnownEras, format_wareki

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"
CONSOLE_PREFIX = "/console"

ROLE_NAMES_JA = {StaffRole.ADMIN: "管理者", StaffRole.AUDITOR: "監査担当"}
METHOD_NAMES_JA = {
    "bank_transfer": "銀行振込",
    "postal_transfer": "郵便振替",
    "card": "カード",
    "cash": "現金",
}
KIND_NAMES_JA = {"individual": "個人", "organisation": "法人・団体"}


def yen(amount_yen: int | None) -> str:
    """`¥12,345` (a negative amount `-¥12,345`); an empty string for None."""
    if amount_yen is None:
        return ""
    sign = "-" if amount_yen < 0 else ""
    return f"{sign}¥{abs(amount_yen):,}"


def wareki(day: date | datetime | str | None) -> str:
    """`令和8年4月1日` for a date (or its ISO text); the ISO date itself before 平成."""
    if day is None or day == "":
        return ""
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    if isinstance(day, datetime):
        day = day.date()
    try:
        return format_wareki(day)
    except DateBeforeKnownEras:
        return day.isoformat()


def iso_day(day: date | datetime | str | None) -> str:
    if day is None or day == "":
        return ""
    if isinstance(day, str):
        return day[:10]
    if isinstance(day, datetime):
        return day.date().isoformat()
    return day.isoformat()


def percent(basis_points: int | None) -> str:
    if basis_points is None:
        return ""
    return f"{basis_points // 100}.{basis_points % 100:02d}%"


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(
    yen=yen,
    wareki=wareki,
    iso_day=iso_day,
    percent=percent,
    method_ja=lambda value: METHOD_NAMES_JA.get(value, value),
    donor_kind_ja=lambda value: KIND_NAMES_JA.get(value, value),
)
templates.env.globals.update(
    METHOD_NAMES_JA=METHOD_NAMES_JA, KIND_NAMES_JA=KIND_NAMES_JA, labels=FIELD_LABELS_JA
)


def new_form_key() -> str:
    """The idempotency key a form carries from the page that shows it to every submit of it:
    a double click or a reload of the POST records once."""
    return f"console-{uuid4()}"


def render(
    request: Request,
    template: str,
    staff: StaffSession | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    shared = {
        "status": status_code,
        "staff": staff,
        "role_ja": ROLE_NAMES_JA[staff.user.role] if staff else "",
        "is_admin": staff is not None and staff.user.role is StaffRole.ADMIN,
        "csrf_token": staff.csrf_token if staff else context.pop("csrf_token", ""),
    }
    return templates.TemplateResponse(
        request, template, {**shared, **context}, status_code=status_code
    )
