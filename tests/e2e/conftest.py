"""The HTTP API as its users meet it: the real app (routers, auth, problem handlers, the
in-process projector) on a real database, driven through HTTP by Starlette's TestClient.

`api` gives one client per test, on SQLite and on PostgreSQL, with an admin, an auditor and
(once a donor exists) donor tokens made exactly as `fund-ledger token create` makes them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.cli.session import Session
from api.http import create_app
from api.http.settings import ApiSettings
from ledger.settings import Settings
from tests.e2e.http import Api


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    session = Session(Settings(database_url=database_url, actor="test-setup"))
    session.initialise()
    session.close()
    settings = ApiSettings(database_url=database_url, read_wait_s=20, projection_poll_s=0.05)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield Api(client, database_url)
