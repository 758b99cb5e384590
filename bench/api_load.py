"""The load generator of `bench.api`, run in its own process so that it never shares the
server's GIL: `python -m bench.api_load '<json Load>'` prints one json `Sample`.

Each of `clients` keep-alive connections sends one request, reads the whole answer, and sends
the next, for `duration_s`. The client is a few lines of asyncio speaking HTTP/1.1 (requests
are fixed but for a counter): an httpx client costs several times more CPU per request, and
on two cores the load generator's CPU is taken from the server's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict, dataclass, field

HEAD_END = b"\r\n\r\n"
STATUS_OK_MAX = 299


@dataclass(frozen=True)
class Load:
    port: int
    method: str  # GET or POST
    path: str
    headers: dict[str, str]
    clients: int
    duration_s: float
    # POST only: donations to `fund_id`, donors in turn, each with a fresh Idempotency-Key.
    fund_id: str = ""
    donor_ids: list[str] = field(default_factory=list)
    key_prefix: str = ""


@dataclass(frozen=True)
class Sample:
    count: int  # answers (2xx or not) completed within the duration
    error_count: int  # answers other than 2xx
    elapsed_s: float
    latencies_ms: list[float]  # of every completed answer, sorted

    @property
    def rate_per_s(self) -> float:
        return self.count / self.elapsed_s

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        index = min(len(self.latencies_ms) - 1, int(fraction * len(self.latencies_ms)))
        return self.latencies_ms[index]


def run(load: Load) -> Sample:
    return asyncio.run(_run(load))


async def _run(load: Load) -> Sample:
    started_s = time.perf_counter()
    deadline_s = started_s + load.duration_s
    results = await asyncio.gather(
        *(_client(load, index, deadline_s) for index in range(load.clients))
    )
    elapsed_s = time.perf_counter() - started_s
    latencies_ms = sorted(latency for found, _ in results for latency in found)
    errors = sum(error_count for _, error_count in results)
    return Sample(len(latencies_ms), errors, min(elapsed_s, load.duration_s), latencies_ms)


async def _client(load: Load, index: int, deadline_s: float) -> tuple[list[float], int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", load.port)
    latencies_ms: list[float] = []
    error_count = 0
    sequence = 0
    try:
        while time.perf_counter() < deadline_s:
            request = _request(load, index, sequence)
            sequence += 1
            sent_s = time.perf_counter()
            writer.write(request)
            status = await _read_answer(reader)
            answered_s = time.perf_counter()
            if answered_s > deadline_s:
                break
            latencies_ms.append(1000 * (answered_s - sent_s))
            if status > STATUS_OK_MAX:
                error_count += 1
    finally:
        writer.close()
    return latencies_ms, error_count


def _request(load: Load, client_index: int, sequence: int) -> bytes:
    headers = dict(load.headers)
    body = b""
    if load.method == "POST":
        donor_id = load.donor_ids[(client_index + sequence) % len(load.donor_ids)]
        donation = {
            "fund_id": load.fund_id,
            "donor_id": donor_id,
            "amount_yen": 10_000 + sequence % 1000,
            "method": "bank_transfer",
        }
        body = json.dumps(donation).encode()
        headers["Idempotency-Key"] = f"{load.key_prefix}-{client_index}-{sequence}"
        headers["Content-Type"] = "application/json"
    headers["Content-Length"] = str(len(body))
    head = f"{load.method} {load.path} HTTP/1.1\r\nHost: 127.0.0.1:{load.port}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return head.encode("latin-1") + b"\r\n" + body


async def _read_answer(reader: asyncio.StreamReader) -> int:
    """The status of the next answer, whose body is read and dropped."""
    head = await reader.readuntil(HEAD_END)
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    assert length is not None, "the servers answer with a Content-Length"
    await reader.readexactly(length)
    return status


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    load = Load(**json.loads(arguments[0]))
    print(json.dumps(asdict(run(load))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
