"""The measured workloads: each runs on its own fresh database, warms up, then is timed.

A workload returns a `Timing`: how many donations (ledger), events (bare library) or rows
(raw) it wrote, and how long that took. Setting up (tables, the fund, its donors, building
the commands) and the warm-up are not timed.
"""

from __future__ import annotations

import contextlib
import gc
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TypeVar
from uuid import UUID

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate
from psycopg.sql import SQL, Identifier

from bench.databases import POSTGRES, FreshDatabase
from ledger import commands as c
from ledger.service import FundLedger

ACTOR = "bench"
DONOR_COUNT = 100
FEE_RATE_BP = 300
DONATION_AMOUNT_YEN = 10_000
WARMUP_COMMAND_COUNT = DONOR_COUNT  # the timed part finds every donor in the aggregate cache
WARMUP_BATCH_COUNT = 2
RAW_TABLE_NAME = "raw_events"

T = TypeVar("T")


@dataclass(frozen=True)
class Sizes:
    """How much each workload writes in one timed run."""

    one_count: int  # commands (or saves) one at a time
    batch_count: int  # calls of execute_batch (or save) ...
    batch_size: int  # ... of this many donations (or aggregates) each
    raw_batch_count: int  # commits of `batch_size` raw rows


@dataclass(frozen=True)
class Timing:
    count: int  # donations, events or rows written while timed
    elapsed_s: float

    @property
    def rate_per_s(self) -> float:
        return self.count / self.elapsed_s


# Wraps the timed part only, e.g. to profile it (see bench.profiling).
Probe = Callable[[], contextlib.AbstractContextManager[object]]
NO_PROBE: Probe = contextlib.nullcontext
Workload = Callable[[FreshDatabase, Sizes, Probe], Timing]


# The ledger


def ledger_one(database: FreshDatabase, sizes: Sizes, probe: Probe = NO_PROBE) -> Timing:
    """Donations recorded one `execute` at a time."""
    with _seeded_ledger(database) as (ledger, fund_id, donor_ids):
        commands = _donations(fund_id, donor_ids, WARMUP_COMMAND_COUNT + sizes.one_count)
        for command in commands[:WARMUP_COMMAND_COUNT]:
            ledger.execute(command, actor=ACTOR)
        timed = commands[WARMUP_COMMAND_COUNT:]
        return _timed(len(timed), lambda: _execute_each(ledger, timed), probe)


