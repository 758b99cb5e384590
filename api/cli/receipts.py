"""`fund-ledger receipts …`: issue, reprint, void and download receipts (寄附金受領証明書).

    fund-ledger receipts issue --donation ID [--reissue] [--out FILE]
    fund-ledger receipts void NUMBER --reason TEXT
    fund-ledger receipts annual --year 2026 --out DIR [--workers 2]
    fund-ledger receipts show NUMBER --out FILE
    fund-ledger receipts list --donor ID

A receipt's PDF is kept when it is issued; `show` writes those exact bytes again. `void`
voids a receipt issued wrongly: the next `issue` for its donation (or the next `annual` run)
gives the replacement, numbered with the next suffix (-2, -3) and marked 再発行.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from sqlalchemy.engine import Engine

from api.annual_receipts import issue_annual_receipts
from api.cli import options
from api.cli.output import emit
from api.cli.session import Session, session_of
from api.foundation import FoundationSettings
from api.receipt_views import (
    DocumentPrinter,
    donor_receipts,
    receipt_document,
    receipt_summary,
)
from ledger.commands import IssueReceipt, VoidReceipt
from ledger.errors import InvalidInput
from ledger.money import format_yen
from projections.database import engine_for

app = typer.Typer(
    help="Receipts (寄附金受領証明書): issue, reprint, void, download.", no_args_is_help=True
)
WORKERS_MAX = 16

OutFile = Annotated[
    Path | None, typer.Option("--out", help="Write the PDF to this file.", dir_okay=False)
]


@contextmanager
def _engine(session: Session) -> Iterator[Engine]:
    engine = engine_for(session.settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@app.command("issue")
def issue(
    ctx: typer.Context,
    donation_id: Annotated[str, typer.Option("--donation", help="The donation's id.")],
    idempotency_key: options.IdempotencyKey,
    reissue: Annotated[
        bool, typer.Option("--reissue", help="Reprint the valid receipt, marked 再発行.")
    ] = False,
    out: OutFile = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Issue the receipt of one donation (numbered now), or reprint it with --reissue."""
    session = session_of(ctx)
    ledger = session.ledger()
    with _engine(session) as engine:
        printer = DocumentPrinter(engine, FoundationSettings().issuer())
        command = IssueReceipt(
            donation_id=options.aggregate_id(donation_id, "--donation"),
            printer=printer,
            reissue=reissue,
            idempotency_key=idempotency_key,
        )
        outcome = session.execute(command)
        receipt, document = receipt_document(ledger, engine, _number_of(ledger, outcome))
    if out is not None:
        out.write_bytes(document)
    summary = receipt_summary(receipt)
    state = "reprinted" if summary["reissue"] and not summary["replaces_number"] else "issued"
    if outcome.replayed:
        state = "already issued (replay of idempotency key)"
    where = f", written to {out}" if out else ""
    text = f"receipt {receipt.number} {state}: {format_yen(summary['amount_yen'])}{where}"
    emit(text, {**summary, "replayed": outcome.replayed}, as_json=as_json)


def _number_of(ledger: Any, outcome: Any) -> str:
    number: str = ledger.get(outcome.aggregate_id).number
    return number


@app.command("void")
def void(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="The receipt number, e.g. 2026-000123.")],
    reason: options.Reason,
    idempotency_key: options.IdempotencyKey,
    as_json: options.JsonFlag = False,
) -> None:
    """Void a receipt issued wrongly; the next issue is its replacement, marked 再発行."""
    session = session_of(ctx)
    command = VoidReceipt(number=number, reason=reason, idempotency_key=idempotency_key)
    outcome = session.execute(command)
    if outcome.replayed:
        state = f"already voided (replay of idempotency key {idempotency_key}), nothing recorded"
    else:
        state = f"voided at position {outcome.position}, idempotency key {idempotency_key}"
    payload = {
        "number": number,
        "id": str(outcome.aggregate_id),
        "position": outcome.position,
        "replayed": outcome.replayed,
        "idempotency_key": idempotency_key,
    }
    emit(f"receipt {number} {state}", payload, as_json=as_json)


@app.command("annual")
def annual(
    ctx: typer.Context,
    year: Annotated[int, typer.Option("--year", help="The calendar year (tax year).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for the PDFs.", file_okay=False)],
    workers: Annotated[int, typer.Option("--workers", help="Rendering processes.")] = 2,
    as_json: options.JsonFlag = False,
) -> None:
    """Issue the annual receipt of every donor who gave in YEAR (by the donations' dates);
    donors who already hold one get theirs written out again."""
    if not 1 <= workers <= WORKERS_MAX:
        raise InvalidInput("--workers", f"must be from 1 to {WORKERS_MAX}")
    session = session_of(ctx)
    ledger = session.ledger()
    columns = (BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("annual receipts", total=None)
        run = issue_annual_receipts(
            ledger,
            session.settings.database_url,
            FoundationSettings().issuer(),
            year,
            out,
            actor=session.settings.actor,
            workers=workers,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
    text = (
        f"annual receipts {year}: {len(run.issued)} issued, {len(run.already_issued)} already"
        f" issued, {len(run.refused)} refused; PDFs in {out}"
    )
    payload = {
        "year": year,
        "issued": run.issued,
        "already_issued": run.already_issued,
        "refused": [{"donor_id": str(d), "reason": r} for d, r in run.refused],
        "out": str(out),
    }
    emit(text, payload, as_json=as_json)
    for donor_id, reason in run.refused:
        typer.echo(f"refused for donor {donor_id}: {reason}", err=True)


@app.command("show")
def show(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="The receipt number, e.g. 2026-000123.")],
    out: OutFile = None,
    as_json: options.JsonFlag = False,
) -> None:
    """A receipt's state; with --out, its PDF exactly as issued."""
    session = session_of(ctx)
    with _engine(session) as engine:
        receipt, document = receipt_document(session.ledger(), engine, number)
    if out is not None:
        out.write_bytes(document)
    summary = receipt_summary(receipt)
    state = f"voided ({receipt.void_reason})" if receipt.voided else "valid"
    where = f", written to {out}" if out else ""
    text = f"receipt {receipt.number} {state}: {format_yen(summary['amount_yen'])}{where}"
    emit(text, summary, as_json=as_json)


@app.command("list")
def list_receipts(
    ctx: typer.Context,
    donor_id: Annotated[str, typer.Option("--donor", help="The donor's id.")],
    as_json: options.JsonFlag = False,
) -> None:
    """A donor's receipts, oldest first."""
    session = session_of(ctx)
    receipts = donor_receipts(session.ledger(), options.aggregate_id(donor_id, "--donor"))
    if as_json:
        emit("", {"receipts": receipts}, as_json=True)
        return
    for r in receipts:
        state = "valid" if r["valid"] else "voided"
        typer.echo(
            f"{r['number']} {r['kind']} {r['tax_year']} {format_yen(r['amount_yen'])} {state}"
        )
