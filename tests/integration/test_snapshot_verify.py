"""Fund snapshots sit outside the hash chain, so verify replays the events to check them.

Tampering is raw SQL on the snapshots table, on both databases.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import psycopg

from ledger.service import FUND_SNAPSHOT_INTERVAL, FundLedger
from ledger.snapshots import verify_snapshots
from ledger.store import eventsourcing_env
from tests.integration.givens import donation, fund_and_donor

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)


def _fund_with_a_snapshot(database_url: str) -> tuple[FundLedger, UUID]:
    """A fund whose events pass the snapshot interval once."""
    ledger = FundLedger(env=eventsourcing_env(database_url), clock=lambda: NOW)
    fund_id, donor_id = fund_and_donor(ledger)
    for n in range(FUND_SNAPSHOT_INTERVAL):  # each save posts one fund event
        ledger.execute(donation(f"d{n}", fund_id, donor_id, 1_000 + n), actor="t")
    return ledger, fund_id


def _raw(database_url: str, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    env = eventsourcing_env(database_url)
    if env["PERSISTENCE_MODULE"] == "eventsourcing.sqlite":
        with sqlite3.connect(env["SQLITE_DBNAME"], isolation_level=None) as connection:
            sql = statement.format(table="stored_snapshots").replace("%s", "?")
            return list(connection.execute(sql, params).fetchall())
    with psycopg.connect(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        autocommit=True,
    ) as connection:
        table = f"{env['POSTGRES_SCHEMA']}.fundledger_snapshots"
        cursor = connection.execute(statement.format(table=table), params)
        return [] if cursor.description is None else list(cursor.fetchall())


def _tamper_with_cash(database_url: str) -> None:
    [(version, state)] = _raw(database_url, "SELECT originator_version, state FROM {table}")
    data = json.loads(bytes(state))
    data["state"]["cash_yen"]["general"] += 1_000_000
    forged = json.dumps(data, separators=(",", ":")).encode()
    _raw(
        database_url,
        "UPDATE {table} SET state = %s WHERE originator_version = %s",
        (forged, version),
    )


def test_untouched_snapshots_match_their_events(database_url: str) -> None:
    ledger, _ = _fund_with_a_snapshot(database_url)

    report = verify_snapshots(ledger)

    assert report.fault is None
    assert report.snapshot_count == 1


def test_snapshot_with_altered_balances_is_reported(database_url: str) -> None:
    ledger, fund_id = _fund_with_a_snapshot(database_url)

    _tamper_with_cash(database_url)
    report = verify_snapshots(ledger)

    assert report.fault is not None
    assert str(fund_id) in report.fault
    assert f"version {FUND_SNAPSHOT_INTERVAL}" in report.fault


def test_snapshot_forged_beyond_the_last_event_is_reported(database_url: str) -> None:
    ledger, fund_id = _fund_with_a_snapshot(database_url)
    [(topic, state)] = _raw(database_url, "SELECT topic, state FROM {table}")
    beyond = FUND_SNAPSHOT_INTERVAL + 50
    _raw(
        database_url,
        "INSERT INTO {table} (originator_id, originator_version, topic, state)"
        " VALUES (%s, %s, %s, %s)",
        (fund_id.hex if "sqlite" in database_url else fund_id, beyond, topic, bytes(state)),
    )

    report = verify_snapshots(ledger)

    assert report.fault is not None
    assert f"version {beyond} is beyond" in report.fault


def test_a_fund_loaded_cold_from_its_snapshot_has_the_balances_of_all_its_events(
    database_url: str,
) -> None:
    writer, fund_id = _fund_with_a_snapshot(database_url)
    expected_cash = sum(n - n * 350 // 10_000 for n in range(1_000, 1_000 + FUND_SNAPSHOT_INTERVAL))
    assert _raw(database_url, "SELECT originator_version FROM {table}") == [
        (FUND_SNAPSHOT_INTERVAL,)
    ]

    cold = FundLedger(env=eventsourcing_env(database_url), clock=lambda: NOW)
    fund = cold.get(fund_id)

    assert fund.version == FUND_SNAPSHOT_INTERVAL + 1
    assert fund.cash_yen["general"] == expected_cash
    writer.close()
    cold.close()
