"""The stored event log: `init` creates its tables, `events` pages through it, `verify` walks
its hash chain (BRIEF rule 9) or checks a fund statement against it (`--statement`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from eventsourcing.domain import DomainEvent
from eventsourcing.persistence import Mapper, Notification

from api.audit.events_file import FileReport, verify_events_file
from api.audit.verify_all import Check, first_fault, verify_all
from api.cli import options
from api.cli.output import emit, to_json
from api.cli.projections import read_models
from api.cli.session import session_of
from api.cli.statement import verify_statement_file
from api.receipt_documents import issued_documents
from ledger.errors import InvalidInput
from ledger.snapshots import verify_snapshots
from ledger.store.verify import ChainReport, verify_chain

EVENTS_PAGE_SIZE_MAX = 1000
EVENTS_PAGE_SIZE_DEFAULT = 100
_ENVELOPE = ("originator_id", "originator_version", "timestamp")


def init(ctx: typer.Context, as_json: options.JsonFlag = False) -> None:
    """Create the ledger's tables (events, hash chain, snapshots, read models); safe to rerun."""
    session = session_of(ctx)
    head_position = session.initialise().recorder.max_notification_id() or 0
    payload = {"database": session.database, "head_position": head_position}
    emit(
        f"ledger ready: {session.database}, head at position {head_position}",
        payload,
        as_json=as_json,
    )


def events(
    ctx: typer.Context,
    after: Annotated[int, typer.Option("--after", min=0, help="Start after this position.")] = 0,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=EVENTS_PAGE_SIZE_MAX, help="Events in this page.")
    ] = EVENTS_PAGE_SIZE_DEFAULT,
    as_json: options.JsonFlag = False,
) -> None:
    """The log, a page at a time: position, time recorded, type, aggregate id, version."""
    session = session_of(ctx)
    recorder = session.recorder()
    mapper = session.ledger().mapper
    page = [
        (notification, _decoded(mapper, notification))
        for notification in recorder.select_notifications(after, limit, inclusive_of_start=False)
    ]
    if not as_json:
        for notification, event in page:
            typer.echo(event_line(notification, event))
        return
    hashes = dict(recorder.select_chain_rows(after, limit))
    rows = [
        event_json(notification, event, hashes.get(notification.id)) for notification, event in page
    ]
    typer.echo(to_json({"events": rows, "next_after": rows[-1]["position"] if rows else None}))


def _decoded(mapper: Mapper[UUID], notification: Notification) -> DomainEvent:
    event = mapper.to_domain_event(notification)
    assert isinstance(event, DomainEvent), "every ledger event is an aggregate event"
    return event


def event_line(notification: Notification, event: DomainEvent) -> str:
    return (
        f"{notification.id}  {event.timestamp.isoformat(timespec='seconds')}"
        f"  {event_type(notification)}  {event.originator_id}  v{event.originator_version}"
    )


def event_json(
    notification: Notification, event: DomainEvent, chain_hash: str | None
) -> dict[str, Any]:
    return {
        "position": notification.id,
        "recorded_at": event.timestamp.isoformat(),
        "type": event_type(notification),
        "aggregate_id": str(event.originator_id),
        "version": event.originator_version,
        "fields": {name: value for name, value in vars(event).items() if name not in _ENVELOPE},
        "chain_hash": chain_hash,
    }


def event_type(notification: Notification) -> str:
    """`ledger.donation:Donation.Recorded` → `Donation.Recorded`."""
    return notification.topic.rpartition(":")[2]


