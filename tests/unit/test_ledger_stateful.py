"""Random sequences of every command, checked step by step against `reference_model`.

After every step: the ledger accepted or refused exactly as the model predicts (and refused with
one of the error classes the model allows), a refusal or a replay recorded no event at all, every
pot's cash / committed / available equals the model's and none is negative, each fund's books
are closed through the model's day, and the journal's
postings summed per (fund, account) equal the model's. Amounts aim at the boundaries: exactly
the rest and one yen more, exactly what is available and one yen more.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from uuid import UUID

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger import commands as c
from ledger.errors import BatchRejected, LedgerError
from ledger.journal import Side, journal_entry
from tests.unit.conftest import ACTOR, TODAY, events_after, log_position, new_ledger
from tests.unit.reference_model import AMOUNT_YEN_MAX, Prediction, ReferenceModel

DAYS = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 4, 1), TODAY]
BAD_DAYS = [TODAY + timedelta(days=1), date(1999, 12, 31)]
RATES = [0, 1, 333, 350, 5000]
BAD_AMOUNTS: list[object] = [0, -1, True, 1.5, Decimal("1"), "1", AMOUNT_YEN_MAX + 1]

# Mostly valid input, with enough invalid input to exercise every refusal.
days = st.sampled_from(DAYS * 3 + BAD_DAYS)
rates = st.sampled_from(RATES * 2 + [-1, 5001, True])
amount_of_donation = st.one_of(
    st.sampled_from([1, 33, 9_999_999, AMOUNT_YEN_MAX]),
    st.integers(1, 200_000),
    st.integers(1, 200_000),
    st.integers(1, 200_000),
    st.sampled_from(BAD_AMOUNTS),
)
designations = st.sampled_from([None, None, None, "kids", "kids", "river", "forest", "general"])
picks = st.integers(0, 63)  # which fund, donor, donation, grant or earlier step
# the date of a follow-up: the day of its donation or grant, the day before, today, or tomorrow
follow_up_days = st.sampled_from(["same", "same", "same", "today", "today", "before", "future"])
refund_sizes = st.sampled_from(
    ["rest", "rest", "rest+1", "fits", "fits+1", "one", "half", "half", "bad"]
)
award_sizes = st.sampled_from(["available", "available+1", "one", "half", "half", "half", "bad"])
grant_sizes = st.sampled_from(["limit", "limit", "limit+1", "one", "half", "half", "bad"])
bad_amounts = st.sampled_from(BAD_AMOUNTS)
methods = st.sampled_from(
    ["bank_transfer", "bank_transfer", "postal_transfer", "card", "cash", "btc"]
)


@dataclass(frozen=True)
class Step:
    command: c.Command
    predict: Callable[[], Prediction]  # asks the model, against its state at that moment
    kind: str  # "fund", "donor", "donation", "grant" when the command creates one, else ""


def sized(size: str, base: int, bad: object) -> object:
    return {
        "rest": base,
        "limit": base,
        "available": base,
        "fits": base,
        "rest+1": base + 1,
        "limit+1": base + 1,
        "available+1": base + 1,
        "fits+1": base + 1,
        "one": 1,
        "half": max(1, base // 2),
        "bad": bad,
    }[size]


def follow_up_day(choice: str, first: date) -> date:
    return {
        "same": first,
        "today": TODAY,
        "before": first - timedelta(days=1),
        "future": TODAY + timedelta(days=1),
    }[choice]


class LedgerAgainstModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app = new_ledger()
        self.model = ReferenceModel(today=TODAY)
        # ledger id and model handle of everything created, in creation order
        self.made: dict[str, list[tuple[UUID, int]]] = {
            k: [] for k in ("fund", "donor", "donation", "grant")
        }
        self.days: dict[int, date] = {}  # model handle → effective date of a donation or grant
        self.steps: list[Step] = []
        self.journal: Counter[tuple[UUID, str]] = Counter()
        self.keys = itertools.count(1)

    # Running one command on both sides

    def key(self) -> str:
        return f"k{next(self.keys)}"

    def execute(self, step: Step, *, retry: bool = False) -> None:
        if not retry:
            self.steps.append(step)
        before = log_position(self.app)
        prediction = step.predict()
        try:
            outcome: c.Outcome | LedgerError = self.app.execute(step.command, actor=ACTOR)
        except LedgerError as error:
            outcome = error
        new_events = events_after(self.app, before)
        if isinstance(outcome, LedgerError):
            self.check_refused(step, prediction, outcome, new_events)
        else:
            self.check_accepted(step, prediction, outcome, new_events)

    def check_refused(
        self, step: Step, prediction: Prediction, error: LedgerError, new_events: list[object]
    ) -> None:
        name = type(error).__name__
        event(f"{type(step.command).__name__} refused: {name}")
        assert not prediction.accepted, f"refused with {error!r}; the model accepts {step.command}"
        assert name in prediction.errors, (
            f"refused with {name}; the model expects {prediction.errors}"
        )
        assert new_events == [], "a refused command recorded events"

    def check_accepted(
        self, step: Step, prediction: Prediction, outcome: c.Outcome, new_events: list[object]
    ) -> None:
        event(f"{type(step.command).__name__} {'replayed' if outcome.replayed else 'accepted'}")
        assert prediction.accepted, (
            f"accepted; the model refuses ({prediction.errors}): {step.command}"
        )
        assert outcome.replayed == prediction.replayed
        if prediction.replayed or not prediction.records_event:
            assert new_events == [], "a replay or a no-op recorded events"
        else:
            assert new_events, "an accepted command recorded nothing"
        for name, amount in prediction.amounts.items():
            assert outcome.amounts_yen.get(name) == amount, (name, outcome.amounts_yen)
        if prediction.created is not None:
            self.remember(step.kind, outcome.aggregate_id, prediction)
        self.check_journal_entries(new_events, prediction)

    def execute_batch(self, steps: list[Step]) -> None:
        """All or nothing: the model runs the steps in order and, at the first refusal, forgets
        them all; the ledger must then refuse the batch at that index, and record nothing."""
        before = log_position(self.app)
        checkpoint = self.model.checkpoint()
        predictions = []
        for step in steps:
            predictions.append(step.predict())
            if not predictions[-1].accepted:
                self.model.roll_back(checkpoint)
                break
        try:
            result: list[c.Outcome] | BatchRejected = self.app.execute_batch(
                [s.command for s in steps], actor=ACTOR
            )
        except BatchRejected as rejected:
            result = rejected
        new_events = events_after(self.app, before)
        if isinstance(result, BatchRejected):
            event(f"batch refused: {type(result.cause).__name__}")
            assert not predictions[-1].accepted, f"refused {result!r}; the model accepts"
            assert result.index == len(predictions) - 1
            assert type(result.cause).__name__ in predictions[-1].errors
            assert new_events == [], "a refused batch recorded events"
            return
        event(f"batch of {len(steps)} accepted")
        assert predictions[-1].accepted, f"accepted; the model refuses step {len(predictions)}"
        for step, prediction, outcome in zip(steps, predictions, result, strict=True):
            assert outcome.replayed == prediction.replayed
            for name, amount in prediction.amounts.items():
                assert outcome.amounts_yen.get(name) == amount, (name, outcome.amounts_yen)
            if prediction.created is not None:
                self.remember(step.kind, outcome.aggregate_id, prediction)
        if not any(p.records_event for p in predictions):
            assert new_events == [], "a batch of replays and no-ops recorded events"
        self.check_journal_entries(new_events, *predictions)

    def remember(self, kind: str, aggregate_id: UUID, prediction: Prediction) -> None:
        known = dict((handle, ledger_id) for ledger_id, handle in self.made[kind])
        if prediction.created in known:
            assert known[prediction.created] == aggregate_id, "a replay answered with another id"
        else:
            assert prediction.created is not None
            self.made[kind].append((aggregate_id, prediction.created))
            if kind in ("donation", "grant"):
                self.days[prediction.created] = self.app.get(aggregate_id).effective_on

    def check_journal_entries(self, new_events: list[object], *predictions: Prediction) -> None:
        entries = [e for e in map(journal_entry, new_events) if e is not None]
        assert len(entries) == sum(p.journal_entries for p in predictions)
        expected_days = Counter(p.effective_on for p in predictions if p.journal_entries)
        assert Counter(e.effective_on for e in entries) == expected_days
        for entry in entries:
            assert entry.is_balanced()
            for posting in entry.postings:
                signed = posting.amount_yen if posting.side is Side.DEBIT else -posting.amount_yen
                self.journal[(entry.fund_id, posting.account)] += signed

    def pick(self, kind: str, index: int) -> tuple[UUID, int]:
        made = self.made[kind]
        return made[index % len(made)]

    # Setting up

    @initialize(rate=rates, general=st.integers(1, 200_000), kids=st.integers(1, 200_000), day=days)
    def open_a_fund_with_a_designation_and_money_in_both_pots(
        self, rate: object, general: int, kids: int, day: date
    ) -> None:
        self.open_fund(rate)
        if not self.made["fund"]:
            self.open_fund(350)
        self.add_designation(0, "kids")
        self.register_donor("山田 花子")
        self.record_donation(0, 0, general, None, day)
        self.record_donation(0, 0, kids, "kids", day)
        self.award(0, "half", None, day, 0)

    @precondition(lambda self: len(self.made["fund"]) < 3)
    @rule(rate=rates)
    def open_fund(self, rate: object) -> None:
        key = self.key()
        command = c.OpenFund("亀岡協働基金", "京都地域創造基金", rate, idempotency_key=key)
        self.execute(Step(command, lambda: self.model.open_fund(key, rate), "fund"))

    @rule(which=picks, code=st.sampled_from(["kids", "river", "general", "Bad", "-x"]))
    def add_designation(self, which: int, code: str) -> None:
        fund_id, fund = self.pick("fund", which)
        key = self.key()
        command = c.AddDesignation(fund_id, code, f"{code} 事業", idempotency_key=key)
        self.execute(Step(command, lambda: self.model.add_designation(key, fund, code), ""))

    @rule(
        which=picks, rate=rates, day=st.sampled_from([*DAYS, date(2027, 4, 1), date(1999, 12, 31)])
    )
    def change_fee_rate(self, which: int, rate: object, day: date) -> None:
        fund_id, fund = self.pick("fund", which)
        key = self.key()
        command = c.ChangeFeeRate(fund_id, rate, day, "料率改定", idempotency_key=key)
        self.execute(Step(command, lambda: self.model.change_fee_rate(key, fund, rate, day), ""))

    @rule(which=picks, day=st.sampled_from([date(2025, 12, 31), date(2026, 1, 1), *BAD_DAYS]))
    def close_books(self, which: int, day: date) -> None:
        fund_id, fund = self.pick("fund", which)
        key = self.key()
        command = c.CloseBooks(fund_id, day, "決算の締め", idempotency_key=key)
        self.execute(Step(command, lambda: self.model.close_books(key, fund, day), ""))

    @precondition(lambda self: len(self.made["donor"]) < 3)
    @rule(name=st.sampled_from(["亀岡 太郎", "株式会社 保津", " "]))
    def register_donor(self, name: str) -> None:
        key = self.key()
        command = c.RegisterDonor(
            "individual", name, "カナ", "621-0806", "亀岡市", idempotency_key=key
        )
        self.execute(Step(command, lambda: self.model.register_donor(key, name), "donor"))

    @rule(which=picks, name=st.sampled_from(["山田 花子", " 山田 花子 ", "山田 華子", ""]))
    def correct_donor(self, which: int, name: str) -> None:
        donor_id, donor = self.pick("donor", which)
        command = c.CorrectDonor(donor_id, {"name": name}, "訂正")
        self.execute(Step(command, lambda: self.model.correct_donor_name(donor, name), ""))

    # Money in

    @rule(
        fund=picks,
        donor=picks,
        amount=amount_of_donation,
        designation=designations,
        day=days,
        method=methods,
    )
    def record_donation(
        self,
        fund: int,
        donor: int,
        amount: object,
        designation: str | None,
        day: date,
        method: str = "bank_transfer",
    ) -> None:
        (fund_id, fund_handle), (donor_id, donor_handle) = (
            self.pick("fund", fund),
            self.pick("donor", donor),
        )
        key = self.key()
        command = c.RecordDonation(key, fund_id, donor_id, amount, method, day, designation)
        predict = partial(
            self.model.record_donation,
            key,
            fund_handle,
            donor_handle,
            amount,
            designation,
            day,
            method,
        )
        self.execute(Step(command, predict, "donation"))

    @precondition(lambda self: self.made["donation"])
    @rule(which=picks, size=refund_sizes, when=follow_up_days, bad=bad_amounts)
    def refund(self, which: int, size: str, when: str, bad: object) -> None:
        donation_id, donation = self.pick("donation", which)
        base = self.model.refund_rest(donation)
        if size.startswith("fits"):
            base = self.model.largest_refund_within_available(donation)
        amount = sized(size, base, bad)
        day = follow_up_day(when, self.days[donation])
        key = self.key()
        command = c.RefundDonation(key, donation_id, amount, "返金", day)
        self.execute(Step(command, lambda: self.model.refund(key, donation, amount, day), ""))

    @precondition(lambda self: self.made["donation"])
    @rule(which=picks, when=follow_up_days)
    def void(self, which: int, when: str) -> None:
        donation_id, donation = self.pick("donation", which)
        day = follow_up_day(when, self.days[donation])
        key = self.key()
        command = c.VoidDonation(key, donation_id, "誤記", day)
        self.execute(Step(command, lambda: self.model.void(key, donation, day), ""))

    # Money out

    @rule(which=picks, size=award_sizes, designation=designations, day=days, bad=bad_amounts)
    def award(self, which: int, size: str, designation: str | None, day: date, bad: object) -> None:
        fund_id, fund = self.pick("fund", which)
        pot = designation or "general"
        base = self.model.available(fund, pot) if pot in self.model.funds[fund].cash else 1
        amount = sized(size, base, bad)
        key = self.key()
        command = c.AwardGrant(
            key, fund_id, "NPO法人 保津川", "代表 川田", "清掃", amount, designation, day
        )
        self.execute(
            Step(command, lambda: self.model.award(key, fund, amount, designation, day), "grant")
        )

    @precondition(lambda self: self.made["grant"])
    @rule(
        action=st.sampled_from(["disburse", "disburse", "reduce", "cancel", "return", "return"]),
        which=picks,
        size=grant_sizes,
        when=follow_up_days,
        bad=bad_amounts,
    )
    def act_on_grant(self, action: str, which: int, size: str, when: str, bad: object) -> None:
        grant_id, grant = self.pick("grant", which)
        state = self.model.grants[grant]
        limit = state.disbursed - state.returned if action == "return" else state.unpaid
        amount = sized(size, limit, bad)
        day = follow_up_day(when, self.days[grant])
        key = self.key()
        commands = {
            "disburse": (c.DisburseGrant(key, grant_id, amount, day), self.model.disburse),
            "reduce": (c.ReduceGrant(key, grant_id, amount, "縮小", day), self.model.reduce),
            "return": (
                c.RecordGrantReturn(key, grant_id, amount, "返還", day),
                self.model.record_return,
            ),
        }
        if action == "cancel":
            step = Step(
                c.CancelGrant(key, grant_id, "中止", day),
                lambda: self.model.cancel(key, grant, day),
                "",
            )
        else:
            command, predict = commands[action]
            step = Step(command, lambda: predict(key, grant, amount, day), "")
        self.execute(step)

    # Retries and reused keys

    @precondition(lambda self: self.steps)
    @rule(which=picks)
    def retry_an_earlier_command(self, which: int) -> None:
        self.execute(self.steps[which % len(self.steps)], retry=True)

    @precondition(lambda self: any(s.command.idempotency_key for s in self.steps))
    @rule(
        which=picks,
        as_kind=st.sampled_from(["donation", "award", "refund"]),
        amount=st.integers(1, 3),
    )
    def reuse_a_key_for_another_request(self, which: int, as_kind: str, amount: int) -> None:
        keyed = [s for s in self.steps if s.command.idempotency_key]
        key = keyed[which % len(keyed)].command.idempotency_key
        assert key is not None
        (fund_id, fund), (donor_id, donor) = self.made["fund"][0], self.made["donor"][0]
        if as_kind == "refund" and self.made["donation"]:
            donation_id, donation = self.made["donation"][0]
            command: c.Command = c.RefundDonation(key, donation_id, amount, "返金", TODAY)
            self.execute(Step(command, lambda: self.model.refund(key, donation, amount, TODAY), ""))
        elif as_kind == "award":
            command = c.AwardGrant(
                key, fund_id, "NPO法人 保津川", "代表 川田", "清掃", amount, None, TODAY
            )
            self.execute(
                Step(command, lambda: self.model.award(key, fund, amount, None, TODAY), "grant")
            )
        else:
            command = c.RecordDonation(key, fund_id, donor_id, amount, "cash", TODAY)
            predict = partial(
                self.model.record_donation, key, fund, donor, amount, None, TODAY, "cash"
            )
            self.execute(Step(command, predict, "donation"))

    @precondition(lambda self: self.steps)
    @rule(which=st.lists(picks, min_size=2, max_size=4))
    def resend_earlier_commands_as_one_batch(self, which: list[int]) -> None:
        self.execute_batch([self.steps[n % len(self.steps)] for n in which])

    # After every step

    @invariant()
    def every_pot_agrees_with_the_model_and_none_is_overdrawn(self) -> None:
        for fund_id, handle in self.made["fund"]:
            fund = self.app.get(fund_id)
            expected = self.model.funds[handle]
            assert fund.cash_yen == expected.cash
            assert fund.committed_yen == expected.committed
            assert fund.closed_through == expected.closed_through
            for pot, cash in fund.cash_yen.items():
                committed = fund.committed_yen[pot]
                assert min(cash, committed, cash - committed) >= 0, (pot, cash, committed)

    @invariant()
    def journal_balances_agree_with_the_model(self) -> None:
        handles = {handle: fund_id for fund_id, handle in self.made["fund"]}
        expected = {
            (handles[fund], account): amount
            for (fund, account), amount in self.model.journal.items()
        }
        assert self.journal_nonzero() == {k: v for k, v in expected.items() if v}

    def journal_nonzero(self) -> Counter[tuple[UUID, str]]:
        return Counter({k: v for k, v in self.journal.items() if v})


LedgerAgainstModel.TestCase.settings = settings(
    max_examples=100, stateful_step_count=40, deadline=None, report_multiple_bugs=False
)
test_ledger_agrees_with_the_reference_model = LedgerAgainstModel.TestCase
