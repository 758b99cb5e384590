"""`FUND_LEDGER_DATABASE_URL` maps onto the eventsourcing environment, or is refused in one
clear line that never repeats a password."""

from __future__ import annotations

import pytest
from eventsourcing.utils import resolve_topic

from ledger.errors import ConfigurationError
from ledger.store import (
    ChainedPostgresApplicationRecorder,
    ChainedSQLiteApplicationRecorder,
    database_label,
    eventsourcing_env,
)

SECRET = "s3cr:t@pw"  # percent-encoded in URLs below as s3cr%3At%40pw


@pytest.mark.parametrize(
    ("url", "dbname"),
    [
        ("sqlite:///ledger.sqlite", "ledger.sqlite"),
        ("sqlite:///data/ledger.sqlite", "data/ledger.sqlite"),
        ("sqlite:////var/lib/fund/ledger.sqlite", "/var/lib/fund/ledger.sqlite"),
        ("SQLite:////var/lib/my%20ledger.sqlite", "/var/lib/my ledger.sqlite"),
    ],
)
def test_sqlite_url_names_the_file_and_the_chained_recorder(url: str, dbname: str) -> None:
    env = eventsourcing_env(url)
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite"
    assert env["SQLITE_DBNAME"] == dbname
    assert int(env["SQLITE_LOCK_TIMEOUT"]) > 0
    assert resolve_topic(env["APPLICATION_RECORDER_TOPIC"]) is ChainedSQLiteApplicationRecorder


def test_sqlite_memory_url_is_a_shared_cache_database_unique_to_each_call() -> None:
    first, second = eventsourcing_env("sqlite:///:memory:"), eventsourcing_env("sqlite:///:memory:")
    assert first["SQLITE_DBNAME"].startswith("file:mem-")
    assert first["SQLITE_DBNAME"].endswith("?mode=memory&cache=shared")
    assert first["SQLITE_DBNAME"] != second["SQLITE_DBNAME"]
    assert first["CREATE_TABLE"] == "y", "nobody else can ever initialise a private database"


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg", "postgres"])
def test_postgres_url_maps_every_part(scheme: str) -> None:
    env = eventsourcing_env(f"{scheme}://fund%20admin:s3cr%3At%40pw@db.example:6543/ledger")
    assert env["PERSISTENCE_MODULE"] == "eventsourcing.postgres"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("db.example", "6543")
    assert (env["POSTGRES_USER"], env["POSTGRES_PASSWORD"]) == ("fund admin", SECRET)
    assert (env["POSTGRES_DBNAME"], env["POSTGRES_SCHEMA"]) == ("ledger", "public")
    assert resolve_topic(env["APPLICATION_RECORDER_TOPIC"]) is ChainedPostgresApplicationRecorder


def test_postgres_url_defaults_the_port_and_takes_a_schema_and_no_password() -> None:
    env = eventsourcing_env("postgresql://fund@127.0.0.1/ledger?schema=kameoka_2026")
    assert (env["POSTGRES_PORT"], env["POSTGRES_SCHEMA"]) == ("5432", "kameoka_2026")
    assert env["POSTGRES_PASSWORD"] == ""


def test_postgres_url_can_name_a_unix_socket_directory() -> None:
    env = eventsourcing_env("postgresql://fund@/ledger?host=/var/run/postgresql")
    assert env["POSTGRES_HOST"] == "/var/run/postgresql"


def test_postgres_settings_are_bounded_and_keep_the_table_lock() -> None:
    env = eventsourcing_env("postgresql://fund@db/ledger")
    assert int(env["POSTGRES_LOCK_TIMEOUT"]) > 0, "0 would wait for the lock forever"
    assert int(env["POSTGRES_MAX_WAITING"]) > 0, "0 would queue without bound"
    assert int(env["POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT"]) > 0
    for name in ("POSTGRES_POOL_SIZE", "POSTGRES_MAX_OVERFLOW", "POSTGRES_CONNECT_TIMEOUT"):
        assert int(env[name]) > 0
    assert env["POSTGRES_PRE_PING"] == "y"
    assert env["POSTGRES_ENABLE_DB_FUNCTIONS"] == "n"


