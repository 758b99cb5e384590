"""The process's writes, recorded by one thread in groups: a group commit.

Writes nearly all change the same fund: run concurrently, they conflict on its version and
retry, so the process runs them one at a time. One at a time, each is a commit of its own,
which waits for the disk, and that wait bounded the API's writes per second. Now a request
queues its command and waits; one thread takes whatever is queued (up to
`GROUP_SIZE_MAX`), runs it with `FundLedger.execute_each` as one atomic write, and answers
each request its own outcome, or the error that refused its command alone. Nothing waits to
fill a group: while one commits, the next queues up, so a lone write costs what it did and
under load one commit carries many. The thread holds the services' write lock for each
group, so the writes that take it themselves (imports) still run alone.

Request ids. A group of one stores its request's id beside its events, as before. A larger
group stores a group id (`group-<32 hex>`) beside all of its events, and each of its
requests logs a line, with its own request id, naming the group: an event leads to the group
and from there to its requests' log lines, and back.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ledger.commands import Command, Outcome
from ledger.service import FundLedger

GROUP_SIZE_MAX = 64  # commands in one write: bounds a retried group's work
QUEUE_SIZE_MAX = 1_000  # beyond this, a request waits to be queued
GROUP_ID_PREFIX = "group-"
_log = logging.getLogger("fund_ledger.api.writer")


@dataclass
class _Queued:
    command: Command
    actor: str
    request_id: str | None
    answered: threading.Event = field(default_factory=threading.Event)
    result: Outcome | Exception | None = None


class GroupWriter:
    def __init__(
        self, ledger: FundLedger, lock: threading.Lock, after_write: Callable[[], None]
    ) -> None:
        self._ledger = ledger
        self._lock = lock
        self._after_write = after_write
        self._queue: queue.Queue[_Queued | None] = queue.Queue(QUEUE_SIZE_MAX)
        self._thread = threading.Thread(target=self._run, name="fund-ledger-writer", daemon=True)
        self._thread.start()

    def execute(self, command: Command, actor: str, request_id: str | None) -> Outcome:
        """Record `command` with the next group and return its outcome; raise what refused
        it (a `LedgerError`), or the write's failure."""
        if not self._thread.is_alive():
            raise RuntimeError("the writer has stopped")
        queued = _Queued(command, actor, request_id)
        self._queue.put(queued)
        queued.answered.wait()
        if isinstance(queued.result, Exception):
            raise queued.result
        assert queued.result is not None, "answered with a result"
        return queued.result

    def stop(self) -> None:
        """Record what is queued, then end the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < GROUP_SIZE_MAX:
                try:
                    queued = self._queue.get_nowait()
                except queue.Empty:
                    break
                if queued is None:
                    stopping = True
                    break
                group.append(queued)
            self._write(group)

    def _write(self, group: Sequence[_Queued]) -> None:
        results: list[Outcome | Exception] = []
        try:
            with self._lock:
                results = list(self._results(group))
        except Exception as error:  # not a refusal (those are results); the handler logs it
            results = [error] * len(group)
        finally:  # whatever happened, no caller is left waiting
            for index, queued in enumerate(group):
                failed = RuntimeError("the writer failed; see the log")
                queued.result = results[index] if index < len(results) else failed
                queued.answered.set()
        try:
            self._after_write()
        except Exception:
            _log.exception("waking the projectors after a write failed")

    def _results(self, group: Sequence[_Queued]) -> Sequence[Outcome | Exception]:
        if len(group) == 1:
            return [self._alone(group[0])]
        group_id = f"{GROUP_ID_PREFIX}{uuid.uuid4().hex}"
        requests = [(queued.command, queued.actor) for queued in group]
        try:
            results: Sequence[Outcome | Exception] = self._ledger.execute_each(
                requests, request_id=group_id
            )
        except Exception:
            # Refusals come back per request; this is a fault that no one command can be
            # told from: each runs alone, so that it fails only its own request.
            _log.exception("a write group of %d failed; writing each alone", len(group))
            return [self._alone(queued) for queued in group]
        for queued, result in zip(group, results, strict=True):
            _log.info(
                "written in %s (%d requests)%s",
                group_id,
                len(group),
                "" if isinstance(result, Outcome) else f": refused ({type(result).__name__})",
                extra={"request_id": queued.request_id},
            )
        return results

    def _alone(self, queued: _Queued) -> Outcome | Exception:
        try:
            return self._ledger.execute(
                queued.command, actor=queued.actor, request_id=queued.request_id
            )
        except Exception as error:  # a refusal, or a fault the request's handler logs
            return error
