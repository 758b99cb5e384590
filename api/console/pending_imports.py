"""Uploaded transfer lists waiting for their import to be confirmed (`pages.imports`).

A file whose dry run found no problem is kept in `console_pending_imports`, so that the
confirm form carries only an upload id, not the file. The id is random and shown only once
(in that form); the table keeps its sha256, as `console_sessions` keeps its token's. An
upload is found again only by the staff user who made it, within `PENDING_IMPORT_TTL_S` of
its preview, and only while its bytes still hash to the sha256 kept beside them. The page
deletes it after a successful import; uploads past their age, anyone's, are deleted at each
new preview, and a user keeps at most `PENDING_IMPORTS_PER_USER_MAX` (the oldest go first).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from api.console.staff_tables import console_pending_imports, now_utc, stored_utc
from api.imports.csvfile import FILE_SIZE_BYTES_MAX, Encoding
from api.imports.plan import ImportRequest

PENDING_IMPORT_TTL_S = 3600
PENDING_IMPORTS_PER_USER_MAX = 5
UPLOAD_ID_BYTES = 32
UPLOAD_ID_LENGTH_MAX = 100  # a real one is 43 characters
_log = logging.getLogger("fund_ledger.console")


@dataclass(frozen=True)
class PendingImport:
    data: bytes
    wanted: ImportRequest  # as the dry run checked it


def keep_upload(
    engine: Engine, user_name: str, data: bytes, wanted: ImportRequest, *, now: datetime
) -> str:
    """Keep a checked file for its confirm; the upload id for the confirm form (shown only
    now). Expired uploads, and this user's beyond the newest few, are deleted on the way."""
    assert len(data) <= FILE_SIZE_BYTES_MAX, "the preview bounds the file"
    now = now_utc(now)
    upload_id = secrets.token_urlsafe(UPLOAD_ID_BYTES)
    row = {
        "upload_id_sha256": _digest(upload_id.encode()),
        "user_name": user_name,
        "data": data,
        "data_sha256": _digest(data),
        "fund_id": wanted.fund_id,
        "method": wanted.method,
        "encoding": wanted.encoding.value,
        "created_at_utc": now,
    }
    with engine.begin() as connection:
        _delete_expired(connection, now)
        _delete_oldest_of(connection, user_name, PENDING_IMPORTS_PER_USER_MAX - 1)
        connection.execute(console_pending_imports.insert().values(row))
    return upload_id


def find_upload(
    engine: Engine, upload_id: str, user_name: str, *, now: datetime
) -> PendingImport | None:
    """The file `user_name` uploaded under `upload_id`, as its dry run checked it; None when
    there is no such upload of theirs, it is past its age, or its bytes were changed."""
    if not upload_id or len(upload_id) > UPLOAD_ID_LENGTH_MAX:
        return None
    p = console_pending_imports.c
    query = sa.select(p.data, p.data_sha256, p.fund_id, p.method, p.encoding, p.created_at_utc)
    mine = (p.upload_id_sha256 == _digest(upload_id.encode())) & (p.user_name == user_name)
    with engine.connect() as connection:
        row = connection.execute(query.where(mine)).first()
    if row is None:
        return None
    if stored_utc(row.created_at_utc) + _ttl() <= now_utc(now):
        drop_upload(engine, upload_id)
        return None
    data = bytes(row.data)
    if not hmac.compare_digest(_digest(data), row.data_sha256):
        _log.warning("a pending import of %s no longer matches its sha256: refused", user_name)
        return None
    return PendingImport(data, ImportRequest(row.fund_id, row.method, Encoding(row.encoding)))


def drop_upload(engine: Engine, upload_id: str) -> None:
    """Delete an upload (after its import); nothing happens for an unknown id."""
    if not upload_id or len(upload_id) > UPLOAD_ID_LENGTH_MAX:
        return
    mine = console_pending_imports.c.upload_id_sha256 == _digest(upload_id.encode())
    with engine.begin() as connection:
        connection.execute(console_pending_imports.delete().where(mine))


def _delete_expired(connection: Connection, now: datetime) -> None:
    expired = console_pending_imports.c.created_at_utc <= now - _ttl()
    connection.execute(console_pending_imports.delete().where(expired))


def _delete_oldest_of(connection: Connection, user_name: str, kept_max: int) -> None:
    p = console_pending_imports.c
    newest_first = (
        sa.select(p.upload_id_sha256)
        .where(p.user_name == user_name)
        .order_by(p.created_at_utc.desc())
    )
    older: list[str] = list(connection.scalars(newest_first.offset(kept_max)))
    if older:
        connection.execute(console_pending_imports.delete().where(p.upload_id_sha256.in_(older)))


def _ttl() -> timedelta:
    return timedelta(seconds=PENDING_IMPORT_TTL_S)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
