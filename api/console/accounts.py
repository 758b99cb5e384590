"""Staff users of the web console: their passwords, sign-in with lock-out, and sessions.

Users are made from the CLI (`fund-ledger user create`). Passwords are kept only as argon2id
hashes (argon2-cffi's defaults), rehashed at sign-in when those defaults have moved on.

Lock-out. Each wrong password adds one to the user's consecutive failures in the database
(`failed_count = failed_count + 1`, never read-modify-write), so concurrent attempts all count.
The one that reaches `failures_max` locks the account until `now + lockout_s` and resets the
count. While locked, even the right password is refused, and attempts neither count nor extend
the lock. The right password resets the count. An unknown name runs the same hashing and the same
queries as a wrong password, and is refused the same way.

Sessions are server-side (`api.console.staff_sessions`); a new password ends every session of
its user. This module is the console's one door to users and sessions: the tables, values and
session functions are re-exported here.
"""

from __future__ import annotations

import functools
import secrets
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy.engine import Connection, Engine

from api.console.staff_sessions import close_session, end_sessions_of, find_session, open_session
from api.console.staff_tables import (
    NAME_LENGTH_MAX,
    TIMESTAMP,
    StaffRole,
    StaffSession,
    StaffUser,
    StaffUserRecord,
    check_console_tables,
    console_users,
    create_console_tables,
    now_utc,
    optional_stored_utc,
    stored_utc,
)
from ledger import values
from ledger.errors import InvalidInput, NotFound

__all__ = [
    "FAILURES_MAX_DEFAULT",
    "LOCKOUT_S_DEFAULT",
    "NAME_LENGTH_MAX",
    "PASSWORD_LENGTH_MAX",
    "PASSWORD_LENGTH_MIN",
    "SESSION_IDLE_S_DEFAULT",
    "SignInRefused",
    "StaffRole",
    "StaffSession",
    "StaffUser",
    "StaffUserRecord",
    "check_console_tables",
    "close_session",
    "close_sessions_of",
    "create_console_tables",
    "create_user",
    "find_session",
    "list_users",
    "open_session",
    "set_password",
    "set_role",
    "sign_in",
    "unlock_user",
]

FAILURES_MAX_DEFAULT = 5
LOCKOUT_S_DEFAULT = 900
SESSION_IDLE_S_DEFAULT = 8 * 3600
PASSWORD_LENGTH_MIN = 12
PASSWORD_LENGTH_MAX = 256

_hasher = PasswordHasher()
_UNLOCKED: dict[str, Any] = {"failed_count": 0, "locked_until_utc": None}

RefusalReason = Literal["unknown_or_wrong", "locked"]


class SignInRefused(Exception):
    """Sign-in refused, and why, for the sign-in page. Not a `LedgerError`: the API never
    answers with it. An unknown name and a wrong password are the same reason."""

    def __init__(self, reason: RefusalReason, locked_until_utc: datetime | None = None) -> None:
        super().__init__(f"sign-in refused: {reason}")
        self.reason: RefusalReason = reason
        self.locked_until_utc = locked_until_utc


def create_user(engine: Engine, *, name: str, password: str, role: str) -> StaffUser:
    user = StaffUser(_name(name), _role(role))
    row = {
        "name": user.name,
        "role": user.role.value,
        "password_hash": _hasher.hash(_password(password)),
        "created_at_utc": datetime.now(UTC),
        "failed_count": 0,
    }
    try:
        with engine.begin() as connection:
            connection.execute(console_users.insert().values(row))
    except sa.exc.IntegrityError:
        raise InvalidInput("name", f"a user named {user.name!r} already exists") from None
    return user


def set_password(engine: Engine, name: str, password: str) -> None:
    """A new password; it clears failures and any lock, and ends every session of the user."""
    name = _name(name)
    changes = {"password_hash": _hasher.hash(_password(password))} | _UNLOCKED
    with engine.begin() as connection:
        _update_user(connection, name, changes)
        end_sessions_of(connection, name)


def set_role(engine: Engine, name: str, role: str) -> StaffUser:
    """Change a user's role; their open sessions have the new role from their next request."""
    user = StaffUser(_name(name), _role(role))
    with engine.begin() as connection:
        _update_user(connection, user.name, {"role": user.role.value})
    return user


def unlock_user(engine: Engine, name: str) -> None:
    """Clear a user's failures and lock."""
    with engine.begin() as connection:
        _update_user(connection, _name(name), _UNLOCKED)


def close_sessions_of(engine: Engine, name: str) -> None:
    """End every session of a user."""
    with engine.begin() as connection:
        end_sessions_of(connection, _name(name))


def list_users(engine: Engine) -> list[StaffUserRecord]:
    u = console_users.c
    query = sa.select(u.name, u.role, u.created_at_utc, u.failed_count, u.locked_until_utc)
    with engine.connect() as connection:
        return [
            StaffUserRecord(
                name=row.name,
                role=StaffRole(row.role),
                created_at_utc=stored_utc(row.created_at_utc),
                failed_count=row.failed_count,
                locked_until_utc=optional_stored_utc(row.locked_until_utc),
            )
            for row in connection.execute(query.order_by(u.name))
        ]


