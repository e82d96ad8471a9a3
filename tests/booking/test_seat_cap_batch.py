"""The per-user seat cap on (the default) with group commit and single-flight, through a real
two-worker server: races, then the database and every client's answer are checked together."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from tests.helpers import assert_consistent, gate_all, race, rows
from tests.observability.helpers import scrape, value
from tests.support import LOAD_LIMITS_OFF, ServerFactory, ServerProcess, reset_inventory

CAP = 3
LIMIT_MESSAGE = f"At most {CAP} seats per user and event; you already have {CAP} held or booked"


@pytest.fixture(scope="module")
def capped(module_servers: ServerFactory) -> tuple[ServerProcess, str]:
    """Rate limits off (one address drives the load), the seat cap on at CAP."""
    url = module_servers.database("bo_capbatch")
    server = module_servers(
        "--workers",
        "2",
        database_url=url,
        seed_rows=10,
        seed_cols=30,
        db_pool_max=10,
        settings={**LOAD_LIMITS_OFF, "seats_per_user": CAP},
    )
    return server, url


@pytest.fixture
async def cap_client(capped: tuple[ServerProcess, str]) -> AsyncIterator[httpx.AsyncClient]:
    server, url = capped
    reset_inventory(url, from_scratch=True)
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as client:
        yield client


def batch_totals(base_url: str) -> tuple[float, float]:
    """(batches, claims sent in them), summed over both workers."""
    samples = scrape(base_url)
    return value(samples, "booking_batch_size_count"), value(samples, "booking_batch_size_sum")


def holdings(url: str) -> dict[str, set[int]]:
    """Each user's booked and held seats, as the database has them."""
    found: dict[str, set[int]] = defaultdict(set)
    for r in rows(url, "SELECT id, coalesce(booked_by, held_by) AS who FROM seats WHERE status <> 'AVAILABLE'"):
        found[r["who"]].add(r["id"])
    return found


async def test_one_user_firing_twenty_gets_exactly_the_cap(
    cap_client: httpx.AsyncClient, capped: tuple[ServerProcess, str]
) -> None:
    server, url = capped
    before = batch_totals(server.base_url)
    requests: list[dict[str, object]] = [{"seatId": seat, "userId": "solo"} for seat in range(1, 21)]
    responses = await race(cap_client, requests)
    after = batch_totals(server.base_url)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: CAP, 409: 20 - CAP}, statuses
    won = {r.json()["seatId"] for r in responses if r.status_code == 201}
    for r in responses:
        if r.status_code == 409:
            # The multi-seat path's answer, word for word.
            assert r.json()["error"] == "SEAT_LIMIT_EXCEEDED" and r.json()["message"] == LIMIT_MESSAGE, r.text
    assert holdings(url) == {"solo": won}
    assert len(rows(url, "SELECT id FROM bookings WHERE user_id = 'solo'")) == CAP
    assert after[0] > before[0], "the default configuration sends single-seat claims through group commit"
    assert_consistent(url)


async def test_two_users_racing_over_shared_seats_get_the_cap_each(
    cap_client: httpx.AsyncClient, capped: tuple[ServerProcess, str]
) -> None:
    """ann asks seats 1-12, ben 7-18 (six shared), all at once: each ends with exactly CAP seats
    (each has more free seats than the cap even if the other wins every shared one)."""
    _, url = capped
    requests: list[dict[str, object]] = [{"seatId": s, "userId": "ann"} for s in range(1, 13)]
    requests += [{"seatId": s, "userId": "ben"} for s in range(7, 19)]
    random.Random(3).shuffle(requests)
    responses = await race(cap_client, requests)

    assert {r.status_code for r in responses} <= {201, 409}
    won: dict[str, set[int]] = defaultdict(set)
    for req, resp in zip(requests, responses, strict=True):
        user, seat = str(req["userId"]), int(str(req["seatId"]))
        if resp.status_code == 201:
            won[user].add(seat)
        elif resp.json()["error"] == "SEAT_OCCUPIED":
            assert seat in holdings(url)["ann" if user == "ben" else "ben"], "a 409 for a seat the other one got"
        else:
            assert resp.json()["error"] == "SEAT_LIMIT_EXCEEDED", resp.text
    assert {u: len(s) for u, s in won.items()} == {"ann": CAP, "ben": CAP}
    assert holdings(url) == won
    assert_consistent(url)


