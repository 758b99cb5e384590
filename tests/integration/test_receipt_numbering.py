"""Receipt numbers under concurrency: many issuers at once, each its own `FundLedger` (its own
connection pool, like separate API workers), started together on a barrier. The numbers of
the year come out unique and gapless (1..N), each donation has exactly one receipt, and the
race was real (some issuers were refused a number another took, and retried)."""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from uuid import UUID

from ledger import commands as c
from ledger.receipt import Receipt, ReceiptFacts
from ledger.service import FundLedger
from ledger.store import create_tables, eventsourcing_env
from tests.integration.givens import donation, fund_and_donor

ISSUER_COUNT = 8
RECEIPTS_PER_ISSUER = 6
NOW_UTC = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
BARRIER_TIMEOUT_S = 60


class CountingPrinter:
    """Hashes the facts; counts the documents printed (one per attempt, retries included)."""

    def __init__(self) -> None:
        self.count = 0
        self._lock = threading.Lock()

    def print_document(self, facts: ReceiptFacts) -> str:
        with self._lock:
            self.count += 1
        return hashlib.sha256(json.dumps(facts.to_json(), sort_keys=True).encode()).hexdigest()


def new_ledger(url: str) -> FundLedger:
    return FundLedger(env=eventsourcing_env(url), clock=lambda: NOW_UTC)


def test_concurrent_issuers_get_unique_gapless_numbers(database_url: str) -> None:
    create_tables(database_url)
    setup = new_ledger(database_url)
    fund_id, _ = fund_and_donor(setup)
    count = ISSUER_COUNT * RECEIPTS_PER_ISSUER
    donors = [
        c.RegisterDonor("individual", f"寄附者 {i}", "キフシャ", "621-0806", "亀岡市")
        for i in range(count)
    ]
    donor_ids = [o.aggregate_id for o in setup.execute_batch(donors, actor="t")]
    gifts = [donation(f"gift-{i}", fund_id, d, 1_000 + i) for i, d in enumerate(donor_ids)]
    donation_ids = [o.aggregate_id for o in setup.execute_batch(gifts, actor="t")]
    printer = CountingPrinter()
    barrier = threading.Barrier(ISSUER_COUNT, timeout=BARRIER_TIMEOUT_S)

    def issuer(share: list[UUID]) -> list[str]:
        ledger = new_ledger(database_url)
        try:
            barrier.wait()
            outcomes = [
                ledger.execute(c.IssueReceipt(donation_id, printer), actor="issuer")
                for donation_id in share
            ]
            return [ledger.get(o.aggregate_id).number for o in outcomes]
        finally:
            ledger.close()

    shares = [donation_ids[i::ISSUER_COUNT] for i in range(ISSUER_COUNT)]
    with ThreadPoolExecutor(ISSUER_COUNT) as pool:
        numbers = [n for result in pool.map(issuer, shares) for n in result]

    expected = [f"2026-{sequence:06d}" for sequence in range(1, count + 1)]
    assert sorted(numbers) == expected
    issued = [
        setup.mapper.to_domain_event(n)
        for n in setup.recorder.select_notifications(1, 100_000)
        if n.topic.endswith("Receipt.Issued")
    ]
    assert sorted(e.number for e in issued if isinstance(e, Receipt.Issued)) == expected
    covered = sorted(line["donation_id"] for e in issued for line in e.facts["lines"])
    assert covered == sorted(d.hex for d in donation_ids)
    assert printer.count > count, "no issuer ever lost a number to another: no race happened"
    setup.close()
