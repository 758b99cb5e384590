"""The application service: one entry point for every command, idempotent and atomic.

`FundLedger.execute(command, actor=…)` runs one command; `execute_batch` runs many in one
atomic write (the import path): all are recorded, or none. A version conflict (another writer
changed the same fund, donation or grant) re-runs the whole unit against fresh state, a
bounded number of times.

Idempotency keys: the first attempt does not look keys up; a key used before collides on its
deterministic id at save time, and the retry then finds the earlier use and answers it
(same content) or refuses it (other content). Fresh keys, the common case, cost no read.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from eventsourcing.application import Application, LRUCache, ProcessingEvent, Repository
from eventsourcing.persistence import (
    IntegrityError,
    JSONTranscoder,
    Mapper,
    PersistenceError,
    Recording,
    Transcoder,
    Transcoding,
)
from eventsourcing.popo import POPOApplicationRecorder

from ledger import handlers, values
from ledger.aggregate import LedgerAggregate
from ledger.claim import claim_id
from ledger.commands import Command, Outcome, request_fingerprint
from ledger.donor import Donor
from ledger.errors import (
    BatchRejected,
    BatchTooLarge,
    ConcurrencyConflict,
    ConfigurationError,
    IdempotencyKeyReused,
    InvalidInput,
    LedgerError,
    StorageError,
)
from ledger.fund import Fund
from ledger.store import ChainedApplicationRecorder
from ledger.store.config import APPLICATION_NAME
from ledger.store.mapper import LedgerMapper
from ledger.store.transcoder import FastJSONTranscoder
from ledger.unit_of_work import UnitOfWork

JST = timezone(timedelta(hours=9), "JST")
# One batch is one atomic write: an import file of up to this many rows (one RecordDonation a
# row) is recorded whole or not at all. On this 2-core machine at load 7-10, 100,000 donations
# took 55-70 s on PostgreSQL and 48 s on SQLite, the process peaking at 640-740 MB. (Batches
# of 10,000 used to stall on PostgreSQL: psycopg's pipeline left the big INSERT half-sent;
# see `ledger.store.postgres`.)
BATCH_SIZE_MAX = 100_000
CONFLICT_ATTEMPTS_MAX = 16
# Jittered exponential backoff, capped: at most ~2 s in all. A cap of 0.05 s let 8 issuers of
# receipts racing for one year's numbering (each its own process's pool) retry in step under a
# loaded CI machine, and one gave up after 16 attempts; wider windows spread them out.
CONFLICT_BACKOFF_S_MAX = 0.2
FUND_SNAPSHOT_INTERVAL = 200


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class FundLedger(Application[UUID]):
    name = APPLICATION_NAME
    env = {  # noqa: RUF012 (the library reads this class attribute)
        "AGGREGATE_CACHE_MAXSIZE": "10000",  # funds and donors only, see _FundsAndDonorsCache
        # Cached aggregates are trusted, never fast-forwarded in place (see unit_of_work).
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "y",
    }
    snapshotting_intervals = {Fund: FUND_SNAPSHOT_INTERVAL}  # noqa: RUF012

    def __init__(
        self, env: dict[str, str] | None = None, *, clock: Callable[[], datetime] | None = None
    ) -> None:
        super().__init__(env)
        self._clock = clock or (lambda: datetime.now(UTC))
        if not isinstance(self.recorder, ChainedApplicationRecorder | POPOApplicationRecorder):
            # e.g. a FUNDLEDGER_APPLICATION_RECORDER_TOPIC in the environment overriding ours
            raise ConfigurationError(
                f"events would be stored without the hash chain by {type(self.recorder).__name__}"
            )

    def construct_repository(self) -> Repository[UUID]:
        repository = super().construct_repository()
        assert isinstance(repository.cache, LRUCache), "AGGREGATE_CACHE_MAXSIZE is set"
        repository.cache = _FundsAndDonorsCache(repository.cache.maxsize)
        return repository

    def construct_mapper(self) -> Mapper[UUID]:
        """The library's mapper, naming the position of any event it cannot decode."""
        return self.factory.mapper(
            transcoder=self.construct_transcoder(), mapper_class=LedgerMapper
        )

    def construct_transcoder(self) -> Transcoder:
        """The library's JSON transcoder with a faster encoder writing the same bytes."""
        transcoder = FastJSONTranscoder()
        self.register_transcodings(transcoder)
        return transcoder

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """The library's `save`, collecting our aggregates' events without its runtime
        Protocol checks, which cost about a tenth of a one-command write on Python 3.11."""
        processing_event = ProcessingEvent[UUID]()
        for obj in objs:
            if isinstance(obj, LedgerAggregate):
                processing_event.events.extend(obj.collect_events())
                processing_event.aggregates[obj.id] = obj
            else:
                processing_event.collect_events(obj)
        processing_event.saved_kwargs.update(kwargs)
        recordings = self._record(processing_event)
        self._take_snapshots(processing_event)
        self._notify(recordings)
        return recordings

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        """Snapshot a fund from the object just saved, whose state is exactly the stored one,
        instead of the library's way of reading it back from the database."""
        due = {
            event.originator_id
            for event in processing_event.events
            if event.originator_version % FUND_SNAPSHOT_INTERVAL == 0
            and isinstance(processing_event.aggregates.get(event.originator_id), Fund)
        }
        if due and self.snapshots is not None:
            self.snapshots.put([Fund.Snapshot.take(processing_event.aggregates[i]) for i in due])

    def today(self) -> date:
        """Today in Japan, where the money moves."""
        return self._clock().astimezone(JST).date()

    def execute(self, command: Command, *, actor: str, request_id: str | None = None) -> Outcome:
        try:
            return self.execute_batch([command], actor=actor, request_id=request_id)[0]
        except BatchRejected as rejected:
            raise rejected.cause from None

    def execute_batch(
        self, commands: Sequence[Command], *, actor: str, request_id: str | None = None
    ) -> list[Outcome]:
        """Run `commands` in one atomic write. `request_id` (the HTTP request's id, say) is
        stored beside the events it wrote, so a log line can be tied to them."""
        actor = values.text(actor, "actor")
        request_id = _checked_request_id(request_id)
        if not commands:
            return []
        _check_batch_size(len(commands))
        return self._run(commands, [actor] * len(commands), request_id)

    def execute_each(
        self, requests: Sequence[tuple[Command, str]], *, request_id: str | None = None
    ) -> list[Outcome | LedgerError]:
        """Run the commands of independent callers, each `(command, actor)`, in one atomic
        write (a group commit): per request, its outcome or the error that refused it.

        They run in order, as a batch does. A refused command refuses only itself: it was
        refused after the commands before it and records nothing, and the others run again
        without it. An error of the write itself (storage, conflicts beyond the retries) is
        every remaining request's. `request_id` is stored beside all the events written."""
        request_id = _checked_request_id(request_id)
        _check_batch_size(len(requests))
        done: dict[int, Outcome | LedgerError] = {}
        pending: list[tuple[int, Command, str]] = []
        for index, (command, actor) in enumerate(requests):
            try:
                pending.append((index, command, values.text(actor, "actor")))
            except LedgerError as error:
                done[index] = error
        while pending:  # each round either ends the loop or takes a request out
            outcomes: Sequence[Outcome | LedgerError]
            try:
                outcomes = self._run([p[1] for p in pending], [p[2] for p in pending], request_id)
            except BatchRejected as rejected:
                done[pending.pop(rejected.index)[0]] = rejected.cause
                continue
            except LedgerError as error:
                outcomes = [error] * len(pending)
            done.update((p[0], outcome) for p, outcome in zip(pending, outcomes, strict=True))
            break
        return [done[index] for index in range(len(requests))]

    def _run(
        self, commands: Sequence[Command], actors: Sequence[str], request_id: str | None
    ) -> list[Outcome]:
        for attempt in range(CONFLICT_ATTEMPTS_MAX):
            retrying = attempt > 0
            try:
                return self._attempt(commands, actors, request_id, retrying=retrying)
            except BatchRejected:
                # A retried request can break a rule only because its first run already
                # happened (a full refund, a void): look the keys up before refusing.
                if retrying:
                    raise
            except IntegrityError:
                time.sleep(random.uniform(0, min(CONFLICT_BACKOFF_S_MAX, 0.002 * 2**attempt)))
            except PersistenceError as error:
                raise StorageError(f"the database refused the write: {error}") from error
        raise ConcurrencyConflict(
            f"gave up after {CONFLICT_ATTEMPTS_MAX} attempts:"
            " other writers kept changing the same records"
        )

    def _attempt(
        self,
        commands: Sequence[Command],
        actors: Sequence[str],
        request_id: str | None,
        *,
        retrying: bool,
    ) -> list[Outcome]:
        uow = UnitOfWork(self, fresh=retrying, request_id=request_id)
        attempt = _Attempt(uow, self.today(), retrying)
        for index, (command, actor) in enumerate(zip(commands, actors, strict=True)):
            try:
                attempt.run(command, actor)
            except LedgerError as error:
                raise BatchRejected(index, error) from error
        return attempt.commit()

    def get(self, aggregate_id: UUID) -> Any:
        """Read helper for callers (CLI, API): the current state of an aggregate."""
        return UnitOfWork(self, fresh=True).find(aggregate_id)


