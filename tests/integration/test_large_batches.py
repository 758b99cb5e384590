"""Large atomic writes: a batch of 10,000 donations is one write, whole or nothing.

On PostgreSQL such a batch used to stall now and then: psycopg's pipeline left the tail of the
large INSERT in libpq's buffer and waited for results the server could not send, since it was
waiting for that tail (see `ledger.store.postgres`). A 4 KB socket send buffer makes that
happen on every write of a few hundred KB, so the regression test below needs no luck.

These tests are slow for tests (each batch takes 5-15 s on this 2-core machine, more under
load; a batch refused by a rule runs twice, the second time looking every key up): 10,000 is
the size that stalled, and the point is to record that many at once.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from ledger.claim import claim_id
from ledger.errors import BatchRejected, NotFound, StorageError
from ledger.fund import Fund
from ledger.service import FundLedger
from ledger.store import (
    ChainedApplicationRecorder,
    eventsourcing_env,
    open_recorder,
    verify_chain,
)
from ledger.store import postgres as postgres_module
from ledger.store.chain import link_new_events
from ledger.store.postgres import ChainedPostgresApplicationRecorder
from ledger.values import GENERAL
from tests.integration.givens import donation, fund_and_donor

LARGE_BATCH_SIZE = 10_000
EVENTS_CHANNEL = "stored_events"  # the library's NOTIFY channel: the events table's name


@pytest.fixture
def ledger(database_url: str) -> Iterator[FundLedger]:
    ledger = FundLedger(env=eventsourcing_env(database_url))
    try:
        yield ledger
    finally:
        ledger.close()


def test_ten_thousand_donations_are_recorded_in_one_write(ledger: FundLedger) -> None:
    fund_id, donor_id = fund_and_donor(ledger)
    before = ledger.recorder.max_notification_id() or 0
    gifts = [donation(f"gift-{n}", fund_id, donor_id, 1_000 + n) for n in range(LARGE_BATCH_SIZE)]

    outcomes = ledger.execute_batch(gifts, actor="t")

    recorder = ledger.recorder
    assert isinstance(recorder, ChainedApplicationRecorder)
    # the fund's one movement event, then every donation (a keyed command's event comes last)
    assert (recorder.max_notification_id() or 0) - before == LARGE_BATCH_SIZE + 1
    positions = [outcome.position for outcome in outcomes]
    assert positions == list(range(before + 2, before + LARGE_BATCH_SIZE + 2))
    for outcome in outcomes[:: LARGE_BATCH_SIZE // 100]:
        assert recorder.select_position(outcome.aggregate_id, 1) == outcome.position
    fund = ledger.get(fund_id)
    assert isinstance(fund, Fund)
    assert fund.cash_yen[GENERAL] == sum(g.amount_yen - g.amount_yen * 350 // 10_000 for g in gifts)
    report = verify_chain(recorder)
    assert report.fault is None, report.fault
    assert report.event_count == before + LARGE_BATCH_SIZE + 1


def test_a_large_batch_whose_last_command_fails_records_nothing(ledger: FundLedger) -> None:
    fund_id, donor_id = fund_and_donor(ledger)
    before = ledger.recorder.max_notification_id()
    gifts = [donation(f"gift-{n}", fund_id, donor_id, 1_000) for n in range(LARGE_BATCH_SIZE)]
    unknown_donor = donation("gift-last", fund_id, uuid4(), 1_000)

    with pytest.raises(BatchRejected) as rejected:
        ledger.execute_batch([*gifts, unknown_donor], actor="t")

    assert rejected.value.index == LARGE_BATCH_SIZE
    assert isinstance(rejected.value.cause, NotFound)
    assert ledger.recorder.max_notification_id() == before
    assert ledger.get(claim_id(gifts[0].idempotency_key)) is None  # a donation's id


def test_a_large_write_that_fails_on_its_last_statement_leaves_no_event(
    postgres_url: str,
) -> None:
    """The events' INSERT, then the chain rows' INSERT fails: one transaction, so the events
    go too. (A trigger refuses chain rows once the ledger is seeded.)"""
    ledger = FundLedger(env=eventsourcing_env(postgres_url))
    try:
        fund_id, donor_id = fund_and_donor(ledger)
        before = ledger.recorder.max_notification_id()
        _refuse_new_chain_rows(ledger.recorder)
        gifts = [donation(f"gift-{n}", fund_id, donor_id, 1_000) for n in range(LARGE_BATCH_SIZE)]

        with pytest.raises(StorageError, match="chain rows refused"):
            ledger.execute_batch(gifts, actor="t")

        assert ledger.recorder.max_notification_id() == before
    finally:
        ledger.close()


@pytest.mark.timeout(60)
def test_a_pipelined_write_larger_than_the_socket_takes_is_sent_whole(
    postgres_url: str,
) -> None:
    """2,000 events of 600 bytes through a 4 KB send buffer: without sending the rest of
    the INSERT that libpq holds, this write never ended (timed out here at 30 s)."""
    with open_recorder(postgres_url) as recorder:
        assert isinstance(recorder, ChainedPostgresApplicationRecorder)
        _shrink_send_buffers(recorder)
        for _ in range(3):
            events = [StoredEvent(uuid4(), 1, "topic", os.urandom(600)) for _ in range(2_000)]

            positions = recorder.insert_events(events)

            assert positions is not None
            assert len(positions) == len(events)
            assert [e.state for e in recorder.select_notifications(positions[0], 2_000)] == [
                e.state for e in events
            ]
        report = verify_chain(recorder)
        assert report.fault is None, report.fault
        assert report.event_count == 6_000


def test_a_large_write_may_sit_idle_past_the_session_timeout_while_it_chains(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The session's idle-in-transaction timeout is 1 s here, and hashing the events takes
    1.5 s: the write's own transaction allows 2 s more for its 10,000 events, so its first
    attempt commits. (Without that, the server ended the session after 1 s, at every one
    of the library's 10 attempts, and the write failed: "the connection is lost".)"""
    env = {**eventsourcing_env(postgres_url), "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "1"}
    attempts = []

    def slow_link(*link_args: Any) -> list[tuple[int, str]]:
        attempts.append(len(link_args[1]))
        time.sleep(1.5)
        return link_new_events(*link_args)

    monkeypatch.setattr(postgres_module, "link_new_events", slow_link)
    ledger = FundLedger(env=env)
    try:
        events = [StoredEvent(uuid4(), 1, "topic", b"{}") for _ in range(10_000)]

        positions = ledger.recorder.insert_events(events)

        assert attempts == [10_000]
        assert positions == list(range(1, 10_001))
    finally:
        ledger.close()


def test_a_large_write_notifies_listeners_once_committed(
    postgres_url: str, postgres_database_url: str
) -> None:
    ledger = FundLedger(env=eventsourcing_env(postgres_url))
    try:
        fund_id, donor_id = fund_and_donor(ledger)
        gifts = [donation(f"gift-{n}", fund_id, donor_id, 1_000) for n in range(LARGE_BATCH_SIZE)]
        with psycopg.connect(postgres_database_url, autocommit=True) as listener:
            listener.execute(SQL("LISTEN {0}").format(Identifier(EVENTS_CHANNEL)))

            ledger.execute_batch(gifts, actor="t")

            notified = list(listener.notifies(timeout=10, stop_after=1))
        assert [n.channel for n in notified] == [EVENTS_CHANNEL]
    finally:
        ledger.close()


def _refuse_new_chain_rows(recorder: object) -> None:
    assert isinstance(recorder, ChainedPostgresApplicationRecorder)
    schema = Identifier(recorder.datastore.schema)
    with recorder.datastore.transaction(commit=True) as curs:
        curs.execute(
            SQL(
                "CREATE FUNCTION {0}.refuse_chain_rows() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'chain rows refused'; END $$"
            ).format(schema)
        )
        curs.execute(
            SQL(
                "CREATE TRIGGER refuse_chain_rows AFTER INSERT ON {0}.event_chain"
                " FOR EACH STATEMENT EXECUTE FUNCTION {0}.refuse_chain_rows()"
            ).format(schema)
        )


def _shrink_send_buffers(recorder: ChainedPostgresApplicationRecorder) -> None:
    """Every connection the recorder takes from its pool gets a 4 KB socket send buffer."""
    take = recorder.datastore.get_connection

    @contextlib.contextmanager
    def with_small_send_buffer() -> Iterator[psycopg.Connection[DictRow]]:
        with take() as conn:
            with socket.socket(fileno=os.dup(conn.pgconn.socket)) as sock:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
            yield conn

    recorder.datastore.get_connection = with_small_send_buffer  # type: ignore[method-assign]
