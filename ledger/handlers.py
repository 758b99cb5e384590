"""One handler per use case: validate the input, load, call the domain command, stage the result.

Each handler returns the `Outcome` and the (aggregate id, version) of its main event, whose
log position the service reports back once the unit of work is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger import commands as c
from ledger import money, values
from ledger.claim import IdempotencyClaim, claim_id
from ledger.donation import Donation, PaymentMethod
from ledger.donor import CORRECTABLE_FIELDS, Donor, DonorKind
from ledger.errors import InvalidInput
from ledger.fund import Fund, Movement
from ledger.grant import Grant
from ledger.unit_of_work import UnitOfWork

REFERENCE_LENGTH_MAX = 100


@dataclass(frozen=True)
class Context:
    actor: str
    today: date
    fingerprint: str


Handled = tuple[c.Outcome, tuple[UUID, int] | None]


def _id(value: object, field: str) -> UUID:
    if not isinstance(value, UUID):
        raise InvalidInput(field, "must be an id (UUID)")
    return value


def _reason(value: object, default: str | None = None) -> str:
    if default is not None and value is None:
        return default
    return values.text(value, "reason", length_max=values.TEXT_LENGTH_MAX)


def _day(value: date | None, ctx: Context) -> date:
    return values.effective_on(ctx.today if value is None else value, ctx.today)


def _new_id(key: str | None) -> UUID:
    return uuid4() if key is None else claim_id(key)


def _main(aggregate: Aggregate) -> tuple[UUID, int]:
    return (aggregate.id, aggregate.version)


def outcome_of_first_use(aggregate: Aggregate) -> c.Outcome:
    """The outcome of the command that created `aggregate` or, for a claim, that claimed its
    key: what a replay of that command answers."""
    if isinstance(aggregate, Donation):
        amounts = {"amount_yen": aggregate.amount_yen, "fee_yen": aggregate.fee_yen}
        return c.Outcome("record_donation", aggregate.id, amounts)
    if isinstance(aggregate, Grant):
        return c.Outcome("award_grant", aggregate.id, {"amount_yen": aggregate.amount_yen})
    if isinstance(aggregate, Fund):
        return c.Outcome("open_fund", aggregate.id)
    if isinstance(aggregate, Donor):
        return c.Outcome("register_donor", aggregate.id)
    assert isinstance(aggregate, IdempotencyClaim), type(aggregate)
    return c.Outcome.from_json(aggregate.outcome)


def open_fund(uow: UnitOfWork, cmd: c.OpenFund, ctx: Context) -> Handled:
    fund = Fund(
        id=_new_id(cmd.idempotency_key),
        name=values.text(cmd.name, "name"),
        host=values.text(cmd.host, "host"),
        fee_rate_bp=money.fee_rate_bp(cmd.fee_rate_bp),
        target_yen=None if cmd.target_yen is None else money.target_yen(cmd.target_yen),
        actor=ctx.actor,
        request_fingerprint=ctx.fingerprint,
    )
    uow.add(fund)
    return outcome_of_first_use(fund), _main(fund)


def change_fee_rate(uow: UnitOfWork, cmd: c.ChangeFeeRate, ctx: Context) -> Handled:
    fund = uow.get(Fund, _id(cmd.fund_id, "fund_id"))
    effective_from = values.calendar_date(cmd.effective_from, "effective_from")
    rate = money.fee_rate_bp(cmd.fee_rate_bp)
    fund.change_fee_rate(rate, effective_from, ctx.actor, _reason(cmd.reason))
    return _claim(uow, cmd, ctx, c.Outcome("change_fee_rate", fund.id)), _main(fund)


def add_designation(uow: UnitOfWork, cmd: c.AddDesignation, ctx: Context) -> Handled:
    fund = uow.get(Fund, _id(cmd.fund_id, "fund_id"))
    code = values.designation_code(cmd.designation)
    fund.add_designation(code, values.text(cmd.name, "name"), ctx.actor)
    return _claim(uow, cmd, ctx, c.Outcome("add_designation", fund.id)), _main(fund)


def register_donor(uow: UnitOfWork, cmd: c.RegisterDonor, ctx: Context) -> Handled:
    fields = _donor_fields({k: getattr(cmd, k) for k in CORRECTABLE_FIELDS}, required=True)
    donor = Donor(
        id=_new_id(cmd.idempotency_key),
        kind=_enum_value(DonorKind, cmd.kind, "kind"),
        actor=ctx.actor,
        request_fingerprint=ctx.fingerprint,
        **fields,
    )
    uow.add(donor)
    return outcome_of_first_use(donor), _main(donor)


def correct_donor(uow: UnitOfWork, cmd: c.CorrectDonor, ctx: Context) -> Handled:
    donor = uow.get(Donor, _id(cmd.donor_id, "donor_id"))
    if not isinstance(cmd.changes, dict) or not cmd.changes:
        raise InvalidInput("changes", f"must name at least one of {', '.join(CORRECTABLE_FIELDS)}")
    unknown = sorted(set(cmd.changes) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise InvalidInput("changes", f"cannot correct {', '.join(unknown)}")
    version_before = donor.version
    donor.correct_details(
        _donor_fields(cmd.changes, required=False), ctx.actor, _reason(cmd.reason)
    )
    changed = donor.version != version_before
    outcome = _claim(uow, cmd, ctx, c.Outcome("correct_donor", donor.id))
    return outcome, _main(donor) if changed else None


def _donor_fields(raw: dict[str, Any], *, required: bool) -> dict[str, Any]:
    validators: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: values.text(v, "name"),
        "kana": lambda v: values.text(v, "kana"),
        "postal_code": values.postal_code,
        "address": lambda v: values.text(v, "address", length_max=300),
        "email": values.email,
        "publish_name": _boolean,
    }
    return {k: validators[k](v) for k, v in raw.items() if required or k in validators}


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("publish_name", "must be true or false")
    return value


def _enum_value(enum: type[PaymentMethod] | type[DonorKind], value: object, field: str) -> str:
    raw = value.value if isinstance(value, enum) else value
    if not isinstance(raw, str) or raw not in enum._value2member_map_:
        raise InvalidInput(field, f"must be one of {', '.join(m.value for m in enum)}")
    return raw


def record_donation(uow: UnitOfWork, cmd: c.RecordDonation, ctx: Context) -> Handled:
    key = values.idempotency_key(cmd.idempotency_key)
    amount = money.amount_yen(cmd.amount_yen)
    day = _day(cmd.effective_on, ctx)
    method = _enum_value(PaymentMethod, cmd.method, "method")
    designation = values.optional_designation(cmd.designation)
    reference = values.optional_text(
        cmd.external_reference, "external_reference", length_max=REFERENCE_LENGTH_MAX
    )
    reason = _reason(cmd.reason, default="donation received")
    fund = uow.get(Fund, _id(cmd.fund_id, "fund_id"))
    fund.check_designation_exists(designation)
    donor = uow.read(Donor, _id(cmd.donor_id, "donor_id"))
    rate = fund.fee_rate_bp_on(day)
    donation = Donation(
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
    return outcome_of_first_use(donation), _main(donation)


def award_grant(uow: UnitOfWork, cmd: c.AwardGrant, ctx: Context) -> Handled:
    key = values.idempotency_key(cmd.idempotency_key)
    amount = money.amount_yen(cmd.amount_yen)
    day = _day(cmd.effective_on, ctx)
    designation = values.optional_designation(cmd.designation)
    fund = uow.get(Fund, _id(cmd.fund_id, "fund_id"))
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
        reason=_reason(cmd.reason, default="grant awarded"),
        request_fingerprint=ctx.fingerprint,
    )
    uow.stage(fund, grant.awarded_movement())
    uow.add(grant)
    return outcome_of_first_use(grant), _main(grant)


def refund_donation(uow: UnitOfWork, cmd: c.RefundDonation, ctx: Context) -> Handled:
    amount = money.amount_yen(cmd.amount_yen)
    donation, day, reason = _on_donation(uow, cmd, ctx)
    return _post(uow, cmd, ctx, donation, donation.refund(amount, day, ctx.actor, reason))


def void_donation(uow: UnitOfWork, cmd: c.VoidDonation, ctx: Context) -> Handled:
    donation, day, reason = _on_donation(uow, cmd, ctx)
    return _post(uow, cmd, ctx, donation, donation.void(day, ctx.actor, reason))


def _on_donation(
    uow: UnitOfWork, cmd: c.RefundDonation | c.VoidDonation, ctx: Context
) -> tuple[Donation, date, str]:
    values.idempotency_key(cmd.idempotency_key)
    day = _day(cmd.effective_on, ctx)
    reason = _reason(cmd.reason)
    return uow.get(Donation, _id(cmd.donation_id, "donation_id")), day, reason


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
    day = _day(cmd.effective_on, ctx)
    reason = _reason(cmd.reason, default=default_reason)
    return uow.get(Grant, _id(cmd.grant_id, "grant_id")), day, reason


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
    return _claim(uow, cmd, ctx, outcome), _main(source)


def _claim(uow: UnitOfWork, cmd: c.Command, ctx: Context, outcome: c.Outcome) -> c.Outcome:
    """Save a claim of the command's idempotency key, if it has one, beside its events."""
    if cmd.idempotency_key is not None:
        claim = IdempotencyClaim(
            id=claim_id(cmd.idempotency_key),
            idempotency_key=cmd.idempotency_key,
            request_fingerprint=ctx.fingerprint,
            outcome=outcome.to_json(),
        )
        uow.add(claim)
    return outcome


def _amounts_of_last_event(source: Donation | Grant) -> dict[str, int]:
    event = source.pending_events[-1]
    names = ("amount_yen", "fee_returned_yen")
    return {name: getattr(event, name) for name in names if hasattr(event, name)}


HANDLERS: dict[type[Any], Callable[[UnitOfWork, Any, Context], Handled]] = {
    c.OpenFund: open_fund,
    c.ChangeFeeRate: change_fee_rate,
    c.AddDesignation: add_designation,
    c.RegisterDonor: register_donor,
    c.CorrectDonor: correct_donor,
    c.RecordDonation: record_donation,
    c.RefundDonation: refund_donation,
    c.VoidDonation: void_donation,
    c.AwardGrant: award_grant,
    c.DisburseGrant: disburse_grant,
    c.ReduceGrant: reduce_grant,
    c.CancelGrant: cancel_grant,
    c.RecordGrantReturn: record_grant_return,
}