class _Attempt:
    """One try at a batch: its commands run in order against one unit of work.

    A key seen earlier in the same batch answers as a replay of that command; on a retry
    (`look_up_keys`) a key already in the store answers as a replay of its first use.
    """

    def __init__(self, uow: UnitOfWork, today: date, look_up_keys: bool) -> None:
        self.uow = uow
        self.today = today
        self.look_up_keys = look_up_keys
        self.keys_seen: dict[str, tuple[str, int]] = {}  # key → (fingerprint, index)
        self.outcomes: list[Outcome] = []
        # Per command, the event whose position it reports: (aggregate id, version).
        self.position_events: list[tuple[UUID, int] | None] = []
        self.claimed_ids: set[UUID] = set()

    def run(self, command: Command, actor: str) -> None:
        outcome, main_event = self._outcome(command, actor)
        key = command.idempotency_key
        if key is not None and outcome.position is None:
            # A keyed command reports its claim, which the unit of work saves last (a
            # replay of the same key, here or later, reports the same position).
            main_event = (claim_id(key), 1)
            self.claimed_ids.add(main_event[0])
        self.outcomes.append(outcome)
        self.position_events.append(main_event)

    def commit(self) -> list[Outcome]:
        positions = self.uow.commit(save_last=self.claimed_ids)
        return [
            _with_position(outcome, positions.get(event) if event else None)
            for outcome, event in zip(self.outcomes, self.position_events, strict=True)
        ]

    def _outcome(self, command: Command, actor: str) -> tuple[Outcome, tuple[UUID, int] | None]:
        handler = handlers.HANDLERS.get(type(command))
        if handler is None:
            raise InvalidInput("command", f"unknown command {type(command).__name__}")
        fingerprint = request_fingerprint(command)
        key = command.idempotency_key
        if key is not None:
            values.idempotency_key(key)
            if key in self.keys_seen:
                first_fingerprint, first_index = self.keys_seen[key]
                _check_same_request(key, first_fingerprint, fingerprint)
                return _replayed(self.outcomes[first_index]), None
            self.keys_seen[key] = (fingerprint, len(self.outcomes))
            first_use = self.uow.find(claim_id(key)) if self.look_up_keys else None
            if first_use is not None:
                _check_same_request(key, first_use.request_fingerprint, fingerprint)  # type: ignore[attr-defined]
                position = self.uow.position_of(first_use.id, 1)
                return _replayed(handlers.outcome_of_first_use(first_use), position), None
        context = handlers.Context(actor=actor, today=self.today, fingerprint=fingerprint)
        return handler(self.uow, command, context)


