"""Lock-out of the console's staff: consecutive wrong passwords lock an account for a while,
counted in the database so that concurrent attempts on PostgreSQL all count; the right
password resets the count; an administrator can unlock. On SQLite and PostgreSQL, each
database made by `fund-ledger init`. Time is passed in as `now`."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from api.console.accounts import (
    SignInRefused,
    StaffRole,
    StaffUser,
    create_user,
    unlock_user,
)
from ledger.errors import NotFound
from projections.database import engine_for
from tests.integration.test_console_accounts import (
    FAILURES_MAX,
    LOCKOUT_S,
    NOW,
    PASSWORD,
    WRONG,
    attempt,
    initialised_engine,
    reason,
    record_of,
)

BARRIER_TIMEOUT_S = 30


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield from initialised_engine(database_url)


@pytest.fixture
def postgres_engine(postgres_url: str) -> Iterator[Engine]:
    yield from initialised_engine(postgres_url)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    yield from initialised_engine(sqlite_url)


def test_wrong_passwords_up_to_the_maximum_lock_the_account(engine: Engine) -> None:
    create_user(engine, name="田中", password=PASSWORD, role="admin")

    first = [reason(attempt(engine, "田中", WRONG)) for _ in range(FAILURES_MAX - 1)]
    count_before_lock = record_of(engine, "田中")
    locking = attempt(engine, "田中", WRONG)

    assert first == ["unknown_or_wrong"] * (FAILURES_MAX - 1)
    assert count_before_lock == (FAILURES_MAX - 1, None)
    assert isinstance(locking, SignInRefused)
    assert locking.reason == "locked"
    assert locking.locked_until_utc == NOW + timedelta(seconds=LOCKOUT_S)
    assert record_of(engine, "田中") == (0, NOW + timedelta(seconds=LOCKOUT_S))


def test_a_locked_account_refuses_even_the_right_password_until_the_lock_ends(
    engine: Engine,
) -> None:
    create_user(engine, name="田中", password=PASSWORD, role="admin")
    for _ in range(FAILURES_MAX):
        attempt(engine, "田中", WRONG)
    lock_end = NOW + timedelta(seconds=LOCKOUT_S)

    just_before = attempt(engine, "田中", PASSWORD, now=lock_end - timedelta(seconds=1))
    wrong_meanwhile = attempt(engine, "田中", WRONG, now=lock_end - timedelta(seconds=1))
    at_the_end = attempt(engine, "田中", PASSWORD, now=lock_end)

    assert isinstance(just_before, SignInRefused)
    assert (just_before.reason, just_before.locked_until_utc) == ("locked", lock_end)
    assert reason(wrong_meanwhile) == "locked"
    assert at_the_end == StaffUser("田中", StaffRole.ADMIN)
    assert record_of(engine, "田中") == (0, None)


def test_the_right_password_resets_the_count_of_failures(engine: Engine) -> None:
    create_user(engine, name="田中", password=PASSWORD, role="admin")
    for _ in range(FAILURES_MAX - 1):
        attempt(engine, "田中", WRONG)

    attempt(engine, "田中", PASSWORD)
    again = [reason(attempt(engine, "田中", WRONG)) for _ in range(FAILURES_MAX - 1)]

    assert again == ["unknown_or_wrong"] * (FAILURES_MAX - 1)
    assert record_of(engine, "田中") == (FAILURES_MAX - 1, None)


def test_an_unknown_name_is_refused_like_a_wrong_password_and_never_locks(
    engine: Engine,
) -> None:
    create_user(engine, name="田中", password=PASSWORD, role="admin")

    outcomes = [attempt(engine, "山田", PASSWORD) for _ in range(FAILURES_MAX + 1)]

    assert [(reason(o), getattr(o, "locked_until_utc", None)) for o in outcomes] == [
        ("unknown_or_wrong", None)
    ] * (FAILURES_MAX + 1)
    assert record_of(engine, "田中") == (0, None)


@pytest.mark.parametrize("name", ["", "   ", "x" * 500, "田\x00中", "田\n中"])
def test_a_name_no_user_can_have_is_refused_like_a_wrong_password(
    sqlite_engine: Engine, name: str
) -> None:
    outcome = attempt(sqlite_engine, name, PASSWORD)

    assert isinstance(outcome, SignInRefused)
    assert (outcome.reason, outcome.locked_until_utc) == ("unknown_or_wrong", None)


def test_an_unknown_name_costs_the_hashing_of_a_wrong_password(sqlite_engine: Engine) -> None:
    engine = sqlite_engine
    create_user(engine, name="田中", password=PASSWORD, role="admin")

    def seconds(name: str) -> float:
        started = time.perf_counter()
        attempt(engine, name, WRONG, failures_max=100)
        return time.perf_counter() - started

    wrong_s = statistics.median(seconds("田中") for _ in range(3))
    unknown_s = statistics.median(seconds("山田") for _ in range(3))

    assert unknown_s > wrong_s / 2, (unknown_s, wrong_s)


def test_concurrent_wrong_passwords_on_postgres_are_each_counted(
    postgres_url: str, postgres_engine: Engine
) -> None:
    create_user(postgres_engine, name="田中", password=PASSWORD, role="admin")
    threads, attempts_each = 5, 2
    barrier = threading.Barrier(threads, timeout=BARRIER_TIMEOUT_S)

    def attacker(_: int) -> list[str]:
        own = engine_for(postgres_url)  # like a separate server worker
        try:
            barrier.wait()
            return [reason(attempt(own, "田中", WRONG, failures_max=100)) for _ in range(2)]
        finally:
            own.dispose()

    with ThreadPoolExecutor(threads) as pool:
        outcomes = [o for batch in pool.map(attacker, range(threads)) for o in batch]

    assert outcomes == ["unknown_or_wrong"] * threads * attempts_each
    assert record_of(postgres_engine, "田中") == (threads * attempts_each, None)


def test_concurrent_wrong_passwords_on_postgres_lock_once_and_count_nothing_after(
    postgres_url: str, postgres_engine: Engine
) -> None:
    create_user(postgres_engine, name="田中", password=PASSWORD, role="admin")
    threads = 5
    barrier = threading.Barrier(threads, timeout=BARRIER_TIMEOUT_S)

    def attacker(_: int) -> str:
        own = engine_for(postgres_url)
        try:
            barrier.wait()
            return reason(attempt(own, "田中", WRONG, failures_max=FAILURES_MAX))
        finally:
            own.dispose()

    with ThreadPoolExecutor(threads) as pool:
        outcomes = list(pool.map(attacker, range(threads)))

    # A wrong attempt is told "locked" once the account is, even when its own failure was
    # counted just before another's locked it: how many are told which depends on timing.
    # What may not: more failures counted than lock the account, or a second lock-out.
    assert set(outcomes) <= {"unknown_or_wrong", "locked"}
    assert outcomes.count("unknown_or_wrong") <= FAILURES_MAX - 1
    assert outcomes.count("locked") >= threads - FAILURES_MAX + 1
    assert record_of(postgres_engine, "田中") == (0, NOW + timedelta(seconds=LOCKOUT_S))


def test_unlocking_lets_the_right_password_in_at_once(engine: Engine) -> None:
    create_user(engine, name="田中", password=PASSWORD, role="admin")
    for _ in range(FAILURES_MAX):
        attempt(engine, "田中", WRONG)

    unlock_user(engine, "田中")

    assert record_of(engine, "田中") == (0, None)
    assert isinstance(attempt(engine, "田中", PASSWORD), StaffUser)
    with pytest.raises(NotFound):
        unlock_user(engine, "山田")
