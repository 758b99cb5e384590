"""A realistic history for the rebuild benchmark, written through `FundLedger.execute_batch`.

Several funds with designations and fee-rate changes, a few thousand donors (some corrected
later), then batches of mixed commands: donations above all, refunds and voids of earlier
donations, grants awarded, disbursed, reduced, cancelled and partly returned.

A batch is atomic: one refused command would reject all of it. So the planner keeps a
conservative model of each pot (a lower bound of its available money) and of each donation
and grant, and only plans commands the domain accepts: a refund or void never takes a pot
below zero, a grant is awarded from at most a third of what is available, a disbursement or
reduction stays within the unpaid rest, a return within what was paid and not yet returned.
Ids are known before the write (`claim_id` of the idempotency key), so a command can act on
something created earlier in the same batch. Donor corrections go in a batch of their own: a
donor read by a donation and then corrected in one batch conflicts with itself in the ledger
(see the benchmark's report), so `batch` returns them apart.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar
from uuid import UUID

from ledger import commands as c
from ledger.claim import claim_id
from ledger.service import BATCH_SIZE_MAX, FundLedger

ACTOR = "bench"
FIRST_DAY = date(2023, 4, 1)
LAST_DAY = date(2026, 3, 31)
FUNDS = (
    ("亀岡協働基金", 350, 50_000_000, ("hozugawa", "kodomo", "satoyama")),
    ("保津川基金", 400, 5_000_000, ("river",)),
    ("テーマ基金", 1_000, None, ()),
    ("災害支援基金", 300, None, ("noto", "kameoka")),
)
DONOR_COUNT = 2_000
FEE_RATE_BP_MAX = 1_000  # no rate the planner sets is higher (see `_fee_upper_yen`)
DONATION_AMOUNTS_YEN = (1_000, 3_000, 5_000, 10_000, 30_000, 50_000, 123_457)
GRANT_AMOUNTS_YEN = (20_000, 50_000, 100_000, 300_000)
# Share of planned commands by kind (after the funds and donors are set up).
MIX = (
    ("donate", 0.70),
    ("refund", 0.06),
    ("void", 0.03),
    ("award", 0.05),
    ("disburse", 0.08),
    ("reduce", 0.02),
    ("cancel", 0.01),
    ("return", 0.02),
    ("correct_donor", 0.02),
    ("register_donor", 0.01),
)
EVENTS_PER_COMMAND_MIN = 1.2  # a donation is 1 event plus its share of the fund's movements

T = TypeVar("T")


@dataclass
class _Donation:
    donation_id: UUID
    pot: tuple[UUID, str | None]
    amount_yen: int
    day: date
    refunded_yen: int = 0
    voided: bool = False


@dataclass
class _Grant:
    grant_id: UUID
    pot: tuple[UUID, str | None]
    day: date
    unpaid_yen: int
    returnable_yen: int = 0


@dataclass
class Planner:
    """Plans accepted commands against its model of what the ledger holds."""

    rng: random.Random
    pots: dict[tuple[UUID, str | None], int] = field(default_factory=dict)  # available, lower bound
    donors: list[UUID] = field(default_factory=list)
    donations: list[_Donation] = field(default_factory=list)
    grants: list[_Grant] = field(default_factory=list)
    key_number: int = 0

    def key(self, kind: str) -> str:
        self.key_number += 1
        return f"bench-{kind}-{self.key_number}"

    def day(self, after: date = FIRST_DAY) -> date:
        return min(LAST_DAY, after + timedelta(days=self.rng.randint(0, 60)))

    def setup(self) -> list[c.Command]:
        """Open the funds with their designations and rate changes; register the donors."""
        commands: list[c.Command] = []
        for name, rate_bp, target_yen, designations in FUNDS:
            key = self.key("fund")
            fund_id = claim_id(key)
            commands.append(c.OpenFund(name, "京都地域創造基金", rate_bp, target_yen, key))
            self.pots[(fund_id, None)] = 0
            for code in designations:
                commands.append(c.AddDesignation(fund_id, code, f"{code} の活動"))
                self.pots[(fund_id, code)] = 0
            for year in (2024, 2025):
                new_rate_bp = rate_bp + 50 * (year - 2023)
                commands.append(
                    c.ChangeFeeRate(fund_id, new_rate_bp, date(year, 4, 1), "理事会決定")
                )
        commands += [self._register_donor() for _ in range(DONOR_COUNT)]
        return commands

    def batch(self, size: int) -> tuple[list[c.Command], list[c.Command]]:
        """About `size` commands: the money commands and donor registrations, then the
        donor corrections, to be written as two batches in that order."""
        kinds, weights = zip(*MIX, strict=True)
        planned = (self._plan(kind) for kind in self.rng.choices(kinds, weights, k=size))
        commands = [command for command in planned if command is not None]
        corrections: list[c.Command] = [cmd for cmd in commands if isinstance(cmd, c.CorrectDonor)]
        return [
            command for command in commands if not isinstance(command, c.CorrectDonor)
        ], corrections

    def _plan(self, kind: str) -> c.Command | None:
        plans: dict[str, Callable[[], c.Command | None]] = {
            "donate": self._donate,
            "refund": self._refund,
            "void": self._void,
            "award": self._award,
            "disburse": self._disburse,
            "reduce": self._reduce,
            "cancel": self._cancel,
            "return": self._return,
            "correct_donor": self._correct_donor,
            "register_donor": self._register_donor,
        }
        try:
            return plans[kind]()
        except _NothingYet:
            return None

    def _register_donor(self) -> c.Command:
        key = self.key("donor")
        self.donors.append(claim_id(key))
        number = len(self.donors)
        kind = "organisation" if number % 10 == 0 else "individual"
        return c.RegisterDonor(kind, f"寄附者 {number}", f"キフシャ {number}", "621-0806",
                               "京都府亀岡市", publish_name=number % 3 == 0,
                               idempotency_key=key)  # fmt: skip

    def _correct_donor(self) -> c.Command:
        donor_id = self.rng.choice(self.donors)
        changes = {
            "address": f"京都府亀岡市 {self.key_number}",
            "publish_name": self.rng.random() < 0.5,
        }
        return c.CorrectDonor(donor_id, changes, "転居", self.key("correct"))

    def _donate(self) -> c.Command:
        pot = self.rng.choice(list(self.pots))
        amount_yen = self.rng.choice(DONATION_AMOUNTS_YEN)
        day = self.day(FIRST_DAY + timedelta(days=self.rng.randint(0, (LAST_DAY - FIRST_DAY).days)))
        key = self.key("donation")
        self.donations.append(_Donation(claim_id(key), pot, amount_yen, day))
        self.pots[pot] += amount_yen - _fee_upper_yen(amount_yen)
        method = self.rng.choice(("bank_transfer", "cash", "card", "postal_transfer"))
        donor_id = self.rng.choice(self.donors)
        return c.RecordDonation(key, pot[0], donor_id, amount_yen, method, day, pot[1])

    def _refund(self) -> c.Command | None:
        donation = self._some(self.donations)
        rest_yen = donation.amount_yen - donation.refunded_yen
        amount_yen = min(rest_yen, self.rng.choice((500, 1_000, 5_000)))
        if donation.voided or amount_yen <= 0 or self.pots[donation.pot] < amount_yen:
            return None
        donation.refunded_yen += amount_yen
        self.pots[donation.pot] -= amount_yen
        return c.RefundDonation(self.key("refund"), donation.donation_id, amount_yen, "申し出",
                                self.day(donation.day))  # fmt: skip

    def _void(self) -> c.Command | None:
        donation = self._some(self.donations)
        if (
            donation.voided
            or donation.refunded_yen
            or self.pots[donation.pot] < donation.amount_yen
        ):
            return None
        donation.voided = True
        self.pots[donation.pot] -= donation.amount_yen
        return c.VoidDonation(
            self.key("void"), donation.donation_id, "二重入力", self.day(donation.day)
        )

    def _award(self) -> c.Command | None:
        pot = self.rng.choice(list(self.pots))
        amount_yen = self.rng.choice(GRANT_AMOUNTS_YEN)
        if self.pots[pot] < 3 * amount_yen:
            return None
        self.pots[pot] -= amount_yen
        key, day = self.key("grant"), self.day(FIRST_DAY + timedelta(days=self.rng.randint(0, 900)))
        self.grants.append(_Grant(claim_id(key), pot, day, amount_yen))
        return c.AwardGrant(key, pot[0], f"NPO法人 {self.rng.randint(1, 50)}", "代表", "活動",
                            amount_yen, pot[1], day)  # fmt: skip

    def _disburse(self) -> c.Command | None:
        grant = self._some(self.grants)
        amount_yen = min(grant.unpaid_yen, self.rng.choice((10_000, 20_000, 50_000)))
        if amount_yen <= 0:
            return None
        grant.unpaid_yen -= amount_yen
        grant.returnable_yen += amount_yen
        return c.DisburseGrant(
            self.key("disburse"), grant.grant_id, amount_yen, self.day(grant.day)
        )

    def _reduce(self) -> c.Command | None:
        grant = self._some(self.grants)
        amount_yen = min(grant.unpaid_yen, 5_000)
        if amount_yen <= 0:
            return None
        grant.unpaid_yen -= amount_yen
        self.pots[grant.pot] += amount_yen
        return c.ReduceGrant(
            self.key("reduce"), grant.grant_id, amount_yen, "縮小", self.day(grant.day)
        )

    def _cancel(self) -> c.Command | None:
        grant = self._some(self.grants)
        if grant.unpaid_yen <= 0:
            return None
        self.pots[grant.pot] += grant.unpaid_yen
        grant.unpaid_yen = 0
        return c.CancelGrant(self.key("cancel"), grant.grant_id, "中止", self.day(grant.day))

    def _return(self) -> c.Command | None:
        grant = self._some(self.grants)
        amount_yen = min(grant.returnable_yen, 1_000)
        if amount_yen <= 0:
            return None
        grant.returnable_yen -= amount_yen
        self.pots[grant.pot] += amount_yen
        return c.RecordGrantReturn(self.key("return"), grant.grant_id, amount_yen, "未使用",
                                   self.day(grant.day))  # fmt: skip

    def _some(self, items: list[T]) -> T:
        """Mostly a recent item (refunds and payments follow soon), sometimes any."""
        if not items:
            raise _NothingYet
        if self.rng.random() < 0.8:
            return items[-self.rng.randint(1, min(len(items), 2_000))]
        return self.rng.choice(items)


class _NothingYet(Exception):
    """Nothing of that kind exists yet to act on."""


def _fee_upper_yen(amount_yen: int) -> int:
    return amount_yen * (FEE_RATE_BP_MAX + 200) // 10_000 + 1


@dataclass(frozen=True)
class Written:
    head: int  # the log's last position
    fund_id: UUID  # the first fund, general pot open
    donor_id: UUID  # its first donor


def write_history(
    ledger: FundLedger,
    event_count: int,
    *,
    seed: int = 7,
    progress: Callable[[int], None] = lambda _head: None,
) -> Written:
    """Write about `event_count` events (at least that many)."""
    planner = Planner(random.Random(seed))
    ledger.execute_batch(planner.setup(), actor=ACTOR)
    head = ledger.recorder.max_notification_id() or 0
    while head < event_count:
        size = min(BATCH_SIZE_MAX, max(100, int((event_count - head) / EVENTS_PER_COMMAND_MIN)))
        for commands in planner.batch(size):
            ledger.execute_batch(commands, actor=ACTOR)
        head = ledger.recorder.max_notification_id() or 0
        progress(head)
    fund_id = next(fund_id for fund_id, _ in planner.pots)
    return Written(head, fund_id, planner.donors[0])
