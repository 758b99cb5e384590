"""The PostgreSQL application recorder that writes the hash chain with the events.

Named by `APPLICATION_RECORDER_TOPIC` (see `ledger.store.config`). The library inserts events
in one pipelined transaction under `LOCK TABLE ... IN EXCLUSIVE MODE`, then calls
`_fetch_ids_after_insert_events`. Our insert statement also returns the chain head, read after
the lock was taken, so it cannot move; the hook hashes the new events and queues the chain
rows in the same transaction, so they commit or roll back with their events. The chain costs
one pipelined statement and no extra round trip.

Every statement that may be large (the events, the chain rows, the request ids: they grow
with the batch) is sent in full before the next step (`_send_in_full`). psycopg's pipeline
(3.3.9, C implementation) flushes once more after queueing its last command and then waits
only for results, whatever that flush returned; when the socket could not take the whole
statement at that moment, the rest stays in libpq's buffer: the server waits for it
(`ClientRead`, holding the events table's lock) and the client waits for the server, for good.
A save of 10,000 donations (a 13 MB INSERT then) did so now and then; psycopg alone, one
pipelined INSERT of 20,000 rows of 600 bytes, did so on the first try, and went on at once
when libpq's buffer was flushed from another thread.

The events table is always `stored_events` in the configured schema, whatever the
application's name (the library would otherwise call it `<appname>_events`): the ledger has
one event log per schema, the chain table `event_chain` covers exactly that log, and
`create_tables` can create both without knowing which application will write.
"""

from __future__ import annotations

import selectors
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, InterfaceError, OperationalError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal

from ledger.errors import ConfigurationError
from ledger.store.chain import (
    CHAIN_TABLE_NAME,
    EVENTS_TABLE_NAME,
    GENESIS_HASH,
    REQUESTS_TABLE_NAME,
    StoredRow,
    check_chainable,
    link_new_events,
)

# Idle time allowed per event between the insert and the chain rows (see
# `_allow_idle_while_chaining`): about 4 times the worst seen, 45 us, so 20 s more for 100,000.
IDLE_S_PER_EVENT = 0.0002
# The library retries a write that lost its connection or timed out on the table lock 10
# times, and each try may wait POSTGRES_CONNECT_TIMEOUT (5 s) for a connection from the pool:
# while the server is down, a write would hang for about 50 s before it is refused. Ours starts
# no new try this long after the first began (so a write is refused within about 13 s).
WRITE_RETRY_S = 8.0
WRITE_RETRY_WAIT_S = 0.2


