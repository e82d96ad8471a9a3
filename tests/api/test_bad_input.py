"""Every client mistake gets a precise 4xx in the standard error shape, and writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest

JSON = {"content-type": "application/json"}
LONG_USER = "u" * 65
Case = tuple[str, bytes, dict[str, str], int, str, str]

CASES: list[Case] = [
    (
        "missing seatId",
        b'{"userId": "u-1"}',
        JSON,
        422,
        "VALIDATION_FAILED",
        "one of seatId, seatIds, holdToken or bestAvailable is required",
    ),
    ("missing userId", b'{"seatId": 1}', JSON, 422, "VALIDATION_FAILED", "userId: Field required"),
    ("seatId as string", b'{"seatId": "1", "userId": "u"}', JSON, 422, "VALIDATION_FAILED", "seatId"),
    ("seatId as float", b'{"seatId": 1.5, "userId": "u"}', JSON, 422, "VALIDATION_FAILED", "seatId"),
    ("seatId as bool", b'{"seatId": true, "userId": "u"}', JSON, 422, "VALIDATION_FAILED", "seatId"),
    ("seatId null", b'{"seatId": null, "userId": "u"}', JSON, 422, "VALIDATION_FAILED", "seatId"),
    ("zero seatId", b'{"seatId": 0, "userId": "u"}', JSON, 422, "VALIDATION_FAILED", "greater than or equal to 1"),
    ("negative seatId", b'{"seatId": -5, "userId": "u"}', JSON, 422, "VALIDATION_FAILED", "seatId"),
    ("int4 overflow", b'{"seatId": 2147483648, "userId": "u"}', JSON, 422, "VALIDATION_FAILED", "2147483647"),
    (
        "huge seatId",
        b'{"seatId": 99999999999999999999999999, "userId": "u"}',
        JSON,
        422,
        "VALIDATION_FAILED",
        "seatId",
    ),
    ("userId number", b'{"seatId": 1, "userId": 123}', JSON, 422, "VALIDATION_FAILED", "userId"),
    ("empty userId", b'{"seatId": 1, "userId": ""}', JSON, 422, "VALIDATION_FAILED", "userId"),
    ("blank userId", b'{"seatId": 1, "userId": "   "}', JSON, 422, "VALIDATION_FAILED", "userId"),
    (
        "over-long userId",
        b'{"seatId": 1, "userId": "' + LONG_USER.encode() + b'"}',
        JSON,
        422,
        "VALIDATION_FAILED",
        "at most 64 characters",
    ),
    ("NUL in userId", b'{"seatId": 1, "userId": "a\\u0000b"}', JSON, 422, "VALIDATION_FAILED", "control characters"),
    (
        "unknown strategy",
        b'{"seatId": 1, "userId": "u", "strategy": "OPTIMISTIC"}',
        JSON,
        422,
        "VALIDATION_FAILED",
        "Unknown strategy",
    ),
    ("strategy number", b'{"seatId": 1, "userId": "u", "strategy": 3}', JSON, 422, "VALIDATION_FAILED", "strategy"),
    ("unknown field", b'{"seatId": 1, "userId": "u", "seat": 2}', JSON, 422, "VALIDATION_FAILED", "Unknown field"),
    ("malformed JSON", b'{"seatId": 1, "userId": ', JSON, 400, "MALFORMED_JSON", "not valid JSON"),
    ("JSON array", b"[1, 2]", JSON, 400, "MALFORMED_JSON", "JSON object"),
    ("JSON string", b'"hello"', JSON, 400, "MALFORMED_JSON", "JSON object"),
    ("empty body", b"", JSON, 400, "MALFORMED_JSON", "body is required"),
    ("invalid UTF-8", b'{"seatId": 1, "userId": "\xff\xfe"}', JSON, 400, "MALFORMED_JSON", "not valid JSON"),
    (
        "form body",
        b"seatId=1&userId=u",
        {"content-type": "application/x-www-form-urlencoded"},
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "application/json",
    ),
    ("no content type", b'{"seatId": 1, "userId": "u"}', {}, 415, "UNSUPPORTED_MEDIA_TYPE", "application/json"),
    (
        "body over limit",
        b'{"seatId": 1, "userId": "u", "pad": "' + b"x" * 5000 + b'"}',
        JSON,
        413,
        "PAYLOAD_TOO_LARGE",
        "4096 bytes",
    ),
]


@pytest.mark.parametrize(("name", "body", "headers", "status", "error", "message"), CASES, ids=[c[0] for c in CASES])
async def test_bad_booking_request(
    client: httpx.AsyncClient,
    database_url: str,
    name: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    error: str,
    message: str,
) -> None:
    resp = await client.post("/api/v1/bookings", content=body, headers=headers)
    assert resp.status_code == status, resp.text
    payload = resp.json()
    assert set(payload) == {"timestamp", "status", "error", "message", "path"}
    assert payload["status"] == status and payload["error"] == error
    assert message in payload["message"], payload["message"]
    assert payload["path"] == "/api/v1/bookings"
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM bookings").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM seats WHERE status <> 'AVAILABLE'").fetchone() == (0,)


async def test_chunked_body_over_limit_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    resp = await client.post("/api/v1/bookings", content=chunks(), headers=JSON)
    assert resp.status_code == 413
    assert resp.json()["error"] == "PAYLOAD_TOO_LARGE"


async def test_unknown_seat_is_404(client: httpx.AsyncClient, database_url: str) -> None:
    for strategy in ("ATOMIC", "DB", "REDIS"):
        resp = await client.post("/api/v1/bookings", json={"seatId": 100_000, "userId": "u", "strategy": strategy})
        assert resp.status_code == 404, strategy
        assert resp.json()["error"] == "SEAT_NOT_FOUND"
        assert resp.json()["message"] == "Seat 100000 does not exist"
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM bookings").fetchone() == (0,)


async def test_strategy_is_case_insensitive(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/bookings", json={"seatId": 9, "userId": "u", "strategy": "redis"})
    assert resp.status_code == 201 and resp.json()["strategy"] == "REDIS"


async def test_user_id_is_trimmed(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/bookings", json={"seatId": 10, "userId": "  bob  "})
    assert resp.status_code == 201 and resp.json()["userId"] == "bob"
