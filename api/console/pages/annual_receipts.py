"""Annual receipts (年間寄附金受領証明書) in the console: an administrator issues a calendar
year's for every donor who gave in it and holds none yet (as `fund-ledger receipts annual`
does), then downloads every valid one of the year as one ZIP of the PDFs as issued.

Issuing runs `api.annual_receipts.issue_annual_receipts` (a pool of processes renders, one
writer numbers) into a temporary directory that is thrown away: the documents that count
are the ones kept with the receipts. A run is idempotent by nature (a donor with a valid
annual receipt for the year gets no other), so its form needs no idempotency key; runs of
this process take turns, so a double submit waits and then issues nothing.

Listing a year's annual receipts (`valid_annual_receipts`) reads the log filtered to the
receipt-index events (`DonorReceipts.Added` / `Withdrawn`), never a read model (so it is never
behind the run that issued them), and neither loads every donor's index nor decodes every
event as the annual scan (`api.annual_scan`) does. Cost: one pass in pages of 1,000; the
events table has no index on the topic, so the database still walks every row by position,
but only the receipt-index events (one per receipt issued, one per void, all years) are sent
and decoded; then one aggregate load per listed receipt for its document's digest. Measured
on PostgreSQL with 30,000 events (10,000 donors, 20,000 donations, no receipts): 0.03–0.07 s,
where `scan_year` takes 2.5–5 s.

The ZIP is written into a `SpooledTemporaryFile` (in memory up to 16 MiB, then on disk), one
document at a time, and streamed from there: memory stays bounded however large the year.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from tempfile import SpooledTemporaryFile, TemporaryDirectory
from typing import IO, Annotated, Any

from eventsourcing.utils import get_topic
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import Field, StrictInt
from sqlalchemy.engine import Engine

from api import receipt_documents
from api.annual_receipts import issue_annual_receipts
from api.console.forms import FormErrors, parse
from api.console.pages.common import principal_of
from api.console.pages.receipts import NO_STORE, issuer, receipts_page
from api.console.routing import AdminForm, ConsoleRefused, ConsoleRoute, Staff, services_of
from api.console.web import CONSOLE_PREFIX, render
from api.http.schemas import Request as RequestBody
from api.receipt_views import find_receipt
from ledger.handlers.receipts import YEAR_MAX, YEAR_MIN
from ledger.receipt import ANNUAL, DonorReceipts
from ledger.service import FundLedger

router = APIRouter(prefix=CONSOLE_PREFIX, route_class=ConsoleRoute, include_in_schema=False)
CountQuery = Annotated[int | None, Query(ge=0, le=10**7)]
RENDERING_WORKERS = 2
LOG_PAGE_SIZE = 1_000
ZIP_RECEIPTS_MAX = 20_000  # beyond this, `fund-ledger receipts annual --out DIR`
ZIP_IN_MEMORY_BYTES_MAX = 16 * 1024 * 1024
ZIP_CHUNK_BYTES = 256 * 1024
SHOWN_MAX = 200  # receipts listed on the year's page (the ZIP has them all)
_LISTED_TOPICS = [get_topic(DonorReceipts.Added), get_topic(DonorReceipts.Withdrawn)]
_ONE_RUN_AT_A_TIME = threading.Lock()


class AnnualReceiptsForm(RequestBody):
    year: StrictInt = Field(ge=YEAR_MIN, le=YEAR_MAX)


@dataclass(frozen=True)
class AnnualListed:
    number: str
    amount_yen: int
    issued_on: date


def valid_annual_receipts(ledger: FundLedger, year: int) -> list[AnnualListed]:
    """The valid annual receipts of tax year `year`, by number (see the module's docstring)."""
    found: dict[str, AnnualListed] = {}
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start, LOG_PAGE_SIZE, topics=_LISTED_TOPICS)
        for notification in page:
            event = ledger.mapper.to_domain_event(notification)
            if isinstance(event, DonorReceipts.Added):
                if event.kind == ANNUAL and event.tax_year == year:
                    found[event.number] = AnnualListed(
                        event.number, event.amount_yen, event.issued_on
                    )
            elif isinstance(event, DonorReceipts.Withdrawn):
                found.pop(event.number, None)
        if len(page) < LOG_PAGE_SIZE:
            return sorted(found.values(), key=lambda listed: listed.number)
        start = page[-1].id + 1


