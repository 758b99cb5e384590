"""`FUND_LEDGER_ENVIRONMENT=production` (as docker-compose.yml sets it): `fund-ledger serve`
refuses, in one line and before listening, what is only fit for a laptop — the embedded SQLite,
a PostgreSQL URL without a password, a well-known default password — and starts with a real one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.processes import Processes, free_port, wait_for_http

PRODUCTION = {"FUND_LEDGER_ENVIRONMENT": "production"}


def with_password(url: str, password: str) -> str:
    """`url` with `password` for its user (the test server trusts any password)."""
    parts = urlsplit(url)
    user = parts.username or "postgres"
    host = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
    netloc = f"{user}:{password}@{host}" if password else f"{user}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.mark.parametrize(
    ("password", "refusal"),
    [
        pytest.param(None, "postgresql://", id="sqlite"),
        pytest.param("", "password", id="no-password"),
        pytest.param("postgres", "password", id="password-postgres"),
        pytest.param("changeme", "password", id="password-changeme"),
    ],
)
def test_production_serve_refuses_a_database_url_fit_only_for_development(
    tmp_path: Path, postgres_url: str, password: str | None, refusal: str
) -> None:
    if password is None:
        url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    else:
        url = with_password(postgres_url, password)
    with Processes(tmp_path, {**PRODUCTION, "FUND_LEDGER_DATABASE_URL": url}) as processes:
        result = processes.run("serve", "--port", str(free_port()), "--no-project")

    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert refusal in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    if password:
        assert password not in lines[0], "the refusal never prints the password"


def test_production_serve_starts_with_a_postgresql_url_holding_a_strong_password(
    tmp_path: Path, new_postgres_url: Callable[[], str]
) -> None:
    url = with_password(new_postgres_url(), "9f2c7e0b5a1d4e6f8a3b")
    settings = {**PRODUCTION, "FUND_LEDGER_DATABASE_URL": url}
    with Processes(tmp_path, settings) as processes:
        processes.run_ok("init")
        port = free_port()
        api = processes.start("api", "serve", "--port", str(port), "--no-project")
        ready = wait_for_http(f"http://127.0.0.1:{port}/readyz", api)
        api.stop()

    assert ready.json()["status"] == "ready"
    assert "9f2c7e0b5a1d4e6f8a3b" not in api.output(), "the password never reaches the log"
