"""`fund-ledger donation …`: record donations, refund them, void them, show them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli import options
from api.cli.output import emit, emit_outcome, yes_no
from api.cli.session import session_of
from ledger.commands import RecordDonation, RefundDonation, VoidDonation
from ledger.donation import Donation, PaymentMethod
from ledger.money import format_yen

app = typer.Typer(help="Donations (寄附): money in, refunds, voids.", no_args_is_help=True)

DonationId = Annotated[str, typer.Argument(help="The donation's id.", show_default=False)]
METHODS = ", ".join(method.value for method in PaymentMethod)


@app.command("record")
def record(
    ctx: typer.Context,
    fund_id: Annotated[str, typer.Option("--fund", help="The fund's id.")],
    donor_id: Annotated[str, typer.Option("--donor", help="The donor's id.")],
    amount: options.Amount,
    method: Annotated[str, typer.Option("--method", help=f"One of {METHODS}.")],
    idempotency_key: options.IdempotencyKey,
    effective_on: options.EffectiveOn = None,
    designation: options.Designation = None,
    reference: Annotated[
        str | None, typer.Option("--reference", help="The bank's or post office's reference.")
    ] = None,
    reason: options.OptionalReason = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Record a donation; the host fee is taken at the rate in force on its date."""
    command = RecordDonation(
        idempotency_key=idempotency_key,
        fund_id=options.aggregate_id(fund_id, "--fund"),
        donor_id=options.aggregate_id(donor_id, "--donor"),
        amount_yen=options.amount_yen(amount),
        method=method,
        effective_on=options.optional_day(effective_on),
        designation=designation,
        external_reference=reference,
        reason=reason,
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("refund")
def refund(
    ctx: typer.Context,
    donation_id: DonationId,
    amount: options.Amount,
    reason: options.Reason,
    idempotency_key: options.IdempotencyKey,
    effective_on: options.EffectiveOn = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Refund part or all of a donation to its donor; the fee is given back pro rata."""
    command = RefundDonation(
        idempotency_key=idempotency_key,
        donation_id=options.aggregate_id(donation_id, "DONATION_ID"),
        amount_yen=options.amount_yen(amount),
        reason=reason,
        effective_on=options.optional_day(effective_on),
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("void")
def void(
    ctx: typer.Context,
    donation_id: DonationId,
    reason: options.Reason,
    idempotency_key: options.IdempotencyKey,
    effective_on: options.EffectiveOn = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Void a donation recorded by mistake (no money moves)."""
    command = VoidDonation(
        idempotency_key=idempotency_key,
        donation_id=options.aggregate_id(donation_id, "DONATION_ID"),
        reason=reason,
        effective_on=options.optional_day(effective_on),
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("show")
def show(ctx: typer.Context, donation_id: DonationId, as_json: options.JsonFlag = False) -> None:
    """Amount, fee, refunded and voided."""
    donation_uuid = options.aggregate_id(donation_id, "DONATION_ID")
    donation = session_of(ctx).load(Donation, donation_uuid, "donation")
    state = donation_state(donation)
    emit(describe_donation(state), state, as_json=as_json)


def donation_state(donation: Donation) -> dict[str, Any]:
    return {
        "id": str(donation.id),
        "fund_id": str(donation.fund_id),
        "donor_id": str(donation.donor_id),
        "counterparty": donation.counterparty,
        "designation": donation.designation,
        "effective_on": donation.effective_on.isoformat(),
        "method": donation.method,
        "amount_yen": donation.amount_yen,
        "fee_yen": donation.fee_yen,
        "refunded_yen": donation.refunded_yen,
        "fee_returned_yen": donation.fee_returned_yen,
        "voided": donation.voided,
    }


def describe_donation(state: dict[str, Any]) -> str:
    amount, fee = format_yen(state["amount_yen"]), format_yen(state["fee_yen"])
    refunded, fee_returned = (
        format_yen(state["refunded_yen"]),
        format_yen(state["fee_returned_yen"]),
    )
    return (
        f"donation {state['id']}: {amount} (fee {fee}) from {state['counterparty']}"
        f" on {state['effective_on']} by {state['method']}"
        f" to fund {state['fund_id']} {state['designation'] or 'general'},"
        f" refunded {refunded} (fee returned {fee_returned}), voided: {yes_no(state['voided'])}"
    )
