"""Handlers of the commands that move no money: funds' settings and donors' details."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger import commands as c
from ledger import money, values
from ledger.donor import CORRECTABLE_FIELDS, Donor, DonorKind
from ledger.errors import InvalidInput
from ledger.fund import Fund
from ledger.handlers.common import (
    Context,
    Handled,
    checked_id,
    checked_reason,
    claim_key,
    enum_value,
    main_event,
    new_id,
    outcome_of_first_use,
)
from ledger.unit_of_work import UnitOfWork


def open_fund(uow: UnitOfWork, cmd: c.OpenFund, ctx: Context) -> Handled:
    fund = Fund(
        id=new_id(cmd.idempotency_key),
        name=values.text(cmd.name, "name"),
        host=values.text(cmd.host, "host"),
        fee_rate_bp=money.fee_rate_bp(cmd.fee_rate_bp),
        target_yen=None if cmd.target_yen is None else money.target_yen(cmd.target_yen),
        actor=ctx.actor,
        request_fingerprint=ctx.fingerprint,
    )
    uow.add(fund)
    return outcome_of_first_use(fund), main_event(fund)


def change_fee_rate(uow: UnitOfWork, cmd: c.ChangeFeeRate, ctx: Context) -> Handled:
    fund = uow.get(Fund, checked_id(cmd.fund_id, "fund_id"))
    effective_from = values.calendar_date(cmd.effective_from, "effective_from")
    rate = money.fee_rate_bp(cmd.fee_rate_bp)
    fund.change_fee_rate(rate, effective_from, ctx.actor, checked_reason(cmd.reason))
    return claim_key(uow, cmd, ctx, c.Outcome("change_fee_rate", fund.id)), main_event(fund)


def close_books(uow: UnitOfWork, cmd: c.CloseBooks, ctx: Context) -> Handled:
    fund = uow.get(Fund, checked_id(cmd.fund_id, "fund_id"))
    through = values.effective_on(cmd.through, ctx.today, "through")
    fund.close_books(through, ctx.actor, checked_reason(cmd.reason))
    return claim_key(uow, cmd, ctx, c.Outcome("close_books", fund.id)), main_event(fund)


def add_designation(uow: UnitOfWork, cmd: c.AddDesignation, ctx: Context) -> Handled:
    fund = uow.get(Fund, checked_id(cmd.fund_id, "fund_id"))
    code = values.designation_code(cmd.designation)
    fund.add_designation(code, values.text(cmd.name, "name"), ctx.actor)
    return claim_key(uow, cmd, ctx, c.Outcome("add_designation", fund.id)), main_event(fund)


def register_donor(uow: UnitOfWork, cmd: c.RegisterDonor, ctx: Context) -> Handled:
    fields = _donor_fields({k: getattr(cmd, k) for k in CORRECTABLE_FIELDS}, required=True)
    donor = Donor(
        id=new_id(cmd.idempotency_key),
        kind=enum_value(DonorKind, cmd.kind, "kind"),
        actor=ctx.actor,
        request_fingerprint=ctx.fingerprint,
        **fields,
    )
    uow.add(donor)
    return outcome_of_first_use(donor), main_event(donor)


def correct_donor(uow: UnitOfWork, cmd: c.CorrectDonor, ctx: Context) -> Handled:
    donor = uow.get(Donor, checked_id(cmd.donor_id, "donor_id"))
    if not isinstance(cmd.changes, dict) or not cmd.changes:
        raise InvalidInput("changes", f"must name at least one of {', '.join(CORRECTABLE_FIELDS)}")
    unknown = sorted(set(cmd.changes) - set(CORRECTABLE_FIELDS))
    if unknown:
        raise InvalidInput("changes", f"cannot correct {', '.join(unknown)}")
    version_before = donor.version
    donor.correct_details(
        _donor_fields(cmd.changes, required=False), ctx.actor, checked_reason(cmd.reason)
    )
    changed = donor.version != version_before
    outcome = claim_key(uow, cmd, ctx, c.Outcome("correct_donor", donor.id))
    return outcome, main_event(donor) if changed else None


def _donor_fields(raw: dict[str, Any], *, required: bool) -> dict[str, Any]:
    validators: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: values.text(v, "name"),
        "kana": lambda v: values.text(v, "kana"),
        "postal_code": values.postal_code,
        "address": lambda v: values.text(v, "address", length_max=300),
        "email": values.email,
        "publish_name": _boolean,
        "postal_account": values.optional_postal_account,
    }
    return {k: validators[k](v) for k, v in raw.items() if required or k in validators}


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput("publish_name", "must be true or false")
    return value
