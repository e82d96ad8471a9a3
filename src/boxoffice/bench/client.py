"""A lean HTTP/1.1 keep-alive load generator on asyncio streams.

httpx costs more CPU per request than the server it measures; on a 2-core machine that
would make the generator the bottleneck. This client pre-encodes each request and parses
only the status line and Content-Length, so its own CPU share stays small (and is reported).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import orjson

UNKNOWN = 0
"""Status recorded when no answer came back (reset, timeout): the booking may or may not exist."""


@dataclass(frozen=True, slots=True)
class Call:
    seat_id: int
    user_id: str
    strategy: str | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    call: Call
    status: int
    latency_s: float
    done_s: float
    """When the answer arrived, counted from the release of the load."""
    retry_after: bool = False
    error: str | None = None
    """The error code of a 5xx answer (e.g. DATABASE_BUSY), to tell overload causes apart."""


def encode(call: Call, host: str) -> bytes:
    body: dict[str, object] = {"seatId": call.seat_id, "userId": call.user_id}
    if call.strategy:
        body["strategy"] = call.strategy
    payload = orjson.dumps(body)
    head = (
        f"POST /api/v1/bookings HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


class Connection:
    """One keep-alive connection; reconnects after any failure."""

    def __init__(self, host: str, port: int, timeout_s: float) -> None:
        self.host, self.port, self.timeout_s = host, port, timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port), self.timeout_s
        )

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def send(self, request: bytes) -> tuple[int, bool, str | None]:
        """Return (status, has Retry-After, 5xx error code); status 0 when the outcome is unknown."""
        try:
            if self._writer is None:
                await self.open()
            assert self._reader is not None and self._writer is not None
            self._writer.write(request)
            return await asyncio.wait_for(self._read(self._reader), self.timeout_s)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            self.close()
            return UNKNOWN, False, None

    async def _read(self, reader: asyncio.StreamReader) -> tuple[int, bool, str | None]:
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        start = lower.find(b"content-length:")
        length = int(lower[start + 15 : lower.find(b"\r\n", start)]) if start >= 0 else 0
        body = await reader.readexactly(length) if length else b""
        if b"connection: close" in lower:
            self.close()
        error = None
        if status >= 500:
            try:
                error = str(orjson.loads(body).get("error"))
            except (orjson.JSONDecodeError, AttributeError):
                error = "unparsable"
        return status, b"retry-after:" in lower, error


async def run_calls(
    host: str,
    port: int,
    calls: Sequence[Call],
    *,
    concurrency: int,
    timeout_s: float = 30.0,
    sink: list[Outcome] | None = None,
) -> tuple[list[Outcome], float]:
    """Send `calls` over `concurrency` keep-alive connections, opened before the clock starts.

    With `concurrency >= len(calls)` every call is released at once (a barrier): the hot-seat shape.
    Returns the outcomes and the wall time from release to the last answer. Outcomes are appended
    to `sink` as they arrive, so a progress display can count them.
    """
    connections = [Connection(host, port, timeout_s) for _ in range(min(concurrency, len(calls)))]
    await asyncio.gather(*(c.open() for c in connections))
    host_header = f"{host}:{port}"
    work: Iterator[tuple[Call, bytes]] = iter([(c, encode(c, host_header)) for c in calls])
    outcomes: list[Outcome] = [] if sink is None else sink
    gate = asyncio.Event()

    async def worker(conn: Connection) -> None:
        await gate.wait()
        for call, request in work:
            start = time.perf_counter()
            status, retry_after, error = await conn.send(request)
            now = time.perf_counter()
            outcomes.append(Outcome(call, status, now - start, now - started, retry_after, error))
        conn.close()

    tasks = [asyncio.create_task(worker(c)) for c in connections]
    await asyncio.sleep(0.05)
    started = time.perf_counter()  # read by the workers only after the gate opens
    gate.set()
    await asyncio.gather(*tasks)
    return list(outcomes), time.perf_counter() - started
