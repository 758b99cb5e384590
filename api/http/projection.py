"""The projectors running inside the API process (the embedded default): a thread that
catches the read models up, woken by this process's writes and polling for others'."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.engine import Engine

from ledger.service import FundLedger
from projections import runner
from projections.catalogue import all_projectors

_log = logging.getLogger("fund_ledger.projection")


class InProcessProjection:
    def __init__(self, ledger: FundLedger, engine: Engine, *, poll_interval_s: float) -> None:
        self._ledger = ledger
        self._engine = engine
        self._poll_interval_s = poll_interval_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="projection", daemon=True)
        self.failure: Exception | None = None

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        projectors = all_projectors()
        while not self._stop.is_set():
            self._wake.clear()
            try:
                if self._behind(projectors):
                    runner.catch_up(
                        self._ledger, self._engine, projectors, should_stop=self._stop.is_set
                    )
            except Exception as error:  # a projector that cannot apply an event stops here
                self.failure = error
                _log.exception("the read models stopped; reads will wait and fail")
                return
            self._wake.wait(self._poll_interval_s)

    def _behind(self, projectors: list[runner.Projector]) -> bool:
        """Whether the log holds events some projector has not applied: two cheap reads, so
        that an idle poll never takes SQLite's write lock, as a catch-up transaction does."""
        head = self._ledger.recorder.max_notification_id() or 0
        positions = runner.tracked_positions(self._engine)
        return any(positions.get(p.name, 0) < head for p in projectors)