def ledger_batch(database: FreshDatabase, sizes: Sizes, probe: Probe = NO_PROBE) -> Timing:
    """Donations recorded `batch_size` at a time by `execute_batch` (the import path)."""
    with _seeded_ledger(database) as (ledger, fund_id, donor_ids):
        warmup_count = max(WARMUP_BATCH_COUNT, -(-DONOR_COUNT // sizes.batch_size))
        batch_total = warmup_count + sizes.batch_count
        commands = _donations(fund_id, donor_ids, batch_total * sizes.batch_size)
        batches = _chunks(commands, sizes.batch_size)
        for batch in batches[:warmup_count]:
            ledger.execute_batch(batch, actor=ACTOR)
        timed = batches[warmup_count:]
        count = sum(len(batch) for batch in timed)
        return _timed(count, lambda: _execute_batches(ledger, timed), probe)


@contextlib.contextmanager
def _seeded_ledger(database: FreshDatabase) -> Iterator[tuple[FundLedger, UUID, list[UUID]]]:
    """A ledger on `database` holding one fund and `DONOR_COUNT` donors.

    Tables (events, chain, snapshots) are created by one short-lived instance with
    CREATE_TABLE=y; the measured instance runs with CREATE_TABLE=n, like every worker.
    """
    FundLedger(env=database.ledger_env(create_table=True)).close()
    ledger = FundLedger(env=database.ledger_env())
    try:
        fund = ledger.execute(_open_fund(), actor=ACTOR)
        donors = ledger.execute_batch([_register_donor(i) for i in range(DONOR_COUNT)], actor=ACTOR)
        yield ledger, fund.aggregate_id, [donor.aggregate_id for donor in donors]
    finally:
        ledger.close()


def _open_fund() -> c.OpenFund:
    return c.OpenFund(
        name="亀岡協働基金",
        host="公益財団法人 京都地域創造基金",
        fee_rate_bp=FEE_RATE_BP,
        idempotency_key="bench-fund",
    )


def _register_donor(index: int) -> c.RegisterDonor:
    return c.RegisterDonor(
        kind="individual",
        name=f"亀岡 太郎{index:03d}",
        kana=f"カメオカ タロウ{index:03d}",
        postal_code="621-0806",
        address="京都府亀岡市安町野々神8番地",
        idempotency_key=f"bench-donor-{index}",
    )


def _donations(fund_id: UUID, donor_ids: Sequence[UUID], count: int) -> list[c.RecordDonation]:
    return [
        c.RecordDonation(
            idempotency_key=f"bench-donation-{index}",
            fund_id=fund_id,
            donor_id=donor_ids[index % len(donor_ids)],
            amount_yen=DONATION_AMOUNT_YEN + index,
            method="bank_transfer",
        )
        for index in range(count)
    ]


def _execute_each(ledger: FundLedger, commands: Sequence[c.RecordDonation]) -> None:
    for command in commands:
        ledger.execute(command, actor=ACTOR)


def _execute_batches(ledger: FundLedger, batches: Sequence[Sequence[c.RecordDonation]]) -> None:
    for batch in batches:
        ledger.execute_batch(batch, actor=ACTOR)


# The bare library


class BareAggregate(Aggregate):
    """One `Created` event whose `payload` pads the stored state to a donation's size."""

    def __init__(self, payload: str) -> None:
        self.payload = payload


class BareApplication(Application[UUID]):
    name = "Bare"


def bare_one(database: FreshDatabase, sizes: Sizes, probe: Probe = NO_PROBE) -> Timing:
    """One-event aggregates saved one per `save` call."""
    payload = bare_payload()
    with _bare_application(database) as app:
        for _ in range(WARMUP_COMMAND_COUNT):
            app.save(BareAggregate(payload))

        def save_each() -> None:
            for _ in range(sizes.one_count):
                app.save(BareAggregate(payload))

        return _timed(sizes.one_count, save_each, probe)


def bare_batch(database: FreshDatabase, sizes: Sizes, probe: Probe = NO_PROBE) -> Timing:
    """One-event aggregates saved `batch_size` per `save` call."""
    payload = bare_payload()
    with _bare_application(database) as app:
        for _ in range(WARMUP_BATCH_COUNT):
            app.save(*[BareAggregate(payload) for _ in range(sizes.batch_size)])

        def save_batches() -> None:
            for _ in range(sizes.batch_count):
                app.save(*[BareAggregate(payload) for _ in range(sizes.batch_size)])

        return _timed(sizes.batch_count * sizes.batch_size, save_batches, probe)


@contextlib.contextmanager
def _bare_application(database: FreshDatabase) -> Iterator[BareApplication]:
    app = BareApplication(env=database.bare_env())
    try:
        yield app
    finally:
        app.close()


@cache
def sample_donation_event() -> tuple[str, bytes]:
    """The topic and stored state of a typical `Donation.Recorded`, as the bench records it."""
    ledger = FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    fund = ledger.execute(_open_fund(), actor=ACTOR)
    donor = ledger.execute(_register_donor(0), actor=ACTOR)
    command = _donations(fund.aggregate_id, [donor.aggregate_id], 1)[0]
    donation = ledger.execute(command, actor=ACTOR)
    stored = ledger.recorder.select_events(donation.aggregate_id)[0]
    return stored.topic, stored.state


@cache
def bare_payload() -> str:
    """Padding that makes a `BareAggregate`'s stored state as long as a donation's."""
    app = BareApplication(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
    empty = app.mapper.to_stored_event(BareAggregate("").collect_events()[0])
    _, donation_state = sample_donation_event()
    return "x" * max(0, len(donation_state) - len(empty.state))


# Raw inserts: the floor


def raw_batch(database: FreshDatabase, sizes: Sizes, probe: Probe = NO_PROBE) -> Timing:
    """Rows of a donation event's size, `batch_size` per commit, into a plain table."""
    postgres = database.backend == POSTGRES
    topic, state = sample_donation_event()
    batch_total = WARMUP_BATCH_COUNT + sizes.raw_batch_count
    rows: list[RawRow] = [
        (uuid.uuid4() if postgres else uuid.uuid4().hex, 1, topic, state)
        for _ in range(batch_total * sizes.batch_size)
    ]
    insert = _raw_postgres_batches if postgres else _raw_sqlite_batches
    return insert(database, _chunks(rows, sizes.batch_size), probe)


RawRow = tuple[UUID | str, int, str, bytes]  # the id as a UUID for psycopg, as hex for sqlite3


def _raw_postgres_batches(
    database: FreshDatabase, batches: Sequence[Sequence[RawRow]], probe: Probe
) -> Timing:
    assert database.postgres_conninfo is not None, "a PostgreSQL database"
    assert database.schema is not None, "a PostgreSQL database"
    table = SQL("{0}.{1}").format(Identifier(database.schema), Identifier(RAW_TABLE_NAME))
    insert = SQL("INSERT INTO {0} VALUES (%s, %s, %s, %s)").format(table)
    with psycopg.connect(database.postgres_conninfo, autocommit=True) as connection:
        connection.execute(
            SQL(
                "CREATE TABLE {0} (originator_id uuid NOT NULL, originator_version bigint NOT NULL,"
                " topic text NOT NULL, state bytea NOT NULL)"
            ).format(table)
        )

        def insert_batches(part: Sequence[Sequence[RawRow]]) -> None:
            for batch in part:
                with connection.transaction(), connection.cursor() as cursor:
                    cursor.executemany(insert, batch)

        return _timed_after_warmup(batches, insert_batches, probe)


def _raw_sqlite_batches(
    database: FreshDatabase, batches: Sequence[Sequence[RawRow]], probe: Probe
) -> Timing:
    assert database.sqlite_path is not None
    connection = sqlite3.connect(database.sqlite_path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(
            f"CREATE TABLE {RAW_TABLE_NAME} (originator_id TEXT NOT NULL,"
            " originator_version INTEGER NOT NULL, topic TEXT NOT NULL, state BLOB NOT NULL)"
        )

        def insert_batches(part: Sequence[Sequence[RawRow]]) -> None:
            for batch in part:
                connection.execute("BEGIN")
                connection.executemany(f"INSERT INTO {RAW_TABLE_NAME} VALUES (?, ?, ?, ?)", batch)
                connection.execute("COMMIT")

        return _timed_after_warmup(batches, insert_batches, probe)
    finally:
        connection.close()


def _timed_after_warmup(
    batches: Sequence[Sequence[RawRow]],
    insert_batches: Callable[[Sequence[Sequence[RawRow]]], None],
    probe: Probe,
) -> Timing:
    insert_batches(batches[:WARMUP_BATCH_COUNT])
    timed = batches[WARMUP_BATCH_COUNT:]
    return _timed(sum(len(batch) for batch in timed), lambda: insert_batches(timed), probe)


# Helpers


def _timed(count: int, run: Callable[[], None], probe: Probe) -> Timing:
    gc.collect()
    with probe():
        started_s = time.perf_counter()
        run()
        elapsed_s = time.perf_counter() - started_s
    return Timing(count, elapsed_s)


def _chunks(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[start : start + size] for start in range(0, len(items), size)]
