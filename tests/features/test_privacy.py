"""Who may see and touch what, against real servers with the default limits: anonymous sessions, owners
only, public views without identities, per-user idempotency keys.

Each test that reproduces a reported hole says what the server did before (the seed trusted the body's
`userId` and published `bookedBy`); run against that code, it fails.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from boxoffice.settings import Settings
from tests.features.conftest import client_for, reset_checkout
from tests.features.helpers import assert_consistent, rows
from tests.support import ServerProcess, fresh_database

KEY_CAP = 3
PREFIX = f"bo-priv-{uuid.uuid4().hex[:8]}:"
EMAIL = "alice@example.com"  # a JWT subject or a typed name may well be an email address


def start_default(url: str, log: Path, **extra: str) -> ServerProcess:
    """A server as deployed: default rate limits, seat cap and session secret (from the database)."""
    env = {
        "DATABASE_URL": url,
        "BOXOFFICE_REDIS_KEY_PREFIX": PREFIX,  # one Redis namespace: the instances share their limits
        "BOXOFFICE_SEED_ROWS": "10",
        "BOXOFFICE_SEED_COLS": "20",
        "BOXOFFICE_DB_POOL_MAX": "6",
        "BOXOFFICE_IDEMPOTENCY_KEYS_PER_USER": str(KEY_CAP),
        **extra,
    }
    return ServerProcess(env=env, log_path=log).start()


@pytest.fixture(scope="module")
def privacy_db() -> Iterator[str]:
    with fresh_database("bo_privacy") as url:
        yield url


@pytest.fixture(scope="module")
def privacy_servers(privacy_db: str, artifacts: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two instances on one database, no secret configured: sessions must work on both."""
    a = start_default(privacy_db, artifacts / "privacy-a.log")
    try:
        b = start_default(privacy_db, artifacts / "privacy-b.log")
        try:
            yield a, b
        finally:
            b.stop()
    finally:
        a.stop()