def verify(
    ctx: typer.Context,
    expect_head: Annotated[
        str | None,
        typer.Option(
            "--expect-head", help="A head hash published earlier; it must be in the chain."
        ),
    ] = None,
    all_checks: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also: read models against a fresh rebuild, journal balance, receipts.",
        ),
    ] = False,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file", help="Verify an `export events` file instead (no database).", dir_okay=False
        ),
    ] = None,
    head: Annotated[
        str | None, typer.Option("--head", help="With --file: a head hash published earlier.")
    ] = None,
    statement: Annotated[
        Path | None,
        typer.Option(
            "--statement",
            help="Verify a statement PDF's figures, range and chain hash against the ledger.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Recompute the hash chain over every event and check the funds' snapshots against
    their events: exit 0 if intact, 1 naming the first fault. `--all` runs every check,
    one line each; `--file FILE --head HASH` checks an exported log offline;
    `--statement FILE.pdf` checks a fund statement (as `statement verify FILE.pdf`)."""
    if statement is not None:
        if any(given is not None for given in (expect_head, file, head)) or all_checks:
            raise InvalidInput(
                "--statement", "checks one statement: --expect-head, --all, --file do not apply"
            )
        verify_statement_file(session_of(ctx).ledger(), statement, as_json=as_json)
        return
    if file is not None or head is not None:
        verify_file(file, head, expect_head=expect_head, all_checks=all_checks, as_json=as_json)
        return
    session = session_of(ctx)
    if all_checks:
        with read_models(session) as engine:
            ledger = session.ledger()
            checks = verify_all(
                ledger,
                engine,
                expected_head=expect_head,
                receipts=lambda: issued_documents(ledger, engine),
            )
        emit_checks(checks, as_json=as_json)
        return
    report = verify_chain(session.recorder(), expected_head=expect_head)
    if report.fault is None:
        snapshots = verify_snapshots(session.ledger())
        if snapshots.fault is not None:
            typer.echo(f"error: {snapshots.fault}", err=True)
            raise typer.Exit(1)
        line = (
            f"chain verified: {report.event_count} events,"
            f" head {report.head_hash} at position {report.head_position or 0};"
            f" {snapshots.snapshot_count} snapshots match their events"
        )
        data = {**report_json(report), "snapshots_verified": snapshots.snapshot_count}
        emit(line, data, as_json=as_json)
        return
    if as_json:
        typer.echo(to_json(report_json(report)))
    fault = report.fault
    typer.echo(
        f"error: chain broken at position {fault.position} ({fault.kind}): {fault.message}",
        err=True,
    )
    raise typer.Exit(1)


def report_json(report: ChainReport) -> dict[str, Any]:
    fault = report.fault
    return {
        "event_count": report.event_count,
        "head_position": report.head_position,
        "head_hash": report.head_hash,
        "fault": None
        if fault is None
        else {"position": fault.position, "kind": fault.kind, "message": fault.message},
    }


def emit_checks(checks: list[Check], *, as_json: bool) -> None:
    """One line per check (or one JSON object); exit 1 naming the first fault."""
    fault = first_fault(checks)
    if as_json:
        payload = {
            "checks": [check.to_json() for check in checks],
            "fault": None if fault is None else fault.to_json(),
        }
        typer.echo(to_json(payload))
    else:
        for check in checks:
            typer.echo(check.line)
    if fault is not None:
        typer.echo(f"error: {fault.name}: {fault.detail}", err=True)
        raise typer.Exit(1)
    if not as_json:
        passed = sum(check.status == "ok" for check in checks)
        skipped = len(checks) - passed
        tail = f", {skipped} skipped" if skipped else ""
        typer.echo(f"verified: {passed} checks passed{tail}")


def verify_file(
    file: Path | None, head: str | None, *, expect_head: str | None, all_checks: bool, as_json: bool
) -> None:
    """`verify --file FILE --head HASH`: an exported log checked without any database."""
    if file is None or head is None:
        raise InvalidInput("--file", "--file FILE and --head HASH go together")
    if expect_head is not None or all_checks:
        raise InvalidInput("--file", "checks a file alone: --expect-head and --all do not apply")
    try:
        with file.open(encoding="utf-8") as lines:
            report = verify_events_file(lines, head)
    except FileNotFoundError:
        raise InvalidInput("--file", f"no such file: {file}") from None
    except UnicodeDecodeError:
        raise InvalidInput("--file", f"{file} is not UTF-8 text: not an events export") from None
    payload = file_report_json(report)
    if report.fault is None:
        line = (
            f"file verified: {report.event_count} events, head {report.head_hash} at position"
            f" {report.head_position or 0}; the given head is at position"
            f" {report.expected_head_position}"
        )
        emit(line, payload, as_json=as_json)
        return
    if as_json:
        typer.echo(to_json(payload))
    fault = report.fault
    where = f"line {fault.line_number}" if fault.line_number else "head"
    typer.echo(f"error: {file}: {where} ({fault.kind}): {fault.message}", err=True)
    raise typer.Exit(1)


def file_report_json(report: FileReport) -> dict[str, Any]:
    fault = report.fault
    return {
        "event_count": report.event_count,
        "head_position": report.head_position,
        "head_hash": report.head_hash,
        "expected_head_position": report.expected_head_position,
        "fault": None
        if fault is None
        else {"line": fault.line_number, "kind": fault.kind, "message": fault.message},
    }