def sign_in(
    engine: Engine,
    name: str,
    password: str,
    *,
    now: datetime,
    failures_max: int,
    lockout_s: float,
) -> StaffUser:
    """The user whose password this is; `SignInRefused` for anything else."""
    assert failures_max >= 1, "settings bound it"
    assert lockout_s > 0, "settings bound it"
    now = now_utc(now)
    user_name = _name_or_nobody(name)
    row = _user_row(engine, user_name)
    if row is not None and _is_locked(row, now):
        raise SignInRefused("locked", stored_utc(row.locked_until_utc))
    matched = _verify(row.password_hash if row is not None else _dummy_hash(), password)
    if row is None or not matched:
        locked_until = _count_failure(engine, user_name, now, failures_max, lockout_s)
        if locked_until is not None:
            raise SignInRefused("locked", locked_until)
        raise _refusal_now(engine, user_name, now)
    password_hash = row.password_hash
    if _hasher.check_needs_rehash(password_hash):
        password_hash = _hasher.hash(unicodedata.normalize("NFC", password))
    still_same = console_users.update().where(
        console_users.c.name == row.name,
        console_users.c.password_hash == row.password_hash,  # not changed meanwhile
        _not_locked(now),  # nor locked meanwhile by a concurrent wrong attempt
    )
    with engine.begin() as connection:
        changes = {"password_hash": password_hash} | _UNLOCKED
        if connection.execute(still_same.values(changes)).rowcount != 1:
            raise _refusal_now(engine, user_name, now)
    return StaffUser(row.name, StaffRole(row.role))


def _update_user(connection: Connection, name: str, changes: dict[str, Any]) -> None:
    statement = console_users.update().where(console_users.c.name == name).values(changes)
    if connection.execute(statement).rowcount != 1:
        raise NotFound(f"no user named {name!r}")


def _user_row(engine: Engine, name: str) -> sa.Row[Any] | None:
    query = sa.select(console_users).where(console_users.c.name == name)
    with engine.connect() as connection:
        return connection.execute(query).first()


def _count_failure(
    engine: Engine, name: str, now: datetime, failures_max: int, lockout_s: float
) -> datetime | None:
    """Count one wrong password, in the database; the lock's end if this one locked the user.
    A user locked meanwhile is not counted (nor is a name that is nobody's)."""
    u = console_users.c
    locks = u.failed_count + 1 >= failures_max  # both CASEs read the row as it was
    locked_until = sa.literal(now + timedelta(seconds=lockout_s), TIMESTAMP)
    statement = (
        console_users.update()
        .where(u.name == name, _not_locked(now))
        .values(
            failed_count=sa.case((locks, 0), else_=u.failed_count + 1),
            locked_until_utc=sa.case((locks, locked_until), else_=sa.null()),
        )
        .returning(u.locked_until_utc)
    )
    with engine.begin() as connection:
        row = connection.execute(statement).first()
    return None if row is None else optional_stored_utc(row.locked_until_utc)


def _refusal_now(engine: Engine, name: str, now: datetime) -> SignInRefused:
    """The refusal for a user as they are now: locked, or else unknown or wrong."""
    row = _user_row(engine, name)
    if row is not None and _is_locked(row, now):
        return SignInRefused("locked", stored_utc(row.locked_until_utc))
    return SignInRefused("unknown_or_wrong")


def _not_locked(now: datetime) -> sa.ColumnElement[bool]:
    u = console_users.c
    return sa.or_(u.locked_until_utc.is_(None), u.locked_until_utc <= now)


def _is_locked(row: sa.Row[Any], now: datetime) -> bool:
    return row.locked_until_utc is not None and stored_utc(row.locked_until_utc) > now


def _verify(password_hash: str, password: str) -> bool:
    # No stored password is longer than the maximum: a longer one is swapped for the empty one,
    # verified at the same cost, so that a huge input costs no more than any other.
    candidate = password if len(password) <= PASSWORD_LENGTH_MAX else ""
    try:
        return _hasher.verify(password_hash, unicodedata.normalize("NFC", candidate))
    except VerificationError:
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash of a password nobody knows, made with the same parameters as the real ones, so
    verifying against it costs what verifying against a user's hash costs."""
    return _hasher.hash(secrets.token_urlsafe(32))


def _name(value: str) -> str:
    return values.text(value, "name", length_max=NAME_LENGTH_MAX)


def _name_or_nobody(value: str) -> str:
    """The name normalised; for a name no user can have, the empty name (nobody's)."""
    try:
        return _name(value)
    except InvalidInput:
        return ""


def _role(value: str) -> StaffRole:
    try:
        return StaffRole(value)
    except ValueError:
        roles = ", ".join(role.value for role in StaffRole)
        raise InvalidInput("role", f"must be one of {roles}") from None


def _password(value: str) -> str:
    """NFC-normalised (the same password typed on any system), never stripped."""
    if not isinstance(value, str):
        raise InvalidInput("password", f"must be text, not {type(value).__name__}")
    password = unicodedata.normalize("NFC", value)
    if len(password) < PASSWORD_LENGTH_MIN:
        raise InvalidInput("password", f"must be at least {PASSWORD_LENGTH_MIN} characters")
    if len(password) > PASSWORD_LENGTH_MAX:
        raise InvalidInput("password", f"must be at most {PASSWORD_LENGTH_MAX} characters")
    return password
