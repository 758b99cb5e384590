"""`fund-ledger statement …`: a fund's statement (基金収支報告書) as PDF, and its verification.

    fund-ledger statement --fund ID --year 2026 [--out FILE]        # 年度 2026: Apr 2026 – Mar 2027
    fund-ledger statement --fund ID --from 2026-04-01 --to 2026-09-30 [--out FILE]
    fund-ledger statement verify FILE.pdf       (or: fund-ledger verify --statement FILE.pdf)

`verify` recomputes the figures from the ledger over the statement's own range of the log
and compares them, and the chain hash at its last position, with those embedded in the PDF.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from api.cli import options
from api.cli.output import emit
from api.cli.session import session_of
from api.foundation import FoundationSettings
from api.statement_verify import verify_statement
from api.statement_views import fiscal_year, statement_view
from ledger.errors import InvalidInput
from ledger.money import format_yen
from ledger.service import FundLedger
from reports import render_statement

app = typer.Typer(
    help="Fund statements (基金収支報告書): make one, or verify one against the ledger.",
    invoke_without_command=True,
    no_args_is_help=True,
)


@app.callback()
def statement(
    ctx: typer.Context,
    fund_id: Annotated[str | None, typer.Option("--fund", help="The fund's id.")] = None,
    year: Annotated[
        int | None, typer.Option("--year", help="年度: 1 April YEAR – 31 March YEAR+1.")
    ] = None,
    period_from: Annotated[
        str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")
    ] = None,
    period_to: Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="PDF file (default statement-….pdf).")
    ] = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Write a fund's statement for a 年度 (--year) or a period (--from, --to)."""
    if ctx.invoked_subcommand is not None:
        return
    if fund_id is None:
        raise InvalidInput("--fund", "name the fund")
    first, last = _period(year, period_from, period_to)
    session = session_of(ctx)
    ledger = session.ledger()
    view = statement_view(
        ledger,
        options.aggregate_id(fund_id, "--fund"),
        first,
        last,
        issued_on=ledger.today(),
        issuer_name=FoundationSettings().name,
    )
    path = out or Path(f"statement-{fund_id}-{first}-{last}.pdf")
    path.write_bytes(render_statement(view))
    total = view.total
    text = (
        f"statement of {view.fund_name} {first}..{last} written to {path}: closing balance"
        f" {format_yen(total.closing_balance_yen)}, positions"
        f" {view.first_position}..{view.last_position}, chain {view.chain_head_hash[:12]}…"
    )
    if view.books_closed_through is not None:
        text += f", books closed through {view.books_closed_through}"
    payload = {
        "file": str(path),
        "fund_name": view.fund_name,
        "period_from": first,
        "period_to": last,
        "closing_balance_yen": total.closing_balance_yen,
        "first_position": view.first_position,
        "last_position": view.last_position,
        "chain_head_hash": view.chain_head_hash,
        "books_closed_through": view.books_closed_through,
    }
    emit(text, payload, as_json=as_json)


def _period(year: int | None, period_from: str | None, period_to: str | None) -> tuple[date, date]:
    if year is not None:
        if period_from is not None or period_to is not None:
            raise InvalidInput("--year", "give --year or --from and --to, not both")
        return fiscal_year(year)
    if period_from is None or period_to is None:
        raise InvalidInput("--year", "give --year, or --from and --to")
    return options.day(period_from, "--from"), options.day(period_to, "--to")


@app.command("verify")
def verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The statement PDF.", dir_okay=False, exists=True)],
    as_json: options.JsonFlag = False,
) -> None:
    """Check a statement PDF against the ledger: exit 0 if every figure, the range and the
    chain hash match; exit 1 naming what differs (the same as `verify --statement FILE`)."""
    verify_statement_file(session_of(ctx).ledger(), file, as_json=as_json)


def verify_statement_file(ledger: FundLedger, file: Path, *, as_json: bool) -> None:
    """Check the statement `file` against the ledger and say so; `StatementMismatch` (exit 1)
    names what differs. Shared by `statement verify FILE` and `verify --statement FILE`."""
    figures = verify_statement(ledger, file.read_bytes())
    text = (
        f"statement verified: {figures['fund_name']} {figures['period_from']}.."
        f"{figures['period_to']}, positions {figures['first_position']}.."
        f"{figures['last_position']}, chain {figures['chain_head_hash'][:12]}…"
    )
    emit(text, {"verified": True, **figures}, as_json=as_json)
