"""`fund-ledger project | rebuild | balances`: the read models (issue 3) from the command line.

`project` feeds the read models from the log: once, or until Ctrl-C or SIGTERM (which finish
the current batch), woken by new events on PostgreSQL and polling every second on SQLite;
`rebuild` drops and replays them; `balances` prints the fund balances after catching up.
Database failures of the read models are one line like every other failure: their SQL and
parameters never reach the user.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Annotated, Any

import sqlalchemy.exc
import typer
from sqlalchemy.engine import Engine

from api.cli import options
from api.cli.output import emit, to_json
from api.cli.session import Session, session_of
from ledger.errors import NotFound, StorageError
from ledger.money import format_yen
from projections import runner
from projections.as_of import balances_at
from projections.catalogue import all_projectors, check_read_model_tables
from projections.database import engine_for
from projections.fund_balances import Balances, FundBalances, fund_balances
from projections.worker import ProjectionWorker

POLL_INTERVAL_S = 1.0  # on SQLite; PostgreSQL wakes the worker on each new event
FAILURE_CHECK_INTERVAL_S = 0.2
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

BatchSize = Annotated[
    int,
    typer.Option("--batch-size", min=1, max=runner.BATCH_SIZE_MAX, help="Events per transaction."),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root command group."""
    app.command("project")(project)
    app.command("rebuild")(rebuild)
    app.command("balances")(balances)


@contextmanager
def read_models(session: Session, *, check_tables: bool = True) -> Iterator[Engine]:
    """An engine on the read models, disposed on exit; SQLAlchemy's database errors become
    `StorageError` carrying only the driver's message."""
    engine = engine_for(session.settings.database_url)
    try:
        if check_tables:
            check_read_model_tables(engine, session.database)
        yield engine
    except sqlalchemy.exc.DBAPIError as error:
        raise StorageError(" ".join(str(error.orig).split())) from error
    finally:
        engine.dispose()


def project(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Catch up, then exit.")] = False,
    batch_size: BatchSize = runner.BATCH_SIZE_DEFAULT,
    as_json: options.JsonFlag = False,
) -> None:
    """Feed the read models from the event log: once, or as events come until Ctrl-C."""
    # Imported here: the HTTP package imports the CLI's modules.
    from api.http.observability import configure_logging
    from api.http.settings import ApiSettings

    session = session_of(ctx)
    # The projector service reads the same production settings and log format as the API.
    settings = ApiSettings(database_url=session.settings.database_url)
    settings.check_production()
    configure_logging(settings.log_format)
    ledger = session.ledger()
    projectors = all_projectors()
    with read_models(session) as engine:
        if once:
            applied_count = runner.catch_up(ledger, engine, projectors, batch_size=batch_size)
            _emit_applied(engine, applied_count, as_json=as_json)
            return
        worker = ProjectionWorker(
            ledger,
            engine,
            projectors,
            poll_interval_s=POLL_INTERVAL_S,
            batch_size=batch_size,
            on_applied=lambda count: _emit_applied(engine, count, as_json=as_json),
        )
        stop = threading.Event()
        with _stopped_by_signals(stop):
            worker.start()
            while not stop.wait(FAILURE_CHECK_INTERVAL_S) and worker.failure is None:
                pass
            worker.stop()
        if worker.failure is not None:
            raise worker.failure


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    def request_stop(_signal_number: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in _STOP_SIGNALS}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _emit_applied(engine: Engine, applied_count: int, *, as_json: bool) -> None:
    positions = runner.tracked_positions(engine)
    position = min(positions.values(), default=0)
    emit(
        f"read models at position {position}: {applied_count} events applied",
        {"applied_count": applied_count, "position": position, "positions": positions},
        as_json=as_json,
    )


