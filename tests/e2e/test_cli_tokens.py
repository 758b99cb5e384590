"""`fund-ledger token create | revoke | list` end to end: the token printed once works on the
HTTP API, only its hash is stored, and a revoked token stops working."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from api.cli import app
from api.http import create_app
from api.http.settings import ApiSettings
from projections.database import engine_for

runner = CliRunner()


def cli(url: str, *args: str) -> Result:
    return runner.invoke(app, ["--database-url", url, *args])


def cli_json(url: str, *args: str) -> dict[str, Any]:
    result = cli(url, *args, "--json")
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def stored_rows(url: str) -> list[dict[str, Any]]:
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT * FROM api_tokens")).mappings()
            return [dict(row) for row in rows]
    finally:
        engine.dispose()


def test_a_created_token_is_stored_only_as_its_hash_and_opens_the_api(sqlite_url: str) -> None:
    assert cli(sqlite_url, "init").exit_code == 0
    created = cli_json(sqlite_url, "token", "create", "--role", "auditor", "--name", "監事 佐藤")

    (row,) = stored_rows(sqlite_url)
    assert created["token"] not in json.dumps([str(value) for value in row.values()])
    assert row["token_sha256"] == hashlib.sha256(created["token"].encode()).hexdigest()
    # With no token cache, a revocation is seen by the very next request.
    settings = ApiSettings(database_url=sqlite_url, project_in_process=False, token_cache_s=0)
    with TestClient(create_app(settings)) as client:
        headers = {"Authorization": f"Bearer {created['token']}"}
        assert client.get("/v1/funds", headers=headers).status_code == 200
        assert cli(sqlite_url, "token", "revoke", created["token_id"]).exit_code == 0
        assert client.get("/v1/funds", headers=headers).status_code == 401


def test_token_list_shows_every_token_but_never_a_secret(sqlite_url: str) -> None:
    assert cli(sqlite_url, "init").exit_code == 0
    admin = cli_json(sqlite_url, "token", "create", "--role", "admin", "--name", "事務局")

    listed = cli(sqlite_url, "token", "list")

    assert listed.exit_code == 0
    assert admin["token_id"] in listed.stdout
    assert admin["token"] not in listed.stdout


def test_a_donor_token_needs_an_existing_donor(sqlite_url: str) -> None:
    assert cli(sqlite_url, "init").exit_code == 0

    missing = cli(sqlite_url, "token", "create", "--role", "donor", "--name", "寄附者")
    unknown = cli(
        sqlite_url,
        *("token", "create", "--role", "donor", "--name", "寄附者"),
        *("--donor", "00000000-0000-0000-0000-000000000001"),
    )
    bad_role = cli(sqlite_url, "token", "create", "--role", "root", "--name", "x")

    assert (missing.exit_code, unknown.exit_code, bad_role.exit_code) == (1, 1, 1)
    assert "donor" in missing.stderr
    assert "no donor" in unknown.stderr
    assert "role" in bad_role.stderr
    assert stored_rows(sqlite_url) == []


def test_revoking_an_unknown_token_is_one_line_and_exit_1(sqlite_url: str) -> None:
    assert cli(sqlite_url, "init").exit_code == 0

    result = cli(sqlite_url, "token", "revoke", "nosuchtoken")

    assert result.exit_code == 1
    assert result.stderr.strip() == "error: not-found: no token with id 'nosuchtoken'"
