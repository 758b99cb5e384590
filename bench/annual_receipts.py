"""Annual-receipts benchmark: issue the annual receipts of a year for N donors, end to end.

Run `python -m bench.annual_receipts` (see `--help`). On a fresh database (a new PostgreSQL
schema, or a new SQLite file) it records one fund, N donors and 1–3 donations each (not
timed), then times `fund-ledger receipts annual` exactly as the CLI runs it: one scan of the
log, a pool of rendering processes, one writer numbering and saving the receipts in batches
and keeping their PDFs. Beside it, in the same run: a bare one-page reportlab PDF with the
same font and text (`bench.receipts`' baseline) and `render_annual_receipt` alone, each in
one process, so the end-to-end rate reads as a ratio of what one core renders. The bar: all
N receipts in under 3 minutes (N = 10,000 on a 2-core machine).

It also prints where the wall time went (the scan; the writer busy, or waiting for the
rendering processes) and the CPU each receipt cost in this process and in the rendering
processes, with the machine's load average: on a shared machine the CPU figures move less
than the wall time.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from api.annual_receipts import AnnualRun, issue_annual_receipts
from api.foundation import FoundationSettings
from api.receipt_documents import ensure_table
from bench.databases import BACKENDS, POSTGRES, POSTGRES_URL_DEFAULT, fresh_database
from bench.receipts import bare_page, rate_per_s, receipt_text
from ledger import commands as c
from ledger.service import FundLedger
from ledger.store import create_tables, eventsourcing_env
from projections.database import engine_for
from reports import render_annual_receipt
from reports.samples import sample_annual_receipt

WALL_S_MAX = 180.0
SETUP_BATCH = 1_000
YEAR = 2026


def seed(ledger: FundLedger, donor_count: int) -> int:
    """One fund, `donor_count` donors, 1–3 donations each in YEAR; the donations' count."""
    fund_id = ledger.execute(
        c.OpenFund("亀岡協働基金", "京都地域創造基金", 350), actor="b"
    ).aggregate_id
    ledger.execute(c.AddDesignation(fund_id, "hozugawa", "保津川の清掃"), actor="b")
    donors = [
        c.RegisterDonor(
            "individual" if i % 5 else "organisation",
            f"寄附者 {i:05d}",
            "キフシャ",
            "621-0806",
            f"京都府亀岡市余部町宝久保{i}番地",
        )
        for i in range(donor_count)
    ]
    donor_ids = []
    for start in range(0, donor_count, SETUP_BATCH):
        outcomes = ledger.execute_batch(donors[start : start + SETUP_BATCH], actor="b")
        donor_ids += [o.aggregate_id for o in outcomes]
    gifts = [
        c.RecordDonation(
            f"gift-{i}-{k}",
            fund_id,
            donor_id,
            3_000 + 1_000 * k,
            "bank_transfer",
            date(YEAR, 1 + (i + k) % 11, 1 + k * 9),
            "hozugawa" if k == 1 else None,
        )
        for i, donor_id in enumerate(donor_ids)
        for k in range(1 + i % 3)
    ]
    for start in range(0, len(gifts), SETUP_BATCH):
        ledger.execute_batch(gifts[start : start + SETUP_BATCH], actor="b")
    return len(gifts)


@dataclass(frozen=True)
class Issued:
    """One timed run of `issue_annual_receipts`, with the CPU its processes used."""

    run: AnnualRun
    wall_s: float
    files: int
    writer_cpu_s: float  # this process: the scan, the plan and the writer
    renderers_cpu_s: float  # the rendering processes, all together
    load_before: float  # the machine's 1-minute load average
    load_after: float


