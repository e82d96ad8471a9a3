"""A client that stops reading is cut off; bookings and other subscribers do not wait for it."""

from __future__ import annotations

import asyncio
import socket
import statistics
import time

import httpx
import orjson
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from boxoffice.realtime.stomp import SERVER_COMMANDS, FrameParser, encode
from tests.helpers import DEADLINE_S
from tests.realtime.client import StompClient, ws_url
from tests.realtime.helpers import assert_consecutive, free_seats
from tests.support import ServerFactory, ServerProcess, StartServer

SEATS_PER_ROUND = 300
SLOW_ROUND = 1200
"""Bookings while the slow client sleeps: their frames (about 400 KB) are twice what every buffer on the
way to it holds (500-630 messages, measured), so it must be cut off."""


@pytest.fixture
def slow_server(server_factory: ServerFactory, realtime_server: StartServer) -> tuple[ServerProcess, str]:
    url = server_factory.database("bo_rt_slow")
    server = realtime_server(database_url=url, seed_rows=80, ws_queue_size=16, ws_send_timeout_s=1)
    return server, url


async def timed_bookings(base_url: str, seats: list[int], concurrency: int = 16) -> list[float]:
    """Book every seat, `concurrency` at a time; each latency is one request's own (no queueing)."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    slots = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:

        async def one(seat: int) -> float:
            async with slots:
                start = time.perf_counter()
                deadline = time.monotonic() + DEADLINE_S
                while True:
                    response = await http.post("/api/v1/bookings", json={"seatId": seat, "userId": "someone"})
                    if response.status_code != 503 or time.monotonic() > deadline:  # 503: the database is busy
                        break
                    await asyncio.sleep(0.2)
                assert response.status_code == 201, response.text
                return time.perf_counter() - start

        return list(await asyncio.gather(*(one(s) for s in seats)))


def describe(latencies: list[float]) -> str:
    q = statistics.quantiles(latencies, n=100)
    return f"p50={q[49] * 1000:.1f}ms p99={q[98] * 1000:.1f}ms"


async def test_slow_consumer_is_dropped_without_delaying_bookings_or_others(
    slow_server: tuple[ServerProcess, str],
) -> None:
    server, database = slow_server
    fast = await StompClient.connect(ws_url(server.base_url))
    await fast.subscribe()
    baseline = await timed_bookings(server.base_url, free_seats(database, SEATS_PER_ROUND))
    await fast.messages(SEATS_PER_ROUND)

    # The slow client: a tiny receive window and segment size, and it never reads after subscribing.
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 536)
    sock.connect(("127.0.0.1", server.port))
    sock.setblocking(False)
    slow = await connect(ws_url(server.base_url), sock=sock, max_queue=1, compression=None, ping_interval=None)
    await slow.send(encode("CONNECT", [("accept-version", "1.2"), ("heart-beat", "0,0")]).decode())
    # One subscription (a connection may hold only one per event), acknowledged by a receipt.
    await slow.send(
        encode("SUBSCRIBE", [("id", "s"), ("destination", "/topic/seats"), ("receipt", "subscribed")]).decode()
    )
    # Read up to the receipt (the subscription is live, nothing published yet), then never again.
    parser = FrameParser(1 << 20, commands=SERVER_COMMANDS)
    commands: list[str] = []
    async with asyncio.timeout(DEADLINE_S):
        while "RECEIPT" not in commands:
            message = await slow.recv()
            commands += [f.command for f in parser.feed(message.encode() if isinstance(message, str) else message)]
    assert commands == ["CONNECTED", "RECEIPT"], commands

    seats = free_seats(database, SLOW_ROUND)
    with_slow = await timed_bookings(server.base_url, seats)
    events = await fast.messages(SLOW_ROUND)
    assert_consecutive([e["sequence"] for e in events])
    assert sorted(e["seatId"] for e in events) == sorted(seats)
    print(f"\nbooking latency without slow consumer {describe(baseline)}; with {describe(with_slow)}")

    # Now the slow client reads what reached it: an in-order prefix, then the server's close.
    per_subscription: dict[str, list[int]] = {}
    with pytest.raises(ConnectionClosed):
        async with asyncio.timeout(DEADLINE_S):
            while True:
                message = await slow.recv()
                for frame in parser.feed(message.encode() if isinstance(message, str) else message):
                    commands.append(frame.command)
                    if frame.command == "MESSAGE":
                        seq = orjson.loads(frame.body)["sequence"]
                        per_subscription.setdefault(frame.headers["subscription"], []).append(seq)
    received = sum(map(len, per_subscription.values()))
    print(f"the slow consumer got {received} of {SLOW_ROUND} messages before it was cut off")
    assert received < SLOW_ROUND, "the slow consumer was never cut off"
    for sequences in per_subscription.values():  # whatever it got is the stream's start, in order
        if sequences:
            assert_consecutive(sequences)
            assert sequences[0] == events[0]["sequence"], (sequences[:3], events[0])

    # The server still serves everyone else.
    late = await StompClient.connect(ws_url(server.base_url))
    await late.subscribe()
    await timed_bookings(server.base_url, free_seats(database, 5))
    assert len(await late.messages(5)) == 5
    assert len(await fast.messages(5)) == 5
    for client in (fast, late):
        await client.close()