@pytest.fixture
async def two(
    privacy_servers: tuple[ServerProcess, ServerProcess], privacy_db: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    reset_checkout(privacy_db)
    async with client_for(privacy_servers[0]) as a, client_for(privacy_servers[1]) as b:
        yield a, b


async def session(c: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    """A new anonymous session: (bearer header, user id)."""
    r = await c.post("/api/v1/sessions")
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}, r.json()["userId"]


def metric(exposition: httpx.Response, series: str) -> float:
    return sum(float(x.split()[-1]) for x in exposition.text.splitlines() if x.startswith(series + " "))


def database_secret(url: str) -> bytes:
    value: bytes = rows(url, "SELECT value FROM server_secrets WHERE name = 'session'")[0]["value"]
    return value


def session_key(url: str) -> bytes:
    """The session signing key, derived from the database's secret as the server does."""
    from boxoffice.tokens import Tokens  # here, so the other tests also run on older code

    tokens = Tokens(Settings(), lambda: database_secret(url))
    return tokens._derived()[0]


# --- anonymous sessions -------------------------------------------------------------------------


async def test_session_lifecycle_across_instances(
    two: tuple[httpx.AsyncClient, httpx.AsyncClient], privacy_db: str
) -> None:
    a, b = two
    created = await a.post("/api/v1/sessions")
    assert created.status_code == 201
    body = created.json()
    assert body["tokenType"] == "Bearer" and body["userId"].startswith("session:")
    bearer = {"Authorization": f"Bearer {body['token']}"}
    # Issued by one instance, honoured by the other: the secret is the database's, not the process's.
    booked = await b.post("/api/v1/bookings", json={"seatId": 1}, headers=bearer)
    assert booked.status_code == 201 and booked.json()["userId"] == body["userId"]
    assert booked.json()["manageToken"] is None, "a session needs no manage token"
    mine = (await a.get("/api/v1/me/bookings", headers=bearer)).json()
    assert [(x["seatId"], x["status"]) for x in mine["bookings"]] == [(1, "CONFIRMED")]
    # Renewal keeps the user and pushes the expiry out.
    renewed = await b.post("/api/v1/sessions", headers=bearer)
    assert renewed.status_code == 200 and renewed.json()["userId"] == body["userId"]
    assert renewed.json()["expiresAt"] >= body["expiresAt"]
    renewed_bearer = {"Authorization": f"Bearer {renewed.json()['token']}"}
    assert (await a.get("/api/v1/me/bookings", headers=renewed_bearer)).json()["bookings"] == mine["bookings"]
    # The user id is the server's choice: nobody can claim a session's name in a body.
    squat = await a.post("/api/v1/bookings", json={"seatId": 2, "userId": body["userId"]})
    assert squat.status_code == 422 and "reserved" in squat.json()["message"]
    spoof = await a.post("/api/v1/bookings", json={"seatId": 2, "userId": "someone"}, headers=bearer)
    assert spoof.status_code == 403 and spoof.json()["error"] == "USER_MISMATCH"
    assert rows(privacy_db, "SELECT seat_id, user_id FROM bookings") == [{"seat_id": 1, "user_id": body["userId"]}]


async def test_expired_and_forged_sessions_are_refused(
    two: tuple[httpx.AsyncClient, httpx.AsyncClient], privacy_db: str
) -> None:
    a, b = two
    _, user = await session(a)
    key = session_key(privacy_db)
    now = int(time.time())
    claims = {"sub": user, "aud": "boxoffice-session", "iss": "boxoffice", "iat": now - 7200}
    good = jwt.encode({**claims, "exp": now + 600}, key, algorithm="HS256")
    assert (await b.get("/api/v1/me/bookings", headers={"Authorization": f"Bearer {good}"})).status_code == 200
    refused = {
        "expired": jwt.encode({**claims, "exp": now - 3600}, key, algorithm="HS256"),
        "other key": jwt.encode({**claims, "exp": now + 600}, b"k" * 32, algorithm="HS256"),
        "other audience": jwt.encode({**claims, "aud": "elsewhere", "exp": now + 600}, key, algorithm="HS256"),
        "not a session": jwt.encode({**claims, "sub": "alice", "exp": now + 600}, key, algorithm="HS256"),
        "tampered": good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB"),
        "garbage": "garbage",
    }
    for why, token in refused.items():
        headers = {"Authorization": f"Bearer {token}"}
        r = await a.post("/api/v1/bookings", json={"seatId": 3}, headers=headers)
        assert r.status_code == 401 and r.json()["error"] == "UNAUTHENTICATED", (why, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer"), why
        assert (await b.get("/api/v1/me/holds", headers=headers)).status_code == 401, why
        # A bad token is never silently dropped in favour of a body name.
        named = await a.post("/api/v1/bookings", json={"seatId": 3, "userId": "bob"}, headers=headers)
        assert named.status_code == 401, why
        renew = await b.post("/api/v1/sessions", headers=headers)
        assert renew.status_code == 401, why
    assert (await a.get("/api/v1/me/bookings")).status_code == 401
    assert rows(privacy_db, "SELECT id FROM bookings") == []


# --- owners only ----------------------------------------------------------------------------------


async def test_nobody_cancels_or_reads_a_booking_by_naming_its_owner(
    two: tuple[httpx.AsyncClient, httpx.AsyncClient], privacy_db: str
) -> None:
    """Before: `{"userId": "alice"}` cancelled alice's booking (200), and anyone read it with her name."""
    a, b = two
    booked = await a.post("/api/v1/bookings", json={"seatIds": [10, 11], "userId": EMAIL})
    assert booked.status_code == 201, booked.text
    first, second = booked.json()["bookings"]
    path = f"/api/v1/bookings/{first['bookingId']}"
    named = await b.post(f"{path}/cancel", json={"userId": EMAIL})
    assert named.status_code == 404 and named.json()["error"] == "BOOKING_NOT_FOUND", named.text
    mallory, _ = await session(b)
    for headers in ({}, mallory, {"Manage-Token": second["manageToken"]}, {"Manage-Token": "x" * 32}):
        body = {} if headers is mallory else {"userId": EMAIL}  # a session naming someone else is 403 anyway
        cancel = await b.post(f"{path}/cancel", json=body, headers=headers)
        assert cancel.status_code == 404 and cancel.json()["error"] == "BOOKING_NOT_FOUND", (headers, cancel.text)
        read = await b.get(path, headers=headers)
        assert read.status_code == 404 and EMAIL not in read.text, headers
    spoof = await b.post(f"{path}/cancel", json={"userId": EMAIL}, headers=mallory)
    assert spoof.status_code == 403 and spoof.json()["error"] == "USER_MISMATCH"
    # Not yours reads exactly like does-not-exist: no existence oracle.
    missing = await b.get("/api/v1/bookings/999999")
    mine_not = await b.get(path)
    assert (missing.status_code, missing.json()["error"]) == (mine_not.status_code, mine_not.json()["error"])
    assert rows(privacy_db, "SELECT status FROM bookings ORDER BY id") == [{"status": "CONFIRMED"}] * 2
    # The manage token returned to the buyer alone reads and cancels that booking (and only that one).
    manage = {"Manage-Token": first["manageToken"]}
    record = await a.get(path, headers=manage)
    assert record.status_code == 200 and record.json()["userId"] == EMAIL
    cancelled = await b.post(f"{path}/cancel", json={"reason": "changed plans"}, headers=manage)
    assert cancelled.status_code == 200 and cancelled.json()["cancelledBy"] == EMAIL
    assert rows(privacy_db, "SELECT status FROM bookings ORDER BY id") == [
        {"status": "CANCELLED"},
        {"status": "CONFIRMED"},
    ]
    assert_consistent(privacy_db)


async def test_a_sessions_booking_and_hold_answer_to_that_session_only(
    two: tuple[httpx.AsyncClient, httpx.AsyncClient], privacy_db: str
) -> None:
    """Before: anyone holding a hold token released it by naming the holder; anyone read a hold or booking."""
    a, b = two
    carol, carol_id = await session(a)
    mallory, _ = await session(b)
    booking = (await a.post("/api/v1/bookings", json={"seatId": 20}, headers=carol)).json()
    hold = await a.post("/api/v1/holds", json={"seatIds": [21, 22]}, headers=carol)
    assert hold.status_code == 201 and hold.json()["userId"] == carol_id
    token = hold.json()["holdToken"]
    booking_path, hold_path = f"/api/v1/bookings/{booking['bookingId']}", f"/api/v1/holds/{token}"
    # Another session, or nobody, even with the hold token and the holder's name: not found, nothing changes.
    for headers, body in ((mallory, {}), ({}, {}), ({}, {"userId": "carol"})):
        assert (await b.get(hold_path, headers=headers)).status_code == 404
        assert (await b.get(booking_path, headers=headers)).status_code == 404
        for action in ("extend", "release"):
            r = await b.post(f"{hold_path}/{action}", json=body, headers=headers)
            assert r.status_code == 404 and r.json()["error"] == "HOLD_NOT_FOUND", (action, headers, r.text)
        confirm = await b.post("/api/v1/bookings", json={"holdToken": token, **body}, headers=headers)
        assert confirm.status_code == 404, confirm.text
        cancel = await b.post(f"{booking_path}/cancel", json=body, headers=headers)
        assert cancel.status_code == 404
    assert rows(privacy_db, "SELECT state FROM holds") == [{"state": "ACTIVE"}]
    assert {r["status"] for r in rows(privacy_db, "SELECT status FROM seats WHERE id IN (21, 22)")} == {"HELD"}
    # Carol's session, on either instance, does all of it.
    assert (await b.get(hold_path, headers=carol)).json()["state"] == "ACTIVE"
    mine = (await b.get("/api/v1/me/holds", headers=carol)).json()["holds"]
    assert [h["holdToken"] for h in mine] == [token]
    assert (await b.get("/api/v1/me/holds", headers=mallory)).json()["holds"] == []
    assert (await b.post(f"{hold_path}/extend", headers=carol)).status_code == 200
    confirmed = await b.post("/api/v1/bookings", json={"holdToken": token}, headers=carol)
    assert confirmed.status_code == 201 and confirmed.json()["userId"] == carol_id
    assert (await a.post(f"{booking_path}/cancel", headers=carol)).status_code == 200
    statuses = (await a.get("/api/v1/me/bookings", headers=carol)).json()["bookings"]
    assert [(x["seatId"], x["status"]) for x in statuses] == [(22, "CONFIRMED"), (21, "CONFIRMED"), (20, "CANCELLED")]
    active = await a.get("/api/v1/me/bookings?status=CONFIRMED&limit=1", headers=carol)
    assert [x["seatId"] for x in active.json()["bookings"]] == [22] and active.json()["next"] is not None
    page2 = await a.get(f"/api/v1/me/bookings?status=CONFIRMED&before={active.json()['next']}", headers=carol)
    assert [x["seatId"] for x in page2.json()["bookings"]] == [21]
    assert_consistent(privacy_db)


async def test_a_hold_made_without_a_session_is_its_tokens(
    two: tuple[httpx.AsyncClient, httpx.AsyncClient], privacy_db: str
) -> None:
    """The original API keeps working: a named hold is extended, read and confirmed with its token; naming
    someone else is refused, and a session that is not the holder's is too."""
    a, b = two
    token = (await a.post("/api/v1/holds", json={"seatIds": [30], "userId": "dora"})).json()["holdToken"]
    other, _ = await session(b)
    assert (await b.post(f"/api/v1/holds/{token}/extend", json={"userId": "eve"})).status_code == 404
    assert (await b.post(f"/api/v1/holds/{token}/extend", headers=other)).status_code == 404
    assert (await b.post(f"/api/v1/holds/{token}/extend")).status_code == 200
    read = await b.get(f"/api/v1/holds/{token}")
    assert read.status_code == 200 and read.json()["userId"] == "dora"
    confirmed = await a.post("/api/v1/bookings", json={"holdToken": token, "userId": "dora"})
    assert confirmed.status_code == 201 and confirmed.json()["userId"] == "dora"
    [booking] = confirmed.json()["bookings"]
    assert booking["manageToken"], "a booking made without a session gets its manage token"
    assert (await b.get(f"/api/v1/bookings/{booking['bookingId']}")).status_code == 404
    assert_consistent(privacy_db)


# --- public views -----------------------------------------------------------------------------------


async def test_public_seat_lists_carry_no_identity(
    two: tuple[httpx.AsyncClient, httpx.AsyncClient], privacy_db: str
) -> None:
    """Before: every seat of `/api/v1/seats` carried `bookedBy` (here an email address)."""
    a, b = two
    assert (await a.post("/api/v1/bookings", json={"seatId": 40, "userId": EMAIL})).status_code == 201
    assert (await a.post("/api/v1/holds", json={"seatIds": [41], "userId": "hold@example.com"})).status_code == 201
    for path in ("/api/v1/seats", "/api/v1/events/1/seats"):
        raw = (await b.get(path)).text
        assert EMAIL not in raw and '"bookedBy"' not in raw, path
    holder, holder_id = await session(a)
    assert (await a.post("/api/v1/holds", json={"seatIds": [42]}, headers=holder)).status_code == 201
    for path in ("/api/v1/seats", "/api/v1/events/1/seats"):
        raw = (await b.get(path)).text
        for secret in (EMAIL, "hold@example.com", holder_id, "bookedBy", "heldBy", "userId"):
            assert secret not in raw, (path, secret)
    seats = {s["seatId"]: s for s in (await b.get("/api/v1/seats")).json()["seats"]}
    assert (seats[40]["status"], seats[41]["status"], seats[42]["status"]) == ("BOOKED", "HELD", "HELD")


# --- idempotency keys --------------------------------------------------------------------------------


async def test_nobody_can_squat_another_users_idempotency_key(
    two: tuple[httpx.AsyncClient, httpx.AsyncClient], privacy_db: str
) -> None:
    """Before: mallory sent key K first; alice's request with K then got 422 IDEMPOTENCY_KEY_REUSED
    (or, with the same body, mallory's answer)."""
    a, b = two
    key = {"Idempotency-Key": "order-7781"}
    # By name (the seed's call) ...
    assert (await b.post("/api/v1/bookings", json={"seatId": 54, "userId": "mallory"}, headers=key)).status_code == 201
    named = await a.post("/api/v1/bookings", json={"seatId": 55, "userId": "alice"}, headers=key)
    assert named.status_code == 201 and named.json()["userId"] == "alice", named.text
    # ... and by session.
    alice, alice_id = await session(a)
    mallory, _ = await session(b)
    squat = await b.post("/api/v1/bookings", json={"seatId": 50}, headers={**mallory, **key})
    assert squat.status_code == 201
    mine = await a.post("/api/v1/bookings", json={"seatId": 51}, headers={**alice, **key})
    assert mine.status_code == 201 and mine.json()["userId"] == alice_id, mine.text
    assert "idempotent-replayed" not in mine.headers
    again = await b.post("/api/v1/bookings", json={"seatId": 51}, headers={**alice, **key})
    assert again.headers["idempotent-replayed"] == "true" and again.content == mine.content
    # The same goes for a hold's secret: a key used on one hold is not spent for another.
    t1 = (await a.post("/api/v1/holds", json={"seatIds": [52], "userId": "hal"})).json()["holdToken"]
    t2 = (await a.post("/api/v1/holds", json={"seatIds": [53], "userId": "ida"})).json()["holdToken"]
    assert (await b.post(f"/api/v1/holds/{t1}/release", headers=key)).status_code == 200
    assert (await b.post(f"/api/v1/holds/{t2}/release", headers=key)).status_code == 200
    assert rows(privacy_db, "SELECT state FROM holds ORDER BY created_at") == [{"state": "RELEASED"}] * 2
    assert_consistent(privacy_db)


async def test_idempotency_keys_per_user_are_capped(
    two: tuple[httpx.AsyncClient, httpx.AsyncClient], privacy_db: str
) -> None:
    """Before: a user could store keys without bound (until they expired after a day)."""
    a, b = two
    for i in range(KEY_CAP):
        r = await (a, b)[i % 2].post(
            "/api/v1/bookings", json={"seatId": 60 + i, "userId": "kim"}, headers={"Idempotency-Key": f"k{i}"}
        )
        assert r.status_code == 201
    body = {"seatId": 69, "userId": "kim"}
    over = await b.post("/api/v1/bookings", json=body, headers={"Idempotency-Key": "one-more"})
    assert over.status_code == 429 and over.json()["error"] == "IDEMPOTENCY_KEY_LIMIT", over.text
    assert 1 <= int(over.headers["retry-after"]) <= 86_400
    # Refused before anything was written; replays of kept keys, requests without a key, and other users go on.
    assert rows(privacy_db, "SELECT id FROM bookings WHERE seat_id = 69") == []
    replay = await b.post("/api/v1/bookings", json={"seatId": 60, "userId": "kim"}, headers={"Idempotency-Key": "k0"})
    assert replay.headers["idempotent-replayed"] == "true"
    assert (await a.post("/api/v1/bookings", json=body)).status_code == 201
    other, _ = await session(b)
    assert (
        await a.post("/api/v1/bookings", json={"seatId": 70}, headers={**other, "Idempotency-Key": "k0"})
    ).status_code == 201
    assert len(rows(privacy_db, "SELECT key FROM idempotency_keys")) == KEY_CAP + 1


# --- default limits -----------------------------------------------------------------------------------


async def test_rate_limit_and_seat_cap_are_on_by_default(
    two: tuple[httpx.AsyncClient, httpx.AsyncClient], privacy_db: str
) -> None:
    """Before: both were off unless configured."""
    a, b = two
    defaults = Settings()
    assert defaults.rate_limit_per_user and defaults.rate_limit_per_ip and defaults.seats_per_user
    seats = list(range(101, 101 + defaults.seats_per_user))
    assert (await a.post("/api/v1/bookings", json={"seatIds": seats, "userId": "max"})).status_code == 201
    over = await b.post("/api/v1/holds", json={"seatIds": [150], "userId": "max"})
    assert over.status_code == 409 and over.json()["error"] == "SEAT_LIMIT_EXCEEDED"
    # The original single-seat call is capped too, and still counted in booking_attempts_total.
    limited = 'booking_attempts_total{outcome="limited",strategy="ATOMIC"}'
    before = metric(await b.get("/actuator/prometheus"), limited)
    single = await b.post("/api/v1/bookings", json={"seatId": 151, "userId": "max"})
    assert single.status_code == 409 and single.json()["error"] == "SEAT_LIMIT_EXCEEDED"
    assert metric(await b.get("/actuator/prometheus"), limited) == before + 1
    user = f"rl-{uuid.uuid4().hex[:6]}"
    statuses = [
        (await (a, b)[i % 2].post("/api/v1/bookings", json={"seatId": 99_999, "userId": user})).status_code
        for i in range(defaults.rate_limit_per_user + 1)
    ]
    assert statuses == [404] * defaults.rate_limit_per_user + [429]
