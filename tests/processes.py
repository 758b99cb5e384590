"""Real `fund-ledger` processes for tests, as docker-compose runs them: each started in its own
process group with its output in a file, stopped with SIGTERM and a bounded wait, and killed
(the whole group, uvicorn's workers too) when the test ends, whatever happened.

    with Processes(tmp_path, {"FUND_LEDGER_DATABASE_URL": url}) as processes:
        api = processes.start("api", "serve", "--port", str(port), "--no-project")
        wait_for_http(f"http://127.0.0.1:{port}/healthz", api)
        assert api.stop() == 0
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

CONSOLE_SCRIPT = Path(sys.executable).with_name("fund-ledger")
STOP_TIMEOUT_S = 45.0  # above `serve`'s graceful shutdown (30 s)
RUN_TIMEOUT_S = 120.0
START_TIMEOUT_S = 60.0
POLL_INTERVAL_S = 0.05


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any `FUND_LEDGER_*` variable, plus `settings`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FUND_LEDGER_")}
    return {**inherited, **settings}


@dataclass
class Service:
    """A long-running `fund-ledger` process (its group: uvicorn's workers are children)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        """Everything it wrote so far, stdout and stderr interleaved."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def running(self) -> bool:
        return self.process.poll() is None

    def wait(self, timeout_s: float = RUN_TIMEOUT_S) -> int:
        """Its exit code, once it ends by itself."""
        return self.process.wait(timeout=timeout_s)

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int:
        """SIGTERM to the process (as `docker stop` sends it), then its exit code."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout_s)

    def kill(self) -> None:
        """SIGKILL to the whole group; returns once the process is gone."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)


class Processes:
    """The processes of one test, all killed at exit."""

    def __init__(self, directory: Path, settings: dict[str, str]) -> None:
        self.directory = directory
        self.environment = clean_environment(**settings)
        self.services: list[Service] = []
        self._log_numbers = iter(range(1, 1_000_000))

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        for service in self.services:
            service.kill()

    def start(self, name: str, *args: str, **settings: str) -> Service:
        """Start `fund-ledger ARGS…` in the background."""
        log_path = self.directory / f"{name}-{next(self._log_numbers)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(CONSOLE_SCRIPT), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**self.environment, **settings},
                cwd=self.directory,
                start_new_session=True,  # its own group, killed whole at exit
            )
        service = Service(name, process, log_path)
        self.services.append(service)
        return service

    def run(
        self, *args: str, timeout_s: float = RUN_TIMEOUT_S, **settings: str
    ) -> subprocess.CompletedProcess[str]:
        """Run `fund-ledger ARGS…` to its end (bounded) and capture its output."""
        return subprocess.run(
            [str(CONSOLE_SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
            env={**self.environment, **settings},
            cwd=self.directory,
        )

    def run_ok(self, *args: str, **settings: str) -> str:
        """Run a command that must succeed; its stdout."""
        result = self.run(*args, **settings)
        assert result.returncode == 0, f"fund-ledger {' '.join(args)}: {result.stderr}"
        return result.stdout


def wait_for_http(
    url: str, service: Service, *, status: int = 200, timeout_s: float = START_TIMEOUT_S
) -> httpx.Response:
    """Poll `url` until it answers `status`; fail with the service's output if it exits or the
    time runs out."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        assert service.running(), f"{service.name} exited: {service.output()[-3000:]}"
        try:
            response = httpx.get(url, timeout=5)
        except httpx.TransportError as error:
            last = error
        else:
            if response.status_code == status:
                return response
            last = f"{response.status_code} {response.text[:300]}"
        time.sleep(POLL_INTERVAL_S)
    raise AssertionError(
        f"{url} never answered {status} (last: {last}); {service.output()[-3000:]}"
    )