async def test_many_users_and_a_hot_seat_batch_and_share_claims_under_the_cap(
    cap_client: httpx.AsyncClient, capped: tuple[ServerProcess, str]
) -> None:
    """60 users, 8 requests each over 200 seats, and 200 requests for one hot seat: nobody above the
    cap, every answer true to the database, claims shared statements (group commit) and hot-seat
    followers sent none (single-flight), with the cap on."""
    server, url = capped
    rng = random.Random(11)
    hot = 250
    requests: list[dict[str, object]] = [
        {"seatId": rng.randint(1, 200), "userId": f"m-{u}"} for u in range(60) for _ in range(8)
    ]
    requests += [{"seatId": hot, "userId": f"h-{i}"} for i in range(200)]
    rng.shuffle(requests)
    before = batch_totals(server.base_url)
    responses = await race(cap_client, requests, concurrency=200)
    after = batch_totals(server.base_url)
    batches, claims = after[0] - before[0], after[1] - before[1]

    assert {r.status_code for r in responses} <= {201, 409}, Counter(r.status_code for r in responses)
    held = holdings(url)
    won: dict[str, set[int]] = defaultdict(set)
    for req, resp in zip(requests, responses, strict=True):
        user, seat = str(req["userId"]), int(str(req["seatId"]))
        if resp.status_code == 201:
            assert resp.json()["seatId"] == seat and resp.json()["userId"] == user
            won[user].add(seat)
        elif resp.json()["error"] == "SEAT_LIMIT_EXCEEDED":
            assert len(held[user]) == CAP, f"{user} was refused by the cap with {len(held[user])} seats"
        else:
            assert resp.json()["error"] == "SEAT_OCCUPIED", resp.text
            assert any(seat in s for s in held.values()), f"409 for seat {seat}, which nobody has"
    assert all(len(s) <= CAP for s in held.values()), {u: len(s) for u, s in held.items() if len(s) > CAP}
    assert dict(won) == dict(held), "every 201 is in the database, and nothing else is"
    assert sum(1 for s in held.values() if hot in s) == 1
    assert_consistent(url)
    assert claims > batches > 0, f"{claims} claims in {batches} batches: no batch held two"
    assert claims < len(requests), f"{claims} claims for {len(requests)} requests: no request shared a claim"


async def test_the_cap_holds_across_single_seat_multi_seat_and_hold_requests(
    cap_client: httpx.AsyncClient, capped: tuple[ServerProcess, str]
) -> None:
    """One user at once: a hold of two seats, a booking of two seats, eight single-seat bookings.
    Whatever the order, they end at exactly CAP seats held or booked, each answer matching."""
    _, url = capped
    user = "mix"

    def post(path: str, body: dict[str, object]) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: cap_client.post(path, json={**body, "userId": user})

    calls = [post("/api/v1/holds", {"seatIds": [101, 102]}), post("/api/v1/bookings", {"seatIds": [103, 104]})]
    calls += [post("/api/v1/bookings", {"seatId": seat}) for seat in range(111, 119)]
    for _ in range(3):
        reset_inventory(url, from_scratch=True)
        responses = await gate_all(calls)
        assert {r.status_code for r in responses} <= {201, 409}, [r.text for r in responses]
        got: set[int] = set()
        for resp in responses:
            if resp.status_code == 201:
                body = resp.json()
                got |= set(body["seatIds"]) if "seatIds" in body else {body["seatId"]}
            else:
                assert resp.json()["error"] == "SEAT_LIMIT_EXCEEDED", resp.text
        assert holdings(url) == {user: got} and len(got) == CAP
        assert_consistent(url)
