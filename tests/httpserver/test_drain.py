"""SIGTERM drains: readiness 503 at once, requests keep being answered (with `Connection: close`)
for `drain_s`, then every request still arriving is refused with 503 until its connection closes,
and the listener closes without resetting what the kernel had queued. Against a real two-worker
server under continuous load."""

from __future__ import annotations

import asyncio
import inspect
import itertools
import os
import random
import signal
import time
from dataclasses import dataclass

import httpx
import uvicorn
from uvicorn.supervisors.multiprocess import Multiprocess

from tests.helpers import until
from tests.support import LOAD_LIMITS_OFF, ServerFactory, ServerProcess

DRAIN_S = 4.0
CLIENTS = 8
SCHEDULING_SLACK_S = 1.0
READINESS = "/actuator/health/readiness"
HEALTHCHECK_S = 300
"""A starved machine can take more than uvicorn's healthcheck to start a worker, which is then killed
and restarted: the test would begin with a worker short."""


@dataclass(frozen=True)
class Call:
    start: float
    status: int | None
    error: str | None
    closes: bool


async def call(client: httpx.AsyncClient, path: str) -> Call:
    start = time.monotonic()
    try:
        response = await client.get(path)
    except httpx.TransportError as exc:
        return Call(start, None, type(exc).__name__, False)
    return Call(start, response.status_code, None, response.headers.get("connection") == "close")


async def drive(server: ServerProcess, path: str, calls: list[Call], stop: asyncio.Event) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        while not stop.is_set():
            calls.append(await call(client, path))
            if calls[-1].error:
                await asyncio.sleep(0.05)  # refused: the server is gone; do not spin


async def test_sigterm_drains_before_stopping(server_factory: ServerFactory) -> None:
    # A busy machine must not turn a slow pool acquire into a 503: this test is about the drain.
    server = server_factory(
        "--workers",
        "2",
        settings=LOAD_LIMITS_OFF,
        drain_s=DRAIN_S,
        db_acquire_timeout_s=10,
        worker_healthcheck_s=HEALTHCHECK_S,
        ready_path=READINESS,
    )
    assert server.proc is not None
    stop = asyncio.Event()
    load: list[list[Call]] = [[] for _ in range(CLIENTS)]
    probes: list[Call] = []
    tasks = [asyncio.create_task(drive(server, "/api/v1/seats", calls, stop)) for calls in load]
    tasks.append(asyncio.create_task(drive(server, READINESS, probes, stop)))
    await until(lambda: sum(len(c) for c in load) >= 50, what="load before the signal")
    signalled = time.monotonic()
    os.kill(server.proc.pid, signal.SIGTERM)  # the supervisor only, as a service manager or HAProxy's script would
    proc = server.proc
    await until(lambda: proc.poll() is not None, timeout_s=DRAIN_S + 60, what="the server to stop after its drain")
    refused = sum(len(c) for c in load)
    await until(lambda: sum(len(c) for c in load) > refused + CLIENTS, what="requests after the close")
    stop.set()
    await asyncio.gather(*tasks)
    assert server.proc.returncode is not None, "the server did not stop after its drain"

    calls = [c for per_client in load for c in per_client]
    drain_end = signalled + DRAIN_S
    during = [c for c in calls if signalled <= c.start < drain_end]
    # Every request sent before the drain ended was answered 200. From the drain's end: a 503 with
    # `Connection: close`, or (the listener closed) a refused connection, never a reset or a
    # connection closed without an answer. A request's start is taken on this test's loop, which a
    # busy machine can delay: one that started in the last second of the drain may really have
    # connected after it.
    failed = [(round(c.start - signalled, 2), c.status, c.error) for c in calls if c.status != 200]
    assert all(at >= DRAIN_S - SCHEDULING_SLACK_S for at, _, _ in failed), failed[:5]
    assert all(c.error == "ConnectError" or (c.status == 503 and c.closes) for c in calls if c.status != 200), failed
    assert len([c for c in during if c.status == 200]) >= 20
    assert any(c.closes for c in during)
    # Readiness: 503 soon after the signal and never UP again (HAProxy stops sending).
    answered = [p for p in probes if p.status is not None and p.start >= signalled]
    first_down = next(p.start for p in answered if p.status == 503)
    assert first_down - signalled < DRAIN_S / 2
    assert all(p.status == 503 for p in answered if p.start >= first_down + 0.5)


# Bookings sent up to the very end of the drain, on new connections and on kept-alive ones.

END_DRAIN_S = 3.0
NEW_CLIENTS = 4
KEPT_ALIVE = 40
KEPT_ALIVE_UNTIL_S = END_DRAIN_S + 0.6
"""Kept-alive connections send until this long after the signal: past the drain's end (so some are
refused), before the server closes idle connections (a second after it)."""
SEATS = 100  # the seeded 10 x 10 map


@dataclass(frozen=True)
class Exchange:
    at: float
    """Seconds after the signal (negative: before it)."""
    status: int | None = None
    closes: bool = False
    retry_after: bool = False
    error: str | None = None
    """What went wrong instead of an answer: a refused connection (`ConnectionRefusedError`) is the
    listener closed; anything else (a reset, a close without an answer, a timeout) is a failure."""
    reused: bool = False
    """Sent on a kept-alive connection."""


_users = itertools.count()


