"""Shared fixtures for the in-memory unit tests: a ledger on the plain-Python store, a fixed
clock, and a small harness to write tests as *given* past commands, *when* a command, *then*
an outcome, new events, or an error with no new event.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest

from ledger import commands as c
from ledger.commands import Outcome
from ledger.errors import LedgerError
from ledger.journal import journal_entry
from ledger.service import FundLedger

NOW_UTC = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)
TODAY = date(2026, 11, 28)  # NOW_UTC in Japan (12:00 JST)
ACTOR = "staff:tanaka"
MAIN_FUND_NAME = "亀岡協働基金"


def new_ledger(now_utc: datetime = NOW_UTC) -> FundLedger:
    return FundLedger(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}, clock=lambda: now_utc)


def log_position(app: FundLedger) -> int:
    return app.recorder.max_notification_id() or 0


def events_after(app: FundLedger, position: int) -> list[Any]:
    """The domain events recorded after log `position`, in log order."""
    events: list[Any] = []
    start = position + 1
    while True:
        page = app.recorder.select_notifications(start=start, limit=100)
        events.extend(app.mapper.to_domain_event(n) for n in page)
        if len(page) < 100:
            return events
        start = page[-1].id + 1


class Ledger:
    """A `FundLedger` with short ways to state the past and check what a command did."""

    def __init__(self, app: FundLedger) -> None:
        self.app = app
        self._keys = itertools.count(1)

    def key(self) -> str:
        return f"key-{next(self._keys)}"

    # When

    def run(self, command: c.Command) -> Outcome:
        return self.app.execute(command, actor=ACTOR)

    def run_batch(self, commands: list[c.Command]) -> list[Outcome]:
        return self.app.execute_batch(commands, actor=ACTOR)

    def refused(self, command: c.Command, error: type[LedgerError]) -> LedgerError:
        """Run `command`, expect `error`, and check that nothing at all was recorded."""
        before = self.position()
        with pytest.raises(error) as raised:
            self.run(command)
        assert self.events_since(before) == [], "a refused command recorded events"
        return raised.value

    # Then

    def position(self) -> int:
        return log_position(self.app)

    def events_since(self, position: int) -> list[Any]:
        return events_after(self.app, position)

    def journal(self) -> list[Any]:
        entries = (journal_entry(e) for e in self.events_since(0))
        return [e for e in entries if e is not None]

    def state(self, aggregate_id: UUID) -> Any:
        return self.app.get(aggregate_id)

    def cash(self, fund_id: UUID, pot: str = "general") -> int:
        return int(self.state(fund_id).cash_yen[pot])

    def committed(self, fund_id: UUID, pot: str = "general") -> int:
        return int(self.state(fund_id).committed_yen[pot])

    def available(self, fund_id: UUID, pot: str = "general") -> int:
        return self.cash(fund_id, pot) - self.committed(fund_id, pot)

    # Given

    def open_fund(self, fee_rate_bp: int = 350, *designations: str) -> UUID:
        fund_id = self.run(c.OpenFund(MAIN_FUND_NAME, "京都地域創造基金", fee_rate_bp)).aggregate_id
        for code in designations:
            self.run(c.AddDesignation(fund_id, code, f"{code} project"))
        return fund_id

    def register_donor(self, name: str = "山田 花子") -> UUID:
        command = c.RegisterDonor(
            "individual", name, "ヤマダ ハナコ", "621-0806", "京都府亀岡市安町"
        )
        return self.run(command).aggregate_id

    def donate(
        self,
        fund_id: UUID,
        amount_yen: int,
        *,
        designation: str | None = None,
        on: date = date(2026, 5, 1),
        donor_id: UUID | None = None,
    ) -> UUID:
        donor_id = donor_id or self.register_donor()
        command = c.RecordDonation(
            self.key(), fund_id, donor_id, amount_yen, "bank_transfer", on, designation
        )
        return self.run(command).aggregate_id

    def refund(self, donation_id: UUID, amount_yen: int, on: date = date(2026, 6, 1)) -> Outcome:
        return self.run(c.RefundDonation(self.key(), donation_id, amount_yen, "返金", on))

    def void(self, donation_id: UUID, on: date = date(2026, 6, 1)) -> Outcome:
        return self.run(c.VoidDonation(self.key(), donation_id, "二重計上", on))

    def award(
        self,
        fund_id: UUID,
        amount_yen: int,
        *,
        designation: str | None = None,
        on: date = date(2026, 6, 1),
    ) -> UUID:
        command = c.AwardGrant(
            self.key(),
            fund_id,
            "NPO法人 保津川",
            "代表 川田",
            "川の清掃",
            amount_yen,
            designation,
            on,
        )
        return self.run(command).aggregate_id

    def disburse(self, grant_id: UUID, amount_yen: int, on: date = date(2026, 7, 1)) -> Outcome:
        return self.run(c.DisburseGrant(self.key(), grant_id, amount_yen, on))


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(new_ledger())
