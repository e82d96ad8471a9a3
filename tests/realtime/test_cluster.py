"""Several worker processes and several instances on one database: every subscriber sees every change."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import defaultdict

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from boxoffice.domain import Strategy
from boxoffice.layouts import Layout
from boxoffice.storage.seats import claim
from boxoffice.storage.seed import seed
from tests.helpers import DEADLINE_S, eventually
from tests.realtime.client import SeatView, StompClient, comparable, ws_url
from tests.realtime.helpers import apg_connect, assert_consecutive, booked_count, db_seats, free_seats
from tests.support import ServerFactory, StartServer


@pytest.fixture
def cluster_database(server_factory: ServerFactory) -> str:
    return server_factory.database("bo_rt_cluster")


async def book_all(base_url: str, seats: list[int], concurrency: int = 8, keepalive: bool = True) -> None:
    """Book seats with bounded concurrency; without keep-alive every request may land on another worker."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency if keepalive else 0)
    queue = list(seats)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:

        async def worker() -> None:
            while queue:
                seat = queue.pop()
                deadline = time.monotonic() + DEADLINE_S
                while True:  # the instance may be restarting, or the database busy: retry until it answers
                    assert time.monotonic() < deadline, f"seat {seat} could not be booked"
                    try:
                        response = await http.post("/api/v1/bookings", json={"seatId": seat, "userId": f"u{seat}"})
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                        continue
                    if response.status_code != 503:
                        break
                    await asyncio.sleep(0.2)
                assert response.status_code == 201, response.text

        await asyncio.gather(*(worker() for _ in range(concurrency)))


async def test_two_worker_processes_each_deliver_every_booking(
    cluster_database: str, realtime_server: StartServer
) -> None:
    server = realtime_server("--workers", "2", database_url=cluster_database)
    by_worker: dict[str, list[StompClient]] = defaultdict(list)
    extra: list[StompClient] = []
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline and (len(by_worker) < 2 or min(map(len, by_worker.values())) < 2):
        try:
            client = await StompClient.connect(ws_url(server.base_url))
        except InvalidStatus:  # the other worker is still starting (1013 before accept)
            await asyncio.sleep(0.2)
            continue
        assert client.connected is not None
        worker = client.connected.headers["session"].split("-")[0]
        (by_worker[worker] if len(by_worker[worker]) < 2 else extra).append(client)
        if not by_worker[worker]:
            del by_worker[worker]
    assert len(by_worker) == 2, "connections never reached both workers"
    for client in extra:
        await client.close()
    subscribers = [c for clients in by_worker.values() for c in clients]
    for client in subscribers:
        await client.subscribe()
    seats = free_seats(cluster_database, 80)
    await book_all(server.base_url, seats, keepalive=False)
    for client in subscribers:
        events = await client.messages(len(seats))
        assert_consecutive([e["sequence"] for e in events])
        assert sorted(e["seatId"] for e in events) == sorted(seats)
        await client.close()


async def test_instances_share_changes_and_killed_instance_clients_resync(
    cluster_database: str, realtime_server: StartServer
) -> None:
    # One Redis prefix for both: the doorbell is a channel under it.
    prefix = f"bo-rt-{uuid.uuid4().hex[:8]}:"
    a = realtime_server(database_url=cluster_database, redis_key_prefix=prefix, log="a")
    # B polls the outbox only once a minute: what reaches it sooner came through the Redis doorbell.
    b = realtime_server(database_url=cluster_database, redis_key_prefix=prefix, relay_poll_ms=60000, log="b")
    # 1. Bookings made through A reach B's subscribers, woken by the doorbell.
    on_a = await StompClient.connect(ws_url(a.base_url))
    on_b = await StompClient.connect(ws_url(b.base_url))
    for client in (on_a, on_b):
        await client.subscribe()
    seats = free_seats(cluster_database, 30)
    await book_all(a.base_url, seats)
    for client in (on_a, on_b):
        events = await client.messages(len(seats))
        assert_consecutive([e["sequence"] for e in events])
        assert sorted(e["seatId"] for e in events) == sorted(seats)
    # A commit that rings no doorbell (plain SQL) still reaches A's subscribers by polling.
    [sql_seat] = free_seats(cluster_database, 1)
    conn = await apg_connect(cluster_database)
    try:
        await claim(conn, sql_seat, "sql", Strategy.ATOMIC)
    finally:
        await conn.close()
    [event] = await on_a.messages(1)
    assert event["seatId"] == sql_seat and event["sequence"] == events[-1]["sequence"] + 1
    for client in (on_a, on_b):
        await client.close()

    # 2. Kill A (SIGKILL: no goodbye) while B keeps booking; A's clients reconnect and resync.
    views = [SeatView(a.base_url) for _ in range(2)] + [SeatView(a.base_url, alternates=[b.base_url])]
    for view in views:
        await view.start()
    seats = free_seats(cluster_database, 150)
    end = time.monotonic() + 3 * DEADLINE_S
    pumps = [asyncio.create_task(v.pump(end)) for v in views]
    booking = asyncio.create_task(book_all(b.base_url, seats, concurrency=4))
    # Kill A while B's bookings are under way (at least some of them), then bring A back.
    await eventually(lambda: asyncio.to_thread(booked_count, cluster_database, seats), what="a booking through B")
    a.stop(signal.SIGKILL)
    await asyncio.to_thread(a.start)
    await booking
    # Every view must reconnect, resync and reach the database's state after the last booking.
    # (The bookings may all land before the kill; the views must still come back.)
    database = db_seats(cluster_database)

    async def converged() -> bool:
        return all(v.resyncs >= 2 and {s: comparable(x) for s, x in v.seats.items()} == database for v in views)

    try:
        await eventually(converged, what="every view to resync and match the database")
    finally:
        for task in pumps:
            task.cancel()
        await asyncio.gather(*pumps, return_exceptions=True)
    for view in views:
        assert {s: comparable(x) for s, x in view.seats.items()} == database
        assert view.reconnects >= 1 and view.resyncs >= 2
        await view.close()


async def test_a_reset_inventory_restarts_the_stream(cluster_database: str, realtime_server: StartServer) -> None:
    """`boxoffice seed --reset` restarts sequence numbers: subscribers are told to resync, and the
    relay follows the new numbering instead of waiting for values above its old cursor."""
    server = realtime_server(database_url=cluster_database)
    before = await StompClient.connect(ws_url(server.base_url))
    await before.subscribe()
    await book_all(server.base_url, free_seats(cluster_database, 5))
    assert len(await before.messages(5)) == 5
    conn = await apg_connect(cluster_database)
    try:
        await seed(conn, Layout.grid(5, 5), reset=True)
    finally:
        await conn.close()
    error = await before.next_frame()
    assert error.command == "ERROR" and "reset" in error.headers["message"]
    after = await StompClient.connect(ws_url(server.base_url))
    await after.subscribe()
    await book_all(server.base_url, [1, 2, 3])
    events = await after.messages(3)
    assert [e["sequence"] for e in events] == [1, 2, 3]
    await after.close()
    await before.close()
