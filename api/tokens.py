"""Bearer tokens of the HTTP API: created and revoked from the CLI, stored only as hashes.

A token reads `flt_<token id>_<secret>`. The token id is public (it names the token in lists
and in `fund-ledger token revoke`); the secret is 32 random bytes, printed once when the token
is created and never stored: the table keeps the sha256 of the whole token. A random 256-bit
secret needs no slow password hash: there is nothing to guess from the digest.

Roles:
- `admin` writes and reads everything; its token's name is the actor recorded in events;
- `auditor` reads everything and writes nothing;
- `donor` reads only its own donor record, summary and receipts (`donor_id`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger import values
from ledger.errors import ConfigurationError, InvalidInput, NotFound
from projections.database import read_rows

TOKEN_PREFIX = "flt"
TOKEN_ID_BYTES = 6
TOKEN_SECRET_BYTES = 32
TOKEN_LENGTH_MAX = 200
NAME_LENGTH_MAX = 100

metadata = sa.MetaData()

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("token_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(NAME_LENGTH_MAX), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("donor_id", sa.Uuid, nullable=True),
    sa.Column("token_sha256", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at_utc", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at_utc", sa.DateTime(timezone=True), nullable=True),
)


class Role(Enum):
    ADMIN = "admin"
    AUDITOR = "auditor"
    DONOR = "donor"


@dataclass(frozen=True)
class Principal:
    """Who a request comes from."""

    token_id: str
    name: str
    role: Role
    donor_id: UUID | None = None


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    name: str
    role: Role
    donor_id: UUID | None
    created_at_utc: datetime
    revoked_at_utc: datetime | None


def create_token_table(engine: Engine) -> None:
    """Create the token table where missing (for `fund-ledger init`); idempotent."""
    metadata.create_all(engine, checkfirst=True)


def check_token_table(engine: Engine, database: str) -> None:
    if not sa.inspect(engine).has_table(api_tokens.name):
        raise ConfigurationError(
            f"database {database} has no table {api_tokens.name}: run `fund-ledger init` first"
        )


def create_token(
    engine: Engine, *, role: str, name: str, donor_id: UUID | None = None
) -> tuple[Principal, str]:
    """Store a new token's hash; return its principal and the token itself (shown once)."""
    checked_role = _role(role)
    name = values.text(name, "name", length_max=NAME_LENGTH_MAX)
    if (checked_role is Role.DONOR) != (donor_id is not None):
        raise InvalidInput("donor", "a donor token needs --donor, and only a donor token")
    token_id = secrets.token_hex(TOKEN_ID_BYTES)
    token = f"{TOKEN_PREFIX}_{token_id}_{secrets.token_urlsafe(TOKEN_SECRET_BYTES)}"
    with engine.begin() as connection:
        connection.execute(
            api_tokens.insert().values(
                token_id=token_id,
                name=name,
                role=checked_role.value,
                donor_id=donor_id,
                token_sha256=token_digest(token),
                created_at_utc=datetime.now(UTC),
            )
        )
    return Principal(token_id, name, checked_role, donor_id), token


def revoke_token(engine: Engine, token_id: str) -> None:
    """Revoke a token by its id; revoking it again changes nothing."""
    with engine.begin() as connection:
        found = connection.execute(
            sa.select(api_tokens.c.revoked_at_utc).where(api_tokens.c.token_id == token_id)
        ).first()
        if found is None:
            raise NotFound(f"no token with id {token_id!r}")
        if found.revoked_at_utc is None:
            connection.execute(
                api_tokens.update()
                .where(api_tokens.c.token_id == token_id)
                .values(revoked_at_utc=datetime.now(UTC))
            )


def list_tokens(engine: Engine) -> list[TokenRecord]:
    query = sa.select(
        api_tokens.c.token_id,
        api_tokens.c.name,
        api_tokens.c.role,
        api_tokens.c.donor_id,
        api_tokens.c.created_at_utc,
        api_tokens.c.revoked_at_utc,
    ).order_by(api_tokens.c.created_at_utc, api_tokens.c.token_id)
    with engine.connect() as connection:
        return [
            TokenRecord(**{**row._asdict(), "role": Role(row.role)})
            for row in connection.execute(query)
        ]


def authenticate(engine: Engine, token: str) -> Principal | None:
    """The principal of a valid, unrevoked token; None for anything else."""
    if not token.startswith(f"{TOKEN_PREFIX}_") or len(token) > TOKEN_LENGTH_MAX:
        return None
    digest = token_digest(token)
    rows = read_rows(engine, _BY_DIGEST, {"digest": digest})
    if not rows or rows[0]["revoked_at_utc"] is not None:
        return None
    row = rows[0]
    if not hmac.compare_digest(row["token_sha256"], digest):
        return None
    return Principal(row["token_id"], row["name"], Role(row["role"]), row["donor_id"])


_BY_DIGEST = sa.select(api_tokens).where(api_tokens.c.token_sha256 == sa.bindparam("digest"))


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput("role", f"must be one of {', '.join(r.value for r in Role)}") from None


def token_digest(token: str) -> str:
    """The hex SHA-256 a token is known by: what `api_tokens` stores instead of it."""
    return hashlib.sha256(token.encode()).hexdigest()