@router.post("/receipts/annual")
def issue_annual(request: Request, submission: AdminForm) -> Response:
    """Issue the year's missing annual receipts; then the year's page with what was done.
    The request lasts as long as the run (`python -m bench.annual_receipts`: 10,000 donors
    in under 3 minutes on 2 cores)."""
    parsed = parse(AnnualReceiptsForm, submission.fields, amounts=("year",))
    if parsed.model is None:
        return _refused(request, submission.staff, parsed.errors, submission.fields)
    year = parsed.model.year
    services = services_of(request)
    with _ONE_RUN_AT_A_TIME, TemporaryDirectory(prefix="annual-receipts-") as out_dir:
        run = issue_annual_receipts(
            services.ledger,
            services.settings.database_url,
            issuer(),
            year,
            Path(out_dir),
            actor=principal_of(submission).name,
            workers=RENDERING_WORKERS,
        )
    if not (run.issued or run.already_issued or run.refused):
        errors = FormErrors(problem_type="nothing-to-receipt")
        errors.add("year", f"{year}年に寄附のある寄附者がいません。発行する証明書はありません。")
        return _refused(request, submission.staff, errors, submission.fields)
    counts = f"issued={len(run.issued)}&already={len(run.already_issued)}"
    target = f"{CONSOLE_PREFIX}/receipts/annual?year={year}&{counts}&refused={len(run.refused)}"
    return RedirectResponse(target, status_code=303)


@router.get("/receipts/annual")
def show_annual(
    request: Request,
    staff: Staff,
    year: Annotated[int, Query(ge=YEAR_MIN, le=YEAR_MAX)],
    issued: CountQuery = None,
    already: CountQuery = None,
    refused: CountQuery = None,
) -> Response:
    """A year's valid annual receipts, with the ZIP's link (after a run: what it did)."""
    ledger = services_of(request).ledger
    listed = valid_annual_receipts(ledger, year)
    shown = [(item, find_receipt(ledger, item.number).current_facts) for item in listed[:SHOWN_MAX]]
    return render(
        request,
        "receipts_annual.html",
        staff,
        year=year,
        count=len(listed),
        total_yen=sum(item.amount_yen for item in listed),
        shown=shown,
        run=None if issued is None else {"issued": issued, "already": already, "refused": refused},
        zip_max=ZIP_RECEIPTS_MAX,
    )


@router.get("/receipts/annual/{year}.zip")
def download_annual_zip(request: Request, year: int, staff: Staff) -> Response:
    """Every valid annual receipt of `year`, as issued, in one ZIP (`{number}.pdf` each)."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        raise ConsoleRefused(404, "お探しのページは見つかりません。")
    services = services_of(request)
    listed = valid_annual_receipts(services.ledger, year)
    if not listed:
        raise ConsoleRefused(404, f"{year}年の有効な年間受領証明書はありません。")
    if len(listed) > ZIP_RECEIPTS_MAX:
        raise ConsoleRefused(
            413,
            f"{year}年の年間受領証明書は{len(listed):,}件あり、一度にまとめられる"
            f"{ZIP_RECEIPTS_MAX:,}件を超えています。"
            "コマンド fund-ledger receipts annual を使ってください。",
        )
    spool, size_bytes = _zip_of(services.ledger, services.engine, listed)
    headers = {
        "Content-Disposition": f'attachment; filename="annual-receipts-{year}.zip"',
        "Content-Length": str(size_bytes),
        **NO_STORE,
    }
    return StreamingResponse(_chunks(spool), media_type="application/zip", headers=headers)


def _zip_of(
    ledger: FundLedger, engine: Engine, listed: list[AnnualListed]
) -> tuple[IO[bytes], int]:
    """The ZIP in a spooled file (rewound), and its size. The PDFs are stored as they are
    (already compressed), each entry dated its receipt's issue day: the same receipts give
    the same bytes."""
    # Not a `with`: the open file goes on to the response, which closes it (`_chunks`).
    spool: IO[bytes] = SpooledTemporaryFile(max_size=ZIP_IN_MEMORY_BYTES_MAX)  # noqa: SIM115
    try:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
            for item in listed:
                sha256 = find_receipt(ledger, item.number).sha256
                day = item.issued_on
                entry = zipfile.ZipInfo(
                    f"{item.number}.pdf", (day.year, day.month, day.day, 0, 0, 0)
                )
                archive.writestr(entry, receipt_documents.fetch(engine, sha256))
        size_bytes = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool, size_bytes


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    try:
        while chunk := spool.read(ZIP_CHUNK_BYTES):
            yield chunk
    finally:
        spool.close()


def _refused(request: Request, staff: Any, errors: FormErrors, values: dict[str, str]) -> Response:
    return receipts_page(request, staff, annual_errors=errors, annual_values=values, status=422)
