"""Crash safety (issue 3): a projector process killed with SIGKILL in the middle of its work
loses nothing and applies nothing twice — after a restart the read models equal a rebuild.

Real processes of the console script, on both databases.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import UTC, datetime

from ledger import commands as c
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from projections import runner
from projections.catalogue import all_projectors, create_read_models
from projections.database import engine_for
from tests.e2e.test_cli import CONSOLE_SCRIPT
from tests.integration.givens import donation, fund_and_donor
from tests.integration.test_projections import dump

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
BATCHES = 5
DONATIONS_PER_BATCH = 100
KILL_TIMEOUT_S = 60


def _ledger_with_history(database_url: str) -> tuple[FundLedger, int]:
    """About five hundred events: donations in batches, then some refunds."""
    ledger = FundLedger(env=eventsourcing_env(database_url), clock=lambda: NOW)
    fund_id, donor_id = fund_and_donor(ledger)
    donation_ids = []
    for batch in range(BATCHES):
        donations = [
            donation(f"d{batch}-{n}", fund_id, donor_id, 1_000 + n)
            for n in range(DONATIONS_PER_BATCH)
        ]
        donation_ids += [o.aggregate_id for o in ledger.execute_batch(donations, actor="t")]
    for n, donation_id in enumerate(donation_ids[::50]):
        ledger.execute(c.RefundDonation(f"r{n}", donation_id, 500, "申し出"), actor="t")
    head = ledger.recorder.max_notification_id() or 0
    return ledger, head


def test_projector_killed_mid_run_resumes_without_losing_or_doubling_an_event(
    database_url: str,
) -> None:
    ledger, head = _ledger_with_history(database_url)
    create_read_models(database_url)
    engine = engine_for(database_url)
    environment = {**os.environ, "FUND_LEDGER_DATABASE_URL": database_url}
    command = [str(CONSOLE_SCRIPT), "project", "--batch-size", "7"]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + KILL_TIMEOUT_S
        while not 0 < min(runner.tracked_positions(engine).values() or [0]) < head // 2:
            assert time.monotonic() < deadline, "the projector never got going"
            assert process.poll() is None, process.stderr
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=KILL_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    killed_at = min(runner.tracked_positions(engine).values())
    assert 0 < killed_at < head, "the kill must land in the middle of the log"

    runner.catch_up(ledger, engine, all_projectors())
    live = dump(engine)
    runner.rebuild(ledger, engine, all_projectors())

    assert dump(engine) == live
    assert set(runner.tracked_positions(engine).values()) == {head}
    engine.dispose()
    ledger.close()
