"""Concurrency proofs: many clients race, then the database and every response are checked."""

from __future__ import annotations

import random
from collections import Counter

import httpx
import psycopg
import pytest

from tests.support import race

STRATEGIES = ["ATOMIC", "DB", "REDIS"]


def db_bookings(database_url: str) -> list[tuple[int, str, str]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT seat_id, user_id, strategy FROM bookings WHERE status = 'CONFIRMED' ORDER BY seat_id"
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def db_booked_seats(database_url: str) -> dict[int, str]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT id, booked_by FROM seats WHERE status = 'BOOKED'").fetchall()
    return {r[0]: r[1] for r in rows}


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_hot_seat_has_exactly_one_winner(client: httpx.AsyncClient, database_url: str, strategy: str) -> None:
    requests = [{"seatId": 7, "userId": f"fan-{i}", "strategy": strategy} for i in range(200)]
    responses = await race(client, requests)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 199}, statuses
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert winner["seatId"] == 7 and winner["booked"] is True and winner["strategy"] == strategy
    for loser in (r.json() for r in responses if r.status_code == 409):
        assert loser["error"] == "SEAT_OCCUPIED" and loser["status"] == 409
        assert loser["path"] == "/api/v1/bookings" and "Seat 7" in loser["message"]

    assert db_bookings(database_url) == [(7, winner["userId"], strategy)]
    assert db_booked_seats(database_url) == {7: winner["userId"]}


@pytest.mark.parametrize("strategy", STRATEGIES)
async def test_spread_matches_database(client: httpx.AsyncClient, database_url: str, strategy: str) -> None:
    """2,000 requests over 150 seats, most seats asked for several times."""
    rng = random.Random(42)
    requests = [{"seatId": rng.randint(1, 150), "userId": f"u-{i}", "strategy": strategy} for i in range(2000)]
    responses = await race(client, requests, concurrency=128)

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    winners: dict[int, str] = {}
    for req, resp in zip(requests, responses, strict=True):
        if resp.status_code == 201:
            seat = int(str(req["seatId"]))
            assert seat not in winners, f"seat {seat} answered 201 twice"
            winners[seat] = str(req["userId"])
            assert resp.json()["userId"] == req["userId"]
    asked = {int(str(r["seatId"])) for r in requests}
    assert set(winners) == asked, "every requested seat has exactly one winner"
    assert db_booked_seats(database_url) == winners
    assert sorted((s, u) for s, u, _ in db_bookings(database_url)) == sorted(winners.items())


async def test_mixed_strategies_on_one_seat_still_one_winner(client: httpx.AsyncClient, database_url: str) -> None:
    requests = [{"seatId": 11, "userId": f"m-{i}", "strategy": STRATEGIES[i % 3]} for i in range(210)]
    responses = await race(client, requests)
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 209}
    assert len(db_bookings(database_url)) == 1


async def test_booked_seat_shows_in_inventory(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/bookings", json={"seatId": 3, "userId": "alice"})
    assert created.status_code == 201
    body = created.json()
    assert body["strategy"] == "ATOMIC", "the deployment default applies when no strategy is given"
    seats = {s["seatId"]: s for s in (await client.get("/api/v1/seats")).json()["seats"]}
    assert seats[3]["booked"] is True and seats[3]["bookedAt"] == body["bookedAt"]
    assert seats[4]["booked"] is False and seats[4]["bookedAt"] is None
