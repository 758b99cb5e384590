"""The read models' engine: same database as the events, PostgreSQL schema as search_path,
no password in any error, and `:memory:` read models of their own."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import sqlalchemy.exc

from ledger.errors import ConfigurationError
from projections.catalogue import check_read_model_tables, create_read_model_tables
from projections.database import engine_for
from projections.tables import projection_tracking

PASSWORD = "s3cret-pa55"


def test_postgres_read_models_live_in_the_urls_schema(postgres_url: str) -> None:
    schema = postgres_url.rpartition("schema=")[2]
    engine = engine_for(postgres_url)
    try:
        create_read_model_tables(engine)
        inspector = sa.inspect(engine)
        assert inspector.has_table("journal_postings", schema=schema)
        assert inspector.has_table("stored_events", schema=schema), "beside the events"
        assert not inspector.has_table("journal_postings", schema="public")
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW lock_timeout").scalar() == "30s"
    finally:
        engine.dispose()


def test_sqlite_read_models_live_in_the_events_file(sqlite_url: str) -> None:
    engine = engine_for(sqlite_url)
    try:
        create_read_model_tables(engine)
        assert {"stored_events", "fund_balance_pots"} <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_an_unreachable_postgres_never_shows_the_password() -> None:
    engine = engine_for(f"postgresql://ledger:{PASSWORD}@127.0.0.1:1/nowhere?schema=s")
    try:
        with pytest.raises(sqlalchemy.exc.OperationalError) as raised:
            engine.connect()
        assert PASSWORD not in str(raised.value)
        assert PASSWORD not in repr(engine.url)
    finally:
        engine.dispose()


def test_a_bad_url_is_refused_like_the_ledger_refuses_it() -> None:
    with pytest.raises(ConfigurationError, match="unsupported scheme") as raised:
        engine_for(f"mysql://ledger:{PASSWORD}@host/db")
    assert PASSWORD not in str(raised.value)


def test_memory_read_models_are_private_and_work() -> None:
    engine = engine_for("sqlite:///:memory:")
    try:
        with pytest.raises(ConfigurationError, match="run `fund-ledger init`"):
            check_read_model_tables(engine, "memory")
        create_read_model_tables(engine)
        check_read_model_tables(engine, "memory")
        with engine.connect() as connection:
            assert connection.execute(sa.select(projection_tracking)).all() == []
    finally:
        engine.dispose()
