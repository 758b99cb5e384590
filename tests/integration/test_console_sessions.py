"""Server-side sessions of the console's staff: opened at sign-in, found by the cookie's token,
expired after idling, slid when used, closed at sign-out; on SQLite and PostgreSQL, each
database made by `fund-ledger init`. Time is passed in as `now`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api.console.accounts import (
    StaffRole,
    StaffUser,
    close_session,
    close_sessions_of,
    create_user,
    find_session,
    open_session,
    set_role,
)
from api.console.staff_tables import console_sessions
from tests.integration.test_console_accounts import initialised_engine

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
IDLE_S = 3600
IDLE = timedelta(seconds=IDLE_S)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield from initialised_engine(database_url)


@pytest.fixture
def tanaka(engine: Engine) -> StaffUser:
    return create_user(engine, name="田中", password="hozugawa-2026-spring", role="admin")


def session_rows(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(console_sessions)).mappings()
        return [dict(row) for row in rows]


def find(engine: Engine, token: str | None, now: datetime) -> object:
    return find_session(engine, token, now=now, idle_s=IDLE_S)


def test_an_open_session_is_found_by_its_token_which_is_stored_only_hashed(
    engine: Engine, tanaka: StaffUser
) -> None:
    token, opened = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)

    found = find(engine, token, NOW + timedelta(seconds=1))

    assert found == opened
    assert opened.user == tanaka
    assert opened.expires_at_utc == NOW + IDLE
    assert len(opened.csrf_token) >= 43
    (row,) = session_rows(engine)
    assert row["token_sha256"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in [str(value) for value in row.values()]


def test_each_session_has_its_own_token_and_csrf_token(engine: Engine, tanaka: StaffUser) -> None:
    first_token, first = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)
    second_token, second = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)

    assert first_token != second_token
    assert first.csrf_token != second.csrf_token


@pytest.mark.parametrize("token", [None, "", "not-a-session", "x" * 10_000])
def test_no_or_an_unknown_token_finds_no_session(
    engine: Engine, tanaka: StaffUser, token: str | None
) -> None:
    open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)

    assert find(engine, token, NOW) is None


def test_a_session_idle_for_its_whole_time_has_expired_and_is_gone(
    engine: Engine, tanaka: StaffUser
) -> None:
    token, _ = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)
    used_token, _ = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)

    at_its_end = find(engine, token, NOW + IDLE)
    just_before = find(engine, used_token, NOW + IDLE - timedelta(microseconds=1))

    assert at_its_end is None
    assert just_before is not None
    assert find(engine, token, NOW) is None  # gone, not merely expired
    assert len(session_rows(engine)) == 1


def test_using_a_session_slides_its_expiry_writing_at_most_once_a_minute(
    engine: Engine, tanaka: StaffUser
) -> None:
    token, _ = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)

    soon = find_session(engine, token, now=NOW + timedelta(seconds=30), idle_s=IDLE_S)
    later = find_session(engine, token, now=NOW + timedelta(minutes=50), idle_s=IDLE_S)
    beyond_first_expiry = NOW + timedelta(minutes=100)
    still = find_session(engine, token, now=beyond_first_expiry, idle_s=IDLE_S)

    assert soon is not None
    assert soon.expires_at_utc == NOW + IDLE  # within a minute: not written
    assert later is not None
    assert later.expires_at_utc == NOW + timedelta(minutes=50) + IDLE
    assert still is not None
    assert still.expires_at_utc == beyond_first_expiry + IDLE


def test_a_shorter_idle_time_applies_to_sessions_already_open(
    engine: Engine, tanaka: StaffUser
) -> None:
    token, _ = open_session(engine, tanaka, now=NOW, idle_s=8 * IDLE_S)

    assert find_session(engine, token, now=NOW + 2 * IDLE, idle_s=IDLE_S) is None


def test_a_closed_session_is_found_no_more_and_closing_again_changes_nothing(
    engine: Engine, tanaka: StaffUser
) -> None:
    token, _ = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)
    other_token, _ = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)

    close_session(engine, token)
    close_session(engine, token)
    close_session(engine, None)
    close_session(engine, "not-a-session")

    assert find(engine, token, NOW) is None
    assert find(engine, other_token, NOW) is not None


def test_a_role_change_applies_to_open_sessions_at_once(engine: Engine, tanaka: StaffUser) -> None:
    token, _ = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)

    set_role(engine, "田中", "auditor")
    found = find_session(engine, token, now=NOW, idle_s=IDLE_S)

    assert found is not None
    assert found.user == StaffUser("田中", StaffRole.AUDITOR)


def test_ending_a_users_sessions_leaves_the_others(engine: Engine, tanaka: StaffUser) -> None:
    sato = create_user(engine, name="佐藤", password="hozugawa-2026-autumn", role="auditor")
    tanaka_tokens = [open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)[0] for _ in range(2)]
    sato_token, _ = open_session(engine, sato, now=NOW, idle_s=IDLE_S)

    close_sessions_of(engine, "田中")

    assert [find(engine, token, NOW) for token in tanaka_tokens] == [None, None]
    assert find(engine, sato_token, NOW) is not None


def test_the_session_of_a_user_who_no_longer_exists_is_found_no_more(
    engine: Engine, tanaka: StaffUser
) -> None:
    token, _ = open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)

    with engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM console_users WHERE name = '田中'"))

    assert find(engine, token, NOW) is None


def test_opening_a_session_deletes_the_expired_ones(engine: Engine, tanaka: StaffUser) -> None:
    open_session(engine, tanaka, now=NOW, idle_s=IDLE_S)

    open_session(engine, tanaka, now=NOW + IDLE, idle_s=IDLE_S)

    (row,) = session_rows(engine)
    expires_at = row["expires_at_utc"]
    assert isinstance(expires_at, datetime)
    assert expires_at.replace(tzinfo=expires_at.tzinfo or UTC) == NOW + 2 * IDLE
