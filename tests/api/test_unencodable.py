"""Text that cannot be encoded (a lone surrogate) is a 4xx on every input path, on a kept-alive connection.

`"x\\ud800y"` is valid JSON and decodes to a Python str that neither PostgreSQL nor Redis can store:
a JWT subject (PyJWT decodes with the json module, which accepts it), a body field or a header.
Each answer is a precise 4xx in the API's error shape, the connection stays open for the next
request, and nothing is written.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import h11
import jwt
import orjson
import psycopg
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from boxoffice.api import errors
from tests.support import ServerProcess, fresh_database

SECRET = "unencodable-secret-" + "y" * 32
LONE = "x\ud800y"


class KeepAlive:
    """One HTTP/1.1 connection, reused for every request: a dropped connection fails the next one."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.conn = h11.Connection(h11.CLIENT)

    def request(
        self, method: str, path: str, body: bytes = b"", **headers: str | bytes
    ) -> tuple[int, dict[str, object]]:
        extra = [(k.encode(), v if isinstance(v, bytes) else v.encode()) for k, v in headers.items()]
        fields = [(b"host", b"test"), (b"content-length", str(len(body)).encode()), *extra]
        data = self.conn.send(h11.Request(method=method, target=path, headers=fields))
        data += self.conn.send(h11.Data(data=body)) if body else b""
        data += self.conn.send(h11.EndOfMessage())
        self.sock.sendall(data)
        status, chunks = 0, b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                received = self.sock.recv(65536)
                assert received, f"the server closed the connection after {method} {path}"
                self.conn.receive_data(received)
            elif isinstance(event, h11.Response):
                status = event.status_code
                assert (b"connection", b"close") not in event.headers, f"{method} {path} closes the connection"
            elif isinstance(event, h11.Data):
                chunks += bytes(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self.conn.start_next_cycle()
                return status, orjson.loads(chunks) if chunks else {}

    def close(self) -> None:
        self.sock.close()


def token(sub: str) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + 300}, SECRET, algorithm="HS256")


def json_headers(**extra: str | bytes) -> dict[str, str | bytes]:
    return {"content-type": "application/json", **extra}


@pytest.fixture(scope="module")
def jwt_server(artifacts: Path) -> Iterator[tuple[ServerProcess, str]]:
    with fresh_database("bo_unenc") as url:
        env = {
            "DATABASE_URL": url,
            "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-unenc-{uuid.uuid4().hex[:8]}:",
            "BOXOFFICE_AUTH_MODE": "jwt",
            "BOXOFFICE_JWT_SECRET": SECRET,
            "BOXOFFICE_RATE_LIMIT_PER_USER": "1000",  # the subject also becomes a Redis key
            "BOXOFFICE_SEED_ROWS": "2",
            "BOXOFFICE_SEED_COLS": "5",
            "BOXOFFICE_DB_POOL_MAX": "4",
        }
        with ServerProcess(env=env, log_path=artifacts / "unencodable-server.log") as server:
            yield server, url


def test_a_lone_surrogate_is_a_4xx_on_every_path_and_keeps_the_connection(
    jwt_server: tuple[ServerProcess, str],
) -> None:
    server, url = jwt_server
    bad: dict[str, str | bytes] = {"authorization": f"Bearer {token(LONE)}"}
    good: dict[str, str | bytes] = {"authorization": f"Bearer {token('ann')}"}
    # The UTF-8 bytes of a surrogate in a header: decoded as Latin-1, refused as not visible ASCII.
    bad_key = {"idempotency-key": b"k\xed\xa0\x80"}
    cases: list[tuple[str, str, bytes, dict[str, str | bytes], int, str]] = [
        ("POST", "/api/v1/bookings", b'{"seatId": 1}', json_headers(**bad), 401, "UNAUTHENTICATED"),
        ("POST", "/api/v1/bookings", b'{"seatIds": [1, 2]}', json_headers(**bad), 401, "UNAUTHENTICATED"),
        ("POST", "/api/v1/holds", b'{"seatIds": [3]}', json_headers(**bad), 401, "UNAUTHENTICATED"),
        ("POST", "/api/v1/bookings/1/cancel", b"", bad, 401, "UNAUTHENTICATED"),
        (
            "POST",
            "/api/v1/bookings",
            b'{"seatId": 1, "userId": "x\\ud800y"}',
            json_headers(**good),
            400,
            "MALFORMED_JSON",
        ),
        (
            "POST",
            "/api/v1/bookings/1/cancel",
            b'{"reason": "x\\ud800y"}',
            json_headers(**good),
            400,
            "MALFORMED_JSON",
        ),
        ("POST", "/api/v1/bookings", b'{"seatId": 1}', json_headers(**good, **bad_key), 422, "VALIDATION_FAILED"),
    ]
    client = KeepAlive(server.port)
    try:
        for method, path, body, headers, status, error in cases:
            got, answer = client.request(method, path, body, **headers)
            assert (got, answer.get("error")) == (status, error), (path, body, headers.keys(), answer)
        # The same connection still serves, and nothing was written by any of the above.
        assert client.request("GET", "/api/v1/seats")[0] == 200
    finally:
        client.close()
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM bookings").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM holds").fetchone() == (0,)


def test_open_mode_body_fields(clean: ServerProcess, database_url: str) -> None:
    client = KeepAlive(clean.port)
    try:
        for body in (
            b'{"seatId": 1, "userId": "x\\ud800y"}',
            b'{"seatIds": [1], "userId": "\\udc00"}',
            b'{"seatId": 1, "userId": "u", "strategy": "\\ud800"}',
        ):
            got, answer = client.request("POST", "/api/v1/bookings", body, **json_headers())
            assert (got, answer["error"]) == (400, "MALFORMED_JSON"), (body, answer)
        got, answer = client.request(
            "POST", "/api/v1/holds", b'{"seatIds": [1], "userId": "a\\ud83d"}', **json_headers()
        )
        assert (got, answer["error"]) == (400, "MALFORMED_JSON"), answer
        assert client.request("GET", "/api/v1/seats")[0] == 200
    finally:
        client.close()
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM bookings").fetchone() == (0,)


def test_text_no_codec_can_encode_is_a_4xx_wherever_it_fails() -> None:
    """The backstop behind the edge's validators, for a path that would reach Redis or another codec."""
    app = FastAPI()
    errors.install(app)

    @app.post("/encode")
    async def encode() -> None:
        LONE.encode()

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/encode")
    assert response.status_code == 422 and response.json()["error"] == "VALIDATION_FAILED", response.text
