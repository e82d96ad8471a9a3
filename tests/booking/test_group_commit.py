"""Group commit and single-flight through a real two-worker server: races, then the database and
every client's answer are checked against each other."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import psycopg
import pytest

from tests.helpers import assert_consistent, race, rows
from tests.observability.helpers import scrape, value
from tests.support import LOAD_LIMITS_OFF, ServerFactory, ServerProcess, reset_inventory

HOT = 250
LOCK_TIMEOUT_MS = 400


@pytest.fixture(scope="module")
def grouped(module_servers: ServerFactory) -> tuple[ServerProcess, str]:
    url = module_servers.database("bo_group")
    server = module_servers(
        "--workers",
        "2",
        database_url=url,
        seed_rows=10,
        seed_cols=30,
        db_pool_max=10,
        db_lock_timeout_ms=LOCK_TIMEOUT_MS,
        settings=LOAD_LIMITS_OFF,
    )
    return server, url


@pytest.fixture
async def gc_client(grouped: tuple[ServerProcess, str]) -> AsyncIterator[httpx.AsyncClient]:
    server, url = grouped
    reset_inventory(url, from_scratch=True)
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as client:
        yield client


def batch_totals(base_url: str) -> tuple[float, float]:
    """(batches, claims sent in them), summed over both workers."""
    samples = scrape(base_url)
    return value(samples, "booking_batch_size_count"), value(samples, "booking_batch_size_sum")


async def test_spread_and_hot_seat_race_through_group_commit(
    gc_client: httpx.AsyncClient, grouped: tuple[ServerProcess, str]
) -> None:
    server, url = grouped
    rng = random.Random(7)
    requests: list[dict[str, object]] = [{"seatId": rng.randint(1, 200), "userId": f"s-{i}"} for i in range(900)]
    requests += [{"seatId": HOT, "userId": f"h-{i}"} for i in range(300)]
    rng.shuffle(requests)
    batches_before, claims_before = batch_totals(server.base_url)
    responses = await race(gc_client, requests, concurrency=200)
    batches_after, claims_after = batch_totals(server.base_url)
    batches, claims = batches_after - batches_before, claims_after - claims_before

    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {201, 409}, statuses
    winners: dict[int, str] = {}
    refused: list[tuple[int, str]] = []
    for req, resp in zip(requests, responses, strict=True):
        seat, user = int(str(req["seatId"])), str(req["userId"])
        if resp.status_code == 201:
            assert seat not in winners, f"seat {seat} answered 201 twice"
            winners[seat] = user
            assert resp.json()["seatId"] == seat and resp.json()["userId"] == user
        else:
            assert resp.json()["error"] == "SEAT_OCCUPIED"
            refused.append((seat, user))
    assert set(winners) == {int(str(r["seatId"])) for r in requests}, "every requested seat has exactly one winner"
    assert sum(1 for r in requests if r["seatId"] == HOT) == 300 and HOT in winners

    # Every 201 is in the database, and nothing else is; every 409 went to someone else's seat.
    booked = {r["id"]: r["booked_by"] for r in rows(url, "SELECT id, booked_by FROM seats WHERE status = 'BOOKED'")}
    assert booked == winners
    bookings = rows(url, "SELECT seat_id, user_id FROM bookings WHERE status = 'CONFIRMED'")
    assert {b["seat_id"]: b["user_id"] for b in bookings} == winners and len(bookings) == len(winners)
    assert len(rows(url, "SELECT seq FROM seat_events")) == len(winners), "one outbox row per booking"
    assert all(booked[seat] != user for seat, user in refused)
    assert_consistent(url)

    # Claims shared statements (group commit), and hot-seat followers never sent one (single-flight).
    assert claims > batches, f"{claims} claims in {batches} batches: no batch held two"
    assert claims < len(requests), f"{claims} claims for {len(requests)} requests: no request shared a claim"


async def test_one_seat_baskets_race_through_group_commit_with_multi_seat_answers(
    gc_client: httpx.AsyncClient, grouped: tuple[ServerProcess, str]
) -> None:
    """`{"seatIds": [x]}` (a basket of one, as the seat map sends it) takes the single-seat claim:
    batched and single-flight, yet answered as a multi-seat request (a list; 409 SEATS_TAKEN)."""
    server, url = grouped
    rng = random.Random(11)
    picks = [rng.randint(1, 120) for _ in range(400)] + [HOT] * 200
    rng.shuffle(picks)
    requests: list[dict[str, object]] = [{"seatIds": [seat], "userId": f"b-{i}"} for i, seat in enumerate(picks)]
    batches_before, claims_before = batch_totals(server.base_url)
    responses = await race(gc_client, requests, concurrency=200)
    batches_after, claims_after = batch_totals(server.base_url)
    winners: dict[int, str] = {}
    for seat, req, resp in zip(picks, requests, responses, strict=True):
        if resp.status_code == 201:
            assert seat not in winners, f"seat {seat} answered 201 twice"
            (booking,) = resp.json()["bookings"]
            assert booking["seatId"] == seat and booking["userId"] == req["userId"]
            winners[seat] = str(req["userId"])
        else:
            assert resp.status_code == 409 and resp.json()["error"] == "SEATS_TAKEN", resp.text
            assert resp.json()["seatIds"] == [seat]
    assert set(winners) == set(picks)
    booked = {r["id"]: r["booked_by"] for r in rows(url, "SELECT id, booked_by FROM seats WHERE status = 'BOOKED'")}
    assert booked == winners
    assert_consistent(url)
    batches, claims = batches_after - batches_before, claims_after - claims_before
    assert claims > batches, f"{claims} claims in {batches} batches: no batch held two"
    assert claims < len(requests), "hot-seat followers shared their leader's claim"


async def test_a_locked_seat_answers_busy_and_never_409(
    gc_client: httpx.AsyncClient, grouped: tuple[ServerProcess, str]
) -> None:
    """A transaction holds seat 280's row lock: bookings of other seats succeed meanwhile (their
    batches skip the locked row); every request for seat 280, single-flight followers included,
    gets 503 DATABASE_BUSY after lock_timeout, not a 409 for a seat nobody booked."""
    server, url = grouped
    locked_before = value(scrape(server.base_url), "booking_batch_retries_total", reason="locked")
    requests: list[dict[str, object]] = [{"seatId": 280, "userId": f"l-{i}"} for i in range(10)]
    requests += [{"seatId": seat, "userId": f"o-{seat}"} for seat in range(1, 41)]
    with psycopg.connect(url) as holder:
        holder.execute("SELECT id FROM seats WHERE id = 280 FOR UPDATE")
        responses = await race(gc_client, requests)
        holder.rollback()
    for req, resp in zip(requests, responses, strict=True):
        if req["seatId"] == 280:
            assert resp.status_code == 503, resp.text
            assert resp.json()["error"] == "DATABASE_BUSY" and resp.headers["retry-after"]
        else:
            assert resp.status_code == 201, resp.text
    assert value(scrape(server.base_url), "booking_batch_retries_total", reason="locked") > locked_before
    assert rows(url, "SELECT status FROM seats WHERE id = 280") == [{"status": "AVAILABLE"}]
    retry = await gc_client.post("/api/v1/bookings", json={"seatId": 280, "userId": "patient"})
    assert retry.status_code == 201
    assert_consistent(url)


async def test_a_bad_row_costs_only_its_own_claim(
    gc_client: httpx.AsyncClient, grouped: tuple[ServerProcess, str]
) -> None:
    """Seat 290 looks free but an active booking row exists (corrupt data): a batch holding it is
    refused by the unique index; its other claims are retried alone and succeed."""
    _, url = grouped
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO bookings (seat_id, user_id, strategy) VALUES (290, 'ghost', 'ATOMIC')")
    requests: list[dict[str, object]] = [{"seatId": seat, "userId": f"b-{seat}"} for seat in range(201, 241)]
    requests.insert(20, {"seatId": 290, "userId": "victim"})
    responses = await race(gc_client, requests)
    for req, resp in zip(requests, responses, strict=True):
        expected = 409 if req["seatId"] == 290 else 201
        assert resp.status_code == expected, resp.text
    booked = {r["id"] for r in rows(url, "SELECT id FROM seats WHERE status = 'BOOKED'")}
    assert booked == set(range(201, 241))
    assert rows(url, "SELECT user_id FROM bookings WHERE seat_id = 290") == [{"user_id": "ghost"}]