def issue_timed(ledger: FundLedger, database_url: str, workers: int) -> Issued:
    with tempfile.TemporaryDirectory(prefix="bench-annual-") as out:
        load_before = os.getloadavg()[0]
        self_before = _cpu_s(resource.RUSAGE_SELF)
        children_before = _cpu_s(resource.RUSAGE_CHILDREN)
        started_s = time.perf_counter()
        run = issue_annual_receipts(
            ledger,
            database_url,
            FoundationSettings().issuer(),
            YEAR,
            Path(out),
            actor="bench",
            workers=workers,
        )
        wall_s = time.perf_counter() - started_s
        return Issued(
            run=run,
            wall_s=wall_s,
            files=len(list(Path(out).glob("*.pdf"))),
            writer_cpu_s=_cpu_s(resource.RUSAGE_SELF) - self_before,
            renderers_cpu_s=_cpu_s(resource.RUSAGE_CHILDREN) - children_before,
            load_before=load_before,
            load_after=os.getloadavg()[0],
        )


def _cpu_s(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.annual_receipts", description=__doc__)
    parser.add_argument("--backend", choices=BACKENDS, default=POSTGRES)
    parser.add_argument("--postgres-url", default=POSTGRES_URL_DEFAULT)
    parser.add_argument("--donors", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="rendering processes")
    parser.add_argument("--count", type=int, default=100, help="PDFs per single-core rate")
    parser.add_argument("--check", action="store_true", help="exit 1 if the bar is missed")
    arguments = parser.parse_args(argv)

    bare = bare_page(receipt_text())
    annual_view = sample_annual_receipt(3)
    bare()
    render_annual_receipt(annual_view)  # warm-up: font registration
    bare_rate = rate_per_s(bare, arguments.count)
    annual_rate = rate_per_s(lambda: render_annual_receipt(annual_view), arguments.count)

    with fresh_database(arguments.backend, arguments.postgres_url, None) as database:
        create_tables(database.url)
        ledger = FundLedger(env=eventsourcing_env(database.url))
        engine = engine_for(database.url)
        ensure_table(engine)
        try:
            started_s = time.perf_counter()
            donation_count = seed(ledger, arguments.donors)
            setup_s = time.perf_counter() - started_s
            issued = issue_timed(ledger, database.url, arguments.workers)
        finally:
            engine.dispose()
            ledger.close()

    print(f"{arguments.donors:,} donors, {donation_count:,} donations ({arguments.backend});")
    print(f"setup (not timed) {setup_s:.0f} s; {arguments.workers} rendering processes\n")
    print(f"{'what':<46} {'PDFs/s':>8} {'ratio':>6}")
    print(f"{'bare reportlab page, 1 process':<46} {bare_rate:>8.1f} {1:>6.2f}")
    annual_label = "render_annual_receipt alone, 1 process"
    print(f"{annual_label:<46} {annual_rate:>8.1f} {annual_rate / bare_rate:>6.2f}")
    issued_rate = len(issued.run.issued) / issued.wall_s
    issued_label = "annual receipts issued end to end"
    print(f"{issued_label:<46} {issued_rate:>8.1f} {issued_rate / bare_rate:>6.2f}")
    print_phases(issued)
    passed = issued.wall_s < WALL_S_MAX and len(issued.run.issued) == arguments.donors
    passed = passed and issued.files == arguments.donors
    print(
        f"\nwall time {issued.wall_s:.1f} s for {len(issued.run.issued):,} receipts"
        f" ({issued.files:,} files, {issued.run.rendered_again} rendered again,"
        f" {len(issued.run.refused)} refused); bar < {WALL_S_MAX:.0f} s"
        f" {'met' if passed else 'MISSED'}"
    )
    return 1 if arguments.check and not passed else 0


def print_phases(issued: Issued) -> None:
    """Where the wall time went, and the CPU each receipt cost (which the load moves less)."""
    run, count = issued.run, max(len(issued.run.issued), 1)
    print(
        f"\nphases: scan and plan {run.scan_s:.1f} s; writer busy {run.writing_s:.1f} s,"
        f" waiting for rendered receipts {run.waiting_s:.1f} s"
    )
    print(
        f"CPU per receipt: writer process {1000 * issued.writer_cpu_s / count:.1f} ms,"
        f" rendering processes {1000 * issued.renderers_cpu_s / count:.1f} ms"
        f" (the database server's own not counted); load average"
        f" {issued.load_before:.1f} before, {issued.load_after:.1f} after"
    )


if __name__ == "__main__":
    raise SystemExit(main())
