"""Issue the annual receipts of a calendar year for every donor who gave in it.

One writer numbers them (the ledger's gapless sequence); a pool of processes renders them.
From one scan of the log (`api.annual_scan`) the plan predicts the facts each receipt will
have, its number too (counting on from the year's newest). The pool renders those documents
ahead of the writer, keeps their bytes (content-addressed, `api.receipt_documents`) and
writes each to a pending file; the writer then issues a batch of receipts whose printer
hands back the prerendered digest when the facts the ledger settles on are exactly the
predicted ones (`DocumentPrinter.prerendered`), and moves the pending files into place.
Should anything differ (another issuer took a number meanwhile, a donor's address was
corrected), the writer renders that document itself and the pending files of the chunk are
dropped: slower, never wrong.

A donor who already holds a valid annual receipt for the year is not issued another: its
kept document is written out beside the new ones.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import UUID

from sqlalchemy.engine import Engine

from api import receipt_documents
from api.annual_scan import YearScan, scan_year
from api.receipt_views import DocumentPrinter, find_receipt, render_facts
from ledger.commands import IssueAnnualReceipt
from ledger.errors import LedgerError
from ledger.receipt import (
    ANNUAL,
    Receipt,
    ReceiptFacts,
    base_number,
    last_sequence,
    receipt_id,
    receipt_number,
)
from ledger.service import FundLedger
from projections.database import engine_for
from reports import IssuerView

CHUNK_SIZE = 100  # receipts per write (one atomic batch)
# Receipts per rendering job (one transaction keeping their bytes): 25 keep ~15% faster than
# 10 (fewer commits, each a WAL flush), and a chunk is then two jobs for each of two processes.
JOB_SIZE = 25
CHUNKS_IN_FLIGHT = 3
_worker_engines: dict[str, Engine] = {}  # per rendering process: its engine on the database


@dataclass
class AnnualRun:
    issued: list[str] = field(default_factory=list)  # numbers
    already_issued: list[str] = field(default_factory=list)
    refused: list[tuple[UUID, str]] = field(default_factory=list)  # donor, why
    rendered_again: int = 0  # predictions that missed
    scan_s: float = 0.0  # reading the log and planning
    waiting_s: float = 0.0  # the writer waiting for the pool's documents
    writing_s: float = 0.0  # the writer numbering and saving receipts, moving their files


@dataclass(frozen=True)
class _Planned:
    donor_id: UUID
    facts: ReceiptFacts


def plan(ledger: FundLedger, scan: YearScan, today: date) -> tuple[list[_Planned], list[str]]:
    """The receipts to issue (with predicted facts), and the valid ones already issued."""
    already, planned = [], []
    sequence = _last_sequence(ledger, today.year)
    for donor_id, lines in scan.lines_by_donor().items():
        annuals = scan.annuals.get(donor_id, {})
        valid = [number for number, is_valid in annuals.items() if is_valid]
        if valid:
            already.append(valid[0])
            continue
        replaces = list(annuals)[-1] if annuals else None  # the newest voided one
        if replaces is None:
            sequence += 1
            number = receipt_number(today.year, sequence)
        else:  # a replacement takes the next suffix, not a number
            suffix = 1 + max(_suffix(n) for n in annuals if base_number(n) == base_number(replaces))
            number = f"{base_number(replaces)}-{suffix}"
        donor = scan.donors[donor_id]
        facts = ReceiptFacts(
            number=number,
            kind=ANNUAL,
            issued_on=today,
            donor_kind=donor["kind"],
            donor_name=donor["name"],
            donor_postal_code=donor["postal_code"],
            donor_address=donor["address"],
            tax_year=scan.year,
            lines=tuple(lines),
            reissue=replaces is not None,
            replaces_number=replaces,
        )
        planned.append(_Planned(donor_id, facts))
    return planned, already


def _suffix(number: str) -> int:
    return int(number.rsplit("-", 1)[1]) if number.count("-") == 2 else 1


def _last_sequence(ledger: FundLedger, year: int) -> int:
    return last_sequence(
        lambda sequence: ledger.get(receipt_id(receipt_number(year, sequence))) is not None, year
    )


def issue_annual_receipts(
    ledger: FundLedger,
    database_url: str,
    issuer: IssuerView,
    year: int,
    out_dir: Path,
    *,
    actor: str,
    workers: int = 2,
    on_progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> AnnualRun:
    """Issue every missing annual receipt of `year`; write every valid one to `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    started_s = time.perf_counter()
    planned, already = plan(ledger, scan_year(ledger, year), ledger.today())
    run = AnnualRun(already_issued=already, scan_s=time.perf_counter() - started_s)
    total = len(planned) + len(already)
    engine = engine_for(database_url)
    try:
        for number in already:
            sha256 = find_receipt(ledger, number).sha256
            _write(out_dir, number, receipt_documents.fetch(engine, sha256))
        on_progress(len(already), total)
        chunks = [planned[i : i + CHUNK_SIZE] for i in range(0, len(planned), CHUNK_SIZE)]
        writer = _Writer(ledger, engine, issuer, out_dir, actor, run)
        context = multiprocessing.get_context("spawn")  # never fork a process holding a pool
        with ProcessPoolExecutor(max_workers=max(workers, 1), mp_context=context) as pool:
            for chunk, digests in _rendered(pool, chunks, issuer, database_url, out_dir, run):
                started_s = time.perf_counter()
                writer.issue(year, chunk, digests)
                run.writing_s += time.perf_counter() - started_s
                on_progress(len(already) + len(run.issued) + len(run.refused), total)
    finally:
        engine.dispose()
    return run


def render_and_keep(
    facts: Sequence[ReceiptFacts], issuer: IssuerView, database_url: str, out_dir: Path
) -> list[str]:
    """In a rendering process: render, keep the bytes, write each to its pending file."""
    engine = _worker_engines.get(database_url)
    if engine is None:
        engine = _worker_engines[database_url] = engine_for(database_url)
    documents = [render_facts(f, issuer) for f in facts]
    digests = receipt_documents.keep(engine, documents)
    for f, document in zip(facts, documents, strict=True):
        _pending(out_dir, f.number).write_bytes(document)
    return digests


def _rendered(
    pool: ProcessPoolExecutor,
    chunks: Sequence[list[_Planned]],
    issuer: IssuerView,
    database_url: str,
    out_dir: Path,
    run: AnnualRun,
) -> Iterator[tuple[list[_Planned], list[str]]]:
    """Each chunk with its digests, rendered ahead in the pool (a bounded number ahead); the
    time spent waiting for them is added to `run.waiting_s`."""
    in_flight: deque[tuple[list[_Planned], list[Future[list[str]]]]] = deque()
    pending = iter(chunks)
    while True:
        while len(in_flight) < CHUNKS_IN_FLIGHT:
            chunk = next(pending, None)
            if chunk is None:
                break
            jobs = [
                [p.facts for p in chunk[i : i + JOB_SIZE]] for i in range(0, len(chunk), JOB_SIZE)
            ]
            futures = [pool.submit(render_and_keep, j, issuer, database_url, out_dir) for j in jobs]
            in_flight.append((chunk, futures))
        if not in_flight:
            return
        chunk, futures = in_flight.popleft()
        started_s = time.perf_counter()
        digests = [digest for future in futures for digest in future.result()]
        run.waiting_s += time.perf_counter() - started_s
        yield chunk, digests


@dataclass
class _Writer:
    ledger: FundLedger
    engine: Engine
    issuer: IssuerView
    out_dir: Path
    actor: str
    run: AnnualRun

    def issue(self, year: int, chunk: list[_Planned], digests: list[str]) -> None:
        prerendered = {p.facts: d for p, d in zip(chunk, digests, strict=True)}
        printer = DocumentPrinter(self.engine, self.issuer, prerendered)
        commands = [
            IssueAnnualReceipt(
                p.donor_id, year, tuple(line.donation_id for line in p.facts.lines), printer
            )
            for p in chunk
        ]
        try:
            outcomes = self.ledger.execute_batch(commands, actor=self.actor)
        except LedgerError:  # one of them is refused: issue the others one by one
            outcomes = []
            for planned, command in zip(chunk, commands, strict=True):
                try:
                    outcomes.append(self.ledger.execute(command, actor=self.actor))
                except LedgerError as error:
                    self.run.refused.append((planned.donor_id, error.message))
        numbers = [p.facts.number for p in chunk]
        if printer.misses == 0 and len(outcomes) == len(chunk):
            for number in numbers:  # every receipt is exactly as predicted
                _pending(self.out_dir, number).replace(self.out_dir / f"{number}.pdf")
                self.run.issued.append(number)
            return
        for number in numbers:
            _pending(self.out_dir, number).unlink(missing_ok=True)
        self.run.rendered_again += printer.misses
        for outcome in outcomes:  # ask the ledger what was issued
            receipt = self.ledger.get(outcome.aggregate_id)
            assert isinstance(receipt, Receipt), outcome
            _write(
                self.out_dir, receipt.number, receipt_documents.fetch(self.engine, receipt.sha256)
            )
            self.run.issued.append(receipt.number)


def _pending(out_dir: Path, number: str) -> Path:
    return out_dir / f".pending-{number}.pdf"


def _write(out_dir: Path, number: str, document: bytes) -> None:
    (out_dir / f"{number}.pdf").write_bytes(document)
