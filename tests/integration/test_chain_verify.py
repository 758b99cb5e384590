"""The hash chain catches tampering done behind the application's back, on both databases.

Events are written through a plain eventsourcing `Application`; the tampering is raw SQL
(sqlite3 / psycopg), never the library.
"""

from __future__ import annotations

import hashlib
import sqlite3
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import IntegrityError

from ledger.errors import InvalidInput, UnreadableEvent
from ledger.store import (
    GENESIS_HASH,
    ChainReport,
    chain_hash,
    eventsourcing_env,
    open_recorder,
    verify_chain,
)

FORGED_HASH = "f" * 64


class Counter(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self, by: int) -> None:
        self.count += by


class CounterApplication(Application):
    pass


class RawLedger:
    """Direct SQL on `stored_events` and `event_chain`; `{position}` is the event position."""

    def __init__(self, database_url: str) -> None:
        env = eventsourcing_env(database_url)
        self.is_sqlite = env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
        self.connection: Any
        if self.is_sqlite:
            self.connection = sqlite3.connect(env["SQLITE_DBNAME"], isolation_level=None)
            self.position_column = "rowid"
        else:
            parts = ("dbname", "host", "port", "user", "password")
            self.connection = psycopg.connect(
                **{part: env[f"POSTGRES_{part.upper()}"] for part in parts},
                options=f"-c search_path={env['POSTGRES_SCHEMA']}",
                autocommit=True,
            )
            self.position_column = "notification_id"

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        statement = statement.format(position=self.position_column)
        if self.is_sqlite:
            statement = statement.replace("%s", "?")
        cursor = self.connection.execute(statement, params)
        return [] if cursor.description is None else list(cursor.fetchall())

    def events(self) -> list[tuple[int, UUID, int, str, bytes]]:
        rows = self.execute(
            "SELECT {position}, originator_id, originator_version, topic, state "
            "FROM stored_events ORDER BY {position}"
        )
        return [(p, UUID(str(o)), v, t, bytes(s)) for p, o, v, t, s in rows]

    def recomputed_chain(self) -> list[tuple[int, str]]:
        links, previous_hash = [], GENESIS_HASH
        for position, *event_fields in self.events():
            previous_hash = chain_hash(previous_hash, position, *event_fields)
            links.append((position, previous_hash))
        return links

    def forge_event_copying(self, position: int) -> int:
        self.execute(
            "INSERT INTO stored_events (originator_id, originator_version, topic, state) "
            "SELECT originator_id, originator_version + 1000, topic, state "
            "FROM stored_events WHERE {position} = %s",
            (position,),
        )
        return int(self.execute("SELECT MAX({position}) FROM stored_events")[0][0])


@pytest.fixture
def raw_ledger(database_url: str) -> Iterator[RawLedger]:
    yield from _written_raw_ledger(database_url)


@pytest.fixture
def raw_sqlite_ledger(sqlite_url: str) -> Iterator[RawLedger]:
    """For forgeries only SQLite takes: its columns hold any value of any type."""
    yield from _written_raw_ledger(sqlite_url)


def _written_raw_ledger(database_url: str) -> Iterator[RawLedger]:
    """Eight events in five saves, the first atomic over two aggregates; then raw access."""
    app = CounterApplication(env=eventsourcing_env(database_url))
    first, second = Counter(), Counter()
    first.increment(by=1)
    app.save(first, second)
    for by in (2, 3, 4):
        first.increment(by=by)
        app.save(first)
    second.increment(by=20)
    second.increment(by=30)
    app.save(second)
    app.close()
    raw = RawLedger(database_url)
    yield raw
    raw.connection.close()


def verify(database_url: str, **options: Any) -> ChainReport:
    with open_recorder(database_url) as recorder:
        return verify_chain(recorder, **options)


def fault_found(database_url: str, **options: Any) -> tuple[str, int] | None:
    fault = verify(database_url, **options).fault
    return None if fault is None else (fault.kind, fault.position)


def test_chain_hash_follows_the_documented_encoding() -> None:
    originator_id = uuid4()
    topic, state = "ledger.donation:DonationRecorded", b'{"amount_yen":1000}'
    encoded = (
        bytes.fromhex(GENESIS_HASH)
        + struct.pack(">q", 7)
        + originator_id.bytes
        + struct.pack(">q", 3)
        + struct.pack(">I", len(topic.encode()))
        + topic.encode()
        + struct.pack(">Q", len(state))
        + state
    )
    expected = hashlib.sha256(encoded).hexdigest()
    assert chain_hash(GENESIS_HASH, 7, originator_id, 3, topic, state) == expected


def test_untouched_ledger_verifies_with_count_and_head_of_a_recomputation(
    raw_ledger: RawLedger, database_url: str
) -> None:
    report = verify(database_url, page_size=3)
    recomputed = raw_ledger.recomputed_chain()
    assert report.fault is None
    assert report.event_count == len(recomputed) == 8
    assert (report.head_position, report.head_hash) == recomputed[-1]
    assert raw_ledger.execute("SELECT position, hash FROM event_chain ORDER BY position") == [
        tuple(link) for link in recomputed
    ]


