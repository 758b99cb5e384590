"""Grants (助成): awarded from available money, paid in disbursements (交付), reduced or
cancelled (the unpaid rest returns to the fund), and possibly returned in part (返還).

`committed = awarded − reduced − disbursed` is the grant's unpaid rest. Each command returns
the `Movement` it causes on its fund's pot; the fund enforces BRIEF rule 4.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.errors import DateOutOfOrder, GrantLimitExceeded
from ledger.fund import Movement
from ledger.money import format_yen


class Grant(LedgerAggregate):
    class Awarded(LedgerAggregate.Created):
        fund_id: UUID
        grantee: str
        representative: str
        purpose: str
        designation: str | None
        amount_yen: int
        effective_on: date
        actor: str
        reason: str
        request_fingerprint: str

    class Disbursed(LedgerAggregate.Event):
        fund_id: UUID
        counterparty: str
        designation: str | None
        amount_yen: int
        effective_on: date
        actor: str
        reason: str

    class Reduced(LedgerAggregate.Event):
        fund_id: UUID
        counterparty: str
        designation: str | None
        amount_yen: int
        effective_on: date
        actor: str
        reason: str

    class Cancelled(LedgerAggregate.Event):
        fund_id: UUID
        counterparty: str
        designation: str | None
        amount_yen: int
        effective_on: date
        actor: str
        reason: str

    class Returned(LedgerAggregate.Event):
        fund_id: UUID
        counterparty: str
        designation: str | None
        amount_yen: int
        effective_on: date
        actor: str
        reason: str

    @event(Awarded)
    def __init__(
        self,
        id: UUID,
        fund_id: UUID,
        grantee: str,
        representative: str,
        purpose: str,
        designation: str | None,
        amount_yen: int,
        effective_on: date,
        actor: str,
        reason: str,
        request_fingerprint: str,
    ) -> None:
        self.fund_id = fund_id
        self.grantee = grantee
        self.representative = representative
        self.purpose = purpose
        self.designation = designation
        self.amount_yen = amount_yen
        self.effective_on = effective_on
        self.request_fingerprint = request_fingerprint
        self.disbursed_yen = 0
        self.reduced_yen = 0
        self.returned_yen = 0
        self.cancelled = False

    @property
    def unpaid_yen(self) -> int:
        return self.amount_yen - self.reduced_yen - self.disbursed_yen

    @property
    def returnable_yen(self) -> int:
        return self.disbursed_yen - self.returned_yen

    def awarded_movement(self) -> Movement:
        return self._movement(0, self.amount_yen, self.effective_on)

    # Guards

    def check_not_before_decision(self, day: date) -> None:
        if day < self.effective_on:
            raise DateOutOfOrder(
                f"{day.isoformat()} is before the grant's decision date"
                f" {self.effective_on.isoformat()}"
            )

    def check_within_unpaid(self, amount: int, what: str) -> None:
        if amount > self.unpaid_yen:
            raise GrantLimitExceeded(
                f"{what} of {format_yen(amount)} exceeds the unpaid rest"
                f" {format_yen(self.unpaid_yen)} of grant {self.id}"
            )

    # Commands

    def disburse(self, amount: int, effective_on: date, actor: str, reason: str) -> Movement:
        self.check_within_unpaid(amount, "disbursement")
        self.check_not_before_decision(effective_on)
        self._disbursed(*self._money(amount, effective_on, actor, reason))
        return self._movement(-amount, -amount, effective_on)

    def reduce(self, amount: int, effective_on: date, actor: str, reason: str) -> Movement:
        self.check_within_unpaid(amount, "reduction")
        self.check_not_before_decision(effective_on)
        self._reduced(*self._money(amount, effective_on, actor, reason))
        return self._movement(0, -amount, effective_on)

    def cancel(self, effective_on: date, actor: str, reason: str) -> Movement:
        """Reduce the grant by its whole unpaid rest; refused when nothing is left unpaid."""
        rest = self.unpaid_yen
        if rest == 0:
            raise GrantLimitExceeded(f"grant {self.id} has nothing left unpaid to cancel")
        self.check_not_before_decision(effective_on)
        self._cancelled(*self._money(rest, effective_on, actor, reason))
        return self._movement(0, -rest, effective_on)

    def record_return(self, amount: int, effective_on: date, actor: str, reason: str) -> Movement:
        if amount > self.returnable_yen:
            raise GrantLimitExceeded(
                f"return of {format_yen(amount)} exceeds the {format_yen(self.returnable_yen)}"
                f" paid and not yet returned on grant {self.id}"
            )
        self.check_not_before_decision(effective_on)
        self._returned(*self._money(amount, effective_on, actor, reason))
        return self._movement(amount, 0, effective_on)

    def _money(
        self, amount: int, effective_on: date, actor: str, reason: str
    ) -> tuple[UUID, str, str | None, int, date, str, str]:
        return (self.fund_id, self.grantee, self.designation, amount, effective_on, actor, reason)

    def _movement(
        self, cash_change_yen: int, committed_change_yen: int, effective_on: date
    ) -> Movement:
        """The change the event just triggered makes to the fund's pot."""
        return Movement(
            self.designation,
            cash_change_yen,
            committed_change_yen,
            self.id,
            self.version,
            effective_on,
        )

    # Events

    @event(Disbursed)
    def _disbursed(
        self,
        fund_id: UUID,
        counterparty: str,
        designation: str | None,
        amount_yen: int,
        effective_on: date,
        actor: str,
        reason: str,
    ) -> None:
        self.disbursed_yen += amount_yen

    @event(Reduced)
    def _reduced(
        self,
        fund_id: UUID,
        counterparty: str,
        designation: str | None,
        amount_yen: int,
        effective_on: date,
        actor: str,
        reason: str,
    ) -> None:
        self.reduced_yen += amount_yen

    @event(Cancelled)
    def _cancelled(
        self,
        fund_id: UUID,
        counterparty: str,
        designation: str | None,
        amount_yen: int,
        effective_on: date,
        actor: str,
        reason: str,
    ) -> None:
        self.reduced_yen += amount_yen
        self.cancelled = True

    @event(Returned)
    def _returned(
        self,
        fund_id: UUID,
        counterparty: str,
        designation: str | None,
        amount_yen: int,
        effective_on: date,
        actor: str,
        reason: str,
    ) -> None:
        self.returned_yen += amount_yen
