"""Once the process is asked to stop, the API's answers close their connections."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from types import FrameType

from starlette.types import Message, Receive, Scope, Send

from api.http.draining import CloseWhenStopping, StopRequested


def test_sigterm_sets_stop_requested_and_still_reaches_the_servers_handler() -> None:
    received: list[int] = []

    def servers_handler(number: int, _frame: FrameType | None) -> None:
        received.append(number)

    before = signal.signal(signal.SIGTERM, servers_handler)
    try:
        stop = StopRequested()
        with stop.listening():
            assert not stop
            os.kill(os.getpid(), signal.SIGTERM)
            assert stop
            assert received == [signal.SIGTERM]
        assert signal.getsignal(signal.SIGTERM) is servers_handler, "restored on leaving"
    finally:
        signal.signal(signal.SIGTERM, before)


def _answers(stop: StopRequested) -> list[tuple[bytes, bytes]]:
    async def app(_scope: Scope, _receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"a", b"1")]})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Message:
        return {"type": "http.request"}

    _run(CloseWhenStopping(app, stop)({"type": "http"}, receive, send))
    return list(sent[0]["headers"])


def _run(coroutine: Coroutine[object, object, None]) -> None:
    """`asyncio.run` on a thread of its own: after the browser tests, Playwright's sync API
    keeps an event loop running on the test process's main thread, where `asyncio.run`
    refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, coroutine).result()


def test_answers_keep_their_connection_until_a_stop_is_requested() -> None:
    stop = StopRequested()
    assert _answers(stop) == [(b"a", b"1")]
    stop.set()
    assert _answers(stop) == [(b"a", b"1"), (b"connection", b"close")]
