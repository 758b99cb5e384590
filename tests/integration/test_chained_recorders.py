"""Our chained recorders still pass the library's own application recorder test-suite.

The library's test cases are imported through their module, never by name: pytest would
otherwise collect the abstract bases as tests. Each test runs on a fresh database from the
conftest fixtures, through a recorder built as the application builds it (tables created by
`create_tables`, then CREATE_TABLE=n), and afterwards the chain over whatever the library's
test wrote must verify.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.tests import persistence as library_tests

from ledger.store import (
    ChainedApplicationRecorder,
    eventsourcing_env,
    open_recorder,
    verify_chain,
)

# Row types of both tables, the library's composite type, and its insert function.
LIBRARY_OBJECT_NAMES = (
    "stored_events",
    "event_chain",
    "stored_event_uuid",
    "es_insert_events_uuid",
)


class ChainCheckedRecorderTests:
    """Opens the recorder on `recorder_url`; after each test, verifies the chain."""

    recorder: ChainedApplicationRecorder

    @pytest.fixture(autouse=True)
    def _recorder_with_verified_chain(self, recorder_url: str) -> Iterator[None]:
        with open_recorder(recorder_url) as recorder:
            self.recorder = recorder
            yield
            report = verify_chain(recorder)
            assert report.fault is None, report.fault
            assert report.event_count == len(recorder.select_notifications(None, 1_000_000))

    def create_recorder(self) -> ChainedApplicationRecorder:
        return self.recorder


class SQLiteRecorderTests(ChainCheckedRecorderTests):
    @pytest.fixture
    def recorder_url(self, sqlite_url: str) -> str:
        return sqlite_url


class PostgresRecorderTests(ChainCheckedRecorderTests):
    @pytest.fixture
    def recorder_url(self, postgres_url: str) -> str:
        return postgres_url


class TestChainedSQLiteApplicationRecorder(
    SQLiteRecorderTests, library_tests.ApplicationRecorderTestCase[ChainedApplicationRecorder]
):
    pass


class TestChainedSQLiteNonInterleavingIds(
    SQLiteRecorderTests, library_tests.NonInterleavingNotificationIDsBaseCase
):
    pass


class TestChainedPostgresApplicationRecorder(
    PostgresRecorderTests, library_tests.ApplicationRecorderTestCase[ChainedApplicationRecorder]
):
    def test_insert_subscribe(self) -> None:
        self.optional_test_insert_subscribe()


class TestChainedPostgresNonInterleavingIds(
    PostgresRecorderTests, library_tests.NonInterleavingNotificationIDsBaseCase
):
    pass


def test_each_postgres_test_schema_holds_its_own_events_and_library_types(
    new_postgres_url: Callable[[], str], postgres_database_url: str
) -> None:
    first_url, second_url = new_postgres_url(), new_postgres_url()
    event = StoredEvent(originator_id=uuid4(), originator_version=1, topic="t", state=b"{}")
    with open_recorder(first_url) as first, open_recorder(second_url) as second:
        first.insert_events([event])
        assert len(first.select_notifications(None, 10)) == 1
        assert second.select_notifications(None, 10) == []
        assert verify_chain(second).event_count == 0
    with psycopg.connect(postgres_database_url) as conn:
        rows = conn.execute(
            "SELECT n.nspname, t.typname FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typname = ANY(%s) "
            "UNION ALL SELECT n.nspname, p.proname FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname = ANY(%s)",
            (list(LIBRARY_OBJECT_NAMES), list(LIBRARY_OBJECT_NAMES)),
        ).fetchall()
    schemas = {eventsourcing_env(url)["POSTGRES_SCHEMA"] for url in (first_url, second_url)}
    assert {(schema, name) for schema in schemas for name in LIBRARY_OBJECT_NAMES} <= set(rows)
    assert [row for row in rows if row[0] == "public"] == []
