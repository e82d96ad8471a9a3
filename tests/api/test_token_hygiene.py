"""Token hygiene against a real server (open mode): user ids in one normal form without invisible
characters, sessions with a maximum age that can be revoked, and wrong admin tokens throttled."""

from __future__ import annotations

import time

import httpx
import jwt
import pytest

from tests.shared import ADMIN_TOKEN, CHECKOUT_SEATS, client_for
from tests.support import ServerFactory, ServerProcess

SESSION_SECRET = "session-secret-" + "s" * 40
FAILURES = 3
MAX_AGE_S = 3600


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory) -> ServerProcess:
    return module_servers(
        database_url=module_servers.database("bo_hygiene"),
        log="hygiene",
        settings=CHECKOUT_SEATS,
        session_secret=SESSION_SECRET,
        session_max_age_s=MAX_AGE_S,
        admin_token=ADMIN_TOKEN,
        admin_failures_per_ip=FAILURES,
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session_key() -> bytes:
    """The session signing key as the server derives it from its master secret (tokens.py)."""
    import hashlib
    import hmac

    return hmac.new(SESSION_SECRET.encode(), b"boxoffice/session", hashlib.sha256).digest()


def forged_session(user: str, started: int, expires: int) -> str:
    claims = {
        "sub": user,
        "iat": started,
        "ses": started,
        "exp": expires,
        "aud": "boxoffice-session",
        "iss": "boxoffice",
    }
    return jwt.encode(claims, session_key(), algorithm="HS256")


async def book(
    c: httpx.AsyncClient, seat: int, headers: dict[str, str] | None = None, **body: object
) -> httpx.Response:
    return await c.post("/api/v1/bookings", json={"seatId": seat, **body}, headers=headers or {})


async def test_user_ids_are_nfc_and_visible(server: ServerProcess) -> None:
    async with client_for(server) as c:
        decomposed = await book(c, 1, userId="Jose\u0301")
        assert decomposed.status_code == 201, decomposed.text
        assert decomposed.json()["userId"] == "Jos\u00e9", "one user however the accent was typed"
        for bad, char in (("adm\u202enimda", "U+202E"), ("ab\u200bc", "U+200B"), ("x\u2066y", "U+2066")):
            r = await book(c, 2, userId=bad)
            assert r.status_code == 422, r.text
            assert r.json()["message"].startswith("userId: Must not contain control, bidi or zero-width"), r.text
            assert char in r.json()["message"]
        # The same rule on the way in through extend/release bodies.
        r = await c.post("/api/v1/holds", json={"seatIds": [3], "userId": "zw\ufeff"})
        assert r.status_code == 422 and "zero-width" in r.json()["message"], r.text


async def test_a_session_can_be_revoked(server: ServerProcess) -> None:
    async with client_for(server) as c:
        created = await c.post("/api/v1/sessions")
        assert created.status_code == 201
        token = created.json()["token"]
        renewed = await c.post("/api/v1/sessions", headers=bearer(token))
        assert renewed.status_code == 200
        assert (await book(c, 10, bearer(token))).status_code == 201
        revoked = await c.delete("/api/v1/sessions/current", headers=bearer(token))
        assert revoked.status_code == 204, revoked.text
        for tok in (token, renewed.json()["token"]):
            r = await book(c, 11, bearer(tok))
            assert r.status_code == 401 and r.json()["message"].startswith("Session revoked"), r.text
            r = await c.get("/api/v1/me/bookings", headers=bearer(tok))
            assert r.status_code == 401, r.text
            r = await c.post("/api/v1/sessions", headers=bearer(tok))
            assert r.status_code == 401, "a revoked session is not renewed"
        assert (await c.delete("/api/v1/sessions/current", headers=bearer(token))).status_code == 204
        assert (await c.delete("/api/v1/sessions/current")).status_code == 401
        # Other sessions are untouched.
        other = (await c.post("/api/v1/sessions")).json()["token"]
        assert (await book(c, 11, bearer(other))).status_code == 201


async def test_sessions_have_a_maximum_age(server: ServerProcess) -> None:
    now = int(time.time())
    async with client_for(server) as c:
        old = forged_session("session:old-one", now - MAX_AGE_S - 120, now + 600)
        r = await book(c, 20, bearer(old))
        assert r.status_code == 401 and r.json()["message"].startswith("Session too old"), r.text
        assert (await c.post("/api/v1/sessions", headers=bearer(old))).status_code == 401
        # Renewal near the end: the new expiry stops at the start plus the maximum age.
        start = now - MAX_AGE_S + 300
        aging = forged_session("session:aging-one", start, now + 60)
        renewed = await c.post("/api/v1/sessions", headers=bearer(aging))
        assert renewed.status_code == 200, renewed.text
        claims = jwt.decode(renewed.json()["token"], options={"verify_signature": False})
        assert claims["ses"] == start and claims["exp"] == start + MAX_AGE_S


async def test_wrong_admin_tokens_are_throttled(server: ServerProcess) -> None:
    path = "/api/v1/admin/events/1/seats"
    async with client_for(server) as c:
        assert (await c.get(path, headers=bearer(ADMIN_TOKEN))).status_code == 200
        for i in range(FAILURES):
            r = await c.get(path, headers=bearer(f"wrong-admin-token-{i:04d}"))
            assert r.status_code == 401, r.text
        for tok in ("wrong-admin-token-more", ADMIN_TOKEN):
            r = await c.get(path, headers=bearer(tok))
            assert r.status_code == 429 and r.json()["error"] == "RATE_LIMITED", r.text
            assert 1 <= int(r.headers["retry-after"]) <= 60
        # Buyers' routes are not affected by the admin throttle.
        assert (await book(c, 30, userId="buyer")).status_code == 201
