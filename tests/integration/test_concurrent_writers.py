"""Eight writers race against one fund, and the ledger's rules still hold (BRIEF rules 4, 8, 9).

Given a fund whose general pot and one designation pot hold little available money, with
grants part paid, when eight writers (each its own `FundLedger`, so its own connection pool,
like separate API workers) start together on a barrier and record donations, refunds, awards,
disbursements, reductions and returns against it, in threads or in spawned processes, then:

- per pot, folding the events of the log in log order (BRIEF rule 4 restated here, not the
  fund aggregate's arithmetic), cash, committed and available never go below zero;
- the fund's balances equal that fold, and its `MovementsPosted` mirror every money event
  exactly once;
- no donation is refunded beyond its amount and no grant paid or reduced beyond its amount;
- every acknowledged command has exactly one event in the log, found through its idempotency
  key (the created aggregate's id, or its claim) and its outcome's position; every refused
  command left nothing;
- the hash chain verifies; and retrying every acknowledged command records nothing new.

The race must be real: the writers must have been refused for overdrafts and must have met
version conflicts (counted at `save`), or the test fails.
"""

from __future__ import annotations

import multiprocessing
import random
import threading
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from ledger import commands as c
from ledger.claim import IdempotencyClaim, claim_id
from ledger.donation import Donation
from ledger.errors import ConcurrencyConflict, RuleViolation
from ledger.fund import Fund
from ledger.grant import Grant
from ledger.service import FundLedger
from ledger.store import eventsourcing_env, open_recorder, verify_chain

WRITER_COUNT = 8
COMMANDS_PER_WRITER = 20
DESIGNATION = "hozu-river"
GENERAL = "general"
FEE_RATE_BP = 400
SEED_DONATION_YEN = 100_000
SEED_DONATIONS_PER_POT = 4
SEED_GRANT_YEN = 150_000
SEED_GRANTS_PER_POT = 2
SEED_DISBURSEMENT_YEN = 50_000
OVERDRAFTS_MIN = 3
CONFLICTS_MIN = 3
ACKNOWLEDGED_SHARE_MIN = 0.25
BARRIER_TIMEOUT_S = 30
WRITER_TIMEOUT_S = 120
ACTOR = "race-test"
LOG_PAGE_SIZE = 10_000


class CountingLedger(FundLedger):
    """A `FundLedger` that counts the version conflicts its saves meet (then retried)."""

    name = FundLedger.name  # the library would otherwise name tables after this class

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__(env)
        self.conflict_count = 0

    def save(self, *objs: Any, **kwargs: Any) -> Any:
        try:
            return super().save(*objs, **kwargs)
        except IntegrityError:
            self.conflict_count += 1
            raise


@dataclass(frozen=True)
class Scenario:
    """What the writers race on: the seeded fund, donors, donations and grants."""

    url: str
    fund_id: UUID
    donor_ids: tuple[UUID, ...]
    donation_ids: tuple[UUID, ...]
    grant_ids: tuple[UUID, ...]
    seed_position_max: int


RaceCommand = (
    c.RecordDonation
    | c.RefundDonation
    | c.AwardGrant
    | c.DisburseGrant
    | c.ReduceGrant
    | c.RecordGrantReturn
)


@dataclass
class WriterLog:
    acknowledged: list[tuple[RaceCommand, c.Outcome]] = field(default_factory=list)
    refused: list[tuple[RaceCommand, str]] = field(default_factory=list)  # with the error's code
    # Still conflicting after the service's bounded retries (ConcurrencyConflict): not recorded.
    gave_up: list[RaceCommand] = field(default_factory=list)
    conflict_count: int = 0


# Given: a fund with little available money in each pot


