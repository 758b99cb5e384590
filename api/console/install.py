"""Mounts the console on the API's application: its pages, and its one stylesheet."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.console import auth
from api.console.pages import (
    annual_receipts,
    dashboard,
    donations,
    donors,
    grants,
    imports,
    journal,
    published_donors,
    receipts,
    statements,
)
from api.console.web import CONSOLE_PREFIX, STATIC_DIR

PAGES = (
    auth,
    dashboard,
    donors,
    donations,
    grants,
    receipts,
    annual_receipts,
    journal,
    imports,
    statements,
    published_donors,
)


def install_console(app: FastAPI) -> None:
    app.mount(f"{CONSOLE_PREFIX}/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    for module in PAGES:
        app.include_router(module.router)
