"""Donors (寄附者): individuals and organisations. Every correction is an event."""

from __future__ import annotations

from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate


class DonorKind(Enum):
    INDIVIDUAL = "individual"  # receipts address them with 様
    ORGANISATION = "organisation"  # receipts address them with 御中


CORRECTABLE_FIELDS = (
    "name",
    "kana",
    "postal_code",
    "address",
    "email",
    "publish_name",
    "postal_account",
)


class Donor(LedgerAggregate):
    class Registered(LedgerAggregate.Created):
        kind: str
        name: str
        kana: str
        postal_code: str
        address: str
        email: str | None
        publish_name: bool
        actor: str
        request_fingerprint: str
        postal_account: str | None  # ゆうちょ振替口座, canonical (`ledger.values`); from v2

        # v1 (stored before donors had a postal account) is read as a donor without one.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["postal_account"] = None

    class DetailsCorrected(LedgerAggregate.Event):
        changes: dict[str, Any]
        actor: str
        reason: str

    @event(Registered)
    def __init__(
        self,
        id: UUID,
        kind: str,
        name: str,
        kana: str,
        postal_code: str,
        address: str,
        email: str | None,
        publish_name: bool,
        actor: str,
        request_fingerprint: str,
        postal_account: str | None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.kana = kana
        self.postal_code = postal_code
        self.address = address
        self.email = email
        self.publish_name = publish_name
        self.request_fingerprint = request_fingerprint
        self.postal_account = postal_account

    def correct_details(self, changes: dict[str, Any], actor: str, reason: str) -> None:
        """Record only what actually changes; a correction that changes nothing records nothing."""
        assert set(changes) <= set(CORRECTABLE_FIELDS), "fields are validated by the service"
        effective = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if effective:
            self._details_corrected(effective, actor, reason)

    @event(DetailsCorrected)
    def _details_corrected(self, changes: dict[str, Any], actor: str, reason: str) -> None:
        for field, value in changes.items():
            setattr(self, field, value)
