"""Delivery guarantees of the outbox relay on one server: every change, to everyone, in order."""

from __future__ import annotations

import asyncio
import time

import httpx

from boxoffice.domain import Strategy
from boxoffice.storage.seats import claim
from tests.realtime.client import SeatView, StompClient, comparable, ws_url
from tests.realtime.helpers import apg_connect, assert_consecutive, db_seats, free_seats, snapshot
from tests.support import ServerProcess, pg_connect


async def race_bookings(base_url: str, seats: list[int], users_per_seat: int = 2) -> dict[int, tuple[int, int]]:
    """Book every seat from several users at once; returns seat -> (version, sequence) of its winner."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60) as http:
        gate = asyncio.Event()

        async def one(seat: int, user: str) -> httpx.Response:
            await gate.wait()
            for _ in range(50):
                response = await http.post("/api/v1/bookings", json={"seatId": seat, "userId": user})
                if response.status_code != 503:  # 503: the shared database is saturated; retry
                    break
                await asyncio.sleep(0.2)
            return response

        tasks = [asyncio.create_task(one(s, f"u{s}-{i}")) for s in seats for i in range(users_per_seat)]
        await asyncio.sleep(0)
        gate.set()
        responses = await asyncio.gather(*tasks)
    winners: dict[int, tuple[int, int]] = {}
    for r in responses:
        assert r.status_code in (201, 409), r.text
        if r.status_code == 201:
            body = r.json()
            assert body["seatId"] not in winners
            winners[body["seatId"]] = (body["version"], body["sequence"])
    assert set(winners) == set(seats)
    return winners


async def test_every_booking_reaches_every_subscriber_gap_free(rt_server: ServerProcess, rt_database: str) -> None:
    subscribers = [await StompClient.connect(ws_url(rt_server.base_url)) for _ in range(20)]
    for s in subscribers:
        await s.subscribe()
    seats = free_seats(rt_database, 120)
    winners = await race_bookings(rt_server.base_url, seats)
    for client in subscribers:
        events = await client.messages(len(seats), wait_s=30)
        sequences = [e["sequence"] for e in events]
        assert_consecutive(sequences)
        assert sorted(sequences) == sorted(seq for _, seq in winners.values())
        assert {e["seatId"]: (e["version"], e["sequence"]) for e in events} == winners
        assert all(e["status"] == "BOOKED" and e["booked"] for e in events)
    database = db_seats(rt_database)
    assert {s: database[s][2] for s in seats} == {s: w for s, (w, _) in winners.items()}
    for client in subscribers:
        await client.close()


async def test_snapshot_plus_deltas_converges_while_booking(rt_server: ServerProcess, rt_database: str) -> None:
    seats = free_seats(rt_database, 100)
    booking = asyncio.create_task(race_bookings(rt_server.base_url, seats, users_per_seat=3))
    views = []
    for _ in range(4):  # joining while bookings are in flight
        view = SeatView(rt_server.base_url)
        await view.start()
        views.append(view)
        await asyncio.sleep(0.05)
    await booking
    await asyncio.gather(*(v.pump(time.monotonic() + 1.5) for v in views))
    database = db_seats(rt_database)
    for view in views:
        assert {sid: comparable(s) for sid, s in view.seats.items()} == database
        assert view.gaps == 0 and view.reconnects == 0
        await view.close()


async def test_a_change_committed_without_any_doorbell_is_delivered(rt_server: ServerProcess, rt_database: str) -> None:
    """A process that dies between commit and publish: here the commit comes from plain SQL."""
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.subscribe()
    [seat] = free_seats(rt_database, 1)
    conn = await apg_connect(rt_database)
    try:
        booking = await claim(conn, seat, "sql-user", Strategy.ATOMIC)
    finally:
        await conn.close()
    [event] = await client.messages(1, wait_s=5)
    assert event["seatId"] == seat and event["sequence"] == booking.sequence
    await client.close()


async def test_an_in_flight_sequence_value_holds_back_later_ones(rt_server: ServerProcess, rt_database: str) -> None:
    """seq N+1 commits before N: subscribers still get N then N+1, and snapshots stop before N."""
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.subscribe()
    slow_seat, fast_seat = free_seats(rt_database, 2)
    slow = await apg_connect(rt_database)
    fast = await apg_connect(rt_database)
    try:
        tx = slow.transaction()
        await tx.start()
        held = await claim(slow, slow_seat, "slow", Strategy.ATOMIC)
        committed = await claim(fast, fast_seat, "fast", Strategy.ATOMIC)
        assert committed.sequence == held.sequence + 1
        await asyncio.sleep(0.6)  # several poll intervals and hole checks
        assert client.frames.empty(), "the relay delivered past an in-flight sequence value"
        inventory = snapshot(rt_server.base_url)
        assert inventory["sequence"] == held.sequence - 1
        await tx.commit()
    finally:
        await slow.close()
        await fast.close()
    events = await client.messages(2, wait_s=5)
    assert [(e["seatId"], e["sequence"]) for e in events] == [
        (slow_seat, held.sequence),
        (fast_seat, committed.sequence),
    ]
    assert snapshot(rt_server.base_url)["sequence"] >= committed.sequence
    await client.close()


async def test_a_rolled_back_sequence_value_is_settled_not_waited_on_forever(
    rt_server: ServerProcess, rt_database: str
) -> None:
    client = await StompClient.connect(ws_url(rt_server.base_url))
    await client.subscribe()
    view = SeatView(rt_server.base_url)
    await view.start()
    lost_seat, kept_seat = free_seats(rt_database, 2)
    doomed = await apg_connect(rt_database)
    other = await apg_connect(rt_database)
    try:
        tx = doomed.transaction()
        await tx.start()
        rolled_back = await claim(doomed, lost_seat, "never", Strategy.ATOMIC)
        kept = await claim(other, kept_seat, "kept", Strategy.ATOMIC)
        await asyncio.sleep(0.3)
        assert client.frames.empty()
        await tx.rollback()
    finally:
        await doomed.close()
        await other.close()
    [event] = await client.messages(1, wait_s=5)
    assert (event["seatId"], event["sequence"]) == (kept_seat, kept.sequence)
    assert kept.sequence == rolled_back.sequence + 1
    # The resynchronising client sees the hole as a gap, re-snapshots and converges.
    await view.pump(time.monotonic() + 1.0)
    assert view.seats[kept_seat]["status"] == "BOOKED"
    assert view.seats[lost_seat]["status"] == "AVAILABLE"
    assert view.sequence >= kept.sequence
    with pg_connect(rt_database) as conn:
        row = conn.execute("SELECT count(*) FROM seat_events WHERE seq = %s", (rolled_back.sequence,)).fetchone()
    assert row == (0,)
    await view.close()
    await client.close()
