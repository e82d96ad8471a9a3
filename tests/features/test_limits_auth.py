"""Rate limits across two instances (Redis), in-process fallback, per-user seat caps, the sweeper, JWT mode."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path

import httpx
import jwt
import orjson
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request

from boxoffice.api.auth import Authenticator
from boxoffice.api.errors import ApiError
from boxoffice.settings import Settings
from tests.features.conftest import ADMIN_TOKEN, JWT_SECRET, client_for, reset_checkout, start
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
    cancel = await a.post(f"/api/v1/bookings/{confirmed.json()['bookings'][0]['bookingId']}/cancel",
                          json={"userId": user})
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
        assert statuses == [404, 404, 404, 429, 429]
    finally:
        server.stop()


# --- JWT mode ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def jwt_server(artifacts: Path) -> Iterator[tuple[ServerProcess, str]]:
    with fresh_database("bo_jwt") as url:
        env = {
            "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-jwt-{uuid.uuid4().hex[:8]}:",
            "BOXOFFICE_AUTH_MODE": "jwt",
            "BOXOFFICE_JWT_SECRET": JWT_SECRET,
            "BOXOFFICE_JWT_AUDIENCE": "boxoffice",
        }
        server = start(env, url, artifacts / "jwt-server.log")
        try:
            yield server, url
        finally:
            server.stop()


def token(sub: str, secret: str = JWT_SECRET, **claims: object) -> str:
    payload = {"sub": sub, "aud": "boxoffice", "exp": int(time.time()) + 300, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


async def test_jwt_mode(jwt_server: tuple[ServerProcess, str]) -> None:
    server, url = jwt_server
    async with client_for(server) as c:
        body = {"seatId": 1}
        anon = await c.post("/api/v1/bookings", json=body)
        assert anon.status_code == 401 and anon.headers["www-authenticate"].startswith("Bearer")
        unsigned = jwt.encode({"sub": "zoe", "aud": "boxoffice", "exp": int(time.time()) + 60}, None, algorithm="none")
        bad_tokens = [
            "garbage",
            token("zoe", secret="another-secret-" + "y" * 40),
            token("zoe", exp=int(time.time()) - 3600),
            token("zoe", aud="someone-else"),
            unsigned,
            jwt.encode({"sub": "zoe", "aud": "boxoffice"}, JWT_SECRET, algorithm="HS256"),  # no exp
            token("bad\u0001sub"),
        ]
        for bad in bad_tokens:
            r = await c.post("/api/v1/bookings", json=body, headers=bearer(bad))
            assert r.status_code == 401, (bad, r.text)
        spoof = await c.post("/api/v1/bookings", json={"seatId": 1, "userId": "yan"}, headers=bearer(token("zoe")))
        assert spoof.status_code == 403 and spoof.json()["error"] == "USER_MISMATCH"
        assert rows(url, "SELECT id FROM bookings") == []
        mine = await c.post("/api/v1/bookings", json={"seatId": 1}, headers=bearer(token("zoe")))
        assert mine.status_code == 201 and mine.json()["bookedBy"] == "zoe"
        named = await c.post("/api/v1/bookings", json={"seatIds": [2], "userId": "zoe"}, headers=bearer(token("zoe")))
        assert named.status_code == 201
        # Yan cannot cancel Zoe's booking or confirm Zoe's hold, whatever the body says.
        cancel = await c.post(f"/api/v1/bookings/{mine.json()['bookingId']}/cancel", json={},
                              headers=bearer(token("yan")))
        assert cancel.status_code == 403
        hold = await c.post("/api/v1/holds", json={"seatIds": [3]}, headers=bearer(token("zoe")))
        assert hold.status_code == 201 and hold.json()["userId"] == "zoe"
        steal = await c.post("/api/v1/bookings", json={"holdToken": hold.json()["holdToken"]},
                             headers=bearer(token("yan")))
        assert steal.status_code == 403
        own = await c.post(f"/api/v1/holds/{hold.json()['holdToken']}/release", headers=bearer(token("zoe")))
        assert own.status_code == 200
        assert (await c.get("/api/v1/seats")).status_code == 200


def _request(header: str) -> Request:
    return Request({"type": "http", "method": "POST", "path": "/", "headers": [(b"authorization", header.encode())]})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_public_key_mode_refuses_algorithm_confusion() -> None:
    """RS256 with a public key verifies; an HS256 token 'signed' with that public key is refused."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    auth = Authenticator(Settings(auth_mode="jwt", jwt_public_key=public_pem))
    good = jwt.encode({"sub": "ula", "exp": int(time.time()) + 60}, key, algorithm="RS256")
    assert auth.user(_request(f"Bearer {good}"), None) == "ula"
    assert auth.user(_request(f"bearer {good}"), "ula") == "ula"
    with pytest.raises(ApiError) as mismatch:
        auth.user(_request(f"Bearer {good}"), "vic")
    assert mismatch.value.code.status == 403
    # The classic attack: HMAC the token with the (public) PEM as if it were a shared secret.
    signing_input = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(orjson.dumps({"sub": "ula", "exp": 2**32}))
    mac = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(ApiError) as confused:
        auth.user(_request(f"Bearer {signing_input}.{_b64(mac)}"), None)
    assert confused.value.code.status == 401


def test_jwt_mode_needs_a_key() -> None:
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(auth_mode="jwt")
