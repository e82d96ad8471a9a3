"""Holds, extensions, releases, lapses and cancellations reach `/topic/seats` like bookings do."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.features.conftest import client_for, start
from tests.realtime.client import StompClient, ws_url
from tests.support import ServerProcess, fresh_database


@pytest.fixture(scope="module")
def broadcast_server(artifacts: Path) -> Iterator[ServerProcess]:
    with fresh_database("bo_bcast") as url:
        env = {
            "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-bc-{uuid.uuid4().hex[:8]}:",
            "BOXOFFICE_HOLD_TTL_S": "3",  # long enough for a loaded machine to extend in time
            "BOXOFFICE_HOLD_SWEEP_INTERVAL_S": "0.2",
        }
        server = start(env, url, artifacts / "broadcast-server.log")
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
async def subscribed(broadcast_server: ServerProcess) -> AsyncIterator[tuple[httpx.AsyncClient, StompClient]]:
    stomp = await StompClient.connect(ws_url(broadcast_server.base_url))
    await stomp.subscribe()
    try:
        async with client_for(broadcast_server) as http:
            yield http, stomp
    finally:
        await stomp.close()


def summary(messages: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(m["seatId"], m["status"]) for m in messages]


async def test_every_checkout_change_is_broadcast_in_order(
    subscribed: tuple[httpx.AsyncClient, StompClient],
) -> None:
    http, stomp = subscribed
    seen: list[dict[str, Any]] = []

    held = await http.post("/api/v1/holds", json={"seatIds": [2, 1], "userId": "ann"})
    assert held.status_code == 201, held.text
    token = held.json()["holdToken"]
    seen += await stomp.messages(2)
    assert summary(seen[-2:]) == [(1, "HELD"), (2, "HELD")]
    assert all(m["held"] and m["heldUntil"] and m["eventId"] == 1 for m in seen[-2:])

    extended = await http.post(f"/api/v1/holds/{token}/extend", json={"userId": "ann"})
    assert extended.status_code == 200, extended.text
    seen += await stomp.messages(2)
    assert summary(seen[-2:]) == [(1, "HELD"), (2, "HELD")] and seen[-1]["heldUntil"] > seen[-3]["heldUntil"]

    released = await http.post(f"/api/v1/holds/{token}/release", json={"userId": "ann"})
    assert released.status_code == 200, released.text
    seen += await stomp.messages(2)
    assert summary(seen[-2:]) == [(1, "AVAILABLE"), (2, "AVAILABLE")]

    # A hold nobody confirms: the sweeper's release is broadcast (claims never needed it).
    assert (await http.post("/api/v1/holds", json={"seatIds": [3], "userId": "bob"})).status_code == 201
    seen += await stomp.messages(2, wait_s=15)
    assert summary(seen[-2:]) == [(3, "HELD"), (3, "AVAILABLE")]

    booked = await http.post("/api/v1/bookings", json={"seatIds": [4, 5], "userId": "cat"})
    assert booked.status_code == 201, booked.text
    first = booked.json()["bookings"][0]
    manage = {"Manage-Token": first["manageToken"]}
    assert (await http.post(f"/api/v1/bookings/{first['bookingId']}/cancel", headers=manage)).status_code == 200
    seen += await stomp.messages(3)
    assert summary(seen[-3:]) == [(4, "BOOKED"), (5, "BOOKED"), (4, "AVAILABLE")]

    sequences = [m["sequence"] for m in seen]
    assert sequences == list(range(sequences[0], sequences[0] + len(seen))), "gap-free, in order"
    versions = {}
    for m in seen:
        assert m["version"] > versions.get(m["seatId"], 0)
        versions[m["seatId"]] = m["version"]
