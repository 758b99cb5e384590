"""Read models (issue 3), on SQLite and PostgreSQL: the balances and the journal after a
generated history.

Given a realistic history driven through `FundLedger.execute` (several funds, designations,
fee-rate changes, donations, refunds, voids, awards, disbursements, reductions, cancellations
and returns; some commands refused by the domain, which records nothing), then:

- the balances read model equals simple sums per kind over the recorded events, computed here
  from the events' own fields, and the Fund aggregates' cash and committed;
- the journal read model holds exactly `journal_entry` of every event, debits equal credits.

The history generator and the table dump are shared with `test_projection_runner` and
`test_projection_search`.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.domain import DomainEvent
from sqlalchemy.engine import Engine

from ledger import commands as c
from ledger.donation import Donation
from ledger.errors import LedgerError
from ledger.fund import Fund
from ledger.grant import Grant
from ledger.journal import journal_entry
from ledger.service import FundLedger
from ledger.store import eventsourcing_env
from projections import runner
from projections.catalogue import all_projectors, create_read_model_tables
from projections.database import engine_for
from projections.fund_balances import TOTAL_COLUMNS, fund_balances
from projections.journal_entries import journal_postings
from projections.tables import metadata

NOW_UTC = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 4, 1)
LAST_DAY = NOW_UTC.date()
ACTOR = "staff:test"
GENERAL = "general"
HISTORY_STEPS = 300


# --- a generated history ---------------------------------------------------------------------


@dataclass
class History:
    """Drives a seeded random history through the ledger; remembers what it created."""

    ledger: FundLedger
    rng: random.Random
    funds: dict[UUID, list[str | None]] = field(default_factory=dict)  # fund → its pots
    donors: list[UUID] = field(default_factory=list)
    donations: dict[UUID, date] = field(default_factory=dict)
    grants: dict[UUID, date] = field(default_factory=dict)
    keys: Iterator[int] = field(default_factory=lambda: iter(range(10**9)))
    accepted: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)

    def run(self, command: c.Command) -> UUID | None:
        kind = type(command).__name__
        try:
            outcome = self.ledger.execute(command, actor=ACTOR)
        except LedgerError:
            self.refused[kind] += 1
            return None
        self.accepted[kind] += 1
        return outcome.aggregate_id

    def key(self) -> str:
        return f"key-{next(self.keys)}"

    def day(self, after: date = FIRST_DAY) -> date:
        return after + timedelta(days=self.rng.randint(0, (LAST_DAY - after).days))

    def open_funds(self) -> None:
        specs = [("亀岡協働基金", 350, 5_000_000, ["hozugawa", "kodomo"]),
                 ("保津川基金", 400, 500_000, ["river"]),
                 ("テーマ基金", 1000, None, [])]  # fmt: skip
        for name, rate_bp, target_yen, designations in specs:
            fund_id = self.run(c.OpenFund(name, "京都地域創造基金", rate_bp, target_yen))
            assert fund_id is not None
            for code in designations:
                self.run(c.AddDesignation(fund_id, code, f"{code} の活動"))
            self.funds[fund_id] = [None, *designations]
            new_rate = c.ChangeFeeRate(fund_id, rate_bp + 50, date(2026, 7, 1), "理事会決定")
            self.run(new_rate)
        for number in range(8):
            name = f"寄附者 {number}"
            donor = c.RegisterDonor("individual", name, "キフシャ", "621-0806", "亀岡市")
            donor_id = self.run(donor)
            assert donor_id is not None
            self.donors.append(donor_id)

    def step(self) -> None:
        roll = self.rng.random()
        if roll < 0.35 or not self.donations:
            self.donate()
        elif roll < 0.45:
            self.refund_or_void()
        elif roll < 0.60 or not self.grants:
            self.award()
        else:
            self.act_on_grant()

    def donate(self) -> None:
        fund_id = self.rng.choice(list(self.funds))
        pot = self.rng.choice(self.funds[fund_id])
        amount_yen = self.rng.choice([1_000, 3_000, 10_000, 30_000, 123_457])
        day = self.day()
        method = self.rng.choice(["bank_transfer", "cash", "card"])
        donor_id = self.rng.choice(self.donors)
        command = c.RecordDonation(self.key(), fund_id, donor_id, amount_yen, method, day, pot)
        donation_id = self.run(command)
        if donation_id is not None:
            self.donations[donation_id] = day

    def refund_or_void(self) -> None:
        donation_id, first = self.rng.choice(list(self.donations.items()))
        if self.rng.random() < 0.4:
            self.run(c.VoidDonation(self.key(), donation_id, "二重入力", self.day(first)))
            return
        amount_yen = self.rng.choice([500, 1_000, 7_777, 50_000])
        self.run(c.RefundDonation(self.key(), donation_id, amount_yen, "申し出", self.day(first)))

    def award(self) -> None:
        fund_id = self.rng.choice(list(self.funds))
        pot = self.rng.choice(self.funds[fund_id])
        amount_yen = self.rng.choice([5_000, 20_000, 80_000, 300_000])
        day = self.day()
        command = c.AwardGrant(self.key(), fund_id, f"NPO {self.rng.randint(1, 5)}", "代表",
                               "活動", amount_yen, pot, day)  # fmt: skip
        grant_id = self.run(command)
        if grant_id is not None:
            self.grants[grant_id] = day

    def act_on_grant(self) -> None:
        grant_id, first = self.rng.choice(list(self.grants.items()))
        amount_yen = self.rng.choice([1_000, 5_000, 20_000, 80_000])
        day, key = self.day(first), self.key()
        action = self.rng.choice(["disburse"] * 4 + ["reduce", "cancel", "return", "return"])
        if action == "disburse":
            self.run(c.DisburseGrant(key, grant_id, amount_yen, day))
        elif action == "reduce":
            self.run(c.ReduceGrant(key, grant_id, amount_yen, "縮小", day))
        elif action == "cancel":
            self.run(c.CancelGrant(key, grant_id, "中止", day))
        else:
            self.run(c.RecordGrantReturn(key, grant_id, amount_yen // 10, "未使用", day))


def new_history(ledger: FundLedger, seed: int = 3) -> History:
    history = History(ledger, random.Random(seed))
    history.open_funds()
    return history


@contextmanager
def read_side(database_url: str) -> Iterator[tuple[FundLedger, Engine]]:
    """A ledger with a fixed clock and an engine on its (created) read models."""
    app = FundLedger(env=eventsourcing_env(database_url), clock=lambda: NOW_UTC)
    engine = engine_for(database_url)
    try:
        create_read_model_tables(engine)
        yield app, engine
    finally:
        engine.dispose()
        app.close()


# --- helpers ------------------------------------------------------------------------------


def all_events(ledger: FundLedger) -> list[tuple[int, DomainEvent]]:
    notifications = ledger.recorder.select_notifications(0, 1_000_000, inclusive_of_start=False)
    decoded = [(n.id, ledger.mapper.to_domain_event(n)) for n in notifications]
    return [(position, e) for position, e in decoded if isinstance(e, DomainEvent)]


def dump(engine: Engine) -> dict[str, str]:
    """A checksum of every read-model table: sha256 of its rows in primary-key order."""
    checksums = {}
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            rows = connection.execute(sa.select(table).order_by(*table.primary_key.columns))
            checksums[table.name] = hashlib.sha256(repr(rows.all()).encode()).hexdigest()
    return checksums


def expected_totals(
    ledger: FundLedger, keep: Callable[[int, Any], bool] = lambda _position, _event: True
) -> dict[tuple[UUID, str], Counter[str]]:
    """Per (fund, pot) and (fund, "*"): simple sums per kind over the events' own fields
    (only the events `keep` accepts)."""
    sums: dict[tuple[UUID, str], Counter[str]] = defaultdict(Counter)
    for position, e in all_events(ledger):
        if not isinstance(e, Donation.Recorded | Donation.Refunded | Donation.Voided | Grant.Event):
            continue
        if not keep(position, e):
            continue
        if isinstance(e, Grant.Event) and not hasattr(e, "amount_yen"):
            continue
        changes: Counter[str] = Counter()
        designated = e.designation is not None
        if isinstance(e, Donation.Recorded):
            changes.update(received_yen=e.amount_yen, host_fees_yen=e.fee_yen, donations_recorded=1)
            changes["restriction_released_yen"] += e.fee_yen if designated else 0
        elif isinstance(e, Donation.Refunded):
            changes.update(refunded_yen=e.amount_yen)
            changes.subtract(host_fees_yen=e.fee_returned_yen)
            changes["restriction_released_yen"] -= e.fee_returned_yen if designated else 0
        elif isinstance(e, Donation.Voided):
            changes.update(voided_yen=e.amount_yen, donations_voided=1)
            changes.subtract(host_fees_yen=e.fee_yen)
            changes["restriction_released_yen"] -= e.fee_yen if designated else 0
        elif isinstance(e, Grant.Awarded):
            changes.update(awarded_yen=e.amount_yen)
        elif isinstance(e, Grant.Reduced | Grant.Cancelled):
            changes.update(reduced_yen=e.amount_yen)
        elif isinstance(e, Grant.Disbursed):
            changes.update(disbursed_yen=e.amount_yen)
            changes["restriction_released_yen"] += e.amount_yen if designated else 0
        elif isinstance(e, Grant.Returned):
            changes.update(returned_yen=e.amount_yen)
            changes["restriction_released_yen"] -= e.amount_yen if designated else 0
        for key in ((e.fund_id, e.designation or GENERAL), (e.fund_id, "*")):
            for name, value in changes.items():
                sums[key][name] += value
    return sums


def as_totals(counter: Counter[str]) -> dict[str, int]:
    return {name: counter[name] for name in TOTAL_COLUMNS}


# --- tests --------------------------------------------------------------------------------


def test_balances_equal_sums_over_the_events_and_the_fund_aggregates(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger)
    for _ in range(HISTORY_STEPS):
        history.step()
    assert sum(history.refused.values()) > 10, "the history must meet the domain's refusals"
    for kind in ("VoidDonation", "RefundDonation", "CancelGrant", "ReduceGrant",
                 "RecordGrantReturn", "DisburseGrant"):  # fmt: skip
        assert history.accepted[kind] > 0, kind

    applied_count = runner.catch_up(ledger, engine, all_projectors(), batch_size=97)

    assert applied_count == len(all_events(ledger))
    expected = expected_totals(ledger)
    found = fund_balances(engine)
    assert {f.fund_id for f in found} == set(history.funds)
    for balance in found:
        fund = ledger.get(balance.fund_id)
        assert isinstance(fund, Fund)
        assert (balance.name, balance.target_yen) == (fund.name, fund.target_yen)
        assert balance.totals == as_totals(expected[(balance.fund_id, "*")])
        assert [p.pot for p in balance.pots] == [GENERAL, *sorted(fund.designations)]
        for pot in balance.pots:
            assert pot.totals == as_totals(expected[(balance.fund_id, pot.pot)])
            assert (pot.cash_yen, pot.committed_yen) == (
                fund.cash_yen[pot.pot],
                fund.committed_yen[pot.pot],
            )
            assert pot.available_yen >= 0
        assert balance.cash_yen == sum(fund.cash_yen.values())
        assert balance.committed_yen == sum(fund.committed_yen.values())


def test_a_designation_added_and_given_to_in_one_write_is_projected_with_its_gifts(
    ledger: FundLedger, engine: Engine
) -> None:
    # One write (a batch, or concurrent requests committed together) that adds a pot and
    # gives to it: the log must open the pot before the gifts, or the projector stops.
    fund_id = ledger.execute(c.OpenFund("基金", "財団", 0), actor="admin").aggregate_id
    donor = c.RegisterDonor("individual", "山田 花子", "ヤマダ ハナコ", "621-0806", "亀岡市")
    donor_id = ledger.execute(donor, actor="admin").aggregate_id

    def give(key: str, amount_yen: int, designation: str | None) -> c.RecordDonation:
        return c.RecordDonation(key, fund_id, donor_id, amount_yen, "cash", None, designation)

    ledger.execute_batch(
        [
            give("to-general", 1_000, None),
            c.AddDesignation(fund_id, "kids", "子ども事業", idempotency_key="add-kids"),
            give("to-kids", 300, "kids"),
        ],
        actor="admin",
    )

    runner.catch_up(ledger, engine, all_projectors())

    [balance] = fund_balances(engine, fund_id)
    assert {pot.pot: pot.cash_yen for pot in balance.pots} == {GENERAL: 1_000, "kids": 300}


def test_journal_rows_are_the_journal_entries_of_every_event(
    ledger: FundLedger, engine: Engine
) -> None:
    history = new_history(ledger, seed=5)
    for _ in range(HISTORY_STEPS // 2):
        history.step()

    runner.catch_up(ledger, engine, all_projectors())

    expected = []
    for position, e in all_events(ledger):
        entry = journal_entry(e)
        for index, p in enumerate(entry.postings if entry else ()):
            assert entry is not None
            expected.append((position, index, entry.effective_on, entry.fund_id, entry.designation,
                             p.account, p.side.value, p.amount_yen, entry.counterparty, entry.kind,
                             entry.source_id, entry.source_version, entry.actor, entry.reason,
                             entry.corrects_version,
                             entry.recorded_at.astimezone(UTC).replace(tzinfo=None)))  # fmt: skip
    t = journal_postings.c
    query = sa.select(t.position, t.posting_index, t.effective_on, t.fund_id, t.designation,
                      t.account, t.side, t.amount_yen, t.counterparty, t.kind, t.source_id,
                      t.source_version, t.actor, t.reason, t.corrects_version,
                      t.recorded_at_utc).order_by(t.position, t.posting_index)  # fmt: skip
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(query)]
    assert rows == expected
    signed = Counter[Any]()
    for row in rows:
        amount_yen = row[7] if row[6] == "debit" else -row[7]
        signed[row[0]] += amount_yen
        signed["all"] += amount_yen
    assert set(signed.values()) == {0}, "every entry and the journal as a whole balance"
