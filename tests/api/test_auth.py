"""JWT mode against a real server: the user is the token's subject, owners only, the admin role
(`/ws` at the handshake: tests/realtime/test_auth.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from boxoffice.api.auth import Authenticator
from boxoffice.api.errors import ApiError
from boxoffice.settings import Settings
from tests.helpers import rows
from tests.shared import ADMIN_TOKEN, CHECKOUT_SEATS, JWT_SECRET, client_for
from tests.support import ServerFactory, ServerProcess

ADMIN_CLAIM = "permissions"
ADMIN_ROLE = "boxoffice:admin"


@pytest.fixture(scope="module")
def jwt_server(module_servers: ServerFactory) -> tuple[ServerProcess, str]:
    url = module_servers.database("bo_jwt")
    server = module_servers(
        database_url=url,
        settings=CHECKOUT_SEATS,
        auth_mode="jwt",
        jwt_secret=JWT_SECRET,
        jwt_audience="boxoffice",
        # A configured claim name and role, as an identity provider would issue them.
        jwt_admin_claim=ADMIN_CLAIM,
        jwt_admin_role=ADMIN_ROLE,
        admin_token=ADMIN_TOKEN,
    )
    return server, url


def token(sub: str, secret: str = JWT_SECRET, extra: dict[str, object] | None = None, **claims: object) -> str:
    payload = {"sub": sub, "aud": "boxoffice", "exp": int(time.time()) + 300, **claims, **(extra or {})}
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tok}"}


async def test_jwt_mode(jwt_server: tuple[ServerProcess, str]) -> None:
    server, url = jwt_server
    async with client_for(server) as c:
        body = {"seatId": 1}
        anon = await c.post("/api/v1/bookings", json=body)
        assert anon.status_code == 401 and anon.headers["www-authenticate"].startswith("Bearer")
        claims = {"sub": "zoe", "aud": "boxoffice", "exp": int(time.time()) + 60}
        unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
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
        assert mine.status_code == 201 and mine.json()["userId"] == "zoe"
        assert mine.json()["manageToken"] is None, "a token user needs no manage token"
        named = await c.post("/api/v1/bookings", json={"seatIds": [2], "userId": "zoe"}, headers=bearer(token("zoe")))
        assert named.status_code == 201
        booking = f"/api/v1/bookings/{mine.json()['bookingId']}"
        # Yan can neither read nor cancel Zoe's booking, nor confirm Zoe's hold: to Yan they do not exist.
        assert (await c.get(booking, headers=bearer(token("yan")))).status_code == 404
        assert (await c.get(booking)).status_code == 401
        cancel = await c.post(f"{booking}/cancel", json={}, headers=bearer(token("yan")))
        assert cancel.status_code == 404 and cancel.json()["error"] == "BOOKING_NOT_FOUND"
        hold = await c.post("/api/v1/holds", json={"seatIds": [3]}, headers=bearer(token("zoe")))
        assert hold.status_code == 201 and hold.json()["userId"] == "zoe"
        hold_path = f"/api/v1/holds/{hold.json()['holdToken']}"
        steal = await c.post(
            "/api/v1/bookings", json={"holdToken": hold.json()["holdToken"]}, headers=bearer(token("yan"))
        )
        assert steal.status_code == 404 and steal.json()["error"] == "HOLD_NOT_FOUND"
        # In jwt mode the hold token alone is not enough: the holder's token is needed too.
        assert (await c.post(f"{hold_path}/extend", headers=bearer(token("yan")))).status_code == 404
        assert (await c.get(hold_path, headers=bearer(token("yan")))).status_code == 404
        assert (await c.get(hold_path, headers=bearer(token("zoe")))).status_code == 200
        mine_now = (await c.get("/api/v1/me/bookings", headers=bearer(token("zoe")))).json()
        assert [b["seatId"] for b in mine_now["bookings"]] == [2, 1] and mine_now["userId"] == "zoe"
        assert (await c.get("/api/v1/me/bookings", headers=bearer(token("yan")))).json()["bookings"] == []
        own = await c.post(f"{hold_path}/release", headers=bearer(token("zoe")))
        assert own.status_code == 200
        assert (await c.post(f"{booking}/cancel", json={}, headers=bearer(token("zoe")))).status_code == 200
        assert (await c.get("/api/v1/seats")).status_code == 200
        sessions = await c.post("/api/v1/sessions")
        assert sessions.status_code == 403 and sessions.json()["error"] == "SESSIONS_DISABLED"


async def test_jwt_refusals_say_why_in_plain_words(jwt_server: tuple[ServerProcess, str]) -> None:
    server, url = jwt_server
    now = int(time.time())
    year_3000 = 32_503_680_000
    cases = [
        # Lifetime cap: a token valid until the year 3000 proves too much (with or without iat).
        (token("zoe", iat=now, exp=year_3000), "Invalid bearer token: it is valid for longer than the 86400 s"),
        ("garbage", "Invalid bearer token: not a signed JWT"),
        ("a.b", "Invalid bearer token: not a signed JWT"),
        (token("zoe", secret="another-secret-" + "y" * 40), "Invalid bearer token: the signature does not verify"),
        (token("zoe", aud="someone-else"), "Invalid bearer token: it is meant for another audience (aud)"),
        (jwt.encode({"sub": "zoe", "aud": "boxoffice"}, JWT_SECRET), "Invalid bearer token: the 'exp' claim is"),
        (token("zoe", exp=now - 3600), "Bearer token expired"),
        (token("zoe", exp=year_3000), "Invalid bearer token: it is valid for longer than the 86400 s"),
        (token("zoe", iat=now, exp=now + 86_400 + 3600), "Invalid bearer token: it is valid for longer than"),
        # Subjects follow the user id rule: no bidi controls or zero-width characters.
        (token("adm\u202enimda"), "Invalid bearer token: its subject (sub) is not a valid user id"),
        (token("zo\u200be"), "Invalid bearer token: its subject (sub) is not a valid user id"),
        # The admin token is for the admin API only, and says so.
        (ADMIN_TOKEN, "This is the admin token: it opens /api/v1/admin only"),
    ]
    async with client_for(server) as c:
        for bad, message in cases:
            r = await c.post("/api/v1/bookings", json={"seatId": 150}, headers=bearer(bad))
            assert r.status_code == 401, (bad, r.text)
            assert r.json()["message"].startswith(message), (bad, r.text)
            assert "segments" not in r.json()["message"] and "padding" not in r.json()["message"]
        # A day-long token is fine, and an NFC subject is the user whatever form the IdP sent.
        ok = await c.post(
            "/api/v1/bookings", json={"seatId": 150}, headers=bearer(token("Zoe\u0301", iat=now, exp=now + 86_000))
        )
        assert ok.status_code == 201 and ok.json()["userId"] == "Zo\u00e9", ok.text
    assert rows(url, "SELECT user_id FROM bookings WHERE seat_id = 150") == [{"user_id": "Zo\u00e9"}]


def layout(slug: str) -> dict[str, object]:
    return {"slug": slug, "name": "Gala", "venue": "Hall", "sections": [{"name": "Main", "rows": 1, "columns": 3}]}


async def test_admin_role_from_the_configured_claim(jwt_server: tuple[ServerProcess, str]) -> None:
    server, url = jwt_server
    path = "/api/v1/admin/events"
    async with client_for(server) as c:
        plain = await c.post(path, json=layout("plain"), headers=bearer(token("amy")))
        assert plain.status_code == 403 and plain.json()["error"] == "NOT_ADMIN"
        wrong_claim = await c.post(path, json=layout("wrong"), headers=bearer(token("amy", roles=[ADMIN_ROLE])))
        assert wrong_claim.status_code == 403, "only the configured claim name counts"
        forged = token("amy", "another-secret-" + "y" * 40, {ADMIN_CLAIM: [ADMIN_ROLE]})
        assert (await c.post(path, json=layout("forged"), headers=bearer(forged))).status_code == 401
        assert (await c.post(path, json=layout("anon"))).status_code == 401
        assert rows(url, "SELECT slug FROM events WHERE slug <> 'default'") == []
        listed = await c.post(
            path, json=layout("listed"), headers=bearer(token("amy", extra={ADMIN_CLAIM: [ADMIN_ROLE]}))
        )
        assert listed.status_code == 201, listed.text
        scoped = token("amy", extra={ADMIN_CLAIM: f"read:all {ADMIN_ROLE}"})  # OAuth-style space-separated scopes
        assert (await c.post(path, json=layout("scoped"), headers=bearer(scoped))).status_code == 201
        # The shared admin token stays an option.
        assert (await c.post(path, json=layout("shared"), headers=bearer(ADMIN_TOKEN))).status_code == 201
    assert sorted(r["slug"] for r in rows(url, "SELECT slug FROM events")) == ["default", "listed", "scoped", "shared"]


# --- unit: the verifier -----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def test_public_key_mode_refuses_algorithm_confusion() -> None:
    """RS256 with a public key verifies; an HS256 token 'signed' with that public key is refused."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    from boxoffice.tokens import Tokens  # here, so the other tests also run on older code

    auth = Authenticator(Tokens(Settings(auth_mode="jwt", jwt_public_key=public_pem), lambda: None))
    good = jwt.encode({"sub": "ula", "exp": int(time.time()) + 60}, key, algorithm="RS256")
    assert (await auth.caller(f"Bearer {good}", None)).user_id == "ula"
    assert (await auth.caller(f"bearer {good}", "ula")).authenticated
    with pytest.raises(ApiError) as mismatch:
        await auth.caller(f"Bearer {good}", "vic")
    assert mismatch.value.code.status == 403
    # The classic attack: HMAC the token with the (public) PEM as if it were a shared secret.
    signing_input = _b64(b'{"alg":"HS256","typ":"JWT"}') + "." + _b64(orjson.dumps({"sub": "ula", "exp": 2**32}))
    mac = hmac.new(public_pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(ApiError) as confused:
        await auth.caller(f"Bearer {signing_input}.{_b64(mac)}", None)
    assert confused.value.code.status == 401


def test_jwt_mode_needs_a_key() -> None:
    with pytest.raises(ValueError, match="JWT_SECRET"):
        Settings(auth_mode="jwt")