def seed(url: str) -> Scenario:
    """Each pot: 4 donations of ¥100,000, 2 grants of ¥150,000 each paid ¥50,000, so about
    ¥84,000 available; awards of up to ¥150,000 and refunds soon overdraw it."""
    with closing(FundLedger(env=eventsourcing_env(url))) as ledger:
        opened = ledger.execute(
            c.OpenFund("亀岡協働基金", "京都地域創造基金", FEE_RATE_BP), actor=ACTOR
        )
        fund_id = opened.aggregate_id
        ledger.execute(c.AddDesignation(fund_id, DESIGNATION, "保津川"), actor=ACTOR)
        donors = tuple(ledger.execute(_donor(i), actor=ACTOR).aggregate_id for i in range(2))
        donations: list[UUID] = []
        grants: list[UUID] = []
        for pot in (None, DESIGNATION):
            donations += _seed_donations(ledger, fund_id, donors, pot)
            grants += _seed_grants(ledger, fund_id, pot)
        position_max = ledger.recorder.max_notification_id() or 0
    return Scenario(url, fund_id, donors, tuple(donations), tuple(grants), position_max)


def _seed_donations(
    ledger: FundLedger, fund_id: UUID, donors: tuple[UUID, ...], pot: str | None
) -> list[UUID]:
    commands = [
        c.RecordDonation(
            f"seed-donation-{pot}-{i}",
            fund_id,
            donors[i % 2],
            SEED_DONATION_YEN,
            "cash",
            designation=pot,
        )
        for i in range(SEED_DONATIONS_PER_POT)
    ]
    return [ledger.execute(command, actor=ACTOR).aggregate_id for command in commands]


def _seed_grants(ledger: FundLedger, fund_id: UUID, pot: str | None) -> list[UUID]:
    grant_ids = []
    for i in range(SEED_GRANTS_PER_POT):
        award = _award(f"seed-grant-{pot}-{i}", fund_id, SEED_GRANT_YEN, pot)
        grant_id = ledger.execute(award, actor=ACTOR).aggregate_id
        disbursement = c.DisburseGrant(f"seed-paid-{pot}-{i}", grant_id, SEED_DISBURSEMENT_YEN)
        ledger.execute(disbursement, actor=ACTOR)
        grant_ids.append(grant_id)
    return grant_ids


def _donor(index: int) -> c.RegisterDonor:
    return c.RegisterDonor(
        "individual", f"亀岡 花子{index}", "カメオカ ハナコ", "621-0806", "京都府亀岡市"
    )


def _award(key: str, fund_id: UUID, amount_yen: int, designation: str | None) -> c.AwardGrant:
    return c.AwardGrant(
        key,
        fund_id,
        "NPO法人 保津川の会",
        "代表 山田",
        "川の清掃",
        amount_yen,
        designation=designation,
    )


# When: writers race


def next_command(
    rng: random.Random, scenario: Scenario, grant_ids: list[UUID], key: str
) -> RaceCommand:
    """A random command on the shared fund; the amounts keep the pots near empty."""
    kind = rng.choices(
        ["donate", "refund", "award", "disburse", "reduce", "return"], [3, 2, 3, 2, 1, 1]
    )[0]
    pot = rng.choice([None, DESIGNATION])
    grant_id = rng.choice(grant_ids)
    if kind == "donate":
        donor_id = rng.choice(scenario.donor_ids)
        return c.RecordDonation(
            key, scenario.fund_id, donor_id, _yen(rng, 10, 60), "bank_transfer", designation=pot
        )
    if kind == "refund":
        return c.RefundDonation(
            key, rng.choice(scenario.donation_ids), _yen(rng, 10, 60), "donor asked"
        )
    if kind == "award":
        return _award(key, scenario.fund_id, _yen(rng, 40, 150), pot)
    if kind == "disburse":
        return c.DisburseGrant(key, grant_id, _yen(rng, 10, 60))
    if kind == "reduce":
        return c.ReduceGrant(key, grant_id, _yen(rng, 5, 30), "smaller project")
    return c.RecordGrantReturn(key, grant_id, _yen(rng, 5, 40), "unused")


