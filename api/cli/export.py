"""`fund-ledger export journal | events`: the journal for other tools, and the event log with
its chain hashes for the offline verifier (`fund-ledger verify --file`).

With `--out FILE` the file is written beside its destination and renamed into place only
when complete, so a failed export leaves no partial file; without it the export goes to
standard output.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, BinaryIO, TypeVar

import typer

from api.audit.csv_export import write_csv
from api.audit.entries import Selection, positioned_entries
from api.audit.events_file import write_events
from api.audit.plaintext import write_beancount, write_hledger
from api.cli import options
from api.cli.output import emit
from api.cli.session import session_of
from ledger.errors import InvalidInput

T = TypeVar("T")
app = typer.Typer(help="Export the journal or the event log.", no_args_is_help=True)


class Format(Enum):
    HLEDGER = "hledger"
    BEANCOUNT = "beancount"
    CSV = "csv"


class Encoding(Enum):
    UTF8 = "utf-8"
    CP932 = "cp932"


Out = Annotated[
    Path | None,
    typer.Option("--out", help="Write to this file (default: standard output).", dir_okay=False),
]


@app.command("journal")
def journal(
    ctx: typer.Context,
    format_: Annotated[Format, typer.Option("--format", help="hledger, beancount or csv.")],
    fund: Annotated[str | None, typer.Option("--fund", help="Only this fund's id.")] = None,
    effective_from: Annotated[
        str | None, typer.Option("--from", help="Effective dates from YYYY-MM-DD.")
    ] = None,
    effective_to: Annotated[
        str | None, typer.Option("--to", help="Effective dates up to YYYY-MM-DD (inclusive).")
    ] = None,
    out: Out = None,
    encoding: Annotated[
        Encoding | None,
        typer.Option("--encoding", help="CSV only: utf-8 (with BOM, default) or cp932."),
    ] = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Every posting of every money event, with its effective date, counterparty, the event's
    log position and id: an hledger journal, a beancount ledger, or the 電子帳簿保存法 CSV."""
    if encoding is not None and format_ is not Format.CSV:
        raise InvalidInput("--encoding", "applies to --format csv only")
    selection = Selection(
        fund_id=None if fund is None else options.aggregate_id(fund, "--fund"),
        effective_from=options.optional_day(effective_from, "--from"),
        effective_to=options.optional_day(effective_to, "--to"),
    )
    entries = positioned_entries(session_of(ctx).ledger(), selection)
    with _destination(out) as stream:
        if format_ is Format.CSV:
            chosen = (encoding or Encoding.UTF8).value
            count = write_csv(entries, stream, encoding=chosen)
        else:
            writer = write_hledger if format_ is Format.HLEDGER else write_beancount
            count = _as_text(stream, lambda text: writer(entries, text))
    if out is not None:
        emit(
            f"exported {count} postings to {out} ({format_.value})",
            {"postings": count, "file": str(out), "format": format_.value},
            as_json=as_json,
        )


@app.command("events")
def events(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The JSON-lines file to write.", dir_okay=False)],
    as_json: options.JsonFlag = False,
) -> None:
    """The whole event log with its chain hashes, one JSON object per line, for
    `fund-ledger verify --file FILE --head HASH` (no database needed)."""
    recorder = session_of(ctx).recorder()
    with _destination(file) as stream:
        count, head = _as_text(stream, lambda text: write_events(recorder, text))
    emit(
        f"exported {count} events to {file}; head {head}",
        {"events": count, "file": str(file), "head_hash": head},
        as_json=as_json,
    )


def _as_text(stream: BinaryIO, write: Callable[[io.TextIOWrapper], T]) -> T:
    text = io.TextIOWrapper(stream, encoding="utf-8", newline="\n")
    try:
        return write(text)
    finally:
        text.flush()
        text.detach()


@contextmanager
def _destination(out: Path | None) -> Iterator[BinaryIO]:
    """Standard output, or a temporary file renamed to `out` once the export is complete."""
    if out is None:
        stream = typer.get_binary_stream("stdout")
        yield stream
        stream.flush()
        return
    directory = out.resolve().parent
    if not directory.is_dir():
        raise InvalidInput("--out", f"no directory {directory}")
    handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
