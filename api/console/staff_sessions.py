"""Server-side sessions of the console's staff (used through `api.console.accounts`).

The cookie carries a random token; the table keeps only its sha256 (as `api_tokens` does), the
user's name, a per-session CSRF token, and the expiry, `idle_s` after the session was last
seen. Seeing it again slides the expiry, writing at most once a minute. The role is read from
the users table on every look-up, so a change applies at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from api.console.staff_tables import (
    StaffRole,
    StaffSession,
    StaffUser,
    console_sessions,
    console_users,
    now_utc,
    stored_utc,
)

SESSION_TOKEN_BYTES = 32
CSRF_TOKEN_BYTES = 32
COOKIE_TOKEN_LENGTH_MAX = 100  # a real one is 43 characters
SESSION_SLIDE_S_MIN = 60  # a session's expiry is written at most this often


def open_session(
    engine: Engine, user: StaffUser, *, now: datetime, idle_s: float
) -> tuple[str, StaffSession]:
    """A new session of `user`: the token for its cookie (shown only now) and the session.
    Expired sessions of anyone are deleted on the way."""
    assert idle_s > 0, "settings bound it"
    now = now_utc(now)
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    session = StaffSession(
        user, secrets.token_urlsafe(CSRF_TOKEN_BYTES), now + timedelta(seconds=idle_s)
    )
    row = {
        "token_sha256": _digest(token),
        "user_name": user.name,
        "role": user.role.value,
        "csrf_token": session.csrf_token,
        "created_at_utc": now,
        "last_seen_at_utc": now,
        "expires_at_utc": session.expires_at_utc,
    }
    with engine.begin() as connection:
        connection.execute(
            console_sessions.delete().where(console_sessions.c.expires_at_utc <= now)
        )
        connection.execute(console_sessions.insert().values(row))
    return token, session


def find_session(
    engine: Engine, cookie_token: str | None, *, now: datetime, idle_s: float
) -> StaffSession | None:
    """The live session of a cookie's token, its expiry slid; None for anything else (no,
    unknown or expired token, or a user who no longer exists)."""
    if not cookie_token or len(cookie_token) > COOKIE_TOKEN_LENGTH_MAX:
        return None
    now = now_utc(now)
    s, u = console_sessions.c, console_users.c
    mine = s.token_sha256 == _digest(cookie_token)
    query = (
        sa.select(s.csrf_token, s.last_seen_at_utc, s.expires_at_utc, u.name, u.role)
        .join_from(console_sessions, console_users, s.user_name == u.name)
        .where(mine)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    last_seen = stored_utc(row.last_seen_at_utc)
    idle = timedelta(seconds=idle_s)
    expires_at = min(stored_utc(row.expires_at_utc), last_seen + idle)  # idle_s may have shrunk
    if expires_at <= now:
        with engine.begin() as connection:
            connection.execute(console_sessions.delete().where(mine))
        return None
    if now - last_seen >= timedelta(seconds=SESSION_SLIDE_S_MIN):
        expires_at = now + idle
        slide = console_sessions.update().where(mine)
        changes = {"last_seen_at_utc": now, "expires_at_utc": expires_at}
        with engine.begin() as connection:
            if connection.execute(slide.values(changes)).rowcount != 1:
                return None  # closed meanwhile
    return StaffSession(StaffUser(row.name, StaffRole(row.role)), row.csrf_token, expires_at)


def close_session(engine: Engine, cookie_token: str | None) -> None:
    """Sign out: the session of this token ends; nothing happens for no or an unknown token."""
    if not cookie_token or len(cookie_token) > COOKIE_TOKEN_LENGTH_MAX:
        return
    mine = console_sessions.c.token_sha256 == _digest(cookie_token)
    with engine.begin() as connection:
        connection.execute(console_sessions.delete().where(mine))


def end_sessions_of(connection: Connection, name: str) -> None:
    """End every session of a user, inside the caller's transaction."""
    connection.execute(console_sessions.delete().where(console_sessions.c.user_name == name))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
