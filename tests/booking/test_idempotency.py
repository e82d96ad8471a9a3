"""Idempotency-Key: one outcome per key, stored in the booking's own transaction."""

from __future__ import annotations

from functools import partial

import httpx
import orjson

from tests.helpers import assert_consistent, gate_all, rows, until
from tests.shared import IDEMPOTENCY_TTL_S, without_secrets


async def test_parallel_retries_return_one_outcome(co: httpx.AsyncClient, checkout_db: str) -> None:
    """12 copies of one request with one key at the same instant: one booking, 12 answers of it (the 11
    replays to this bare name without the manage tokens)."""
    body = {"seatIds": [3, 4], "userId": "ada", "strategy": "REDIS"}
    calls = [partial(co.post, "/api/v1/bookings", json=body, headers={"Idempotency-Key": "pay-1"}) for _ in range(12)]
    responses = await gate_all(calls)
    assert {r.status_code for r in responses} == {201}, [r.text for r in responses]
    replays = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    (first,) = [r for r in responses if r not in replays]
    assert len(replays) == 11 and len({r.content for r in replays}) == 1
    assert replays[0].json() == without_secrets(first.json())
    assert all(b["manageToken"] for b in first.json()["bookings"])
    assert len(rows(checkout_db, "SELECT id FROM bookings")) == 2
    assert_consistent(checkout_db)


async def test_competing_keys_keep_their_first_answer(co: httpx.AsyncClient, checkout_db: str) -> None:
    """Two buyers (own keys, 5 retries each, all at once) race for a seat: one wins, the other's
    key answers 409 for ever after, even once the seat is free again."""
    calls = []
    for user in ("bea", "cal"):
        body = {"seatId": 7, "userId": user}
        calls += [partial(co.post, "/api/v1/bookings", json=body, headers={"Idempotency-Key": f"k-{user}"})] * 5
    responses = await gate_all(calls)
    first, second = responses[:5], responses[5:]
    # One answer per key (a replay of a 201 to a bare name carries no manage token).
    assert len({orjson.dumps(without_secrets(r.json())) for r in first}) == 1
    assert len({orjson.dumps(without_secrets(r.json())) for r in second}) == 1
    assert sorted([first[0].status_code, second[0].status_code]) == [201, 409]
    winners = first if first[0].status_code == 201 else second
    (winner,) = [r for r in winners if "idempotent-replayed" not in r.headers]
    loser_user = "cal" if winners is first else "bea"
    booking_id = winner.json()["bookingId"]
    manage = {"Manage-Token": winner.json()["manageToken"]}
    cancel = await co.post(f"/api/v1/bookings/{booking_id}/cancel", json={}, headers=manage)
    assert cancel.status_code == 200
    replay = await co.post(
        "/api/v1/bookings", json={"seatId": 7, "userId": loser_user}, headers={"Idempotency-Key": f"k-{loser_user}"}
    )
    loser_first = second[0] if winners is first else first[0]
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
    assert first.status_code == 201 and (again.status_code, again.json()) == (201, without_secrets(first.json()))
    assert len(rows(checkout_db, "SELECT token FROM holds")) == 1
    token = first.json()["holdToken"]
    await co.post(f"/api/v1/holds/{token}/release", json={"userId": "fay"})
    await until(
        lambda: rows(checkout_db, "SELECT bool_and(expires_at < clock_timestamp()) AS lapsed FROM idempotency_keys")[0][
            "lapsed"
        ],
        what=f"the key to lapse ({IDEMPOTENCY_TTL_S} s)",
    )
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
    # An abandoned request's handler may still be finishing: wait for every session to leave its transaction.
    await until(
        lambda: (
            not rows(
                checkout_db,
                "SELECT state FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = 'boxoffice' AND state LIKE 'idle in transaction%%'",
            )
        ),
        5,  # well under the server's 10 s idle_in_transaction_session_timeout, which would hide a leak
        what="no session of the app idle in a transaction",
    )
    print(f"requests abandoned by the client before an answer: {unknown}/20")
    assert_consistent(checkout_db)