def test_empty_ledger_verifies_at_the_genesis_hash(database_url: str) -> None:
    report = verify(database_url)
    assert (report.event_count, report.head_position, report.head_hash) == (0, None, GENESIS_HASH)
    assert report.fault is None


def test_altered_event_is_reported_at_its_position(
    raw_ledger: RawLedger, database_url: str
) -> None:
    raw_ledger.execute("UPDATE stored_events SET state = %s WHERE {position} = 3", (b'{"by":999}',))
    report = verify(database_url)
    assert report.fault is not None
    assert (report.fault.kind, report.fault.position) == ("altered", 3)
    assert (report.event_count, report.head_position) == (2, 2)


def test_deleted_event_is_reported_as_missing_at_its_position(
    raw_ledger: RawLedger, database_url: str
) -> None:
    raw_ledger.execute("DELETE FROM stored_events WHERE {position} = 4")
    assert fault_found(database_url) == ("missing-event", 4)


def test_event_deleted_with_its_chain_entry_breaks_the_next_link(
    raw_ledger: RawLedger, database_url: str
) -> None:
    raw_ledger.execute("DELETE FROM stored_events WHERE {position} = 4")
    raw_ledger.execute("DELETE FROM event_chain WHERE position = 4")
    assert fault_found(database_url) == ("altered", 5)


def test_forged_event_without_chain_entry_is_reported(
    raw_ledger: RawLedger, database_url: str
) -> None:
    forged_position = raw_ledger.forge_event_copying(2)
    assert fault_found(database_url) == ("missing-chain-entry", forged_position)


def test_forged_event_with_forged_chain_entry_is_reported_as_altered(
    raw_ledger: RawLedger, database_url: str
) -> None:
    forged_position = raw_ledger.forge_event_copying(2)
    raw_ledger.execute("INSERT INTO event_chain VALUES (%s, %s)", (forged_position, FORGED_HASH))
    assert fault_found(database_url) == ("altered", forged_position)


def test_swapped_events_are_reported_at_the_first_of_them(
    raw_ledger: RawLedger, database_url: str
) -> None:
    states = dict(raw_ledger.execute("SELECT {position}, state FROM stored_events"))
    raw_ledger.execute("UPDATE stored_events SET state = %s WHERE {position} = 3", (states[6],))
    raw_ledger.execute("UPDATE stored_events SET state = %s WHERE {position} = 6", (states[3],))
    assert fault_found(database_url) == ("altered", 3)


@pytest.mark.parametrize("column", ["topic", "state"])
def test_event_whose_column_was_emptied_is_reported_as_altered(
    raw_ledger: RawLedger, database_url: str, column: str
) -> None:
    raw_ledger.execute(f"UPDATE stored_events SET {column} = NULL WHERE {{position}} = 3")
    report = verify(database_url)
    assert report.fault is not None
    assert (report.fault.kind, report.fault.position) == ("altered", 3)
    assert (report.event_count, report.head_position) == (2, 2)


def test_state_rewritten_by_hand_as_a_text_literal_is_reported_as_altered(
    raw_ledger: RawLedger, database_url: str
) -> None:
    """What `UPDATE ... SET state = '{...}'` in a SQL shell does: on SQLite the value is then
    text, not the bytes the ledger writes; on PostgreSQL bytes that no longer match."""
    raw_ledger.execute("UPDATE stored_events SET state = '{{\"by\":999}}' WHERE {position} = 3")
    assert fault_found(database_url) == ("altered", 3)


@pytest.mark.parametrize(
    ("assignment", "reason"),
    [
        ("originator_id = 'not-a-uuid'", "originator id is not a UUID"),
        ("originator_id = NULL", "originator id is not a UUID"),
        ("originator_version = 'two'", "version is not an integer"),
        ("topic = CAST(x'ff41' AS TEXT)", "topic is not valid UTF-8 text"),
        ("state = CAST(x'ff7b7d' AS TEXT)", "state is not bytes"),
    ],
)
def test_event_the_library_could_not_even_read_is_reported_at_its_position(
    raw_sqlite_ledger: RawLedger, sqlite_url: str, assignment: str, reason: str
) -> None:
    raw_sqlite_ledger.execute(f"UPDATE stored_events SET {assignment} WHERE rowid = 3")
    report = verify(sqlite_url, page_size=2)
    assert report.fault is not None
    assert (report.fault.kind, report.fault.position) == ("altered", 3)
    assert reason in report.fault.message
    assert (report.event_count, report.head_position) == (2, 2)


def test_forged_event_with_a_malformed_id_and_no_chain_entry_is_reported(
    raw_sqlite_ledger: RawLedger, sqlite_url: str
) -> None:
    raw_sqlite_ledger.execute("INSERT INTO stored_events VALUES ('forged', 1, 'x', x'7b7d')")
    forged = int(raw_sqlite_ledger.execute("SELECT MAX(rowid) FROM stored_events")[0][0])
    report = verify(sqlite_url)
    assert report.fault is not None
    assert (report.fault.kind, report.fault.position) == ("missing-chain-entry", forged)
    assert report.event_count == 8


