"""`fund-ledger history`: the events behind a figure or a record, with when each was recorded,
its effective date, who recorded it and why (`api.audit.history`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.audit.history import HistoryItem, fund_history, record_history
from api.audit.times import japan_time
from api.cli import options
from api.cli.output import to_json
from api.cli.session import session_of
from ledger.errors import InvalidInput
from ledger.money import format_yen


def history(
    ctx: typer.Context,
    fund: Annotated[
        str | None, typer.Option("--fund", help="A fund's id (with --as-of).", show_default=False)
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="With --fund: effective dates up to YYYY-MM-DD."),
    ] = None,
    donation: Annotated[str | None, typer.Option("--donation", help="A donation's id.")] = None,
    grant: Annotated[str | None, typer.Option("--grant", help="A grant's id.")] = None,
    donor: Annotated[
        str | None, typer.Option("--donor", help="A donor's id (with its donations).")
    ] = None,
    as_json: options.JsonFlag = False,
) -> None:
    """The events that led to a fund's balances as of a date, or to a donation, a grant or a
    donor as it stands: one line each, in log order."""
    chosen = {
        name: value
        for name, value in (
            ("fund", fund),
            ("donation", donation),
            ("grant", grant),
            ("donor", donor),
        )
        if value is not None
    }
    if len(chosen) != 1:
        raise InvalidInput("history", "give exactly one of --fund, --donation, --grant, --donor")
    ((kind, text),) = chosen.items()
    record_id = options.aggregate_id(text, f"--{kind}")
    ledger = session_of(ctx).ledger()
    if kind == "fund":
        if as_of is None:
            raise InvalidInput("--as-of", "is required with --fund")
        day = options.day(as_of, "--as-of")
        items = fund_history(ledger, record_id, day)
        subject: dict[str, Any] = {"kind": kind, "id": record_id, "as_of": day}
    else:
        if as_of is not None:
            raise InvalidInput("--as-of", "applies to --fund only")
        items = record_history(ledger, kind, record_id)
        subject = {"kind": kind, "id": record_id}
    if as_json:
        typer.echo(to_json({"subject": subject, "events": [_json(item) for item in items]}))
        return
    for item in items:
        typer.echo(history_line(item))
    if kind == "fund":
        typer.echo(f"as of {subject['as_of']}: {_figures(items)}")


def history_line(item: HistoryItem) -> str:
    """`#12 recorded 2026-04-02T10:15:30+09:00, effective 2026-04-01, Donation.Recorded …`"""
    effective = f", effective {item.effective_on}" if item.effective_on else ""
    why = f"; why: {item.reason}" if item.reason else ""
    after = ""
    if item.pot is not None:
        figures = item.pot_after_yen
        after = (
            f" → pot {item.pot}: cash {format_yen(figures['cash_yen'])},"
            f" committed {format_yen(figures['committed_yen'])}"
        )
    return (
        f"#{item.position} recorded {japan_time(item.recorded_at)}{effective},"
        f" {item.type} {item.aggregate_id} v{item.version}: {item.summary};"
        f" by {item.actor}{why}{after}"
    )


def _figures(items: list[HistoryItem]) -> str:
    last: dict[str, dict[str, int]] = {}
    for item in items:
        if item.pot is not None:
            last[item.pot] = item.pot_after_yen
    if not last:
        return "no money moved"
    return "; ".join(
        f"pot {pot}: cash {format_yen(f['cash_yen'])}, committed {format_yen(f['committed_yen'])},"
        f" available {format_yen(f['cash_yen'] - f['committed_yen'])}"
        for pot, f in sorted(last.items())
    )


def _json(item: HistoryItem) -> dict[str, Any]:
    return {
        "position": item.position,
        "recorded_at": japan_time(item.recorded_at),
        "effective_on": item.effective_on,
        "type": item.type,
        "aggregate_id": item.aggregate_id,
        "version": item.version,
        "actor": item.actor,
        "reason": item.reason,
        "summary": item.summary,
        "amounts_yen": item.amounts_yen,
        "pot": item.pot,
        "pot_after_yen": item.pot_after_yen or None,
    }
