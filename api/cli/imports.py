"""`fund-ledger import donations FILE.csv --fund F [--dry-run]`: a bank or postal transfer
list recorded as donations, all rows or none (the format: `api.imports`).

The dry run prints, per row, what would be recorded, and every problem with its line on
stderr; it exits 1 when the import would be refused. A refused import prints every problem
with its line on stderr, then the one-line error, and exits 1 having recorded nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from api.cli import options
from api.cli.output import to_json
from api.cli.session import session_of
from api.imports import plan, report, run
from api.imports.csvfile import FILE_SIZE_BYTES_MAX, Encoding, Problem
from ledger.donation import PaymentMethod
from ledger.errors import ImportRejected, ImportTooLarge, InvalidInput

PROGRESS_ROWS_MIN = 1_000  # shorter files finish before a bar would help

app = typer.Typer(help="Import transfer lists (CSV) as donations.", no_args_is_help=True)

ENCODINGS = ", ".join(encoding.value for encoding in Encoding)
METHODS = ", ".join(method.value for method in plan.IMPORT_METHODS)


@app.command("donations")
def donations(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The CSV file.", show_default=False)],
    fund_id: Annotated[str, typer.Option("--fund", help="The fund's id.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would be recorded; record nothing.")
    ] = False,
    encoding: Annotated[
        str, typer.Option("--encoding", help=f"One of {ENCODINGS} (auto detects).")
    ] = Encoding.AUTO.value,
    method: Annotated[
        str, typer.Option("--method", help=f"One of {METHODS}.")
    ] = PaymentMethod.BANK_TRANSFER.value,
    as_json: options.JsonFlag = False,
) -> None:
    """Record every row of a transfer list as a donation, in one atomic write, or none."""
    session = session_of(ctx)
    request = plan.ImportRequest(
        fund_id=options.aggregate_id(fund_id, "--fund"),
        method=method,
        encoding=_encoding(encoding),
    )
    data = read_file(file)
    ledger = session.ledger()
    with progress_bar() as progress:
        try:
            if dry_run:
                result = run.dry_run(ledger, data, request, progress)
            else:
                actor = session.settings.actor
                result = run.import_donations(ledger, data, request, actor=actor, progress=progress)
        except ImportRejected as rejected:
            _print_problems(Problem(*problem) for problem in rejected.problems)
            raise
    _print_report(result, as_json=as_json)
    if result.problems:
        raise run.rejection(result.problems)


def read_file(path: Path) -> bytes:
    """The file's bytes, refusing before reading one past `FILE_SIZE_BYTES_MAX`."""
    try:
        with path.open("rb") as stream:
            data = stream.read(FILE_SIZE_BYTES_MAX + 1)
    except OSError as error:
        raise InvalidInput("FILE", f"cannot read {str(path)!r}: {error.strerror}") from None
    if len(data) > FILE_SIZE_BYTES_MAX:
        raise ImportTooLarge(f"{path} is larger than {FILE_SIZE_BYTES_MAX:,} bytes; split it")
    return data


def _encoding(text: str) -> Encoding:
    try:
        return Encoding(text.lower())
    except ValueError:
        raise InvalidInput("--encoding", f"must be one of {ENCODINGS}, got {text!r}") from None


def _print_report(result: run.ImportReport, *, as_json: bool) -> None:
    if as_json:
        typer.echo(to_json(report.report_json(result)))
        return
    if result.dry_run:
        for row in result.rows:
            typer.echo(report.row_line(row, result.plan.fund_name))
    _print_problems(result.problems)
    typer.echo(report.summary_line(result))


def _print_problems(problems: Iterable[Problem]) -> None:
    for problem in problems:
        typer.echo(report.problem_line(problem), err=True)


@contextmanager
def progress_bar() -> Iterator[plan.Progress]:
    """A bar on stderr for files of `PROGRESS_ROWS_MIN` rows or more, on a terminal only."""
    console = Console(stderr=True)
    if not console.is_terminal:
        yield plan.no_progress
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(phase: str, done: int, total: int) -> None:
            if total < PROGRESS_ROWS_MIN:
                return
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done)

        yield update
