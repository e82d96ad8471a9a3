"""Rate limits across two instances (Redis), the in-process fallback, and per-user seat caps."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from functools import partial

import httpx
import pytest
import redis

from tests.helpers import assert_consistent, gate_all, rows
from tests.shared import ADMIN_TOKEN, CHECKOUT_SEATS, client_for, reset_checkout
from tests.support import REDIS_URL, ServerFactory, ServerProcess, free_port

PREFIX = f"bo-rl-{uuid.uuid4().hex[:8]}:"
PER_USER = 8
PER_IP = 1000
SEATS_PER_USER = 4


@pytest.fixture(scope="module")
def limits_db(module_servers: ServerFactory) -> str:
    return module_servers.database("bo_limits")


@pytest.fixture(scope="module")
def pair(module_servers: ServerFactory, limits_db: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two instances on one database and one Redis prefix, as behind a load balancer."""
    start = module_servers.configured(
        settings=CHECKOUT_SEATS,
        database_url=limits_db,
        redis_key_prefix=PREFIX,
        rate_limit_per_user=PER_USER,
        rate_limit_per_ip=PER_IP,
        seats_per_user=SEATS_PER_USER,
        hold_sweep_interval_s=0,
        admin_token=ADMIN_TOKEN,
    )
    yield start(log="a"), start(log="b")
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
    responses = await gate_all(calls)
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
        calls = [
            partial(c.post, "/api/v1/bookings", json={"seatId": 150, "userId": f"ip{i}"})
            for i, c in enumerate([a, b] * 5)
        ]
        responses = await gate_all(calls)
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
    cancel = await a.post(
        f"/api/v1/bookings/{first['bookingId']}/cancel", json={}, headers={"Manage-Token": first["manageToken"]}
    )
    assert cancel.status_code == 200
    assert (await a.post("/api/v1/bookings", json={"seatId": 5, "userId": user})).status_code == 201
    assert_consistent(limits_db)


async def test_seat_cap_is_per_event(clients: tuple[httpx.AsyncClient, httpx.AsyncClient], limits_db: str) -> None:
    a, b = clients
    layout = {
        "slug": f"cap-{uuid.uuid4().hex[:6]}",
        "name": "Cap",
        "venue": "Hall",
        "sections": [{"name": "Main", "rows": 1, "columns": 6}],
    }
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
    responses = await gate_all(calls)
    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409], [r.text for r in responses]
    assert len(rows(limits_db, "SELECT id FROM seats WHERE booked_by = %s", user)) == SEATS_PER_USER
    assert_consistent(limits_db)


async def test_rate_limit_falls_back_in_process_without_redis(server_factory: ServerFactory) -> None:
    # Only the per-user limit: the per-address one (on by default) would count a second check per request.
    server = server_factory(
        redis_url=f"redis://127.0.0.1:{free_port()}/0", settings=CHECKOUT_SEATS, rate_limit_per_user=3
    )
    async with client_for(server) as c:
        statuses = [
            (await c.post("/api/v1/bookings", json={"seatId": 99_999, "userId": "fb"})).status_code for _ in range(5)
        ]
        exposition = (await c.get("/actuator/prometheus")).text
    assert statuses == [404, 404, 404, 429, 429]
    # Measured: every one of those checks was answered in-process.
    fallback = [float(x.split()[-1]) for x in exposition.splitlines() if x.startswith("rate_limit_fallback_total ")]
    assert fallback == [5.0], fallback
