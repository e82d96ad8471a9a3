"""Idempotency-Key: one outcome per key, stored in the booking's own transaction."""

from __future__ import annotations

import asyncio
from functools import partial

import httpx

from tests.features.conftest import IDEMPOTENCY_TTL_S
from tests.features.helpers import assert_consistent, gate_all, rows


async def test_parallel_retries_return_one_outcome(co: httpx.AsyncClient, checkout_db: str) -> None:
    """12 copies of one request with one key at the same instant: one booking, 12 identical answers."""
    body = {"seatIds": [3, 4], "userId": "ada", "strategy": "REDIS"}
    calls = [partial(co.post, "/api/v1/bookings", json=body, headers={"Idempotency-Key": "pay-1"}) for _ in range(12)]
    responses = await gate_all(calls)  # type: ignore[arg-type]
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 11
    assert len(rows(checkout_db, "SELECT id FROM bookings")) == 2
    assert_consistent(checkout_db)


async def test_competing_keys_keep_their_first_answer(co: httpx.AsyncClient, checkout_db: str) -> None:
    """Two buyers (own keys, 5 retries each, all at once) race for a seat: one wins, the other's
    key answers 409 for ever after, even once the seat is free again."""
    calls = []
    for user in ("bea", "cal"):
        body = {"seatId": 7, "userId": user}
        calls += [partial(co.post, "/api/v1/bookings", json=body, headers={"Idempotency-Key": f"k-{user}"})] * 5
    responses = await gate_all(calls)  # type: ignore[arg-type]
    first, second = responses[:5], responses[5:]
    assert len({r.content for r in first}) == 1 and len({r.content for r in second}) == 1
    assert sorted([first[0].status_code, second[0].status_code]) == [201, 409]
    winner = first[0] if first[0].status_code == 201 else second[0]
    loser_user = "cal" if winner is first[0] else "bea"
    booking_id = winner.json()["bookingId"]
    manage = {"Manage-Token": winner.json()["manageToken"]}
    cancel = await co.post(f"/api/v1/bookings/{booking_id}/cancel", json={}, headers=manage)
    assert cancel.status_code == 200
    replay = await co.post(
        "/api/v1/bookings", json={"seatId": 7, "userId": loser_user}, headers={"Idempotency-Key": f"k-{loser_user}"}
    )
    loser_first = second[0] if winner is first[0] else first[0]
    assert (replay.status_code, replay.content) == (409, loser_first.content)
    assert_consistent(checkout_db)


async def test_same_key_different_body_is_422(co: httpx.AsyncClient, checkout_db: str) -> None:
    h = {"Idempotency-Key": "dup"}
    assert (await co.post("/api/v1/bookings", json={"seatId": 11, "userId": "dee"}, headers=h)).status_code == 201
    other = await co.post("/api/v1/bookings", json={"seatId": 12, "userId": "dee"}, headers=h)
    assert other.status_code == 422 and other.json()["error"] == "IDEMPOTENCY_KEY_REUSED"
    # Keys are per user: eve's "dup" is her own, a new request (the seat is taken: 409), not dee's replay.
    other_user = await co.post("/api/v1/bookings", json={"seatId": 11, "userId": "eve"}, headers=h)
    assert other_user.status_code == 409 and "idempotent-replayed" not in other_user.headers
    assert rows(checkout_db, "SELECT seat_id FROM bookings") == [{"seat_id": 11}]


async def test_idempotent_holds_and_expiry_of_keys(co: httpx.AsyncClient, checkout_db: str) -> None:
    h = {"Idempotency-Key": "hold-1"}
    first = await co.post("/api/v1/holds", json={"seatIds": [21, 22], "userId": "fay"}, headers=h)
    again = await co.post("/api/v1/holds", json={"seatIds": [21, 22], "userId": "fay"}, headers=h)
    assert first.status_code == 201 and (again.status_code, again.content) == (201, first.content)
    assert len(rows(checkout_db, "SELECT token FROM holds")) == 1
    token = first.json()["holdToken"]
    await co.post(f"/api/v1/holds/{token}/release", json={"userId": "fay"})
    await asyncio.sleep(IDEMPOTENCY_TTL_S + 0.3)
    # The key lapsed: the same request is a new request now.
    fresh = await co.post("/api/v1/holds", json={"seatIds": [21, 22], "userId": "fay"}, headers=h)
    assert fresh.status_code == 201 and fresh.json()["holdToken"] != token
    assert len(rows(checkout_db, "SELECT token FROM holds")) == 2
    assert_consistent(checkout_db)


async def test_bad_keys_are_refused(co: httpx.AsyncClient, checkout_db: str) -> None:
    for key in ["x" * 129, "with space", "tab\there"]:
        r = await co.post("/api/v1/bookings", json={"seatId": 1, "userId": "gus"}, headers={"Idempotency-Key": key})
        assert r.status_code == 422, (key, r.text)
    assert rows(checkout_db, "SELECT id FROM bookings") == []


async def test_retry_after_unknown_outcome_books_once(co: httpx.AsyncClient, checkout_db: str) -> None:
    """Clients that give up mid-request (outcome unknown) and retry with their key: every seat ends
    booked exactly once by its buyer, each final answer is 201, and no transaction is left open."""
    unknown = 0
    for i in range(20):
        body = {"seatIds": [101 + i], "userId": f"w{i}"}
        headers = {"Idempotency-Key": f"flaky-{i}"}
        try:
            await co.post("/api/v1/bookings", json=body, headers=headers, timeout=0.002 * (i % 5 + 1))
        except httpx.TimeoutException:
            unknown += 1
        final = await co.post("/api/v1/bookings", json=body, headers=headers)
        assert final.status_code == 201, final.text
        assert final.json()["bookings"][0]["userId"] == f"w{i}"
    booked = rows(checkout_db, "SELECT seat_id, user_id FROM bookings ORDER BY seat_id")
    assert booked == [{"seat_id": 101 + i, "user_id": f"w{i}"} for i in range(20)]
    await asyncio.sleep(0.5)
    stuck = rows(
        checkout_db,
        "SELECT state FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'boxoffice'"
        " AND state LIKE 'idle in transaction%%'",
    )
    assert stuck == []
    print(f"requests abandoned by the client before an answer: {unknown}/20")
    assert_consistent(checkout_db)
