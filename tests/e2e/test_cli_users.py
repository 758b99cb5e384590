"""`fund-ledger user create | list | unlock | password | role` end to end: typer's runner on the
real app object; the users it makes sign in to the console (`api.console.accounts`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from api.cli import app
from api.console.accounts import (
    SignInRefused,
    StaffRole,
    StaffUser,
    find_session,
    open_session,
    sign_in,
)
from projections.database import engine_for

runner = CliRunner()
PASSWORD = "hozugawa-2026-spring"
NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
FAILURES_MAX = 3


def cli(url: str, *args: str, password: str | None = None) -> Result:
    return runner.invoke(app, ["--database-url", url, *args], input=password)


def cli_json(url: str, *args: str) -> dict[str, Any]:
    result = cli(url, *args, "--json")
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


@pytest.fixture
def url(database_url: str) -> str:
    assert cli(database_url, "init").exit_code == 0
    return database_url


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = engine_for(url)
    yield engine
    engine.dispose()


def create(url: str, name: str, role: str = "admin", password: str = PASSWORD) -> Result:
    return cli(url, "user", "create", name, "--role", role, "--password-stdin", password=password)


def attempt(engine: Engine, name: str, password: str) -> StaffUser | str:
    try:
        return sign_in(engine, name, password, now=NOW, failures_max=FAILURES_MAX, lockout_s=900)
    except SignInRefused as refused:
        return refused.reason


def test_a_user_created_with_the_password_on_stdin_signs_in(url: str, engine: Engine) -> None:
    result = create(url, "事務局 田中", "admin", PASSWORD + "\n")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "created user 事務局 田中 (admin)"
    assert PASSWORD not in result.output
    assert attempt(engine, "事務局 田中", PASSWORD) == StaffUser("事務局 田中", StaffRole.ADMIN)


def test_a_user_created_at_the_hidden_prompt_typed_twice_signs_in(
    sqlite_url: str,
) -> None:
    assert cli(sqlite_url, "init").exit_code == 0

    result = cli(
        sqlite_url, "user", "create", "監事 佐藤", "--role", "auditor",
        password=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "created user 監事 佐藤 (auditor)" in result.stdout
    assert PASSWORD not in result.output  # hidden input is not echoed
    engine = engine_for(sqlite_url)
    try:
        assert attempt(engine, "監事 佐藤", PASSWORD) == StaffUser("監事 佐藤", StaffRole.AUDITOR)
    finally:
        engine.dispose()


def test_a_name_already_taken_is_one_line_and_exit_1(url: str) -> None:
    assert create(url, "田中").exit_code == 0

    again = create(url, "田中", "auditor")

    assert again.exit_code == 1
    assert again.stderr.strip() == "error: invalid-input: name: a user named '田中' already exists"
    assert [u["role"] for u in cli_json(url, "user", "list")["users"]] == ["admin"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pw", "password: must be at least 12 characters"),
        ("", "password: must be at least 12 characters"),
        ("x" * 300, "password: must be at most 256 characters"),
    ],
)
def test_a_password_out_of_bounds_is_refused_and_nobody_is_created(
    sqlite_url: str, password: str, message: str
) -> None:
    assert cli(sqlite_url, "init").exit_code == 0

    result = create(sqlite_url, "田中", password=password + "\n")

    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: invalid-input: {message}"
    assert cli_json(sqlite_url, "user", "list") == {"users": []}


def test_a_bad_role_is_refused_in_one_line(sqlite_url: str) -> None:
    assert cli(sqlite_url, "init").exit_code == 0

    result = create(sqlite_url, "田中", "root")

    assert result.exit_code == 1
    assert result.stderr.strip() == "error: invalid-input: role: must be one of admin, auditor"


def test_user_list_shows_names_roles_and_locks_but_never_a_password(
    url: str, engine: Engine
) -> None:
    create(url, "田中", "admin")
    create(url, "佐藤", "auditor")
    for _ in range(FAILURES_MAX):
        attempt(engine, "佐藤", "not-the-password")

    listed = cli(url, "user", "list")
    as_json = cli_json(url, "user", "list")

    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [["佐藤", "auditor"], ["田中", "admin"]]
    assert "locked until" in lines[0]
    assert "locked" not in lines[1]
    assert [(u["name"], u["failed_count"]) for u in as_json["users"]] == [("佐藤", 0), ("田中", 0)]
    assert as_json["users"][0]["locked_until_utc"] is not None
    assert "argon2" not in listed.stdout + json.dumps(as_json)


def test_unlock_lets_a_locked_user_in(url: str, engine: Engine) -> None:
    create(url, "田中")
    for _ in range(FAILURES_MAX):
        attempt(engine, "田中", "not-the-password")
    assert attempt(engine, "田中", PASSWORD) == "locked"

    result = cli(url, "user", "unlock", "田中")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "unlocked user 田中"
    assert attempt(engine, "田中", PASSWORD) == StaffUser("田中", StaffRole.ADMIN)


def test_unlocking_or_changing_an_unknown_user_is_one_line_and_exit_1(sqlite_url: str) -> None:
    assert cli(sqlite_url, "init").exit_code == 0

    unlock = cli(sqlite_url, "user", "unlock", "山田")
    password = cli(sqlite_url, "user", "password", "山田", "--password-stdin", password=PASSWORD)

    assert (unlock.exit_code, password.exit_code) == (1, 1)
    assert unlock.stderr.strip() == "error: not-found: no user named '山田'"
    assert password.stderr.strip() == "error: not-found: no user named '山田'"


def test_a_new_password_replaces_the_old_and_ends_the_users_sessions(
    url: str, engine: Engine
) -> None:
    create(url, "田中")
    user = StaffUser("田中", StaffRole.ADMIN)
    token, _ = open_session(engine, user, now=NOW, idle_s=3600)

    result = cli(
        url, "user", "password", "田中", "--password-stdin", password="新しい-パスワード-2026\n"
    )

    assert result.exit_code == 0, result.output
    assert "新しい" not in result.output
    assert find_session(engine, token, now=NOW, idle_s=3600) is None
    assert attempt(engine, "田中", PASSWORD) == "unknown_or_wrong"
    assert attempt(engine, "田中", "新しい-パスワード-2026") == user


def test_a_role_change_is_printed_and_applies(url: str, engine: Engine) -> None:
    create(url, "田中", "admin")

    result = cli(url, "user", "role", "田中", "--role", "auditor")

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "user 田中 is now auditor"
    assert attempt(engine, "田中", PASSWORD) == StaffUser("田中", StaffRole.AUDITOR)


def test_user_commands_before_init_say_to_run_init(sqlite_url: str) -> None:
    result = create(sqlite_url, "田中")

    assert result.exit_code == 1
    assert result.stderr.strip().endswith("run `fund-ledger init` first")
    assert len(result.stderr.strip().splitlines()) == 1
