"""What the routes share for the life of the process: the ledger, the read models' engine,
the in-process projector, and the two things every route does — run a command as its
principal, and wait for the read models to reach a position."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar
from uuid import UUID

import sqlalchemy as sa
from fastapi import Response
from sqlalchemy.engine import Engine

from api.http.observability import request_id_var
from api.http.principals import PrincipalCache
from api.http.problems import (
    POSITION_BEYOND_HEAD,
    READ_MODEL_BEHIND,
    READ_MODELS_STOPPED,
    ProblemError,
)
from api.http.settings import ApiSettings
from api.http.writer import GroupWriter
from api.tokens import Principal
from ledger.commands import Command, Outcome
from ledger.errors import NotFound
from ledger.service import FundLedger
from ledger.store.chain import CHAIN_TABLE_NAME
from projections import runner
from projections.catalogue import all_projectors
from projections.worker import ProjectionWorker, wait_for_position

A = TypeVar("A")

REPLAYED_HEADER = "Idempotent-Replayed"
POSITION_HEADER = "Ledger-Position"
_WAIT_POLL_S = 0.01
# Every stored event has its row in the hash chain, written in the same transaction.
_CHAIN = sa.table(CHAIN_TABLE_NAME, sa.column("position", sa.BigInteger))


@dataclass
class Services:
    settings: ApiSettings
    ledger: FundLedger
    engine: Engine
    projection: ProjectionWorker | None = None  # the in-process projectors, if any
    principals: PrincipalCache = field(init=False, repr=False)
    _write_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _writer: GroupWriter = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.principals = PrincipalCache(self.settings.token_cache_s)
        self._writer = GroupWriter(self.ledger, self._write_lock, self._wake_projection)

    def close(self) -> None:
        """Record the writes still queued; stop the writer's thread."""
        self._writer.stop()

    def execute(self, command: Command, principal: Principal, response: Response) -> Outcome:
        """Run `command` with the principal's name as the actor; mark a replay in `response`.

        Writes of this process are recorded by one thread, in groups (`api.http.writer`):
        they nearly all change the same fund, so concurrent ones would mostly conflict on
        its version, reload it and retry (measured: 32 concurrent clients gave up after 16
        attempts). Other processes' writes still conflict and retry.
        """
        outcome = self._writer.execute(command, principal.name, request_id_var.get())
        if outcome.replayed:
            response.headers[REPLAYED_HEADER] = "true"
        if outcome.position is not None:
            response.headers[POSITION_HEADER] = str(outcome.position)
        return outcome

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Write alone: no group of `execute` runs meanwhile (for an import's batch); the
        in-process projectors are woken when it ends. Never call `execute` inside it: the
        writer would wait for the lock that its caller holds."""
        with self._write_lock:
            yield
        self._wake_projection()

    def _wake_projection(self) -> None:
        if self.projection is not None:
            self.projection.wake()

    def load(self, cls: type[A], aggregate_id: UUID, name: str) -> A:
        found = self.ledger.get(aggregate_id)
        if not isinstance(found, cls):
            raise NotFound(f"no {name} with id {aggregate_id}")
        return found

    def head_position(self) -> int:
        """The newest event's position, read through the read models' engine: one quick
        query (the ledger's recorder retries a lost database for ~50 s before it fails)."""
        with self.engine.connect() as connection:
            head = connection.scalar(sa.select(sa.func.max(_CHAIN.c.position)))
        return int(head or 0)

    def lag(self) -> dict[str, int]:
        """The log's head position and how many events the slowest read model is behind."""
        head = self.head_position()
        slowest = runner.slowest_position(self.engine, [p.name for p in all_projectors()])
        return {"head_position": head, "lag_events": max(head - slowest, 0)}

    def wait_for(self, position: int | None) -> None:
        """Return once every read model has applied the event at `position`; a 503 problem
        if they have not within the configured wait."""
        if position is None or position <= 0:
            return
        head = self.head_position()
        if position > head:
            raise ProblemError(
                POSITION_BEYOND_HEAD, f"the log ends at position {head}, before {position}"
            )
        wait_s = self.settings.read_wait_s
        if not wait_for_position(self.engine, position, wait_s, _WAIT_POLL_S, check=self._running):
            raise ProblemError(
                READ_MODEL_BEHIND,
                f"the read models have not reached position {position} within {wait_s:g} s;"
                " retry later",
                headers={"Retry-After": "1"},
            )

    def _running(self) -> None:
        """Raise if this process's own projector has stopped: waiting on would be in vain."""
        if self.projection is not None and self.projection.failure is not None:
            raise ProblemError(
                READ_MODELS_STOPPED, "the read models stopped at an event they cannot apply"
            )
