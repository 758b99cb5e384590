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

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from ledger.errors import ConfigurationError
from ledger.store.chain import (
    CHAIN_TABLE_NAME,
    EVENTS_TABLE_NAME,
    GENESIS_HASH,
    REQUESTS_TABLE_NAME,
    link_new_events,
)


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
