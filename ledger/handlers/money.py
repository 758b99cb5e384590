"""Handlers of the money commands: donations, refunds, voids and the life of a grant.

Each stages the movement its event causes on the fund, whose balances are checked then and
again when the unit of work posts them.
"""

from __future__ import annotations

from datetime import date

from ledger import commands as c
from ledger import money, values
from ledger.claim import claim_id
from ledger.donation import Donation, PaymentMethod
from ledger.donor import Donor
from ledger.fund import Fund, Movement
from ledger.grant import Grant
from ledger.handlers.common import (
    REFERENCE_LENGTH_MAX,
    Context,
    Handled,
    checked_id,
    checked_reason,
    claim_key,
    effective_day,
    enum_value,
    main_event,
    outcome_of_first_use,
)
from ledger.handlers.receipts import void_receipt_covering
from ledger.unit_of_work import UnitOfWork


def record_donation(uow: UnitOfWork, cmd: c.RecordDonation, ctx: Context) -> Handled:
    key = values.idempotency_key(cmd.idempotency_key)
    amount = money.amount_yen(cmd.amount_yen)
    day = effective_day(cmd.effective_on, ctx)
    method = enum_value(PaymentMethod, cmd.method, "method")
    designation = values.optional_designation(cmd.designation)
    reference = values.optional_text(
        cmd.external_reference, "external_reference", length_max=REFERENCE_LENGTH_MAX
    )
    reason = checked_reason(cmd.reason, default="donation received")
    fund = uow.get(Fund, checked_id(cmd.fund_id, "fund_id"))
    fund.check_designation_exists(designation)
    donor = uow.read(Donor, checked_id(cmd.donor_id, "donor_id"))
    rate = fund.fee_rate_bp_on(day)
    # `_create` with the event class is the library's constructor minus its matching of
    # positional arguments: all are named here, and imports create donations by the thousand.
    donation = Donation._create(
        Donation.Recorded,
        id=claim_id(key),
        fund_id=fund.id,
        donor_id=donor.id,
        counterparty=donor.name,
        designation=designation,
        amount_yen=amount,
        fee_rate_bp=rate,
        fee_yen=money.host_fee_yen(amount, rate),
        effective_on=day,
        method=method,
        external_reference=reference,
        actor=ctx.actor,
        reason=reason,
        request_fingerprint=ctx.fingerprint,
    )
    uow.stage(fund, donation.recorded_movement())
    uow.add(donation)
    return outcome_of_first_use(donation), main_event(donation)


def award_grant(uow: UnitOfWork, cmd: c.AwardGrant, ctx: Context) -> Handled:
    key = values.idempotency_key(cmd.idempotency_key)
    amount = money.amount_yen(cmd.amount_yen)
    day = effective_day(cmd.effective_on, ctx)
    designation = values.optional_designation(cmd.designation)
    fund = uow.get(Fund, checked_id(cmd.fund_id, "fund_id"))
    fund.check_designation_exists(designation)
    grant = Grant(
        id=claim_id(key),
        fund_id=fund.id,
        grantee=values.text(cmd.grantee, "grantee"),
        representative=values.text(cmd.representative, "representative"),
        purpose=values.text(cmd.purpose, "purpose", length_max=values.TEXT_LENGTH_MAX),
        designation=designation,
        amount_yen=amount,
        effective_on=day,
        actor=ctx.actor,
        reason=checked_reason(cmd.reason, default="grant awarded"),
        request_fingerprint=ctx.fingerprint,
    )
    uow.stage(fund, grant.awarded_movement())
    uow.add(grant)
    return outcome_of_first_use(grant), main_event(grant)


def refund_donation(uow: UnitOfWork, cmd: c.RefundDonation, ctx: Context) -> Handled:
    amount = money.amount_yen(cmd.amount_yen)
    donation, day, reason = _on_donation(uow, cmd, ctx)
    movement = donation.refund(amount, day, ctx.actor, reason)
    void_receipt_covering(uow, donation, ctx.actor, f"refunded: {reason}")
    return _post(uow, cmd, ctx, donation, movement)


def void_donation(uow: UnitOfWork, cmd: c.VoidDonation, ctx: Context) -> Handled:
    donation, day, reason = _on_donation(uow, cmd, ctx)
    movement = donation.void(day, ctx.actor, reason)
    void_receipt_covering(uow, donation, ctx.actor, f"voided: {reason}")
    return _post(uow, cmd, ctx, donation, movement)


def _on_donation(
    uow: UnitOfWork, cmd: c.RefundDonation | c.VoidDonation, ctx: Context
) -> tuple[Donation, date, str]:
    values.idempotency_key(cmd.idempotency_key)
    day = effective_day(cmd.effective_on, ctx)
    reason = checked_reason(cmd.reason)
    return uow.get(Donation, checked_id(cmd.donation_id, "donation_id")), day, reason


def disburse_grant(uow: UnitOfWork, cmd: c.DisburseGrant, ctx: Context) -> Handled:
    amount = money.amount_yen(cmd.amount_yen)
    grant, day, reason = _on_grant(uow, cmd, ctx, default_reason="grant disbursed")
    return _post(uow, cmd, ctx, grant, grant.disburse(amount, day, ctx.actor, reason))


def reduce_grant(uow: UnitOfWork, cmd: c.ReduceGrant, ctx: Context) -> Handled:
    amount = money.amount_yen(cmd.amount_yen)
    grant, day, reason = _on_grant(uow, cmd, ctx)
    return _post(uow, cmd, ctx, grant, grant.reduce(amount, day, ctx.actor, reason))


def cancel_grant(uow: UnitOfWork, cmd: c.CancelGrant, ctx: Context) -> Handled:
    grant, day, reason = _on_grant(uow, cmd, ctx)
    return _post(uow, cmd, ctx, grant, grant.cancel(day, ctx.actor, reason))


def record_grant_return(uow: UnitOfWork, cmd: c.RecordGrantReturn, ctx: Context) -> Handled:
    amount = money.amount_yen(cmd.amount_yen)
    grant, day, reason = _on_grant(uow, cmd, ctx)
    return _post(uow, cmd, ctx, grant, grant.record_return(amount, day, ctx.actor, reason))


def _on_grant(
    uow: UnitOfWork,
    cmd: c.DisburseGrant | c.ReduceGrant | c.CancelGrant | c.RecordGrantReturn,
    ctx: Context,
    default_reason: str | None = None,
) -> tuple[Grant, date, str]:
    values.idempotency_key(cmd.idempotency_key)
    day = effective_day(cmd.effective_on, ctx)
    reason = checked_reason(cmd.reason, default=default_reason)
    return uow.get(Grant, checked_id(cmd.grant_id, "grant_id")), day, reason


def _post(
    uow: UnitOfWork,
    cmd: c.RefundDonation
    | c.VoidDonation
    | c.DisburseGrant
    | c.ReduceGrant
    | c.CancelGrant
    | c.RecordGrantReturn,
    ctx: Context,
    source: Donation | Grant,
    movement: Movement,
) -> Handled:
    """Stage the movement on the source's fund and claim the idempotency key beside it."""
    uow.stage(uow.get(Fund, source.fund_id), movement)
    outcome = c.Outcome(c.command_kind(type(cmd)), source.id, _amounts_of_last_event(source))
    return claim_key(uow, cmd, ctx, outcome), main_event(source)


def _amounts_of_last_event(source: Donation | Grant) -> dict[str, int]:
    event = source.pending_events[-1]
    names = ("amount_yen", "fee_returned_yen")
    return {name: getattr(event, name) for name in names if hasattr(event, name)}