def _yen(rng: random.Random, low_thousands: int, high_thousands: int) -> int:
    return 1_000 * rng.randint(low_thousands, high_thousands)


def run_writer(scenario: Scenario, writer: int, barrier: Any) -> WriterLog:
    """One writer: its own ledger (and connection pool), started with the others."""
    rng = random.Random(writer)
    grant_ids = list(scenario.grant_ids)  # plus the grants this writer gets awarded
    log = WriterLog()
    with closing(CountingLedger(env=eventsourcing_env(scenario.url))) as ledger:
        ledger.get(scenario.fund_id)  # connect and warm the cache before the start
        barrier.wait(timeout=BARRIER_TIMEOUT_S)
        for index in range(COMMANDS_PER_WRITER):
            command = next_command(rng, scenario, grant_ids, f"writer-{writer}-{index}")
            try:
                outcome = ledger.execute(command, actor=f"writer-{writer}")
            except RuleViolation as error:
                log.refused.append((command, error.code))
            except ConcurrencyConflict:
                log.gave_up.append(command)
            else:
                log.acknowledged.append((command, outcome))
                if isinstance(command, c.AwardGrant):
                    grant_ids.append(outcome.aggregate_id)
        log.conflict_count = ledger.conflict_count
    return log


def race_in_threads(scenario: Scenario) -> list[WriterLog]:
    barrier = threading.Barrier(WRITER_COUNT)
    with ThreadPoolExecutor(WRITER_COUNT) as pool:
        futures = [
            pool.submit(run_writer, scenario, writer, barrier) for writer in range(WRITER_COUNT)
        ]
        return [future.result(timeout=WRITER_TIMEOUT_S) for future in futures]


