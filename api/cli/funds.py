"""`fund-ledger fund …`: open a fund, change its fee rate, add designations, close its books,
show it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli import options
from api.cli.output import emit, emit_outcome, fee_rate
from api.cli.session import session_of
from ledger.commands import AddDesignation, ChangeFeeRate, CloseBooks, OpenFund
from ledger.fund import Fund
from ledger.money import format_yen
from ledger.values import GENERAL

HOST_DEFAULT = "公益財団法人 京都地域創造基金"

app = typer.Typer(
    help="Funds: fee rate schedule, designations, balances per pot.", no_args_is_help=True
)

FundId = Annotated[str, typer.Argument(help="The fund's id.", show_default=False)]
FeeRateBp = Annotated[
    str, typer.Option("--fee-rate-bp", help="Host fee in basis points: 350 = 3.50%.")
]


@app.command("open")
def open_fund(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The fund's name.")],
    fee_rate_bp: FeeRateBp,
    idempotency_key: options.IdempotencyKey,
    host: Annotated[str, typer.Option("--host", help="The host foundation.")] = HOST_DEFAULT,
    target: Annotated[str | None, typer.Option("--target", help="Target in integer yen.")] = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Open a fund under the host foundation."""
    command = OpenFund(
        name=name,
        host=host,
        fee_rate_bp=options.whole_number(fee_rate_bp, "--fee-rate-bp"),
        target_yen=options.optional_amount_yen(target, "--target"),
        idempotency_key=idempotency_key,
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("fee-rate")
def change_fee_rate(
    ctx: typer.Context,
    fund_id: FundId,
    fee_rate_bp: FeeRateBp,
    effective_from: Annotated[
        str, typer.Option("--from", help="First day of the new rate, YYYY-MM-DD.")
    ],
    reason: options.Reason,
    as_json: options.JsonFlag = False,
) -> None:
    """Change the fund's host-fee rate from a date on."""
    command = ChangeFeeRate(
        fund_id=options.aggregate_id(fund_id, "FUND_ID"),
        fee_rate_bp=options.whole_number(fee_rate_bp, "--fee-rate-bp"),
        effective_from=options.day(effective_from, "--from"),
        reason=reason,
    )
    emit_outcome(session_of(ctx).execute(command), None, as_json=as_json)


@app.command("close-books")
def close_books(
    ctx: typer.Context,
    fund_id: FundId,
    through: Annotated[
        str, typer.Option("--through", help="Last day of the closed period, YYYY-MM-DD.")
    ],
    reason: options.Reason,
    as_json: options.JsonFlag = False,
) -> None:
    """Close the fund's books through a day (決算の締め): nothing may be dated on or before it
    from then on; late entries and corrections are dated in the open period. Never reopened."""
    command = CloseBooks(
        fund_id=options.aggregate_id(fund_id, "FUND_ID"),
        through=options.day(through, "--through"),
        reason=reason,
    )
    emit_outcome(session_of(ctx).execute(command), None, as_json=as_json)


@app.command("designation-add")
def add_designation(
    ctx: typer.Context,
    fund_id: FundId,
    designation: Annotated[str, typer.Argument(help="Code: lower-case letters, digits, hyphens.")],
    name: Annotated[str, typer.Option("--name", help="What the designation is for.")],
    as_json: options.JsonFlag = False,
) -> None:
    """Add a designation (使途指定) that donations and grants can name."""
    command = AddDesignation(
        fund_id=options.aggregate_id(fund_id, "FUND_ID"), designation=designation, name=name
    )
    emit_outcome(session_of(ctx).execute(command), None, as_json=as_json)


@app.command("show")
def show(ctx: typer.Context, fund_id: FundId, as_json: options.JsonFlag = False) -> None:
    """Balances per pot (cash, committed, available), fee rate schedule, designations."""
    fund = session_of(ctx).load(Fund, options.aggregate_id(fund_id, "FUND_ID"), "fund")
    state = fund_state(fund)
    emit(describe_fund(state), state, as_json=as_json)


def fund_state(fund: Fund) -> dict[str, Any]:
    return {
        "id": str(fund.id),
        "name": fund.name,
        "host": fund.host,
        "target_yen": fund.target_yen,
        "fee_rates_bp": [
            {"from": None if index == 0 else since, "fee_rate_bp": rate}
            for index, (since, rate) in enumerate(sorted(fund.fee_rates_bp.items()))
        ],
        "books_closed_through": fund.closed_through and fund.closed_through.isoformat(),
        "designations": dict(fund.designations),
        "pots": {
            pot: {
                "cash_yen": fund.cash_yen[pot],
                "committed_yen": fund.committed_yen[pot],
                "available_yen": fund.cash_yen[pot] - fund.committed_yen[pot],
            }
            for pot in [GENERAL, *fund.designations]
        },
    }


def describe_fund(state: dict[str, Any]) -> str:
    target = f", target {format_yen(state['target_yen'])}" if state["target_yen"] else ""
    rates = "; ".join(
        f"{fee_rate(r['fee_rate_bp'])} from {r['from'] or 'the opening'}"
        for r in state["fee_rates_bp"]
    )
    lines = [
        f"fund {state['id']} {state['name']!r} at {state['host']}{target}",
        f"  fee rate: {rates}",
    ]
    if state["books_closed_through"]:
        lines.append(f"  books closed through {state['books_closed_through']}")
    for pot, balance in state["pots"].items():
        name = f" ({state['designations'][pot]})" if pot in state["designations"] else ""
        lines.append(
            f"  pot {pot}{name}: cash {format_yen(balance['cash_yen'])},"
            f" committed {format_yen(balance['committed_yen'])},"
            f" available {format_yen(balance['available_yen'])}"
        )
    return "\n".join(lines)
