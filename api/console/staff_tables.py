"""The tables of the console's staff users and sessions, the uploads waiting for their import
to be confirmed (`api.console.pending_imports`), and the values read from them.

The tables are created by `fund-ledger init` (`create_console_tables`), never by the server.
Timestamps are timezone-aware UTC; SQLite hands them back naive, so they are read back as UTC.
The public face of all this is `api.console.accounts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.errors import ConfigurationError

NAME_LENGTH_MAX = 100
TIMESTAMP = sa.DateTime(timezone=True)

metadata = sa.MetaData()

console_users = sa.Table(
    "console_users",
    metadata,
    sa.Column("name", sa.String(NAME_LENGTH_MAX), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),  # argon2id, never the password
    sa.Column("created_at_utc", TIMESTAMP, nullable=False),
    sa.Column("failed_count", sa.Integer, nullable=False),  # consecutive wrong passwords
    sa.Column("locked_until_utc", TIMESTAMP, nullable=True),
)

console_sessions = sa.Table(
    "console_sessions",
    metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),  # of the cookie's token
    sa.Column(
        "user_name",
        sa.String(NAME_LENGTH_MAX),
        sa.ForeignKey(console_users.c.name, ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("role", sa.String(16), nullable=False),  # when opened; look-ups read the user's
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at_utc", TIMESTAMP, nullable=False),
    sa.Column("last_seen_at_utc", TIMESTAMP, nullable=False),
    sa.Column("expires_at_utc", TIMESTAMP, nullable=False, index=True),
)

console_pending_imports = sa.Table(
    "console_pending_imports",
    metadata,
    sa.Column("upload_id_sha256", sa.String(64), primary_key=True),  # of the form's upload id
    sa.Column(
        "user_name",
        sa.String(NAME_LENGTH_MAX),
        sa.ForeignKey(console_users.c.name, ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("data", sa.LargeBinary, nullable=False),  # the file as uploaded
    sa.Column("data_sha256", sa.String(64), nullable=False),
    sa.Column("fund_id", sa.Uuid, nullable=False),
    sa.Column("method", sa.String(32), nullable=False),
    sa.Column("encoding", sa.String(16), nullable=False),
    sa.Column("created_at_utc", TIMESTAMP, nullable=False, index=True),
)


class StaffRole(Enum):
    ADMIN = "admin"  # records and reads everything
    AUDITOR = "auditor"  # reads everything, changes nothing


@dataclass(frozen=True)
class StaffUser:
    name: str
    role: StaffRole


@dataclass(frozen=True)
class StaffSession:
    user: StaffUser
    csrf_token: str  # random, per session, kept server-side
    expires_at_utc: datetime


@dataclass(frozen=True)
class StaffUserRecord:
    name: str
    role: StaffRole
    created_at_utc: datetime
    failed_count: int
    locked_until_utc: datetime | None


def create_console_tables(engine: Engine) -> None:
    """Create the users, sessions and pending imports tables where missing (for `init`)."""
    metadata.create_all(engine, checkfirst=True)


def check_console_tables(engine: Engine, database: str) -> None:
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name):
            raise ConfigurationError(
                f"database {database} has no table {table.name}: run `fund-ledger init` first"
            )


def now_utc(now: datetime) -> datetime:
    """A caller's clock reading in UTC."""
    assert now.tzinfo is not None, "the clock gives aware datetimes"
    return now.astimezone(UTC)


def stored_utc(moment: datetime) -> datetime:
    """A stored timestamp in UTC (SQLite's come back naive, in UTC as written)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def optional_stored_utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else stored_utc(moment)
