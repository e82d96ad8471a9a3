"""JWT mode: the user comes from a verified token; nobody acts as, or on behalf of, someone else."""

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
from starlette.requests import Request

from boxoffice.api.auth import Authenticator
from boxoffice.api.errors import ApiError
from boxoffice.settings import Settings
from tests.helpers import rows
from tests.shared import CHECKOUT_SEATS, JWT_SECRET, client_for
from tests.support import ServerFactory, ServerProcess


@pytest.fixture
def jwt_server(server_factory: ServerFactory) -> tuple[ServerProcess, str]:
    url = server_factory.database("bo_jwt")
    server = server_factory(
        database_url=url, auth_mode="jwt", jwt_secret=JWT_SECRET, jwt_audience="boxoffice", settings=CHECKOUT_SEATS
    )
    return server, url


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
        unsigned = jwt.encode({"sub": "zoe", "aud": "boxoffice", "exp": int(time.time()) + 60}, "", algorithm="none")
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
        cancel = await c.post(
            f"/api/v1/bookings/{mine.json()['bookingId']}/cancel", json={}, headers=bearer(token("yan"))
        )
        assert cancel.status_code == 403
        hold = await c.post("/api/v1/holds", json={"seatIds": [3]}, headers=bearer(token("zoe")))
        assert hold.status_code == 201 and hold.json()["userId"] == "zoe"
        steal = await c.post(
            "/api/v1/bookings", json={"holdToken": hold.json()["holdToken"]}, headers=bearer(token("yan"))
        )
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
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
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