def test_reading_the_log_names_the_position_of_an_id_that_is_not_a_uuid(
    raw_sqlite_ledger: RawLedger, sqlite_url: str
) -> None:
    raw_sqlite_ledger.execute("UPDATE stored_events SET originator_id = 'x' WHERE rowid = 5")
    with open_recorder(sqlite_url) as recorder:
        assert [n.id for n in recorder.select_notifications(None, 4)] == [1, 2, 3, 4]
        with pytest.raises(UnreadableEvent) as raised:
            recorder.select_notifications(2, 10, inclusive_of_start=False)
    assert raised.value.position == 5
    assert "originator id is not a UUID" in raised.value.message


def test_recomputed_chain_passes_alone_but_not_against_the_earlier_head(
    raw_ledger: RawLedger, database_url: str
) -> None:
    published_head = verify(database_url).head_hash
    raw_ledger.execute("UPDATE stored_events SET state = %s WHERE {position} = 3", (b'{"by":999}',))
    raw_ledger.execute("DELETE FROM event_chain")
    for link in raw_ledger.recomputed_chain():
        raw_ledger.execute("INSERT INTO event_chain VALUES (%s, %s)", link)
    assert fault_found(database_url) is None
    assert fault_found(database_url, expected_head=published_head) == ("head-mismatch", 8)


def test_newest_event_removed_with_its_chain_entry_is_caught_only_by_the_earlier_head(
    raw_ledger: RawLedger, database_url: str
) -> None:
    published_head = verify(database_url).head_hash
    raw_ledger.execute("DELETE FROM stored_events WHERE {position} = 8")
    raw_ledger.execute("DELETE FROM event_chain WHERE position = 8")
    assert fault_found(database_url) is None
    assert fault_found(database_url, expected_head=published_head) == ("head-mismatch", 7)


def test_a_head_published_earlier_still_verifies_after_the_ledger_grows(
    raw_ledger: RawLedger, database_url: str
) -> None:
    published_head = verify(database_url).head_hash
    app = CounterApplication(env=eventsourcing_env(database_url))
    app.save(Counter(), Counter())
    app.close()
    report = verify(database_url, expected_head=published_head.upper())
    assert (report.fault, report.event_count) == (None, 10)


def test_many_saves_and_multi_aggregate_saves_keep_the_chain_continuous(
    raw_ledger: RawLedger, database_url: str
) -> None:
    app = CounterApplication(env=eventsourcing_env(database_url))
    counters = [Counter() for _ in range(5)]
    app.save(*counters)
    for round_number in range(1, 31):
        for counter in counters[: 1 + round_number % 5]:
            counter.increment(by=round_number)
        app.save(*counters)
    app.close()
    report = verify(database_url, page_size=7)
    assert report.fault is None
    assert (report.head_position, report.head_hash) == raw_ledger.recomputed_chain()[-1]
    assert report.event_count == 8 + 5 + sum(1 + n % 5 for n in range(1, 31))


def test_rejected_save_leaves_the_chain_valid(raw_ledger: RawLedger, database_url: str) -> None:
    app = CounterApplication(env=eventsourcing_env(database_url))
    counter = Counter()
    app.save(counter)
    stale = app.repository.get(counter.id)
    counter.increment(by=1)
    stale.increment(by=2)
    app.save(counter)
    with pytest.raises(IntegrityError):
        app.save(stale)
    app.save(Counter())
    app.close()
    report = verify(database_url)
    assert (report.fault, report.event_count) == (None, 11)


def test_save_that_cannot_extend_the_chain_writes_nothing(
    raw_ledger: RawLedger, database_url: str
) -> None:
    raw_ledger.execute("INSERT INTO event_chain VALUES (9, %s)", (FORGED_HASH,))
    app = CounterApplication(env=eventsourcing_env(database_url))
    with pytest.raises(IntegrityError):
        app.save(Counter())
    app.close()
    assert len(raw_ledger.events()) == 8


def test_two_applications_writing_concurrently_keep_one_valid_chain(database_url: str) -> None:
    apps = [CounterApplication(env=eventsourcing_env(database_url)) for _ in range(2)]

    def write(app: CounterApplication) -> None:
        for _ in range(20):
            counter = Counter()
            counter.increment(by=1)
            app.save(counter, Counter())

    with ThreadPoolExecutor(max_workers=6) as executor:
        writes = [executor.submit(write, app) for app in apps for _ in range(3)]
        while not all(write.done() for write in writes):
            assert fault_found(database_url) is None, "a live ledger verifies at any moment"
        for write in writes:
            write.result()
    for app in apps:
        app.close()
    report = verify(database_url)
    assert (report.fault, report.event_count) == (None, 2 * 3 * 20 * 3)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"page_size": 10_001}, "page_size"),
        ({"expected_head": "abc"}, "expected_head"),
        ({"expected_head": "g" * 64}, "expected_head"),
    ],
)
def test_out_of_range_verify_options_are_refused(
    sqlite_url: str, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        verify(sqlite_url, **options)
    assert raised.value.field == field
