"""Donations (寄附): recorded once, then possibly refunded in part or in full, or voided.

The host fee taken is fixed when the donation is recorded (BRIEF rule 5) and given back
pro rata by refunds. Each command returns the `Movement` it causes on the fund's balances;
the application service posts it to the fund, which enforces BRIEF rule 4.
"""

from __future__ import annotations

from datetime import date
from enum import Enum
from uuid import UUID

from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.errors import (
    DateOutOfOrder,
    DonationAlreadyVoided,
    DonationPartlyRefunded,
    RefundExceedsDonation,
)
from ledger.fund import Movement
from ledger.money import fee_returned_yen, format_yen


class PaymentMethod(Enum):
    BANK_TRANSFER = "bank_transfer"  # 銀行振込
    POSTAL_TRANSFER = "postal_transfer"  # 郵便振替
    CARD = "card"
    CASH = "cash"


class Donation(LedgerAggregate):
    class Recorded(LedgerAggregate.Created):
        fund_id: UUID
        donor_id: UUID
        counterparty: str
        designation: str | None
        amount_yen: int
        fee_rate_bp: int
        fee_yen: int
        effective_on: date
        method: str
        external_reference: str | None
        actor: str
        reason: str
        request_fingerprint: str

    class Refunded(LedgerAggregate.Event):
        fund_id: UUID
        counterparty: str
        designation: str | None
        amount_yen: int
        fee_returned_yen: int
        effective_on: date
        actor: str
        reason: str

    class Voided(LedgerAggregate.Event):
        fund_id: UUID
        counterparty: str
        designation: str | None
        amount_yen: int
        fee_yen: int
        effective_on: date
        actor: str
        reason: str

    @event(Recorded)
    def __init__(
        self,
        id: UUID,
        fund_id: UUID,
        donor_id: UUID,
        counterparty: str,
        designation: str | None,
        amount_yen: int,
        fee_rate_bp: int,
        fee_yen: int,
        effective_on: date,
        method: str,
        external_reference: str | None,
        actor: str,
        reason: str,
        request_fingerprint: str,
    ) -> None:
        self.fund_id = fund_id
        self.donor_id = donor_id
        self.counterparty = counterparty
        self.designation = designation
        self.amount_yen = amount_yen
        self.fee_yen = fee_yen
        self.effective_on = effective_on
        self.method = method
        self.external_reference = external_reference
        self.request_fingerprint = request_fingerprint
        self.refunded_yen = 0
        self.fee_returned_yen = 0
        self.voided = False

    @property
    def refundable_yen(self) -> int:
        return 0 if self.voided else self.amount_yen - self.refunded_yen

    def recorded_movement(self) -> Movement:
        return self._movement(self.amount_yen - self.fee_yen, self.effective_on)

    # Guards

    def check_not_voided(self) -> None:
        if self.voided:
            raise DonationAlreadyVoided(f"donation {self.id} was voided")

    def check_not_before_donation(self, day: date) -> None:
        if day < self.effective_on:
            raise DateOutOfOrder(
                f"{day.isoformat()} is before the donation's date {self.effective_on.isoformat()}"
            )

    def check_refund_within_donation(self, amount: int) -> None:
        if amount > self.refundable_yen:
            raise RefundExceedsDonation(
                f"refund of {format_yen(amount)} exceeds the {format_yen(self.refundable_yen)}"
                f" left of donation {self.id}"
            )

    # Commands

    def refund(self, amount: int, effective_on: date, actor: str, reason: str) -> Movement:
        self.check_not_voided()
        self.check_refund_within_donation(amount)
        self.check_not_before_donation(effective_on)
        fee_back = fee_returned_yen(
            fee=self.fee_yen,
            amount=self.amount_yen,
            refunded_total=self.refunded_yen + amount,
            fee_returned_before=self.fee_returned_yen,
        )
        self._refunded(
            self.fund_id,
            self.counterparty,
            self.designation,
            amount,
            fee_back,
            effective_on,
            actor,
            reason,
        )
        return self._movement(-(amount - fee_back), effective_on)

    def void(self, effective_on: date, actor: str, reason: str) -> Movement:
        self.check_not_voided()
        if self.refunded_yen:
            raise DonationPartlyRefunded(
                f"donation {self.id} has been refunded {format_yen(self.refunded_yen)};"
                " refund the rest instead"
            )
        self.check_not_before_donation(effective_on)
        self._voided(
            self.fund_id,
            self.counterparty,
            self.designation,
            self.amount_yen,
            self.fee_yen,
            effective_on,
            actor,
            reason,
        )
        return self._movement(-(self.amount_yen - self.fee_yen), effective_on)

    def _movement(self, cash_change_yen: int, effective_on: date) -> Movement:
        """The change the event just triggered makes to the fund's pot."""
        return Movement(self.designation, cash_change_yen, 0, self.id, self.version, effective_on)

    # Events

    @event(Refunded)
    def _refunded(
        self,
        fund_id: UUID,
        counterparty: str,
        designation: str | None,
        amount_yen: int,
        fee_returned_yen: int,
        effective_on: date,
        actor: str,
        reason: str,
    ) -> None:
        self.refunded_yen += amount_yen
        self.fee_returned_yen += fee_returned_yen

    @event(Voided)
    def _voided(
        self,
        fund_id: UUID,
        counterparty: str,
        designation: str | None,
        amount_yen: int,
        fee_yen: int,
        effective_on: date,
        actor: str,
        reason: str,
    ) -> None:
        self.voided = True
