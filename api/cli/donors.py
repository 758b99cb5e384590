"""`fund-ledger donor …`: register donors, correct their details, show them."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli import options
from api.cli.output import emit, emit_outcome, yes_no
from api.cli.session import session_of
from ledger.commands import CorrectDonor, RegisterDonor
from ledger.donor import Donor

app = typer.Typer(help="Donors (寄附者): individuals and organisations.", no_args_is_help=True)

DonorId = Annotated[str, typer.Argument(help="The donor's id.", show_default=False)]
PUBLISH_NAME = typer.Option("--publish-name/--hide-name", help="Whether the name may be published.")
POSTAL_ACCOUNT_HELP = "Postal transfer account (振替口座), e.g. 00120-3-456789."


@app.command("register")
def register(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option("--kind", help="individual (様) or organisation (御中).")],
    name: Annotated[str, typer.Option("--name", help="Name as on receipts.")],
    kana: Annotated[str, typer.Option("--kana", help="Reading of the name in kana.")],
    postal_code: Annotated[str, typer.Option("--postal-code", help="e.g. 621-0806.")],
    address: Annotated[str, typer.Option("--address", help="Postal address.")],
    idempotency_key: options.IdempotencyKey,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
    publish_name: Annotated[bool, PUBLISH_NAME] = False,
    postal_account: Annotated[
        str | None, typer.Option("--postal-account", help=POSTAL_ACCOUNT_HELP)
    ] = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Register a donor."""
    command = RegisterDonor(
        kind=kind,
        name=name,
        kana=kana,
        postal_code=postal_code,
        address=address,
        email=email,
        publish_name=publish_name,
        idempotency_key=idempotency_key,
        postal_account=postal_account,
    )
    emit_outcome(session_of(ctx).execute(command), idempotency_key, as_json=as_json)


@app.command("correct")
def correct(
    ctx: typer.Context,
    donor_id: DonorId,
    reason: options.Reason,
    name: Annotated[str | None, typer.Option("--name")] = None,
    kana: Annotated[str | None, typer.Option("--kana")] = None,
    postal_code: Annotated[str | None, typer.Option("--postal-code")] = None,
    address: Annotated[str | None, typer.Option("--address")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    publish_name: Annotated[bool | None, PUBLISH_NAME] = None,
    postal_account: Annotated[
        str | None,
        typer.Option("--postal-account", help=f"{POSTAL_ACCOUNT_HELP} '' clears it."),
    ] = None,
    as_json: options.JsonFlag = False,
) -> None:
    """Correct a donor's details; only the options given change (the correction is an event)."""
    given = {
        "name": name,
        "kana": kana,
        "postal_code": postal_code,
        "address": address,
        "email": email,
        "publish_name": publish_name,
        "postal_account": postal_account,  # "" clears it
    }
    command = CorrectDonor(
        donor_id=options.aggregate_id(donor_id, "DONOR_ID"),
        changes={field: value for field, value in given.items() if value is not None},
        reason=reason,
    )
    emit_outcome(session_of(ctx).execute(command), None, as_json=as_json)


@app.command("show")
def show(ctx: typer.Context, donor_id: DonorId, as_json: options.JsonFlag = False) -> None:
    """The donor's current details."""
    donor = session_of(ctx).load(Donor, options.aggregate_id(donor_id, "DONOR_ID"), "donor")
    state = donor_state(donor)
    emit(describe_donor(state), state, as_json=as_json)


def donor_state(donor: Donor) -> dict[str, Any]:
    return {
        "id": str(donor.id),
        "kind": donor.kind,
        "name": donor.name,
        "kana": donor.kana,
        "postal_code": donor.postal_code,
        "address": donor.address,
        "email": donor.email,
        "publish_name": donor.publish_name,
        "postal_account": donor.postal_account,
    }


def describe_donor(state: dict[str, Any]) -> str:
    return (
        f"donor {state['id']}: {state['kind']} {state['name']} ({state['kana']}),"
        f" 〒{state['postal_code']} {state['address']}, e-mail {state['email'] or '-'},"
        f" name published: {yes_no(state['publish_name'])},"
        f" postal account {state['postal_account'] or '-'}"
    )
