"""Bad input on the checkout endpoints: a precise 4xx, never 500, nothing written."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.features.helpers import rows

BAD_BOOKINGS = [
    ({"seatIds": [], "userId": "u"}, 422),
    ({"seatIds": list(range(1, 12)), "userId": "u"}, 422),  # more than 10 seats
    ({"seatIds": [1, 2, 1], "userId": "u"}, 422),
    ({"seatIds": [1, "2"], "userId": "u"}, 422),
    ({"seatIds": [1, 2**31], "userId": "u"}, 422),
    ({"seatIds": [0], "userId": "u"}, 422),
    ({"seatIds": 3, "userId": "u"}, 422),
    ({"seatId": 1, "seatIds": [2], "userId": "u"}, 422),
    ({"seatId": 1, "holdToken": str(uuid.uuid4()), "userId": "u"}, 422),
    ({"userId": "u"}, 422),
    ({"seatIds": [1]}, 422),
    ({"holdToken": "not-a-uuid", "userId": "u"}, 422),
    ({"holdToken": 5, "userId": "u"}, 422),
    ({"seatIds": [1], "userId": "u", "strategy": "MAGIC"}, 422),
    ({"seatIds": [1], "userId": "u", "extra": 1}, 422),
    ({"seatIds": [1], "userId": "bad\u0000id"}, 422),
    ({"holdToken": str(uuid.uuid4()), "userId": "u"}, 404),
    ({"seatIds": [1, 10_000], "userId": "u"}, 404),  # one missing seat: nothing booked
]


@pytest.mark.parametrize(("body", "status"), BAD_BOOKINGS)
async def test_bad_booking_bodies(
    co: httpx.AsyncClient, checkout_db: str, body: dict[str, object], status: int
) -> None:
    r = await co.post("/api/v1/bookings", json=body)
    assert r.status_code == status, r.text
    assert r.json()["status"] == status and r.json()["message"]
    assert rows(checkout_db, "SELECT id FROM bookings") == []
    assert rows(checkout_db, "SELECT id FROM seats WHERE status <> 'AVAILABLE'") == []


BAD_HOLDS = [
    (b'{"seatIds": [], "userId": "u"}', 422),
    (b'{"seatIds": [1,1], "userId": "u"}', 422),
    (b'{"seatIds": [1,2,3,4,5,6,7,8,9,10,11], "userId": "u"}', 422),
    (b'{"seatIds": [1], "userId": ""}', 422),
    (b'{"seatIds": [1]', 400),
    (b"[1]", 400),
    (b'{"seatIds": [99999], "userId": "u"}', 404),
]


@pytest.mark.parametrize(("body", "status"), BAD_HOLDS)
async def test_bad_hold_bodies(co: httpx.AsyncClient, checkout_db: str, body: bytes, status: int) -> None:
    r = await co.post("/api/v1/holds", content=body, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    assert rows(checkout_db, "SELECT token FROM holds") == []


async def test_bad_paths_and_media_types(co: httpx.AsyncClient) -> None:
    assert (await co.post("/api/v1/holds/nope/extend", json={"userId": "u"})).status_code == 422
    assert (await co.get("/api/v1/holds/123")).status_code == 422
    assert (await co.get(f"/api/v1/holds/{uuid.uuid4()}")).status_code == 404
    assert (await co.post(f"/api/v1/holds/{uuid.uuid4()}/release", json={"userId": "u"})).status_code == 404
    assert (await co.post(f"/api/v1/bookings/{2**63}/cancel", json={"userId": "u"})).status_code == 422
    assert (await co.post("/api/v1/bookings/0/cancel", json={"userId": "u"})).status_code == 422
    assert (await co.get("/api/v1/bookings/abc")).status_code == 422
    assert (await co.post("/api/v1/bookings/1/cancel", json={"userId": "u", "reason": "x" * 201})).status_code == 422
    # No session, no manage token: nothing proves ownership, whatever booking 1 is.
    assert (await co.post("/api/v1/bookings/1/cancel", json={"reason": "no proof"})).status_code == 404
    text = await co.post("/api/v1/holds", content=b"seatIds=1", headers={"content-type": "text/plain"})
    assert text.status_code == 415
    padded = b"{" + b" " * 10_000 + b"}"
    big = await co.post("/api/v1/holds", content=padded, headers={"content-type": "application/json"})
    assert big.status_code == 413
