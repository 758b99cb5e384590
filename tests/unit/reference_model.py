"""A reference model of the ledger, written from BRIEF.md's rules alone (plain dicts and ints).

It imports nothing from `ledger`: it re-derives every rule so that the stateful test can compare
two independent readings of the BRIEF. Each command returns a `Prediction`: accepted (with the
amounts the BRIEF fixes and the journal entry it causes), replayed (an idempotency key used
before for the same request), or refused (with every error class the BRIEF allows: when a
command breaks several rules, any of them may be reported first).

Money lives in pots: one per designation and `general`. Per pot (rule 4):
    cash      = received − host fees − refunded + fees given back − disbursed + returned
    committed = awarded − reduced − cancelled − disbursed
    available = cash − committed, and none of the three may go below zero.
Journal balances are debits minus credits per (fund, account), account names as in the chart.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

AMOUNT_YEN_MAX = 10_000_000_000
FEE_RATE_BP_MAX = 5_000
BASIS_POINTS = 10_000
EARLIEST_DAY = date(2000, 1, 1)
GENERAL = "general"
PAYMENT_METHODS = ("bank_transfer", "postal_transfer", "card", "cash")
DESIGNATION_CHARACTERS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class Prediction:
    accepted: bool
    errors: frozenset[str] = frozenset()  # refused: the error classes any of which is right
    replayed: bool = False
    created: int | None = None  # handle of the fund, donor, donation or grant it created
    amounts: dict[str, int] = field(default_factory=dict)
    effective_on: date | None = None  # of the journal entry, for money commands
    records_event: bool = True  # False: accepted but nothing to record (a no-op correction)

    @property
    def journal_entries(self) -> int:
        return 1 if self.accepted and not self.replayed and self.effective_on is not None else 0


def refused(*errors: str) -> Prediction:
    return Prediction(accepted=False, errors=frozenset(errors))


@dataclass
class FundState:
    rate_from_start: int
    rate_changes: dict[date, int] = field(default_factory=dict)
    cash: dict[str, int] = field(default_factory=lambda: {GENERAL: 0})
    committed: dict[str, int] = field(default_factory=lambda: {GENERAL: 0})
    closed_through: date | None = None  # rule 7: nothing may be dated on or before it

    def rate_on(self, day: date) -> int:
        earlier = [d for d in self.rate_changes if d <= day]
        return self.rate_changes[max(earlier)] if earlier else self.rate_from_start


@dataclass
class DonationState:
    fund: int
    pot: str
    amount: int
    fee: int
    day: date
    refunded: int = 0
    fee_given_back: int = 0
    voided: bool = False


@dataclass
class GrantState:
    fund: int
    pot: str
    amount: int
    day: date
    disbursed: int = 0
    reduced: int = 0
    returned: int = 0

    @property
    def unpaid(self) -> int:
        return self.amount - self.reduced - self.disbursed


def is_amount(value: object) -> bool:
    return type(value) is int and 1 <= value <= AMOUNT_YEN_MAX


def is_rate(value: object) -> bool:
    return type(value) is int and 0 <= value <= FEE_RATE_BP_MAX


def content_of(kind: str, *fields: object) -> tuple[object, ...]:
    """What makes two requests "the same": their kind and every field, types included."""
    return (kind, *((type(f).__name__, f) for f in fields))


class ReferenceModel:
    def __init__(self, today: date) -> None:
        self.today = today
        self.funds: dict[int, FundState] = {}
        self.donors: dict[int, str] = {}
        self.donations: dict[int, DonationState] = {}
        self.grants: dict[int, GrantState] = {}
        self.journal: Counter[tuple[int, str]] = Counter()
        self._claims: dict[str, tuple[tuple[object, ...], Prediction]] = {}
        self._handles = 0

    # All or nothing, for batches

    def checkpoint(self) -> ReferenceModel:
        return copy.deepcopy(self)

    def roll_back(self, checkpoint: ReferenceModel) -> None:
        """Return to `checkpoint`, in place: callers may hold bound methods of this model."""
        vars(self).update(vars(checkpoint))

    # Queries used to choose boundary amounts

    def available(self, fund: int, pot: str) -> int:
        state = self.funds[fund]
        return state.cash[pot] - state.committed[pot]

    def refund_rest(self, donation: int) -> int:
        d = self.donations[donation]
        return 0 if d.voided else d.amount - d.refunded

    def largest_refund_within_available(self, donation: int) -> int:
        """The largest refund whose cash effect (refund less fee given back) fits in available."""
        d = self.donations[donation]
        room = self.available(d.fund, d.pot)
        low, high = 0, self.refund_rest(donation)
        while low < high:
            middle = (low + high + 1) // 2
            if middle - self._fee_back(d, middle) <= room:
                low = middle
            else:
                high = middle - 1
        return low

    # Commands

    def open_fund(self, key: str | None, rate: object) -> Prediction:
        content = content_of("open_fund", rate)
        return self._keyed(key, content, lambda: self._open_fund(rate))

    def add_designation(self, key: str | None, fund: int, code: object) -> Prediction:
        content = content_of("add_designation", fund, code)
        return self._keyed(key, content, lambda: self._add_designation(fund, code))

    def change_fee_rate(self, key: str | None, fund: int, rate: object, day: object) -> Prediction:
        content = content_of("change_fee_rate", fund, rate, day)
        return self._keyed(key, content, lambda: self._change_fee_rate(fund, rate, day))

    def close_books(self, key: str | None, fund: int, through: object) -> Prediction:
        content = content_of("close_books", fund, through)
        return self._keyed(key, content, lambda: self._close_books(fund, through))

    def register_donor(self, key: str | None, name: str) -> Prediction:
        return self._keyed(
            key, content_of("register_donor", name), lambda: self._register_donor(name)
        )

    def correct_donor_name(self, donor: int, name: str) -> Prediction:
        if not name.strip():
            return refused("InvalidInput")
        if self.donors[donor] == name.strip():
            return Prediction(accepted=True, records_event=False)
        self.donors[donor] = name.strip()
        return Prediction(accepted=True)

    def record_donation(
        self,
        key: str,
        fund: int,
        donor: int,
        amount: object,
        designation: object,
        day: object,
        method: str,
    ) -> Prediction:
        content = content_of("record_donation", fund, donor, amount, designation, day, method)
        return self._keyed(
            key,
            content,
            lambda: self._record_donation(fund, donor, amount, designation, day, method),
        )

    def refund(self, key: str, donation: int, amount: object, day: object) -> Prediction:
        content = content_of("refund_donation", donation, amount, day)
        return self._keyed(key, content, lambda: self._refund(donation, amount, day))

    def void(self, key: str, donation: int, day: object) -> Prediction:
        return self._keyed(
            key, content_of("void_donation", donation, day), lambda: self._void(donation, day)
        )

    def award(
        self, key: str, fund: int, amount: object, designation: object, day: object
    ) -> Prediction:
        content = content_of("award_grant", fund, amount, designation, day)
        return self._keyed(key, content, lambda: self._award(fund, amount, designation, day))

    def disburse(self, key: str, grant: int, amount: object, day: object) -> Prediction:
        content = content_of("disburse_grant", grant, amount, day)
        return self._keyed(key, content, lambda: self._on_grant("disburse", grant, amount, day))

    def reduce(self, key: str, grant: int, amount: object, day: object) -> Prediction:
        content = content_of("reduce_grant", grant, amount, day)
        return self._keyed(key, content, lambda: self._on_grant("reduce", grant, amount, day))

    def cancel(self, key: str, grant: int, day: object) -> Prediction:
        return self._keyed(
            key,
            content_of("cancel_grant", grant, day),
            lambda: self._on_grant("cancel", grant, None, day),
        )

    def record_return(self, key: str, grant: int, amount: object, day: object) -> Prediction:
        content = content_of("record_grant_return", grant, amount, day)
        return self._keyed(key, content, lambda: self._on_grant("return", grant, amount, day))

    # Rule 8: a key answers the same request with its first result and refuses any other

    def _keyed(
        self, key: str | None, content: tuple[object, ...], run: Callable[[], Prediction]
    ) -> Prediction:
        if key is not None and key in self._claims:
            first_content, first = self._claims[key]
            if first_content != content:
                return refused("IdempotencyKeyReused")
            return Prediction(
                True,
                replayed=True,
                created=first.created,
                amounts=first.amounts,
                records_event=False,
            )
        prediction = run()
        if key is not None and prediction.accepted:
            self._claims[key] = (content, prediction)
        return prediction

    # The rules, one command at a time

    def _open_fund(self, rate: object) -> Prediction:
        if not isinstance(rate, int) or not is_rate(rate):
            return refused("InvalidInput")
        handle = self._new_handle()
        self.funds[handle] = FundState(rate_from_start=rate)
        return Prediction(True, created=handle)

    def _add_designation(self, fund: int, code: object) -> Prediction:
        valid = (
            isinstance(code, str) and 1 <= len(code) <= 40 and set(code) <= DESIGNATION_CHARACTERS
        )
        if not isinstance(code, str) or not valid or code == GENERAL or code.startswith("-"):
            return refused("InvalidInput")
        state = self.funds[fund]
        if code in state.cash:
            return refused("DuplicateDesignation")
        state.cash[code] = 0
        state.committed[code] = 0
        return Prediction(True)

    def _change_fee_rate(self, fund: int, rate: object, day: object) -> Prediction:
        # a change may be decided ahead of its date, so only the lower bound applies
        if not isinstance(rate, int) or not is_rate(rate):
            return refused("InvalidInput")
        if not isinstance(day, date) or day < EARLIEST_DAY:
            return refused("InvalidInput")
        if self._closed(fund, day):  # rule 7: the closed period's rates are closed too
            return refused("BooksClosed")
        self.funds[fund].rate_changes[day] = rate
        return Prediction(True)

    def _close_books(self, fund: int, through: object) -> Prediction:
        # rule 7: a closed period stays closed, so the books close only forward
        if type(through) is not date or not EARLIEST_DAY <= through <= self.today:
            return refused("InvalidInput")
        state = self.funds[fund]
        if state.closed_through is not None and through < state.closed_through:
            return refused("BooksClosed")
        state.closed_through = through
        return Prediction(True)

    def _register_donor(self, name: str) -> Prediction:
        if not name.strip():
            return refused("InvalidInput")
        handle = self._new_handle()
        self.donors[handle] = name.strip()
        return Prediction(True, created=handle)

    def _record_donation(
        self, fund: int, donor: int, amount: object, designation: object, day: object, method: str
    ) -> Prediction:
        errors = self._input_errors(amount, day)
        if designation == GENERAL or method not in PAYMENT_METHODS:
            errors.add("InvalidInput")
        if errors:
            return refused(*errors)
        state = self.funds[fund]
        pot = GENERAL if designation is None else str(designation)
        if pot not in state.cash:
            return refused("UnknownDesignation")
        assert isinstance(amount, int)
        assert isinstance(day, date)
        if self._closed(fund, day):
            return refused("BooksClosed")
        fee = amount * state.rate_on(day) // BASIS_POINTS
        handle = self._new_handle()
        self.donations[handle] = DonationState(fund, pot, amount, fee, day)
        self._move(fund, pot, cash=amount - fee)
        self._post(
            fund,
            ("cash", pot, amount - fee),
            ("host_fee", pot, fee),
            (self._assets(pot), None, -amount),
        )
        self._release(fund, pot, fee)
        return Prediction(
            True, created=handle, amounts={"amount_yen": amount, "fee_yen": fee}, effective_on=day
        )

    def _refund(self, donation: int, amount: object, day: object) -> Prediction:
        errors = self._input_errors(amount, day)
        if errors:
            return refused(*errors)
        assert isinstance(amount, int)
        assert isinstance(day, date)
        d = self.donations[donation]
        if d.voided:
            errors.add("DonationAlreadyVoided")
        if day < d.day:
            errors.add("DateOutOfOrder")
        if amount > d.amount - d.refunded:
            errors.add("RefundExceedsDonation")
            return refused(*errors)
        fee_back = self._fee_back(d, amount)
        if self._closed(d.fund, day):
            errors.add("BooksClosed")
        if self._overdraws(d.fund, d.pot, cash=-(amount - fee_back)):
            errors.add("Overdraft")
        if errors:
            return refused(*errors)
        d.refunded += amount
        d.fee_given_back += fee_back
        self._move(d.fund, d.pot, cash=-(amount - fee_back))
        self._post(
            d.fund,
            ("cash", d.pot, -(amount - fee_back)),
            ("host_fee", d.pot, -fee_back),
            (self._assets(d.pot), None, amount),
        )
        self._release(d.fund, d.pot, -fee_back)
        return Prediction(
            True, amounts={"amount_yen": amount, "fee_returned_yen": fee_back}, effective_on=day
        )

    def _void(self, donation: int, day: object) -> Prediction:
        errors = self._input_errors(1, day)
        if errors:
            return refused(*errors)
        assert isinstance(day, date)
        d = self.donations[donation]
        if d.voided:
            errors.add("DonationAlreadyVoided")
        if d.refunded:
            errors.add("DonationPartlyRefunded")
        if day < d.day:
            errors.add("DateOutOfOrder")
        if self._closed(d.fund, day):
            errors.add("BooksClosed")
        if not d.voided and self._overdraws(d.fund, d.pot, cash=-(d.amount - d.fee)):
            errors.add("Overdraft")
        if errors:
            return refused(*errors)
        d.voided = True
        self._move(d.fund, d.pot, cash=-(d.amount - d.fee))
        self._post(
            d.fund,
            ("cash", d.pot, -(d.amount - d.fee)),
            ("host_fee", d.pot, -d.fee),
            (self._assets(d.pot), None, d.amount),
        )
        self._release(d.fund, d.pot, -d.fee)
        return Prediction(True, amounts={"amount_yen": d.amount}, effective_on=day)

    def _award(self, fund: int, amount: object, designation: object, day: object) -> Prediction:
        errors = self._input_errors(amount, day)
        if designation == GENERAL:
            errors.add("InvalidInput")
        if errors:
            return refused(*errors)
        assert isinstance(amount, int)
        assert isinstance(day, date)
        pot = GENERAL if designation is None else str(designation)
        if pot not in self.funds[fund].cash:
            return refused("UnknownDesignation")
        if self._closed(fund, day):
            errors.add("BooksClosed")
        if self._overdraws(fund, pot, committed=amount):
            errors.add("Overdraft")
        if errors:
            return refused(*errors)
        handle = self._new_handle()
        self.grants[handle] = GrantState(fund, pot, amount, day)
        self._move(fund, pot, committed=amount)
        self._post(fund, ("grants", pot, amount), ("grants_payable", pot, -amount))
        return Prediction(True, created=handle, amounts={"amount_yen": amount}, effective_on=day)

    def _on_grant(self, action: str, grant: int, amount: object, day: object) -> Prediction:
        g = self.grants[grant]
        if action == "cancel":
            amount = g.unpaid
            errors = self._input_errors(1, day)
        else:
            errors = self._input_errors(amount, day)
        if errors:
            return refused(*errors)
        assert isinstance(amount, int)
        assert isinstance(day, date)
        if day < g.day:
            errors.add("DateOutOfOrder")
        limit = g.disbursed - g.returned if action == "return" else g.unpaid
        if amount > limit or amount == 0:  # a cancellation with nothing unpaid is refused
            errors.add("GrantLimitExceeded")
        cash, committed = {
            "disburse": (-amount, -amount),
            "reduce": (0, -amount),
            "cancel": (0, -amount),
            "return": (amount, 0),
        }[action]
        if self._closed(g.fund, day):
            errors.add("BooksClosed")
        if self._overdraws(g.fund, g.pot, cash=cash, committed=committed):
            errors.add("Overdraft")
        if errors:
            return refused(*errors)
        self._move(g.fund, g.pot, cash=cash, committed=committed)
        getattr(self, f"_post_{action}")(g, amount)
        return Prediction(True, amounts={"amount_yen": amount}, effective_on=day)

    def _post_disburse(self, g: GrantState, amount: int) -> None:
        self._post(g.fund, ("grants_payable", g.pot, amount), ("cash", g.pot, -amount))
        if g.pot != GENERAL:  # rule 6: paying designated money releases its restriction
            self._post(
                g.fund, (self._assets(g.pot), None, amount), (self._assets(GENERAL), None, -amount)
            )
        g.disbursed += amount

    def _post_reduce(self, g: GrantState, amount: int) -> None:
        self._post(g.fund, ("grants_payable", g.pot, amount), ("grants", g.pot, -amount))
        g.reduced += amount

    _post_cancel = _post_reduce

    def _post_return(self, g: GrantState, amount: int) -> None:
        self._post(g.fund, ("cash", g.pot, amount), ("grants", g.pot, -amount))
        if g.pot != GENERAL:  # the returned money is restricted again
            self._post(
                g.fund, (self._assets(GENERAL), None, amount), (self._assets(g.pot), None, -amount)
            )
        g.returned += amount

    # Helpers

    def _input_errors(self, amount: object, day: object) -> set[str]:
        valid_day = type(day) is date and EARLIEST_DAY <= day <= self.today
        return set() if is_amount(amount) and valid_day else {"InvalidInput"}

    @staticmethod
    def _fee_back(d: DonationState, amount: int) -> int:
        """Rule 5: floor(fee × refunded total / amount) minus what was already given back."""
        return d.fee * (d.refunded + amount) // d.amount - d.fee_given_back

    def _closed(self, fund: int, day: date) -> bool:
        closed_through = self.funds[fund].closed_through
        return closed_through is not None and day <= closed_through

    def _overdraws(self, fund: int, pot: str, cash: int = 0, committed: int = 0) -> bool:
        state = self.funds[fund]
        new_cash, new_committed = state.cash[pot] + cash, state.committed[pot] + committed
        return new_cash < 0 or new_committed < 0 or new_cash - new_committed < 0

    def _move(self, fund: int, pot: str, cash: int = 0, committed: int = 0) -> None:
        self.funds[fund].cash[pot] += cash
        self.funds[fund].committed[pot] += committed

    @staticmethod
    def _assets(pot: str) -> str:
        return "net_assets:unrestricted" if pot == GENERAL else f"net_assets:restricted:{pot}"

    def _release(self, fund: int, pot: str, amount: int) -> None:
        """Rule 6: designated money spent on the host fee leaves the restriction (振替);
        a negative amount (the fee given back) restores it."""
        if pot != GENERAL:
            self._post(
                fund, (self._assets(pot), None, amount), (self._assets(GENERAL), None, -amount)
            )

    def _post(self, fund: int, *changes: tuple[str, str | None, int]) -> None:
        """Add debits (positive) and credits (negative) to the journal's balances."""
        for account, pot, amount in changes:
            self.journal[(fund, account if pot is None else f"{account}:{pot}")] += amount

    def _new_handle(self) -> int:
        self._handles += 1
        return self._handles
