"""Once the process is asked to stop, every answer closes its connection.

uvicorn, on SIGTERM, stops accepting and asks each open connection to close after its
current answer. A connection whose acceptance was still under way at that moment escapes
the request: it stays alive, its client keeps sending on it, and after the graceful timeout
(`fund-ledger serve`, 30 s) the request then in progress is cancelled, its client left
without an answer. So the app notes the signal itself (`StopRequested.listening`, while it
serves) and from then on answers `Connection: close` (`CloseWhenStopping`): each connection
ends with its next answer, as gunicorn does while it drains.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_CLOSE = (b"connection", b"close")


class StopRequested:
    def __init__(self) -> None:
        self._event = threading.Event()

    def __bool__(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()

    @contextmanager
    def listening(self) -> Iterator[None]:
        """Meanwhile, be set by SIGINT or SIGTERM, then pass the signal on to the handler
        installed before (uvicorn's). Signals are caught only in the main thread: elsewhere
        (an app under a test client) this does nothing."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
        for number, handler in previous.items():
            signal.signal(number, self._noting(handler))
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    def _noting(self, previous: object) -> Callable[[int, FrameType | None], None]:
        def handler(number: int, frame: FrameType | None) -> None:
            self.set()
            if callable(previous):
                previous(number, frame)
            elif previous == signal.SIG_DFL:  # no server's handler: stop as the default does
                signal.signal(number, signal.SIG_DFL)
                signal.raise_signal(number)

        return handler


def install_draining(app: FastAPI, stop: StopRequested) -> None:
    app.add_middleware(CloseWhenStopping, stop=stop)


class CloseWhenStopping:
    """Pure ASGI middleware: adds `Connection: close` to every answer once `stop` is set."""

    def __init__(self, app: ASGIApp, stop: StopRequested) -> None:
        self.app = app
        self.stop = stop

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and self.stop:
                message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
            await send(message)

        await self.app(scope, receive, send_closing)