class _FundsAndDonorsCache(LRUCache[UUID, Any]):
    """Caches only funds and donors, which most commands read; the library would cache every
    aggregate it saves, and an import of thousands of donations would evict them."""

    def put(self, key: UUID, value: Any) -> Any:
        if isinstance(value, Fund | Donor):
            return super().put(key, value)
        return None


def _checked_request_id(request_id: str | None) -> str | None:
    return None if request_id is None else values.request_id(request_id)


def _check_batch_size(count: int) -> None:
    if count > BATCH_SIZE_MAX:
        raise BatchTooLarge(f"a batch holds at most {BATCH_SIZE_MAX} commands, got {count}")


def _check_same_request(key: str, first: str, now: str) -> None:
    if first != now:
        raise IdempotencyKeyReused(
            f"idempotency key '{key}' was already used for a different request"
        )


def _replayed(outcome: Outcome, position: int | None = None) -> Outcome:
    position = outcome.position if position is None else position
    return Outcome(outcome.kind, outcome.aggregate_id, outcome.amounts_yen, position, True)


def _with_position(outcome: Outcome, position: int | None) -> Outcome:
    if outcome.position is not None:
        return outcome
    return Outcome(
        outcome.kind, outcome.aggregate_id, outcome.amounts_yen, position, outcome.replayed
    )
