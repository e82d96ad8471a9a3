"""Rate limits across two instances (Redis), in-process fallback, per-user seat caps, the sweeper."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
import redis

from tests.features.conftest import ADMIN_TOKEN, client_for, reset_checkout, start
from tests.features.helpers import assert_consistent, gate_all, rows
from tests.support import REDIS_URL, ServerProcess, fresh_database

PREFIX = f"bo-rl-{uuid.uuid4().hex[:8]}:"
PER_USER = 8
PER_IP = 1000
SEATS_PER_USER = 4


@pytest.fixture(scope="module")
def limits_db() -> Iterator[str]:
    with fresh_database("bo_limits") as url:
        yield url


@pytest.fixture(scope="module")
def pair(limits_db: str, artifacts: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two instances on one database and one Redis prefix, as behind a load balancer."""
    env = {
        "BOXOFFICE_REDIS_KEY_PREFIX": PREFIX,
        "BOXOFFICE_RATE_LIMIT_PER_USER": str(PER_USER),
        "BOXOFFICE_RATE_LIMIT_PER_IP": str(PER_IP),
        "BOXOFFICE_SEATS_PER_USER": str(SEATS_PER_USER),
        "BOXOFFICE_HOLD_TTL_S": "3",
        "BOXOFFICE_HOLD_SWEEP_INTERVAL_S": "0.3",
        "BOXOFFICE_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    a = start(env, limits_db, artifacts / "limits-a.log")
    try:
        b = start(env, limits_db, artifacts / "limits-b.log")
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()
        r = redis.Redis.from_url(REDIS_URL)
        keys = list(r.scan_iter(f"{PREFIX}*", count=1000))
        if keys:
            r.delete(*keys)


@pytest.fixture
async def clients(
    pair: tuple[ServerProcess, ServerProcess], limits_db: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    reset_checkout(limits_db)
    async with client_for(pair[0]) as a, client_for(pair[1]) as b:
        yield a, b


async def test_user_rate_limit_holds_across_instances(clients: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
    a, b = clients
    user = f"rl-{uuid.uuid4().hex[:6]}"
    body = {"seatId": 199, "userId": user}
    calls = [partial(c.post, "/api/v1/bookings", json=body) for c in (a, b) for _ in range(6)]
    responses = await gate_all(calls)  # type: ignore[arg-type]
    limited = [r for r in responses if r.status_code == 429]
    assert len(responses) - len(limited) == PER_USER, [r.status_code for r in responses]
    for r in limited:
        assert r.json()["error"] == "RATE_LIMITED"
        assert 1 <= int(r.headers["retry-after"]) <= 60
    # Another user is unaffected.
    assert (await b.post("/api/v1/bookings", json={"seatId": 198, "userId": user + "x"})).status_code == 201
    assert redis.Redis.from_url(REDIS_URL).get(f"{PREFIX}rl:user:{user}") == str(len(responses)).encode()


async def test_ip_rate_limit_holds_across_instances(clients: tuple[httpx.AsyncClient, httpx.AsyncClient]) -> None:
    a, b = clients
    r = redis.Redis.from_url(REDIS_URL)
    key = f"{PREFIX}rl:ip:127.0.0.1"
    r.set(key, PER_IP - 5, px=60_000)  # as if this address had already sent PER_IP - 5 requests
    try:
        calls = [partial(c.post, "/api/v1/bookings", json={"seatId": 150, "userId": f"ip{i}"})
                 for i, c in enumerate([a, b] * 5)]
        responses = await gate_all(calls)  # type: ignore[arg-type]
        assert sum(x.status_code != 429 for x in responses) == 5
        assert (await a.get("/api/v1/seats")).status_code == 200  # reads are not limited
    finally:
        r.delete(key)


async def test_seat_cap_per_user(clients: tuple[httpx.AsyncClient, httpx.AsyncClient], limits_db: str) -> None:
    a, b = clients
    user = "cap-" + uuid.uuid4().hex[:6]
    token = (await a.post("/api/v1/holds", json={"seatIds": [1, 2], "userId": user})).json()["holdToken"]
    assert (await b.post("/api/v1/bookings", json={"seatIds": [3, 4], "userId": user})).status_code == 201
    over = await a.post("/api/v1/bookings", json={"seatId": 5, "userId": user})
    assert over.status_code == 409 and over.json()["error"] == "SEAT_LIMIT_EXCEEDED"
    # Confirming the hold does not count its own seats twice.
    confirmed = await b.post("/api/v1/bookings", json={"holdToken": token, "userId": user})
    assert confirmed.status_code == 201, confirmed.text
    first = confirmed.json()["bookings"][0]
    cancel = await a.post(f"/api/v1/bookings/{first['bookingId']}/cancel", json={},
                          headers={"Manage-Token": first["manageToken"]})
    assert cancel.status_code == 200
    assert (await a.post("/api/v1/bookings", json={"seatId": 5, "userId": user})).status_code == 201
    assert_consistent(limits_db)


async def test_seat_cap_is_per_event(clients: tuple[httpx.AsyncClient, httpx.AsyncClient], limits_db: str) -> None:
    a, b = clients
    layout = {"slug": f"cap-{uuid.uuid4().hex[:6]}", "name": "Cap", "venue": "Hall",
              "sections": [{"name": "Main", "rows": 1, "columns": 6}]}
    created = await a.post("/api/v1/admin/events", json=layout, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert created.status_code == 201, created.text
    other_event = [s["seatId"] for s in (await a.get(created.json()["seatsPath"])).json()["seats"]]
    user = "ev-" + uuid.uuid4().hex[:6]
    assert (await a.post("/api/v1/bookings", json={"seatIds": [101, 102, 103, 104], "userId": user})).status_code == 201
    assert (await b.post("/api/v1/bookings", json={"seatId": 105, "userId": user})).status_code == 409
    # A full quota in the default event leaves the user's quota in another event untouched.
    assert (await b.post("/api/v1/bookings", json={"seatIds": other_event[:4], "userId": user})).status_code == 201
    over = await a.post("/api/v1/holds", json={"seatIds": other_event[4:5], "userId": user})
    assert over.status_code == 409 and over.json()["error"] == "SEAT_LIMIT_EXCEEDED"
    assert_consistent(limits_db)


async def test_seat_cap_races_across_instances(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], limits_db: str
) -> None:
    """Four 2-seat requests by one user at once on two instances, cap 4: exactly two succeed."""
    a, b = clients
    user = "race-" + uuid.uuid4().hex[:6]
    calls = [
        partial(c.post, "/api/v1/bookings", json={"seatIds": [20 + 2 * i, 21 + 2 * i], "userId": user})
        for i, c in enumerate([a, b, a, b])
    ]
    responses = await gate_all(calls)  # type: ignore[arg-type]
    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409], [r.text for r in responses]
    assert len(rows(limits_db, "SELECT id FROM seats WHERE booked_by = %s", user)) == SEATS_PER_USER
    assert_consistent(limits_db)


async def test_sweeper_broadcasts_lapsed_holds(
    clients: tuple[httpx.AsyncClient, httpx.AsyncClient], limits_db: str
) -> None:
    a, _ = clients
    r = await a.post("/api/v1/holds", json={"seatIds": [60, 61], "userId": "sweep"})
    assert r.status_code == 201
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        state = rows(limits_db, "SELECT status, version FROM seats WHERE id IN (60, 61)")
        if {s["status"] for s in state} == {"AVAILABLE"}:
            break
        await asyncio.sleep(0.1)
    assert [s["version"] for s in state] == [2, 2]
    # The release reached the outbox, so the realtime relay broadcasts it.
    events = rows(limits_db, "SELECT seat_id, version FROM seat_events WHERE seat_id IN (60, 61) ORDER BY seq")
    assert sorted((e["seat_id"], e["version"]) for e in events) == [(60, 1), (60, 2), (61, 1), (61, 2)]
    assert_consistent(limits_db)


async def test_rate_limit_falls_back_in_process_without_redis(limits_db: str, artifacts: Path) -> None:
    env = {
        "BOXOFFICE_REDIS_URL": "redis://127.0.0.1:1/0",
        "BOXOFFICE_REDIS_KEY_PREFIX": PREFIX + "fb:",
        "BOXOFFICE_RATE_LIMIT_PER_USER": "3",
    }
    server = start(env, limits_db, artifacts / "limits-fallback.log")
    try:
        async with client_for(server) as c:
            statuses = [
                (await c.post("/api/v1/bookings", json={"seatId": 99_999, "userId": "fb"})).status_code
                for _ in range(5)
            ]
            exposition = (await c.get("/actuator/prometheus")).text
        assert statuses == [404, 404, 404, 429, 429]
        # Measured: every one of those checks was answered in-process.
        fallback = [float(x.split()[-1]) for x in exposition.splitlines() if x.startswith("rate_limit_fallback_total ")]
        assert fallback == [5.0], fallback
    finally:
        server.stop()