@pytest.mark.parametrize("url", ["sqlite:///ledger.sqlite", "postgresql://fund@db/ledger"])
def test_tables_are_created_only_when_asked(url: str) -> None:
    assert eventsourcing_env(url)["CREATE_TABLE"] == "n"
    assert eventsourcing_env(url, create_table=True)["CREATE_TABLE"] == "y"


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "no scheme"),
        ("ledger.sqlite", "no scheme"),
        ("mysql://fund:s3cr%3At%40pw@db/ledger", "unsupported scheme 'mysql'"),
        ("sqlite://", "no file"),
        ("sqlite:///", "no file"),
        ("sqlite://host/ledger.sqlite", "no host"),
        ("sqlite:///ledger.sqlite?mode=ro", "no parameters"),
        ("postgresql://fund:s3cr%3At%40pw@db.example:5432/", "no database name"),
        ("postgresql://fund:s3cr%3At%40pw@db.example:5432", "no database name"),
        ("postgresql://fund:s3cr%3At%40pw@db.example/a/b", "no database name"),
        ("postgresql://:s3cr%3At%40pw@db.example/ledger", "no user name"),
        ("postgresql://db.example/ledger", "no user name"),
        ("postgresql://fund:s3cr%3At%40pw@/ledger", "no host"),
        ("postgresql://fund:s3cr%3At%40pw@db.example:port/ledger", "port"),
        ("postgresql://fund:s3cr%3At%40pw@db.example:70000/ledger", "port"),
        ("postgresql://fund@db/ledger?schema=Kameoka", "schema"),
        ("postgresql://fund@db/ledger?schema=a;drop", "schema"),
        ("postgresql://fund@db/ledger?schema=" + "a" * 64, "schema"),
        ("postgresql://fund@db/ledger?schema=a&schema=b", "given twice"),
        ("postgresql://fund@db/ledger?sslmode=require", "unknown parameter 'sslmode'"),
        ("postgresql://fund@db/ledger?password=s3cr%3At%40pw", "unknown parameter 'password'"),
        ("postgresql://fund@db/ledger?host=/run/pg", "host is given twice"),
        ("postgresql://fund@/ledger?host=run/pg", "absolute"),
        ("postgresql://fund@db/ledger?s3cr:t@pw", "unknown parameter (not a name)"),
        ("postgresql://fund:s3cr%3At%40pw@[::1/ledger", "not a URL"),
    ],
)
def test_unusable_url_is_refused_in_one_line_without_the_password(url: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        eventsourcing_env(url)
    message = str(raised.value)
    assert message.startswith("FUND_LEDGER_DATABASE_URL: ")
    assert problem in message
    assert "\n" not in message
    assert "s3cr" not in message
    assert "pw" not in message


@pytest.mark.parametrize(
    ("url", "label"),
    [
        (
            "postgresql://fund:s3cr%3At%40pw@db.example:5432/ledger?schema=k",
            "postgresql://fund:***@db.example:5432/ledger?schema=k",
        ),
        ("postgresql://fund:p@ss@db/ledger", "postgresql://fund:***@db/ledger"),
        ("postgresql://fund@db/ledger?password=pw", "postgresql://fund@db/ledger?password=***"),
        ("postgresql://fund@db/ledger", "postgresql://fund@db/ledger"),
        ("sqlite:////var/lib/fund/ledger.sqlite", "sqlite:////var/lib/fund/ledger.sqlite"),
        ("postgresql://fund:pw@[::1/ledger", "<unparseable database URL>"),
    ],
)
def test_database_label_masks_the_password(url: str, label: str) -> None:
    assert database_label(url) == label
