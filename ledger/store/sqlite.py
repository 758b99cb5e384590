"""The SQLite application recorder that writes the hash chain with the events.

Named by `APPLICATION_RECORDER_TOPIC` (see `ledger.store.config`). The library runs
`_insert_events` inside the write transaction it opened with BEGIN, so the chain rows commit
or roll back with their events; SQLite allows one writer at a time, so the head we read
cannot move before we commit.

`read_versions` (passed through `Application.save(..., read_versions=[(id, version), …])`)
names aggregates a command read without changing; the write is refused with `IntegrityError`
if any of them has an event newer than the version read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ledger.errors import ConfigurationError, UnreadableEvent
from ledger.store.chain import (
    CHAIN_TABLE_NAME,
    EVENTS_TABLE_NAME,
    GENESIS_HASH,
    POSITION_MAX,
    POSITION_MIN,
    REQUESTS_TABLE_NAME,
    StoredRow,
    link_new_events,
)

MALFORMED_SCAN_PAGE_SIZE = 1_000


class ChainedSQLiteApplicationRecorder(SQLiteApplicationRecorder):
    """`SQLiteApplicationRecorder` plus one `event_chain` row per event, in the same commit."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = EVENTS_TABLE_NAME):
        if datastore.originator_id_type != "uuid":
            msg = "the hash chain needs UUID originator ids (ORIGINATOR_ID_TYPE=uuid)"
            raise ConfigurationError(msg)
        super().__init__(datastore, events_table_name)
        self.select_chain_head_statement = (
            f"SELECT position, hash FROM {CHAIN_TABLE_NAME} ORDER BY position DESC LIMIT 1"
        )
        self.insert_chain_statement = f"INSERT INTO {CHAIN_TABLE_NAME} VALUES (?, ?)"
        self.select_newer_event_statement = (
            f"SELECT 1 FROM {self.events_table_name} "
            "WHERE originator_id = ? AND originator_version > ? LIMIT 1"
        )
        self.select_chain_statement = (
            f"SELECT position, hash FROM {CHAIN_TABLE_NAME} "
            "WHERE position > ? ORDER BY position LIMIT ?"
        )
        self.insert_requests_statement = f"INSERT INTO {REQUESTS_TABLE_NAME} VALUES (?, ?)"
        self.select_requests_statement = (
            f"SELECT position, request_id FROM {REQUESTS_TABLE_NAME} "
            "WHERE position > ? AND position <= ?"
        )
        # Text comes back as bytes with its type beside it (`_as_stored`): sqlite3 would fail
        # the whole page on one forged value that is not UTF-8.
        as_stored = ", ".join(
            f"CASE typeof({column}) WHEN 'text' THEN CAST({column} AS BLOB) ELSE {column} END,"
            f" typeof({column})"
            for column in ("originator_id", "topic", "state")
        )
        self.select_stored_rows_statement = (
            f"SELECT rowid, originator_version, {as_stored} FROM {self.events_table_name} "
            "WHERE rowid >= ? AND rowid <= ? ORDER BY rowid LIMIT ?"
        )
        self.select_position_statement = (
            f"SELECT rowid FROM {self.events_table_name} "
            "WHERE originator_id = ? AND originator_version = ?"
        )

    def construct_create_table_statements(self) -> list[str]:
        statements = super().construct_create_table_statements()
        # INTEGER PRIMARY KEY (a 64-bit rowid alias) rather than BIGINT: same values, no
        # separate index.
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {CHAIN_TABLE_NAME} ("
            "position INTEGER PRIMARY KEY, hash TEXT NOT NULL)"
        )
        statements.append(
            f"CREATE TABLE IF NOT EXISTS {REQUESTS_TABLE_NAME} ("
            "position INTEGER PRIMARY KEY, request_id TEXT NOT NULL)"
        )
        return statements

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        assert positions is not None, "the application recorder returns rowids"
        # After our first insert this transaction holds SQLite's only write lock, so no
        # event can arrive between this check and the commit.
        for originator_id, version in kwargs.get("read_versions") or ():
            c.execute(self.select_newer_event_statement, (originator_id.hex, version))
            if c.fetchone() is not None:
                raise IntegrityError(f"{originator_id} changed after it was read")
        c.execute(self.select_chain_head_statement)
        head = c.fetchone()
        head_hash = GENESIS_HASH if head is None else str(head[1])
        c.executemany(
            self.insert_chain_statement, link_new_events(head_hash, positions, stored_events)
        )
        request_id = kwargs.get("request_id")
        if request_id is not None:
            c.executemany(self.insert_requests_statement, [(p, request_id) for p in positions])
        return positions

    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's method; a row whose originator id is not a UUID (SQLite stores it as
        text, and the ledger never writes such a row) is an `UnreadableEvent` at its position,
        where the library would raise a bare `ValueError` or `TypeError`."""
        try:
            return super().select_notifications(
                start, limit, stop, topics, inclusive_of_start=inclusive_of_start
            )
        except (ValueError, TypeError, AttributeError) as error:
            low = POSITION_MIN if start is None else start if inclusive_of_start else start + 1
            position = self._first_malformed_id(low, POSITION_MAX if stop is None else stop)
            if position is None:
                raise
            raise UnreadableEvent(
                f"the event at position {position} cannot be read (its originator id is not"
                " a UUID); `fund-ledger verify` checks whether the log was changed",
                position,
            ) from error

    def _first_malformed_id(self, low: int, high: int) -> int | None:
        """The position of the first row in [low, high] whose originator id the library
        cannot convert, or None."""
        while True:
            rows = self.select_stored_rows(low, high, MALFORMED_SCAN_PAGE_SIZE)
            for row in rows:
                try:
                    self.convert_originator_id(row.originator_id)  # type: ignore[arg-type]
                except (ValueError, TypeError, AttributeError):
                    return row.position
            if len(rows) < MALFORMED_SCAN_PAGE_SIZE:
                return None
            low = rows[-1].position + 1

    def select_chain_head(self) -> tuple[int, str] | None:
        """The newest chain row `(position, hash)`, or None while the ledger is empty."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_chain_head_statement)
            row = c.fetchone()
            return None if row is None else (int(row[0]), str(row[1]))

    def select_chain_rows(self, after_position: int, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` chain rows `(position, hash)` after `after_position`, in order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_chain_statement, (after_position, limit))
            return [(int(row[0]), str(row[1])) for row in c.fetchall()]

    def select_stored_rows(
        self, first_position: int, last_position: int, limit: int
    ) -> list[StoredRow]:
        """Up to `limit` events in [first_position, last_position], in order, as stored."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_stored_rows_statement, (first_position, last_position, limit))
            return [
                StoredRow(
                    row[0],
                    _as_stored(row[2], row[3]),
                    row[1],
                    _as_stored(row[4], row[5]),
                    _as_stored(row[6], row[7]),
                )
                for row in c.fetchall()
            ]

    def select_position(self, originator_id: UUID, version: int) -> int | None:
        """The log position of one aggregate's event, or None if it is not stored."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_position_statement, (originator_id.hex, version))
            row = c.fetchone()
            return None if row is None else int(row[0])

    def select_request_ids(self, after_position: int, last_position: int) -> dict[int, str]:
        """The request id of each event in (after_position, last_position] that has one."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self.select_requests_statement, (after_position, last_position))
            return {int(row[0]): str(row[1]) for row in c.fetchall()}


def _as_stored(value: object, sqlite_type: str) -> object:
    """A column's value as sqlite3 would give it, except that text that is not UTF-8 keeps its
    bad bytes as surrogates (`surrogateescape`) instead of failing: it is still a `str`, so
    it is still not the bytes or the UUID the ledger writes."""
    if sqlite_type == "text":
        assert isinstance(value, bytes), "the statement casts text to a blob"
        return value.decode("utf-8", "surrogateescape")
    return value
