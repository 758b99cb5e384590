"""What every handler shares: the context of a command, input checks, claims of keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger import commands as c
from ledger import values
from ledger.claim import IdempotencyClaim, claim_id
from ledger.donation import Donation, PaymentMethod
from ledger.donor import Donor, DonorKind
from ledger.errors import InvalidInput
from ledger.fund import Fund
from ledger.grant import Grant
from ledger.unit_of_work import UnitOfWork

REFERENCE_LENGTH_MAX = 100


@dataclass(frozen=True)
class Context:
    actor: str
    today: date
    fingerprint: str


Handled = tuple[c.Outcome, tuple[UUID, int] | None]


def checked_id(value: object, field: str) -> UUID:
    if not isinstance(value, UUID):
        raise InvalidInput(field, "must be an id (UUID)")
    return value


def checked_reason(value: object, default: str | None = None) -> str:
    if default is not None and value is None:
        return default
    return values.text(value, "reason", length_max=values.TEXT_LENGTH_MAX)


def effective_day(value: date | None, ctx: Context) -> date:
    return values.effective_on(ctx.today if value is None else value, ctx.today)


def new_id(key: str | None) -> UUID:
    return uuid4() if key is None else claim_id(key)


def main_event(aggregate: Aggregate) -> tuple[UUID, int]:
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


def claim_key(uow: UnitOfWork, cmd: c.Command, ctx: Context, outcome: c.Outcome) -> c.Outcome:
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


def enum_value(enum: type[PaymentMethod] | type[DonorKind], value: object, field: str) -> str:
    raw = value.value if isinstance(value, enum) else value
    if not isinstance(raw, str) or raw not in enum._value2member_map_:
        raise InvalidInput(field, f"must be one of {', '.join(m.value for m in enum)}")
    return raw
