"""A browser-like client for the console tests: it reads a page's forms (hidden fields, CSRF
token, idempotency key, defaults) and submits them with what a user types, over HTTPS (the
session cookie is `Secure`), keeping cookies like a browser."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import httpx

from api.console.accounts import create_user
from projections.database import engine_for

if TYPE_CHECKING:
    from starlette.testclient import TestClient

    from tests.e2e.http import Api

PASSWORD = "kameoka-fund-2026"


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    files: dict[str, Any] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._select: str | None = None
        self._first_option = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "checkbox":
                if "checked" in a:
                    self.forms[-1].fields[a["name"]] = "on"
            elif kind != "file":
                self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self._first_option = True
        elif tag == "option" and self._select is not None:
            # as a browser: the option marked selected, else the first one
            if "selected" in a or self._first_option:
                self.forms[-1].fields[self._select] = a.get("value", "")
            self._first_option = False
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1].fields[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self.forms:
            self.forms[-1].fields[self._textarea] += data


def forms_of(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class Console:
    """One browser: its cookies, the page it is on."""

    def __init__(self, client: TestClient, api: Api) -> None:
        self.client = client
        self.api = api

    def add_user(self, name: str, role: str, password: str = PASSWORD) -> None:
        engine = engine_for(self.api.database_url)
        try:
            create_user(engine, name=name, password=password, role=role)
        finally:
            engine.dispose()

    def get(self, path: str, **params: Any) -> httpx.Response:
        # httpx would replace a query written in the path by an empty `params`
        return self.client.get(path, params=params or None, follow_redirects=True)

    def form(self, page: str | httpx.Response, action: str) -> Form:
        """The form posting to `action` on `page` (a path to open, or a page already open)."""
        if isinstance(page, str):
            response = self.get(page)
            assert response.status_code == 200, response.text
        else:
            response = page
        for found in forms_of(response.text):
            if found.action == action:
                return found
        raise AssertionError(f"no form posting to {action} on {response.url}")

    def post(self, form: Form, follow: bool = True, **typed: str) -> httpx.Response:
        """Submit `form` with what the user typed over its defaults."""
        data = {**form.fields, **typed}
        return self.client.post(
            form.action, data=data, files=form.files or None, follow_redirects=follow
        )

    def submit(self, page: str, action: str, **typed: str) -> httpx.Response:
        return self.post(self.form(page, action), **typed)

    def sign_in(self, name: str, password: str = PASSWORD) -> httpx.Response:
        return self.submit("/console/login", "/console/login", name=name, password=password)

    def sign_out(self) -> httpx.Response:
        return self.submit("/console/", "/console/logout")


def head_position(database_url: str) -> int:
    """The log's last position: unchanged by a request that recorded nothing."""
    import sqlalchemy as sa

    from ledger.store.chain import CHAIN_TABLE_NAME

    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            table = sa.table(CHAIN_TABLE_NAME, sa.column("position"))
            return int(connection.scalar(sa.select(sa.func.max(table.c.position))) or 0)
    finally:
        engine.dispose()
