"""For auditors: the journal search (電子帳簿保存法), the event log with its chain hashes, and
the chain verification."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from api.audit.verify_all import first_fault, verify_all
from api.cli.log import event_json, report_json
from api.http.deps import CaughtUp, Reader, ServicesDep
from api.http.routes.common import READ_PROBLEMS
from api.http.schemas import Page
from api.receipt_documents import issued_documents
from ledger.money import AMOUNT_YEN_MAX
from ledger.snapshots import verify_snapshots
from ledger.store import ChainedApplicationRecorder, verify_chain
from projections.journal_entries import PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, search_journal

router = APIRouter(prefix="/v1", tags=["audit"])
EVENTS_PAGE_SIZE_MAX = 1000
POSITION_MAX = 2**63 - 1
Amount = Annotated[int | None, Query(ge=0, le=AMOUNT_YEN_MAX)]


@router.get("/journal", responses=READ_PROBLEMS, dependencies=[CaughtUp])
def journal(
    reader: Reader,
    services: ServicesDep,
    fund_id: UUID | None = None,
    effective_from: Annotated[date | None, Query(alias="from")] = None,
    effective_to: Annotated[date | None, Query(alias="to")] = None,
    amount_min_yen: Amount = None,
    amount_max_yen: Amount = None,
    counterparty: Annotated[str | None, Query(max_length=200)] = None,
    after_position: Annotated[int, Query(ge=0, le=POSITION_MAX)] = 0,
    after_posting: Annotated[int | None, Query(ge=0, le=1000)] = None,
    page_size: Annotated[int, Query(ge=1, le=PAGE_SIZE_MAX)] = PAGE_SIZE_DEFAULT,
) -> Page:
    """Postings by effective-date range, amount range and counterparty (exact), combined as
    given, in log order, a page at a time."""
    rows = search_journal(
        services.engine,
        fund_id=fund_id,
        effective_from=effective_from,
        effective_to=effective_to,
        amount_min=amount_min_yen,
        amount_max=amount_max_yen,
        counterparty=counterparty,
        after_position=after_position,
        after_posting_index=after_posting,
        page_size=page_size,
    )
    items = [asdict(row) for row in rows]
    next_page = None
    if len(items) == page_size:
        last = items[-1]
        next_page = f"after_position={last['position']}&after_posting={last['posting_index']}"
    return Page(items=items, next=next_page)


@router.get("/events", responses=READ_PROBLEMS)
def events(
    reader: Reader,
    services: ServicesDep,
    after: Annotated[int, Query(ge=0, le=POSITION_MAX)] = 0,
    limit: Annotated[int, Query(ge=1, le=EVENTS_PAGE_SIZE_MAX)] = 100,
) -> Page:
    """The event log in order after a position, each event with its chain hash and the id of
    the HTTP request that wrote it (`X-Request-Id`; null for writes from the CLI)."""
    recorder = _recorder(services.ledger.recorder)
    notifications = recorder.select_notifications(after, limit, inclusive_of_start=False)
    hashes = dict(recorder.select_chain_rows(after, limit)) if notifications else {}
    last = notifications[-1].id if notifications else after
    request_ids = recorder.select_request_ids(after, last) if notifications else {}
    items = [
        {
            **event_json(n, services.ledger.mapper.to_domain_event(n), hashes.get(n.id)),  # type: ignore[arg-type]
            "request_id": request_ids.get(n.id),
        }
        for n in notifications
    ]
    full = len(items) == limit
    return Page(items=items, next=f"after={items[-1]['position']}" if full else None)


@router.get("/verify", responses=READ_PROBLEMS)
def verify(
    reader: Reader,
    services: ServicesDep,
    expected_head: Annotated[
        str | None,
        Query(max_length=64, description="A head hash published earlier: it must be in the chain."),
    ] = None,
    all_checks: Annotated[
        bool,
        Query(
            alias="all",
            description="Every check of `fund-ledger verify --all`: read models against a"
            " fresh rebuild, journal balance, receipts; one item each in `checks`.",
        ),
    ] = False,
) -> dict[str, Any]:
    """Walk the whole hash chain and check the funds' snapshots against their events: the
    count, the head, and the first fault if any (`fault` null when intact). With `all=true`,
    `checks` lists every check's status and `fault` names the first that failed."""
    if all_checks:
        checks = verify_all(
            services.ledger,
            services.engine,
            expected_head=expected_head,
            receipts=lambda: issued_documents(services.ledger, services.engine),
        )
        fault = first_fault(checks)
        return {
            "checks": [check.to_json() for check in checks],
            "fault": None if fault is None else fault.to_json(),
        }
    report = verify_chain(_recorder(services.ledger.recorder), expected_head=expected_head)
    answer = report_json(report)
    if report.fault is None:
        snapshots = verify_snapshots(services.ledger)
        answer["snapshots_verified"] = snapshots.snapshot_count
        if snapshots.fault is not None:
            answer["fault"] = {"position": None, "kind": "snapshot", "message": snapshots.fault}
    return answer


def _recorder(recorder: object) -> ChainedApplicationRecorder:
    assert isinstance(recorder, ChainedApplicationRecorder), "the ledger refuses any other"
    return recorder