def race_in_processes(scenario: Scenario) -> list[WriterLog]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITER_COUNT)
    results = context.Queue()
    processes = [
        context.Process(target=_process_writer, args=(scenario, writer, barrier, results))
        for writer in range(WRITER_COUNT)
    ]
    for process in processes:
        process.start()
    try:
        answers = [results.get(timeout=WRITER_TIMEOUT_S) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    failures = [answer for answer in answers if isinstance(answer, str)]
    assert not failures, "\n".join(failures)
    return answers


def _process_writer(scenario: Scenario, writer: int, barrier: Any, results: Any) -> None:
    try:
        results.put(run_writer(scenario, writer, barrier))
    except BaseException:
        barrier.abort()
        results.put(f"writer {writer} failed:\n{traceback.format_exc()}")


# Then: the log, folded independently of the aggregates, obeys every rule

# BRIEF rule 4 per event: (change of the pot's cash, change of its committed money).
MONEY_CHANGES: dict[type[Any], Callable[[Any], tuple[int, int]]] = {
    Donation.Recorded: lambda e: (e.amount_yen - e.fee_yen, 0),
    Donation.Refunded: lambda e: (-(e.amount_yen - e.fee_returned_yen), 0),
    Donation.Voided: lambda e: (-(e.amount_yen - e.fee_yen), 0),
    Grant.Awarded: lambda e: (0, e.amount_yen),
    Grant.Disbursed: lambda e: (-e.amount_yen, -e.amount_yen),
    Grant.Reduced: lambda e: (0, -e.amount_yen),
    Grant.Cancelled: lambda e: (0, -e.amount_yen),
    Grant.Returned: lambda e: (e.amount_yen, 0),
}

# The event an acknowledged command must have recorded, and on which aggregate.
EXPECTED_EVENTS: dict[type[Any], tuple[type[Any], Callable[[Any], UUID]]] = {
    c.RecordDonation: (Donation.Recorded, lambda command: claim_id(command.idempotency_key)),
    c.AwardGrant: (Grant.Awarded, lambda command: claim_id(command.idempotency_key)),
    c.RefundDonation: (Donation.Refunded, lambda command: command.donation_id),
    c.DisburseGrant: (Grant.Disbursed, lambda command: command.grant_id),
    c.ReduceGrant: (Grant.Reduced, lambda command: command.grant_id),
    c.RecordGrantReturn: (Grant.Returned, lambda command: command.grant_id),
}

Log = list[tuple[int, Any]]  # (position, domain event), in log order


def money_change(event: Any) -> tuple[int, int] | None:
    change = MONEY_CHANGES.get(type(event))
    return None if change is None else change(event)


def read_log(ledger: FundLedger) -> Log:
    notifications = ledger.recorder.select_notifications(None, LOG_PAGE_SIZE)
    assert len(notifications) < LOG_PAGE_SIZE, "the scenario fits one page"
    return [(n.id, ledger.mapper.to_domain_event(n)) for n in notifications]


def check_pots_never_negative(log: Log) -> dict[str, tuple[int, int]]:
    """Fold every money event in log order; return each pot's (cash, committed)."""
    balances: dict[str, tuple[int, int]] = {}
    for position, event in log:
        change = money_change(event)
        if change is None:
            continue
        pot = event.designation or GENERAL
        cash, committed = balances.get(pot, (0, 0))
        cash, committed = cash + change[0], committed + change[1]
        assert min(cash, committed, cash - committed) >= 0, (
            f"pot {pot} at position {position}: cash {cash}, committed {committed}"
        )
        balances[pot] = (cash, committed)
    return balances


def check_fund_mirrors_the_log(log: Log, fund: Fund, balances: dict[str, tuple[int, int]]) -> None:
    assert fund.cash_yen == {pot: cash for pot, (cash, _) in balances.items()}
    assert fund.committed_yen == {pot: committed for pot, (_, committed) in balances.items()}
    mirrored = Counter(
        (
            UUID(m["source_id"]),
            m["source_version"],
            m["designation"],
            m["cash_change_yen"],
            m["committed_change_yen"],
        )
        for _, event in log
        if isinstance(event, Fund.MovementsPosted)
        for m in event.movements
    )
    sources = Counter(
        (event.originator_id, event.originator_version, event.designation, *change)
        for _, event in log
        if (change := money_change(event)) is not None
    )
    assert mirrored == sources
    assert set(mirrored.values()) == {1}


def check_nothing_doubled(log: Log) -> None:
    donated: dict[UUID, int] = {}
    refunded: Counter[UUID] = Counter()
    awarded: dict[UUID, int] = {}
    paid: Counter[UUID] = Counter()
    reduced: Counter[UUID] = Counter()
    returned: Counter[UUID] = Counter()
    for _, event in log:
        source = event.originator_id
        if isinstance(event, Donation.Recorded):
            donated[source] = event.amount_yen
        elif isinstance(event, Donation.Refunded):
            refunded[source] += event.amount_yen
        elif isinstance(event, Grant.Awarded):
            awarded[source] = event.amount_yen
        elif isinstance(event, Grant.Disbursed):
            paid[source] += event.amount_yen
        elif isinstance(event, Grant.Reduced | Grant.Cancelled):
            reduced[source] += event.amount_yen
        elif isinstance(event, Grant.Returned):
            returned[source] += event.amount_yen
        else:
            continue
        if source in donated:
            assert refunded[source] <= donated[source], source
        if source in awarded:
            assert paid[source] + reduced[source] <= awarded[source], source
            assert returned[source] <= paid[source], source


def check_acknowledged_exactly_once(log: Log, scenario: Scenario, logs: list[WriterLog]) -> None:
    """Acknowledged commands ↔ money events after the seed, one to one, by key and position."""
    at = dict(log)
    claims = {e.originator_id: e for _, e in log if isinstance(e, IdempotencyClaim.Claimed)}
    created = Counter(e.originator_id for _, e in log if e.originator_version == 1)
    positions = []
    for command, outcome in acknowledged(logs):
        expected_type, target = EXPECTED_EVENTS[type(command)]
        assert outcome.position is not None, "a new event has a position"
        key_event = at[outcome.position]
        assert key_event.originator_id == claim_id(command.idempotency_key), "claims come last"
        assert key_event.originator_version == 1
        # The command's money event: its target's newest event up to the claim, which the
        # same write saved after it.
        position, event = max(
            (p, e) for p, e in log if p <= outcome.position and e.originator_id == target(command)
        )
        assert isinstance(event, expected_type), (command, event)
        assert event.originator_id == target(command) == outcome.aggregate_id
        assert event.amount_yen == command.amount_yen
        key_id = claim_id(command.idempotency_key)
        assert created[key_id] == 1, f"key {command.idempotency_key} is not in the log exactly once"
        if key_id in claims:
            assert claims[key_id].idempotency_key == command.idempotency_key
            assert claims[key_id].outcome == outcome.to_json()
        positions.append(position)
    recorded = [
        position
        for position, event in log
        if position > scenario.seed_position_max and money_change(event) is not None
    ]
    assert sorted(positions) == recorded


def check_unacknowledged_left_nothing(log: Log, logs: list[WriterLog]) -> None:
    originators = {event.originator_id for _, event in log}
    for writer_log in logs:
        for command in [command for command, _ in writer_log.refused] + writer_log.gave_up:
            assert claim_id(command.idempotency_key) not in originators, command


def check_retries_record_nothing(ledger: FundLedger, logs: list[WriterLog]) -> None:
    position_max = ledger.recorder.max_notification_id()
    for command, outcome in acknowledged(logs):
        replay = ledger.execute(command, actor=ACTOR)
        assert replay.replayed, command
        assert (replay.kind, replay.aggregate_id, replay.amounts_yen) == (
            outcome.kind,
            outcome.aggregate_id,
            outcome.amounts_yen,
        )
    assert ledger.recorder.max_notification_id() == position_max


def acknowledged(logs: list[WriterLog]) -> list[tuple[RaceCommand, c.Outcome]]:
    return [pair for writer_log in logs for pair in writer_log.acknowledged]


def check_race_was_real(logs: list[WriterLog]) -> None:
    refusals = Counter(code for writer_log in logs for _, code in writer_log.refused)
    conflict_count = sum(writer_log.conflict_count for writer_log in logs)
    acknowledged_count = len(acknowledged(logs))
    assert refusals["overdraft"] >= OVERDRAFTS_MIN, refusals
    assert conflict_count >= CONFLICTS_MIN, f"only {conflict_count} version conflicts"
    assert acknowledged_count >= ACKNOWLEDGED_SHARE_MIN * WRITER_COUNT * COMMANDS_PER_WRITER


def check_ledger_after_race(scenario: Scenario, logs: list[WriterLog]) -> None:
    with closing(FundLedger(env=eventsourcing_env(scenario.url))) as ledger:
        log = read_log(ledger)
        balances = check_pots_never_negative(log)
        check_fund_mirrors_the_log(log, ledger.get(scenario.fund_id), balances)
        check_nothing_doubled(log)
        check_acknowledged_exactly_once(log, scenario, logs)
        check_unacknowledged_left_nothing(log, logs)
        check_retries_record_nothing(ledger, logs)
    with open_recorder(scenario.url) as recorder:
        report = verify_chain(recorder)
    assert report.fault is None, report.fault
    assert report.event_count == len(log)


def test_writers_in_threads_keep_every_rule(database_url: str) -> None:
    scenario = seed(database_url)
    logs = race_in_threads(scenario)
    check_race_was_real(logs)
    check_ledger_after_race(scenario, logs)


def test_writers_in_processes_keep_every_rule(database_url: str) -> None:
    scenario = seed(database_url)
    logs = race_in_processes(scenario)
    check_race_was_real(logs)
    check_ledger_after_race(scenario, logs)