def booking() -> bytes:
    body = f'{{"seatId":{random.randint(1, SEATS)},"userId":"drain-{next(_users)}"}}'.encode()
    head = f"POST /api/v1/bookings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    return f"{head}\r\n\r\n".encode() + body


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, at: float, reused: bool = False
) -> Exchange:
    """One booking on an open connection, read whole (head and the body its Content-Length declares)."""
    try:
        writer.write(booking())
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)).lower()
        length = next((int(line[15:]) for line in head.split(b"\r\n") if line.startswith(b"content-length:")), 0)
        await asyncio.wait_for(reader.readexactly(length), 30)
    except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
        return Exchange(at, error=type(exc).__name__, reused=reused)
    closes, retry_after = b"\r\nconnection: close\r\n" in head, b"\r\nretry-after:" in head
    return Exchange(at, int(head[9:12]), closes, retry_after, reused=reused)


async def new_connections(port: int, signalled: asyncio.Future[float], log: list[Exchange]) -> None:
    """A booking per new connection, again and again, until the listener refuses to connect."""
    while True:
        at = time.monotonic() - (signalled.result() if signalled.done() else float("inf"))
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            log.append(Exchange(at, error="ConnectionRefusedError"))
            return
        log.append(await exchange(reader, writer, at))
        writer.close()
        if log[-1].error is not None:
            return


async def kept_alive(port: int, signalled: asyncio.Future[float], send_at: float, log: list[Exchange]) -> None:
    """A connection answered once before the signal, then idle until `send_at` after it. Found
    closed by the server (this test's loop may run late on a busy machine), the booking goes on a
    new connection, as an HTTP client's pool would send it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    first = await exchange(reader, writer, -1.0)
    log.append(first)
    if first.error is not None or first.closes:
        return
    await asyncio.sleep(max(0.0, send_at - (time.monotonic() - await signalled)))
    at = time.monotonic() - signalled.result()
    reused = not reader.at_eof()
    if not reused:
        writer.close()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except ConnectionRefusedError:
            log.append(Exchange(at, error="ConnectionRefusedError"))
            return
    log.append(await exchange(reader, writer, at, reused))
    writer.close()


async def test_requests_at_the_end_of_the_drain_are_answered_not_reset(server_factory: ServerFactory) -> None:
    # Ready: both workers serve (a worker still starting when the drain ends holds the listening socket
    # without accepting).
    server = server_factory(
        "--workers",
        "2",
        settings=LOAD_LIMITS_OFF,
        drain_s=END_DRAIN_S,
        db_acquire_timeout_s=10,
        worker_healthcheck_s=HEALTHCHECK_S,
        ready_path=READINESS,
        log="end",
    )
    assert server.proc is not None
    proc = server.proc
    signalled: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    fresh: list[Exchange] = []
    kept: list[Exchange] = []
    schedule = [KEPT_ALIVE_UNTIL_S * (i + 1) / KEPT_ALIVE for i in range(KEPT_ALIVE)]
    idle = [asyncio.create_task(kept_alive(server.port, signalled, at, kept)) for at in schedule]
    await until(lambda: len(kept) == KEPT_ALIVE, what="every kept-alive connection's first answer")
    busy = [asyncio.create_task(new_connections(server.port, signalled, fresh)) for _ in range(NEW_CLIENTS)]
    await until(lambda: len(fresh) >= 20, what="load before the signal")
    # To every process at once (a service manager's stop): each worker's drain starts now, so the
    # kept-alive schedule above straddles its end.
    os.killpg(proc.pid, signal.SIGTERM)
    signalled.set_result(time.monotonic())
    await asyncio.wait_for(asyncio.gather(*idle, *busy), END_DRAIN_S + 60)
    await until(lambda: proc.poll() is not None, timeout_s=60, what="the server to stop")

    answers = [e for e in fresh + kept if e.error is None]
    failures = [e for e in fresh + kept if e.error not in (None, "ConnectionRefusedError")]
    assert not failures, f"{len(failures)} requests without an answer: {failures[:10]}"
    assert {e.status for e in answers} <= {201, 409, 503}, {e.status for e in answers}
    # (A request that was read in the instant the signal arrived may still have been kept alive.)
    after = [e for e in answers if e.at > SCHEDULING_SLACK_S]
    assert all(e.closes for e in after), "a response during the drain kept its connection"
    refusals = [e for e in answers if e.status == 503]
    assert all(e.retry_after and e.at > 0 for e in refusals)
    # Kept-alive connections were answered throughout: served during the drain, refused after it.
    late = [e for e in kept if e.at > 0]
    assert len(late) == KEPT_ALIVE and any(e.reused and e.status in (201, 409) for e in late), late
    assert any(e.status == 503 for e in late), late
    # New connections went on until the listener closed: the last attempt of each was refused.
    assert sum(e.error == "ConnectionRefusedError" for e in fresh) == NEW_CLIENTS
    assert any(e.status in (201, 409) and e.at > END_DRAIN_S - SCHEDULING_SLACK_S for e in fresh)


def test_the_uvicorn_internals_the_drain_relies_on() -> None:
    """drain.py finds uvicorn's server through its SIGTERM handler and closes its listeners; run.py's
    supervisor closes its socket in `terminate_all`. Checked against the installed uvicorn."""
    capture = inspect.getsource(uvicorn.Server.capture_signals)
    assert "signal.signal(sig, self.handle_exit)" in capture, "uvicorn's SIGTERM handler: revisit drain.install"
    startup = inspect.getsource(uvicorn.Server.startup)
    for needed in ("self.servers", "server_state=self.server_state", "app_state=self.lifespan.state"):
        assert needed in startup, f"uvicorn.Server.startup lost {needed}: revisit drain.stop_listening"
    shutdown = inspect.getsource(uvicorn.Server.shutdown)
    assert "connection.shutdown()" in shutdown, "uvicorn no longer shuts connections down: revisit protocol.shutdown"
    assert "self.terminate_all()" in inspect.getsource(Multiprocess.run), "revisit run.Supervisor"
    assert "self.sockets = sockets" in inspect.getsource(Multiprocess.__init__), "revisit run.Supervisor"
