"""The console as its staff meet it: the real app on a real database (SQLite; the money
flows also on PostgreSQL), driven like a browser through its forms (`Console`), with an
administrator `kanri` and an auditor `kansa` ready to sign in, and the API client of
`tests.e2e` beside it for setting up funds quickly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from api.cli.session import Session
from api.console import accounts
from api.http import create_app
from api.http.settings import ApiSettings
from ledger.settings import Settings
from tests.console.pages import Console
from tests.e2e.http import Api

ADMIN = "kanri"
AUDITOR = "kansa"


@pytest.fixture(autouse=True)
def _cheap_password_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with its smallest cost: these tests sign in hundreds of times, and what they
    check is the console, not the hash's strength (tests/integration checks the real one)."""
    monkeypatch.setattr(
        accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


def console_for(database_url: str, **settings: object) -> Iterator[Console]:
    session = Session(Settings(database_url=database_url, actor="test-setup"))
    session.initialise()
    session.close()
    chosen = ApiSettings(
        database_url=database_url, read_wait_s=20, projection_poll_s=0.05, **settings
    )
    app = create_app(chosen)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        console = Console(client, Api(client, database_url))
        console.add_user(ADMIN, "admin")
        console.add_user(AUDITOR, "auditor")
        yield console


@pytest.fixture
def console(sqlite_url: str) -> Iterator[Console]:
    """On SQLite: the pages and forms behave alike on both databases; what depends on the
    storage under them is tested through the API and the ledger on both."""
    yield from console_for(sqlite_url)


@pytest.fixture
def admin(console: Console) -> Console:
    """The console, signed in as the administrator."""
    assert console.sign_in(ADMIN).status_code == 200
    return console


@pytest.fixture
def admin_on_both(database_url: str) -> Iterator[Console]:
    """Signed in as the administrator, on SQLite and on PostgreSQL: for the money flows."""
    for console in console_for(database_url):
        assert console.sign_in(ADMIN).status_code == 200
        yield console