class ChainedPostgresApplicationRecorder(PostgresApplicationRecorder):
    """`PostgresApplicationRecorder` plus one `event_chain` row per event, in the same commit."""

    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        events_table_name: str = EVENTS_TABLE_NAME,
    ):
        """`events_table_name` is accepted because the factory passes it, and ignored."""
        if datastore.originator_id_type != "uuid":
            msg = "the hash chain needs UUID originator ids (ORIGINATOR_ID_TYPE=uuid)"
            raise ConfigurationError(msg)
        if datastore.enable_db_functions:
            # The library's insert function bypasses both the table lock and our hook.
            msg = "the hash chain needs POSTGRES_ENABLE_DB_FUNCTIONS off"
            raise ConfigurationError(msg)
        super().__init__(datastore, events_table_name=EVENTS_TABLE_NAME)
        chain_table = SQL("{schema}.{table}").format(
            schema=Identifier(datastore.schema), table=Identifier(CHAIN_TABLE_NAME)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {chain_table} ("
                "position bigint PRIMARY KEY, hash text NOT NULL)"
            ).format(chain_table=chain_table)
        )
        requests_table = SQL("{schema}.{table}").format(
            schema=Identifier(datastore.schema), table=Identifier(REQUESTS_TABLE_NAME)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {requests_table} ("
                "position bigint PRIMARY KEY, request_id text NOT NULL)"
            ).format(requests_table=requests_table)
        )
        self.insert_requests_statement = SQL(
            "INSERT INTO {requests_table} (position, request_id) "
            "SELECT position, %s FROM unnest(%s::bigint[]) AS position"
        ).format(requests_table=requests_table)
        self.select_requests_statement = SQL(
            "SELECT position, request_id FROM {requests_table} "
            "WHERE position > %s AND position <= %s"
        ).format(requests_table=requests_table)
        self.select_chain_head_statement = SQL(
            "SELECT position, hash FROM {chain_table} ORDER BY position DESC LIMIT 1"
        ).format(chain_table=chain_table)
        # The library's insert statement plus the chain head. It runs after LOCK TABLE, and
        # every chain writer holds that lock until it commits, so its snapshot has the head.
        # It inserts nothing if an aggregate the command only read has a newer event than
        # the version read (`read_versions`): still under the lock, so none can arrive later.
        # Each such aggregate's newest version is read by index (`max`, one per aggregate).
        # Written as a join, the check let PostgreSQL expect a match among a fund's thousands
        # of events and scan the whole log for it: 21-37 ms a write at 100,000 events.
        # The events come as four arrays in binary, not as the library's one array of a
        # composite type in text: psycopg dumps those in C rather than quoting every field in
        # Python, and the server reads them without parsing text. For 100,000 events this
        # was 2-5 s instead of 17-22 s, most of it spent while holding the lock.
        self.insert_events_statement = SQL(
            "WITH chain_head AS ({select_chain_head}) "
            "INSERT INTO {schema}.{table} AS t ("
            "originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            "AS new (originator_id, originator_version, topic, state) "
            "WHERE NOT EXISTS (SELECT 1 "
            "FROM unnest(%s::uuid[], %s::bigint[]) AS read_version(id, version) "
            "WHERE (SELECT max(newer.originator_version) FROM {schema}.{table} AS newer "
            "WHERE newer.originator_id = read_version.id) > read_version.version) "
            "RETURNING notification_id, (SELECT hash FROM chain_head) AS chain_head_hash"
        ).format(
            select_chain_head=self.select_chain_head_statement,
            schema=Identifier(datastore.schema),
            table=Identifier(self.events_table_name),
        )
        self.insert_chain_statement = SQL(
            "INSERT INTO {chain_table} (position, hash) "
            "SELECT * FROM unnest(%s::bigint[], %s::text[])"
        ).format(chain_table=chain_table)
        self.select_chain_statement = SQL(
            "SELECT position, hash FROM {chain_table} "
            "WHERE position > %s ORDER BY position LIMIT %s"
        ).format(chain_table=chain_table)
        self.select_stored_rows_statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id >= %s AND notification_id <= %s "
            "ORDER BY notification_id LIMIT %s"
        ).format(schema=Identifier(datastore.schema), table=Identifier(self.events_table_name))
        self.select_position_statement = SQL(
            "SELECT notification_id FROM {schema}.{table} "
            "WHERE originator_id = %s AND originator_version = %s"
        ).format(schema=Identifier(datastore.schema), table=Identifier(self.events_table_name))

    def create_table(self) -> None:
        """Create the schema first if it is missing, so `fund-ledger init` needs no DBA step.

        Existence is checked first because CREATE SCHEMA IF NOT EXISTS still needs the CREATE
        privilege on the database, which a role owning only its schema may lack.
        """
        schema = self.datastore.schema
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
            if curs.fetchone() is None:
                curs.execute(SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(Identifier(schema)))
        super().create_table()

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's insert, retried as it does (the same errors, the same wait) but for
        at most `WRITE_RETRY_S`. As with the library's retries, events that did commit make
        a retry fail on their versions (`IntegrityError`), which the service handles as a
        conflict."""
        insert_once = PostgresApplicationRecorder.insert_events.__wrapped__  # undecorated
        started_s = time.monotonic()
        while True:
            try:
                notification_ids: Sequence[int] | None = insert_once(self, stored_events, **kwargs)
                return notification_ids
            except (InterfaceError, OperationalError):
                if time.monotonic() - started_s + WRITE_RETRY_WAIT_S >= WRITE_RETRY_S:
                    raise
                time.sleep(WRITE_RETRY_WAIT_S)

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        # Runs before the insert: an exception here rolls the transaction back, whereas the
        # library commits whatever was inserted if `_fetch_ids_after_insert_events` raises.
        check_chainable(stored_events)
        super()._insert_events(curs, stored_events, **kwargs)

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """The library's lock, notify and insert, with the read versions as parameters."""
        self._allow_idle_while_chaining(curs, len(stored_events))
        self._lock_table(curs)
        self._notify_channel(curs)
        read_versions = kwargs.get("read_versions") or ()
        curs.execute(
            self.insert_events_statement,
            (
                [event.originator_id for event in stored_events],
                [event.originator_version for event in stored_events],
                [event.topic for event in stored_events],
                [event.state for event in stored_events],
                [id_ for id_, _ in read_versions],
                [version for _, version in read_versions],
            ),
            prepare=True,
        )
        _send_in_full(curs)

    def _allow_idle_while_chaining(self, curs: Cursor[DictRow], event_count: int) -> None:
        """Lengthen, for this transaction only, the server's idle-in-transaction timeout by
        `IDLE_S_PER_EVENT` for each event, if that adds at least a second.

        The library syncs the pipeline after the insert, and the session sits idle in its
        transaction while we read the positions, hash the events and send the chain rows:
        for 100,000 events 2.8 s on this machine at load 6, 4.5 s at load 10, against the
        5 s after which the server would end the session and the write would fail.
        """
        timeout_s = self.datastore.idle_in_transaction_session_timeout
        if timeout_s and event_count * IDLE_S_PER_EVENT >= 1:
            timeout_ms = round((timeout_s + event_count * IDLE_S_PER_EVENT) * 1000)
            curs.execute(
                SQL("SET LOCAL idle_in_transaction_session_timeout = {0}").format(
                    Literal(timeout_ms)
                )
            )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        inserted = curs.fetchall()
        if len(inserted) != len(stored_events):
            # Nothing was inserted (see insert_events_statement). The library commits the
            # empty transaction and raises this, so the command is retried on fresh state.
            raise IntegrityError("an aggregate the command read changed after it was read")
        positions = [int(row["notification_id"]) for row in inserted]
        head_hash = inserted[0]["chain_head_hash"] or GENESIS_HASH
        rows = link_new_events(str(head_hash), positions, stored_events)
        # Pipelined: sent now, its result is checked when the transaction commits.
        curs.execute(
            self.insert_chain_statement,
            ([position for position, _ in rows], [hash_ for _, hash_ in rows]),
            prepare=True,
        )
        _send_in_full(curs)
        request_id = kwargs.get("request_id")
        if request_id is not None:
            curs.execute(self.insert_requests_statement, (request_id, positions), prepare=True)
            _send_in_full(curs)
        return positions

    def select_chain_head(self) -> tuple[int, str] | None:
        """The newest chain row `(position, hash)`, or None while the ledger is empty."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_chain_head_statement, prepare=True)
            row = curs.fetchone()
            return None if row is None else (int(row["position"]), str(row["hash"]))

    def select_chain_rows(self, after_position: int, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` chain rows `(position, hash)` after `after_position`, in order."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_chain_statement, (after_position, limit), prepare=True)
            return [(int(row["position"]), str(row["hash"])) for row in curs.fetchall()]

    def select_stored_rows(
        self, first_position: int, last_position: int, limit: int
    ) -> list[StoredRow]:
        """Up to `limit` events in [first_position, last_position], in order, as stored."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.select_stored_rows_statement,
                (first_position, last_position, limit),
                prepare=True,
            )
            return [
                StoredRow(
                    row["notification_id"],
                    row["originator_id"],
                    row["originator_version"],
                    row["topic"],
                    row["state"],
                )
                for row in curs.fetchall()
            ]

    def select_position(self, originator_id: UUID, version: int) -> int | None:
        """The log position of one aggregate's event, or None if it is not stored."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self.select_position_statement, (originator_id, version), prepare=True)
            row = curs.fetchone()
            return None if row is None else int(row["notification_id"])

    def select_request_ids(self, after_position: int, last_position: int) -> dict[int, str]:
        """The request id of each event in (after_position, last_position] that has one."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                self.select_requests_statement, (after_position, last_position), prepare=True
            )
            return {int(row["position"]): str(row["request_id"]) for row in curs.fetchall()}


def _send_in_full(curs: Cursor[DictRow]) -> None:
    """Hand libpq's whole output buffer to the socket (see the module's docstring).

    Reads whatever the server sends meanwhile into libpq's input buffer (where psycopg will
    find its results), as psycopg's own send loop does, so that neither side can block the
    other. Each turn of the loop waits for the socket, then sends or reads: it ends when the
    statement is sent, and `flush` or `consume_input` raise if the connection breaks.
    """
    pgconn = curs.connection.pgconn
    if pgconn.flush() == 0:  # all sent: the common case costs one call
        return
    with selectors.DefaultSelector() as selector:
        selector.register(pgconn.socket, selectors.EVENT_READ | selectors.EVENT_WRITE)
        while True:
            for _, ready in selector.select():
                if ready & selectors.EVENT_READ:
                    pgconn.consume_input()
            if pgconn.flush() == 0:
                return