def rebuild(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Read models to rebuild (default: all).", show_default=False),
    ] = None,
    batch_size: BatchSize = runner.REBUILD_BATCH_SIZE_DEFAULT,
    as_json: options.JsonFlag = False,
) -> None:
    """Rebuild the read models (all, or those named) from the whole log; on PostgreSQL
    beside the live ones, which readers see until the new ones are swapped in."""
    session = session_of(ctx)
    ledger = session.ledger()
    projectors = all_projectors()
    chosen = [p.name for p in runner.select_projectors(projectors, names)]
    with read_models(session, check_tables=False) as engine:
        applied_count = runner.rebuild(ledger, engine, projectors, chosen, batch_size=batch_size)
    emit(
        f"rebuilt {', '.join(chosen)}: {applied_count} events applied",
        {"rebuilt": chosen, "applied_count": applied_count},
        as_json=as_json,
    )


def balances(
    ctx: typer.Context,
    fund: Annotated[str | None, typer.Option("--fund", help="Only this fund's id.")] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Balances by effective date (YYYY-MM-DD), replayed."),
    ] = None,
    at_position: Annotated[
        int | None,
        typer.Option("--position", help="Balances as the ledger knew them at this log position."),
    ] = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Fund balances per pot and per fund: from the read model after catching up, or replayed
    to a past date or log position without touching the read models."""
    session = session_of(ctx)
    fund_id = None if fund is None else options.aggregate_id(fund, "--fund")
    ledger = session.ledger()
    as_of_day = options.optional_day(as_of, "--as-of")
    if as_of_day is None and at_position is None:
        with read_models(session) as engine:
            runner.catch_up(ledger, engine, all_projectors())
            found = fund_balances(engine, fund_id)
            position = runner.tracked_positions(engine).get("fund_balances", 0)
        header: dict[str, Any] = {"position": position}
    else:
        found = balances_at(ledger, as_of=as_of_day, position=at_position, fund_id=fund_id)
        header = {"as_of": as_of_day} if as_of_day is not None else {"position": at_position}
    if fund_id is not None and not found:
        raise NotFound(f"no fund with id {fund_id}")
    if as_json:
        typer.echo(to_json({**header, "funds": [fund_json(f) for f in found]}))
        return
    for balance in found:
        typer.echo(_fund_line(balance))
        for pot in balance.pots:
            typer.echo(f"  {pot.pot}: {_figures(pot)}")


def fund_json(balance: FundBalances) -> dict[str, Any]:
    """A fund's totals and derived figures, and its pots'; `progress_bp` toward its target
    (the CLI's `balances --json` and the API's `/balance` answer the same shape)."""
    return {
        "fund_id": balance.fund_id,
        "name": balance.name,
        "target_yen": balance.target_yen,
        "progress_bp": balance.progress_bp,
        **balance.to_json(),
        "pots": [{"pot": p.pot, "name": p.name, **p.to_json()} for p in balance.pots],
    }


def _fund_line(balance: FundBalances) -> str:
    progress = ""
    if balance.target_yen and balance.progress_bp is not None:
        bp = balance.progress_bp
        progress = (
            f", {format_yen(balance.donated_net_yen)} of target {format_yen(balance.target_yen)}"
            f" ({bp // 100}.{bp % 100:02d}%)"
        )
    return f"{balance.name} {balance.fund_id}: {_figures(balance)}{progress}"


def _figures(balance: Balances) -> str:
    t = balance.totals
    return (
        f"cash {format_yen(balance.cash_yen)}, committed {format_yen(balance.committed_yen)},"
        f" available {format_yen(balance.available_yen)};"
        f" {balance.donation_count} donations, received {format_yen(t['received_yen'])},"
        f" voided {format_yen(t['voided_yen'])}, refunded {format_yen(t['refunded_yen'])},"
        f" host fees {format_yen(t['host_fees_yen'])}, awarded {format_yen(t['awarded_yen'])},"
        f" reduced {format_yen(t['reduced_yen'])}, disbursed {format_yen(t['disbursed_yen'])},"
        f" returned {format_yen(t['returned_yen'])},"
        f" restriction released {format_yen(t['restriction_released_yen'])}"
    )
