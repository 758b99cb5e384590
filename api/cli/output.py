"""What the commands print: one readable line, or one JSON object with `--json`."""

from __future__ import annotations

import json
from datetime import date
from enum import Enum
from typing import Any
from uuid import UUID

import typer

from ledger.commands import Outcome
from ledger.money import format_yen

PAST_TENSE = {
    "open_fund": "fund opened",
    "change_fee_rate": "fee rate changed",
    "add_designation": "designation added",
    "register_donor": "donor registered",
    "correct_donor": "donor corrected",
    "record_donation": "donation recorded",
    "refund_donation": "donation refunded",
    "void_donation": "donation voided",
    "award_grant": "grant awarded",
    "disburse_grant": "grant disbursed",
    "reduce_grant": "grant reduced",
    "cancel_grant": "grant cancelled",
    "record_grant_return": "grant return recorded",
}
AMOUNT_LABELS = {"amount_yen": "{}", "fee_yen": "(fee {})", "fee_returned_yen": "(fee returned {})"}


def emit(text: str, payload: dict[str, Any], *, as_json: bool) -> None:
    typer.echo(to_json(payload) if as_json else text)


def to_json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, default=_plain)


def _plain(value: object) -> str:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, date):  # and datetime
        return value.isoformat()
    if isinstance(value, Enum):
        return str(value.value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def emit_outcome(outcome: Outcome, idempotency_key: str | None, *, as_json: bool) -> None:
    payload = {
        "kind": outcome.kind,
        "id": str(outcome.aggregate_id),
        "amounts_yen": outcome.amounts_yen,
        "position": outcome.position,
        "replayed": outcome.replayed,
        "idempotency_key": idempotency_key,
    }
    emit(describe_outcome(outcome, idempotency_key), payload, as_json=as_json)


def describe_outcome(outcome: Outcome, idempotency_key: str | None) -> str:
    """`donation recorded: 4f1c… ¥10,000 (fee ¥350) at position 12, idempotency key 9b2e…`"""
    amounts = [
        AMOUNT_LABELS[name].format(format_yen(amount))
        for name, amount in outcome.amounts_yen.items()
        if name in AMOUNT_LABELS
    ]
    head = " ".join(
        [f"{PAST_TENSE.get(outcome.kind, outcome.kind)}: {outcome.aggregate_id}", *amounts]
    )
    if outcome.replayed:
        return f"{head}: replay of idempotency key {idempotency_key}, nothing new recorded"
    if outcome.position is None:
        return f"{head}: nothing changed, nothing recorded"
    key = f", idempotency key {idempotency_key}" if idempotency_key else ""
    return f"{head} at position {outcome.position}{key}"


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def fee_rate(rate_bp: int) -> str:
    """`350` → `3.50%`."""
    return f"{rate_bp // 100}.{rate_bp % 100:02d}%"
