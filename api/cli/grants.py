"""`fund-ledger grant …`: award, disburse, reduce, cancel, record returns, show."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli import options
from api.cli.output import emit, emit_outcome, yes_no
from api.cli.session import session_of
from ledger.commands import AwardGrant, CancelGrant, DisburseGrant, RecordGrantReturn, ReduceGrant
from ledger.grant import Grant
from ledger.money import format_yen

app = typer.Typer(
    help="Grants (助成): commitments paid in disbursements (交付).", no_args_is_help=True
)

_AMOUNTS = ("amount", "disbursed", "reduced", "unpaid", "returned")

GrantId = Annotated[str, typer.Argument(help="The grant's id.", show_default=False)]


@app.command("award")
def award(
    ctx: typer.Context,
    fund_id: Annotated[str, typer.Option("--fund", help="The fund's id.")],
    grantee: Annotated[str, typer.Option("--grantee", help="The group or NPO (助成団体).")],
    representative: Annotated[str, typer.Option("--representative", help="Its representative.")],
    purpose: Annotated[str, typer.Option("--purpose", help="What the grant pays for.")],
    amount: options.Amount,
    idempotency_key: options.IdempotencyKey,
    designation: options.Designation = None,
    effective_on: options.EffectiveOn = None,
    reason: options.OptionalReason = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Award a grant from the money available in its pot."""
    command = AwardGrant(
        idempotency_key=idempotency_key,
        fund_id=options.aggregate_id(fund_id, "--fund"),
        grantee=grantee,
        representative=representative,
        purpose=purpose,
        amount_yen=options.amount_yen(amount),
        designation=designation,
        effective_on=options.optional_day(effective_on),
        reason=reason,
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("disburse")
def disburse(
    ctx: typer.Context,
    grant_id: GrantId,
    amount: options.Amount,
    idempotency_key: options.IdempotencyKey,
    effective_on: options.EffectiveOn = None,
    reason: options.OptionalReason = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Pay part or all of a grant's unpaid rest."""
    command = DisburseGrant(
        idempotency_key=idempotency_key,
        grant_id=options.aggregate_id(grant_id, "GRANT_ID"),
        amount_yen=options.amount_yen(amount),
        effective_on=options.optional_day(effective_on),
        reason=reason,
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("reduce")
def reduce(
    ctx: typer.Context,
    grant_id: GrantId,
    amount: options.Amount,
    reason: options.Reason,
    idempotency_key: options.IdempotencyKey,
    effective_on: options.EffectiveOn = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Reduce a grant's unpaid rest; the money goes back to the fund."""
    command = ReduceGrant(
        idempotency_key=idempotency_key,
        grant_id=options.aggregate_id(grant_id, "GRANT_ID"),
        amount_yen=options.amount_yen(amount),
        reason=reason,
        effective_on=options.optional_day(effective_on),
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    grant_id: GrantId,
    reason: options.Reason,
    idempotency_key: options.IdempotencyKey,
    effective_on: options.EffectiveOn = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Cancel a grant: its whole unpaid rest goes back to the fund."""
    command = CancelGrant(
        idempotency_key=idempotency_key,
        grant_id=options.aggregate_id(grant_id, "GRANT_ID"),
        reason=reason,
        effective_on=options.optional_day(effective_on),
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("return")
def record_return(
    ctx: typer.Context,
    grant_id: GrantId,
    amount: options.Amount,
    reason: options.Reason,
    idempotency_key: options.IdempotencyKey,
    effective_on: options.EffectiveOn = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Record unused grant money paid back by the grantee (返還)."""
    command = RecordGrantReturn(
        idempotency_key=idempotency_key,
        grant_id=options.aggregate_id(grant_id, "GRANT_ID"),
        amount_yen=options.amount_yen(amount),
        reason=reason,
        effective_on=options.optional_day(effective_on),
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("show")
def show(ctx: typer.Context, grant_id: GrantId, as_json: options.JsonFlag = False) -> None:
    """Amount, disbursed, unpaid, returned, cancelled."""
    grant = session_of(ctx).load(Grant, options.aggregate_id(grant_id, "GRANT_ID"), "grant")
    state = grant_state(grant)
    emit(describe_grant(state), state, as_json=as_json)


def grant_state(grant: Grant) -> dict[str, Any]:
    return {
        "id": str(grant.id),
        "fund_id": str(grant.fund_id),
        "grantee": grant.grantee,
        "representative": grant.representative,
        "purpose": grant.purpose,
        "designation": grant.designation,
        "effective_on": grant.effective_on.isoformat(),
        "amount_yen": grant.amount_yen,
        "disbursed_yen": grant.disbursed_yen,
        "reduced_yen": grant.reduced_yen,
        "unpaid_yen": grant.unpaid_yen,
        "returned_yen": grant.returned_yen,
        "cancelled": grant.cancelled,
    }


def describe_grant(state: dict[str, Any]) -> str:
    yen = {name: format_yen(state[f"{name}_yen"]) for name in _AMOUNTS}
    return (
        f"grant {state['id']}: {yen['amount']} to {state['grantee']} on {state['effective_on']}"
        f" from fund {state['fund_id']} {state['designation'] or 'general'},"
        f" disbursed {yen['disbursed']}, reduced {yen['reduced']}, unpaid {yen['unpaid']},"
        f" returned {yen['returned']}, cancelled: {yes_no(state['cancelled'])}"
    )
