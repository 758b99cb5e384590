"""Staff users of the console: passwords kept only as argon2 hashes, sign-in, what a user may
be called and what password they may have, new passwords; on SQLite and PostgreSQL, each
database made by `fund-ledger init`. Time is passed in as `now`. Lock-out is in
`test_console_lockout`, sessions in `test_console_sessions`; both use the helpers here."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlalchemy.engine import Engine

from api.cli.session import Session
from api.console.accounts import (
    PASSWORD_LENGTH_MAX,
    PASSWORD_LENGTH_MIN,
    SignInRefused,
    StaffRole,
    StaffUser,
    check_console_tables,
    create_console_tables,
    create_user,
    find_session,
    list_users,
    open_session,
    set_password,
    sign_in,
)
from ledger.errors import ConfigurationError, InvalidInput, NotFound
from ledger.settings import Settings
from projections.database import engine_for

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
PASSWORD = "hozugawa-2026-spring"
WRONG = "hozugawa-2025-autumn"
FAILURES_MAX = 3
LOCKOUT_S = 900


def initialised_engine(url: str) -> Iterator[Engine]:
    session = Session(Settings(database_url=url, actor="test-setup"))
    session.initialise()  # as `fund-ledger init` does
    session.close()
    engine = engine_for(url)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield from initialised_engine(database_url)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    yield from initialised_engine(sqlite_url)


def attempt(
    engine: Engine, name: str, password: str, now: datetime = NOW, failures_max: int = FAILURES_MAX
) -> StaffUser | SignInRefused:
    """What a sign-in gives: the user, or the refusal."""
    try:
        return sign_in(
            engine, name, password, now=now, failures_max=failures_max, lockout_s=LOCKOUT_S
        )
    except SignInRefused as refused:
        return refused


def reason(outcome: StaffUser | SignInRefused) -> str:
    return outcome.reason if isinstance(outcome, SignInRefused) else "signed in"


def record_of(engine: Engine, name: str) -> tuple[int, datetime | None]:
    (record,) = [r for r in list_users(engine) if r.name == name]
    return record.failed_count, record.locked_until_utc


def stored_hash(engine: Engine, name: str) -> str:
    with engine.connect() as connection:
        query = sa.text("SELECT password_hash FROM console_users WHERE name = :name")
        return str(connection.execute(query, {"name": name}).scalar_one())


def test_a_password_is_stored_only_as_an_argon2_hash_that_verifies(engine: Engine) -> None:
    user = create_user(engine, name="事務局 田中", password=PASSWORD, role="admin")

    password_hash = stored_hash(engine, "事務局 田中")
    assert user == StaffUser("事務局 田中", StaffRole.ADMIN)
    assert PASSWORD not in password_hash
    assert password_hash.startswith("$argon2id$")
    assert PasswordHasher().verify(password_hash, PASSWORD)
    assert attempt(engine, "事務局 田中", PASSWORD) == user


def test_the_same_password_typed_decomposed_signs_in(engine: Engine) -> None:
    composed = unicodedata.normalize("NFC", "がくぶち-パスワード-保津川")
    create_user(engine, name="田中", password=composed, role="auditor")

    outcome = attempt(engine, "田中", unicodedata.normalize("NFD", composed))

    assert outcome == StaffUser("田中", StaffRole.AUDITOR)


def test_a_hash_made_with_weaker_parameters_is_replaced_at_sign_in(engine: Engine) -> None:
    create_user(engine, name="田中", password=PASSWORD, role="admin")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE console_users SET password_hash = :weak WHERE name = '田中'"),
            {"weak": weak},
        )

    assert attempt(engine, "田中", PASSWORD) == StaffUser("田中", StaffRole.ADMIN)

    rehashed = stored_hash(engine, "田中")
    assert rehashed != weak
    assert not PasswordHasher().check_needs_rehash(rehashed)
    assert PasswordHasher().verify(rehashed, PASSWORD)


@pytest.mark.parametrize(
    ("name", "password", "role", "field"),
    [
        ("田中", "x" * (PASSWORD_LENGTH_MIN - 1), "admin", "password"),
        ("田中", "x" * (PASSWORD_LENGTH_MAX + 1), "admin", "password"),
        ("田中", PASSWORD, "root", "role"),
        ("田中", PASSWORD, "donor", "role"),
        ("", PASSWORD, "admin", "name"),
        ("x" * 101, PASSWORD, "admin", "name"),
        ("田\n中", PASSWORD, "admin", "name"),
    ],
)
def test_bad_user_input_is_refused_and_stores_nothing(
    engine: Engine, name: str, password: str, role: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_user(engine, name=name, password=password, role=role)

    assert refused.value.field == field
    assert list_users(engine) == []


def test_passwords_of_the_bounds_lengths_are_accepted(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    create_user(engine, name="短い", password="x" * PASSWORD_LENGTH_MIN, role="admin")
    create_user(engine, name="長い", password="ｘ" * PASSWORD_LENGTH_MAX, role="admin")

    assert isinstance(attempt(engine, "長い", "ｘ" * PASSWORD_LENGTH_MAX), StaffUser)
    assert reason(attempt(engine, "長い", "ｘ" * (PASSWORD_LENGTH_MAX + 1))) == "unknown_or_wrong"


def test_a_name_already_taken_is_refused_and_keeps_the_first_user(engine: Engine) -> None:
    create_user(engine, name="田中", password=PASSWORD, role="admin")

    with pytest.raises(InvalidInput, match="already exists"):
        create_user(engine, name=" 田中 ", password=WRONG, role="auditor")

    assert [(r.name, r.role) for r in list_users(engine)] == [("田中", StaffRole.ADMIN)]
    assert isinstance(attempt(engine, "田中", PASSWORD), StaffUser)


def test_a_new_password_replaces_the_old_unlocks_and_ends_every_session(engine: Engine) -> None:
    user = create_user(engine, name="田中", password=PASSWORD, role="admin")
    token, _ = open_session(engine, user, now=NOW, idle_s=3600)
    for _ in range(FAILURES_MAX):
        attempt(engine, "田中", WRONG)

    set_password(engine, "田中", "新しい-パスワード-2026")

    assert find_session(engine, token, now=NOW, idle_s=3600) is None
    assert record_of(engine, "田中") == (0, None)
    assert reason(attempt(engine, "田中", PASSWORD)) == "unknown_or_wrong"
    assert attempt(engine, "田中", "新しい-パスワード-2026") == user
    with pytest.raises(InvalidInput):
        set_password(engine, "田中", "short")
    with pytest.raises(NotFound):
        set_password(engine, "山田", "新しい-パスワード-2026")


def test_the_tables_are_checked_and_created_idempotently(tmp_path: Path) -> None:
    engine = engine_for(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    try:
        with pytest.raises(ConfigurationError, match="run `fund-ledger init` first"):
            check_console_tables(engine, "empty.sqlite")
        create_console_tables(engine)
        create_console_tables(engine)
        check_console_tables(engine, "empty.sqlite")
    finally:
        engine.dispose()
