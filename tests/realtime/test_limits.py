"""What a WebSocket client may not do, against a real server: learn who booked, subscribe twice to one
topic, open too many connections from one address, flood frames, or sit idle with heart-beats off.

Each test reproduces a reported hole; run against the code before the fix, it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.realtime.client import StompClient, ws_url
from tests.realtime.conftest import realtime_env
from tests.realtime.helpers import free_seats
from tests.support import ServerProcess, fresh_database

FRAMES_PER_S = 5
IDLE_S = 1.0
PER_ADDRESS = 3


@pytest.fixture(scope="module")
def limits_db() -> Iterator[str]:
    with fresh_database("bo_wslimits") as url:
        yield url


@pytest.fixture(scope="module")
def limited(limits_db: str, artifacts: Path) -> Iterator[ServerProcess]:
    """Heart-beats off (0): idle connections must be found without them."""
    env = realtime_env(
        limits_db,
        BOXOFFICE_WS_HEARTBEAT_MS="0",
        BOXOFFICE_WS_MAX_FRAMES_PER_S=str(FRAMES_PER_S),
        BOXOFFICE_WS_IDLE_TIMEOUT_S=str(IDLE_S),
        BOXOFFICE_WS_MAX_SUBSCRIPTIONS="8",
    )
    with ServerProcess(env=env, log_path=artifacts / "realtime-limits.log") as server:
        yield server


async def book(http: httpx.AsyncClient, body: dict[str, object], headers: dict[str, str] | None = None) -> None:
    path = "/api/v1/holds" if "seatIds" in body and body.pop("hold", False) else "/api/v1/bookings"
    r = await http.post(path, json=body, headers=headers)
    assert r.status_code == 201, r.text


async def test_messages_carry_no_identity(limited: ServerProcess, limits_db: str) -> None:
    """Before: every MESSAGE body carried `bookedBy` (a name, or a JWT subject such as an email)."""
    client = await StompClient.connect(ws_url(limited.base_url))
    await client.subscribe()
    seats = free_seats(limits_db, 4)
    bodies = []

    async def received(count: int) -> str:
        for _ in range(count):
            frame = await client.next_frame()
            assert frame.command == "MESSAGE", frame
            bodies.append(frame.body.decode())
        return "\n".join(bodies)

    async with httpx.AsyncClient(base_url=limited.base_url, timeout=30) as http:
        await book(http, {"seatId": seats[0], "userId": "bob@example.com"})
        await book(http, {"seatIds": [seats[1]], "userId": "carol@example.com", "hold": True})
        assert "bob@example.com" not in await received(2)
        session = (await http.post("/api/v1/sessions")).json()
        await book(http, {"seatId": seats[2]}, {"Authorization": f"Bearer {session['token']}"})
        await book(http, {"seatIds": [seats[3]], "hold": True}, {"Authorization": f"Bearer {session['token']}"})
    raw = await received(2)
    for secret in ("bob@example.com", "carol@example.com", session["userId"], session["token"]):
        assert secret not in raw
    for field in ("bookedBy", "heldBy", "userId", "holdToken"):
        assert f'"{field}"' not in raw
    await client.close()


async def test_one_subscription_per_topic_and_connection(limited: ServerProcess) -> None:
    """Before: one connection could subscribe to one topic up to the subscription limit, each subscription
    receiving every change again (500 connections x 8 = 40,000 frames for 10 bookings)."""
    url = ws_url(limited.base_url)
    for duplicate in ("/topic/seats", "/topic/events/1/seats"):  # the second names the same event's topic
        client = await StompClient.connect(url)
        await client.subscribe("first", "/topic/seats")
        await client.send("SUBSCRIBE", [("id", "second"), ("destination", duplicate), ("receipt", "r2")])
        error = await client.next_frame()
        assert error.command == "ERROR" and error.headers["receipt-id"] == "r2", error
        assert "already subscribed" in error.headers["message"]
        await client.wait_closed()
        assert client.close_code == 1008
    # Different events on one connection are fine.
    client = await StompClient.connect(url)
    await client.subscribe("a", "/topic/seats")
    await client.subscribe("b", "/topic/events/2/seats")
    await client.close()


async def test_frame_flood_is_cut_off_but_acks_of_delivered_messages_are_not(
    limited: ServerProcess, limits_db: str
) -> None:
    """Before: a client could send frames as fast as it liked."""
    url = ws_url(limited.base_url)
    # A subscriber that acknowledges every message (client-individual) on a busy topic stays connected.
    acking = await StompClient.connect(url)
    await acking.subscribe("acked", ack="client-individual")
    seats = free_seats(limits_db, 8 * FRAMES_PER_S)
    async with httpx.AsyncClient(base_url=limited.base_url, timeout=30) as http:
        for seat in seats:
            await book(http, {"seatIds": [seat], "userId": f"u{seat}"})
    for _ in seats:
        frame = await acking.next_frame()
        assert frame.command == "MESSAGE", frame
        await acking.send("ACK", [("id", frame.headers["ack"])])
    await acking.send("UNSUBSCRIBE", [("id", "acked"), ("receipt", "still-here")])
    assert (await acking.next_frame()).headers["receipt-id"] == "still-here"
    await acking.close()
    # A flood of heart-beat messages (no frames at all) is cut off with ERROR and 1008.
    flood = await StompClient.connect(url)
    await flood.subscribe()
    with contextlib.suppress(ConnectionClosed):  # the server may hang up before the last one is sent
        for _ in range(100 * FRAMES_PER_S):
            await flood.send_raw("\n")
    frame = await flood.next_frame()
    while frame.command == "MESSAGE":
        frame = await flood.next_frame()
    assert frame.command == "ERROR" and "too many frames" in frame.headers["message"], frame
    await flood.wait_closed()
    assert flood.close_code == 1008


async def test_a_silent_connection_without_subscriptions_is_closed_with_heartbeats_off(
    limited: ServerProcess, limits_db: str
) -> None:
    """Before: with heart-beats at 0, a connection that subscribed to nothing stayed open for ever."""
    url = ws_url(limited.base_url)
    listening = await StompClient.connect(url, heartbeat="0,0")
    await listening.subscribe()
    idle = await StompClient.connect(url, heartbeat="0,0")
    assert idle.connected is not None and idle.connected.headers["heart-beat"] == "0,0"
    error = await idle.next_frame(wait_s=30)
    assert error.command == "ERROR" and "idle" in error.headers["message"], error
    await idle.wait_closed()
    assert idle.close_code == 1008
    # A subscriber that says nothing is listening, not idle: it is still served.
    [seat] = free_seats(limits_db, 1)
    async with httpx.AsyncClient(base_url=limited.base_url, timeout=30) as http:
        await book(http, {"seatId": seat, "userId": "late"})
    [message] = await listening.messages(1)
    assert message["seatId"] == seat
    await listening.close()


async def test_connections_per_address_are_capped(artifacts: Path) -> None:
    """Before: one address could open connections up to the whole process's limit (10,000)."""
    with fresh_database("bo_wscap") as url:
        env = realtime_env(url, BOXOFFICE_WS_MAX_CONNECTIONS_PER_ADDRESS=str(PER_ADDRESS))
        with ServerProcess(env=env, log_path=artifacts / "realtime-address-cap.log") as server:
            target = ws_url(server.base_url)
            clients = [await StompClient.connect(target) for _ in range(PER_ADDRESS)]
            with pytest.raises(InvalidStatus) as refused:
                await StompClient.open(target)
            assert refused.value.response.status_code == 403
            async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
                exposition = (await http.get("/actuator/prometheus")).text
            assert 'websocket_refused_total{reason="address_cap"} 1.0' in exposition
            # A closed connection frees its place (once the server has seen it go).
            await clients.pop().close()
            deadline = time.monotonic() + 20
            while True:
                try:
                    clients.append(await StompClient.connect(target))
                    break
                except InvalidStatus:
                    assert time.monotonic() < deadline, "the cap was not released after a close"
                    await asyncio.sleep(0.1)
            for client in clients:
                await client.close()
