"""What a write only reads (its read versions) on the real recorders.

A batch may read an aggregate and later change it: the donor a donation reads, then a
correction of that donor. The donor's read version must not refuse the batch's own new event
of the donor (it did: the batch gave up after 16 attempts). And checking the read versions
must not cost a scan of the whole log (it did on PostgreSQL)."""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid4

import psycopg
import pytest
from psycopg.sql import SQL, Identifier

from ledger import commands as c
from ledger.donor import Donor
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from ledger.store.postgres import ChainedPostgresApplicationRecorder


def test_a_batch_that_reads_a_donor_then_corrects_it_records_both(database_url: str) -> None:
    ledger = FundLedger(env=eventsourcing_env(database_url))
    try:
        fund = ledger.execute(c.OpenFund("亀岡協働基金", "京都地域創造基金", 350), actor="t")
        donor_id = ledger.execute(
            c.RegisterDonor("individual", "山田 太郎", "ヤマダ タロウ", "621-0806", "亀岡市"),
            actor="t",
        ).aggregate_id
        before = ledger.recorder.max_notification_id() or 0

        donation, correction = ledger.execute_batch(
            [
                c.RecordDonation(
                    "gift-1", fund.aggregate_id, donor_id, 1_000, "cash", date(2026, 4, 1)
                ),
                c.CorrectDonor(donor_id, {"address": "京都府亀岡市余部町"}, "転居"),
            ],
            actor="t",
        )

        assert not donation.replayed
        assert not correction.replayed
        donor = ledger.get(donor_id)
        assert isinstance(donor, Donor)
        assert donor.address == "京都府亀岡市余部町"
        # the donation, the correction, the fund's movement
        assert (ledger.recorder.max_notification_id() or 0) - before == 3
    finally:
        ledger.close()


@pytest.mark.postgres
def test_a_write_checks_what_it_read_without_scanning_the_log(postgres_url: str) -> None:
    # Every write checks that the aggregates it only read (a donation's donor) have no newer
    # event. Checked by a join, PostgreSQL expected one of a fund's thousands of events to
    # match soon and scanned the whole log instead: 21-37 ms a write at 100,000 events, and
    # one-command writes fell from ~400/s to ~80/s. Each aggregate is now looked up by index.
    ledger = FundLedger(env=eventsourcing_env(postgres_url))
    recorder = ledger.recorder
    assert isinstance(recorder, ChainedPostgresApplicationRecorder)
    conninfo, _, schema = postgres_url.partition("?schema=")
    try:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(SQL("SET search_path = {0}").format(Identifier(schema)))
            # A log of 2,000 events, the history of 5 busy aggregates.
            connection.execute(
                "INSERT INTO stored_events (originator_id, originator_version, topic, state)"
                " SELECT ('00000000-0000-0000-0000-00000000000' || (v % 5))::uuid, v, 't', 'x'"
                " FROM generate_series(1, 2000) AS v"
            )
            connection.execute("ANALYZE stored_events")
            statement = recorder.insert_events_statement.as_string(connection)
            read = [UUID(int=3)], [400]
            new = [uuid4()], [1], ["topic"], [b"{}"]
            for plan_mode in ("force_custom_plan", "force_generic_plan"):  # prepared: generic
                connection.execute(f"SET plan_cache_mode = {plan_mode}")
                explain = f"EXPLAIN {statement.replace('%b', '%s')}"
                plan = "\n".join(row[0] for row in connection.execute(explain, (*new, *read)))
                assert "Seq Scan on stored_events" not in plan, plan
    finally:
        ledger.close()
