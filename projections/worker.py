"""Keeping the read models caught up in a background thread, and waiting for a position.

`ProjectionWorker` runs `runner.catch_up` in a thread: at start, whenever it is woken, and
every `poll_interval_s` in between. On PostgreSQL a second thread LISTENs on the channel the
library's recorder NOTIFYs on every insert (notes/eventsourcing-9.5.md), so new events wake
the worker at once and the poll is only a fallback; SQLite has no notifications, so there
the worker polls. A process that writes can also `wake` it after its own writes.

`wait_for(position, timeout_s)` answers as soon as every projector has reached `position`:
a `threading.Condition` is notified after each committed page, so nobody sleeps blindly.

A failure is never swallowed: the first error (`ProjectionFailed` when a projector cannot
apply an event) stops the worker and stays in `failure`; `wait_for` raises it.

`wait_for_position` is the same wait for a process whose projector may run elsewhere (the
API's, under compose): it polls the tracking table.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from psycopg.sql import SQL, Identifier
from sqlalchemy.engine import Engine

from ledger.service import FundLedger
from projections import runner
from projections.catalogue import all_projectors
from projections.runner import Projector

POLL_INTERVAL_S_DEFAULT = 1.0
LISTEN_TIMEOUT_S = 0.1  # how often the listening thread checks whether to stop
_log = logging.getLogger("fund_ledger.projection")


class ProjectionWorker:
    def __init__(
        self,
        ledger: FundLedger,
        engine: Engine,
        projectors: Sequence[Projector],
        *,
        poll_interval_s: float = POLL_INTERVAL_S_DEFAULT,
        batch_size: int = runner.BATCH_SIZE_DEFAULT,
        on_applied: Callable[[int], None] = lambda _count: None,
    ) -> None:
        """`on_applied` is told, from the worker's thread, how many events each catch-up
        applied (when it applied any)."""
        self._ledger = ledger
        self._engine = engine
        self._projectors = list(projectors)
        self._poll_interval_s = poll_interval_s
        self._batch_size = batch_size
        self._on_applied = on_applied
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._reached = threading.Condition()
        self._position = 0  # every projector has reached it; guarded by `_reached`
        self._failure: Exception | None = None
        self._threads = [threading.Thread(target=self._run, name="projection", daemon=True)]
        if _channel(ledger) is not None:
            self._threads.append(
                threading.Thread(target=self._listen, name="projection-listen", daemon=True)
            )

    @property
    def failure(self) -> Exception | None:
        """The error that stopped the worker, if one did."""
        with self._reached:
            return self._failure

    @property
    def position(self) -> int:
        """The log position every projector is known to have reached."""
        with self._reached:
            return self._position

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def wake(self) -> None:
        """Catch up now, not at the next poll (after a write in this process, say)."""
        self._wake.set()

    def stop(self) -> None:
        """Let the current page finish and commit, then end the threads."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join()

    def wait_for(self, position: int, timeout_s: float) -> bool:
        """True as soon as every projector has reached `position`; False after `timeout_s`.
        Raises the worker's failure instead, should it stop on one."""
        with self._reached:
            self._reached.wait_for(
                lambda: self._failure is not None or self._position >= position, timeout_s
            )
            if self._failure is not None:
                raise self._failure
            return self._position >= position

    def _run(self) -> None:
        try:
            self._reach(_common_position(self._engine, self._projectors))
            while not self._stop.is_set():
                self._wake.clear()
                if (self._ledger.recorder.max_notification_id() or 0) <= self.position:
                    # Nothing new: no transaction, so an idle poll never takes SQLite's
                    # write lock from the writers.
                    self._wake.wait(self._poll_interval_s)
                    continue
                applied_count = runner.catch_up(
                    self._ledger,
                    self._engine,
                    self._projectors,
                    batch_size=self._batch_size,
                    should_stop=self._stop.is_set,
                    on_batch=self._reach,
                )
                # Another process may have projected what this one did not need to.
                self._reach(_common_position(self._engine, self._projectors))
                if applied_count:
                    self._on_applied(applied_count)
                self._wake.wait(self._poll_interval_s)
        except Exception as error:  # kept, and raised to whoever waits: never swallowed
            with self._reached:
                self._failure = error
                self._reached.notify_all()
            self._stop.set()

    def _reach(self, position: int) -> None:
        with self._reached:
            if position > self._position:
                self._position = position
                self._reached.notify_all()

    def _listen(self) -> None:
        """Wake the worker on every NOTIFY of the events table, until stopped."""
        recorder: Any = self._ledger.recorder
        try:
            with recorder.datastore.get_connection() as connection:
                connection.execute(SQL("LISTEN {0}").format(Identifier(recorder.channel_name)))
                try:
                    while not self._stop.is_set():
                        for _ in connection.notifies(timeout=LISTEN_TIMEOUT_S, stop_after=1):
                            self._wake.set()
                finally:  # the connection goes back to the ledger's pool
                    connection.execute("UNLISTEN *")
        except Exception as error:
            # Polling goes on: notifications only make the worker quicker.
            _log.warning("listening for new events failed, polling only: %s", error)


def _channel(ledger: FundLedger) -> str | None:
    channel: str | None = getattr(ledger.recorder, "channel_name", None)
    return channel


def _common_position(engine: Engine, projectors: Sequence[Projector]) -> int:
    return runner.slowest_position(engine, [p.name for p in projectors])


def wait_for_position(
    engine: Engine,
    position: int,
    timeout_s: float,
    poll_interval_s: float = 0.02,
    *,
    names: Sequence[str] | None = None,
    check: Callable[[], None] = lambda: None,
) -> bool:
    """True as soon as every projector (those `names`, or all the ledger has) has reached
    `position` in the tracking table; False after `timeout_s`. `check` runs before each look
    and may raise to end the wait (the API's, when its own projector has stopped)."""
    wanted = list(names) if names is not None else [p.name for p in all_projectors()]
    deadline = time.monotonic() + timeout_s
    while True:
        check()
        if runner.slowest_position(engine, wanted) >= position:
            return True
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0:
            return False
        time.sleep(min(poll_interval_s, remaining_s))
