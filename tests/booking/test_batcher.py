"""Group commit and single-flight against a real PostgreSQL, with batch composition under control.

Claims submitted in one event-loop turn form one batch (the batch task starts on the next turn),
so these tests know exactly which claims shared a statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import asyncpg
import psycopg
import pytest
from prometheus_client import REGISTRY

from boxoffice.booking.batcher import ClaimBatcher, SingleFlight
from boxoffice.booking.strategies import claim_alone
from boxoffice.domain import (
    Booking,
    DatabaseBusy,
    Seat,
    SeatLimitExceeded,
    SeatNotFound,
    SeatOccupied,
    SeatStatus,
    Strategy,
)
from boxoffice.layouts import Layout
from boxoffice.settings import Settings
from boxoffice.storage import migrate
from boxoffice.storage.db import Database, create_pool
from boxoffice.storage.seed import seed
from tests.helpers import assert_consistent, rows
from tests.support import fresh_database

ATOMIC = Strategy.ATOMIC


@pytest.fixture
async def seated() -> AsyncIterator[tuple[str, Database]]:
    """A migrated database with 100 seats and a pool with a short lock timeout."""
    with fresh_database("bo_batch") as url:
        migrate.upgrade(url)
        conn = await asyncpg.connect(url)
        try:
            await seed(conn, Layout.grid(5, 20))
        finally:
            await conn.close()
        settings = Settings(database_url=url, db_lock_timeout_ms=300, db_pool_max=8)
        pool = await create_pool(settings, url)
        try:
            yield url, Database(pool, acquire_timeout_s=5, pool_max=8)
        finally:
            await pool.close()


def retries(reason: str) -> float:
    return REGISTRY.get_sample_value("booking_batch_retries_total", {"reason": reason}) or 0.0


def batches() -> tuple[float, float]:
    """(batches sent, claims in them) so far in this process."""
    count = REGISTRY.get_sample_value("booking_batch_size_count") or 0.0
    total = REGISTRY.get_sample_value("booking_batch_size_sum") or 0.0
    return count, total


async def claim_all(batcher: ClaimBatcher, claims: list[tuple[int, str]]) -> list[Booking | BaseException]:
    """Submit every claim in the same turn of the loop: they go out as one batch."""
    return await asyncio.gather(*(batcher.claim(seat, user, ATOMIC) for seat, user in claims), return_exceptions=True)


async def test_one_batch_claims_many_seats_and_the_first_of_a_duplicate_wins(seated: tuple[str, Database]) -> None:
    url, db = seated
    batcher = ClaimBatcher(db, claim_alone(db), max_batch=256, max_in_flight=1)
    before = batches()
    claims = [(seat, f"u{seat}") for seat in range(1, 21)] + [(5, "second"), (999, "nobody")]
    outcomes = await claim_all(batcher, claims)
    after = batches()

    for (seat, user), outcome in zip(claims[:20], outcomes[:20], strict=True):
        assert isinstance(outcome, Booking), outcome
        assert (outcome.seat.id, outcome.seat.booked_by) == (seat, user)
    assert isinstance(outcomes[20], SeatOccupied), "the duplicate rides on the first claim of seat 5 and loses"
    assert isinstance(outcomes[21], SeatNotFound)
    # One statement for the 20 distinct seats and the unknown one; the duplicate sent nothing.
    assert after[0] - before[0] == 1 and after[1] - before[1] == 21
    assert {r["seat_id"]: r["user_id"] for r in rows(url, "SELECT seat_id, user_id FROM bookings")} == {
        seat: f"u{seat}" for seat in range(1, 21)
    }
    assert len(rows(url, "SELECT seq FROM seat_events")) == 20
    assert_consistent(url)


async def test_a_bad_row_fails_its_batch_and_the_others_still_succeed(seated: tuple[str, Database]) -> None:
    """Seat 7 looks free but has an active booking row (inconsistent data): the batch statement
    hits the unique index and commits nothing; every claim is retried alone, so only seat 7 loses."""
    url, db = seated
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO bookings (seat_id, user_id, strategy) VALUES (7, 'ghost', 'ATOMIC')")
    batcher = ClaimBatcher(db, claim_alone(db), max_batch=256, max_in_flight=1)
    refused = retries("refused")
    claims = [(seat, f"u{seat}") for seat in range(1, 13)]
    outcomes = await claim_all(batcher, claims)

    assert retries("refused") - refused == len(claims), "the whole batch was refused, then retried alone"
    for (seat, user), outcome in zip(claims, outcomes, strict=True):
        if seat == 7:
            assert isinstance(outcome, SeatOccupied), outcome
        else:
            assert isinstance(outcome, Booking) and outcome.seat.booked_by == user, outcome
    booked = {r["id"] for r in rows(url, "SELECT id FROM seats WHERE status = 'BOOKED'")}
    assert booked == set(range(1, 13)) - {7}
    assert rows(url, "SELECT user_id FROM bookings WHERE seat_id = 7") == [{"user_id": "ghost"}]


async def test_a_locked_seat_does_not_stall_its_batch_and_gets_busy_not_409(seated: tuple[str, Database]) -> None:
    """Another transaction holds seat 3's row lock: the batch skips it and commits the others at
    once; seat 3 is claimed alone, waits out lock_timeout and is told 'busy' (503), never 409, and
    so are the claims of seat 3 that rode on it."""
    url, db = seated
    batcher = ClaimBatcher(db, claim_alone(db), max_batch=256, max_in_flight=1)
    locked = retries("locked")
    with psycopg.connect(url) as holder:
        holder.execute("SELECT id FROM seats WHERE id = 3 FOR UPDATE")
        others = [asyncio.ensure_future(batcher.claim(seat, f"u{seat}", ATOMIC)) for seat in (1, 2, 4, 5)]
        # Three claims of the locked seat: the first is sent, its twins share its outcome.
        blocked = [asyncio.ensure_future(batcher.claim(3, f"u3-{i}", ATOMIC)) for i in range(3)]
        done = await asyncio.gather(*others)
        assert all(isinstance(b, Booking) for b in done)
        answers = await asyncio.gather(*blocked, return_exceptions=True)
        assert all(isinstance(a, DatabaseBusy) for a in answers), answers
        holder.rollback()
    assert retries("locked") - locked == 1
    assert {r["id"] for r in rows(url, "SELECT id FROM seats WHERE status = 'BOOKED'")} == {1, 2, 4, 5}
    # The seat was never taken: claiming it now succeeds.
    assert isinstance(await batcher.claim(3, "later", ATOMIC), Booking)
    assert_consistent(url)


async def test_a_cancelled_request_claims_nothing(seated: tuple[str, Database]) -> None:
    """A claim whose request went away before its batch left is dropped, not booked for nobody."""
    url, db = seated
    batcher = ClaimBatcher(db, claim_alone(db), max_batch=256, max_in_flight=1)
    gone = asyncio.ensure_future(batcher.claim(9, "gone", ATOMIC))
    kept = asyncio.ensure_future(batcher.claim(10, "kept", ATOMIC))
    await asyncio.sleep(0)  # both are pending; the batch task has not run yet
    gone.cancel()
    assert isinstance(await kept, Booking)
    assert rows(url, "SELECT seat_id FROM bookings") == [{"seat_id": 10}]


def failing(exc: BaseException, calls: list[str], gate: asyncio.Event) -> Callable[[], Awaitable[Booking]]:
    async def call() -> Booking:
        calls.append("call")
        await gate.wait()
        raise exc

    return call


@pytest.mark.parametrize("failure", [DatabaseBusy("lock timeout"), RuntimeError("a bug")])
async def test_followers_of_a_failed_leader_never_get_409(failure: Exception) -> None:
    """The leader's call failed without learning anything about the seat: its followers retry
    (and here fail the same way), none is told the seat is taken."""
    flights = SingleFlight()
    calls: list[str] = []
    gate = asyncio.Event()
    call = failing(failure, calls, gate)
    tasks = [asyncio.ensure_future(flights.run(1, ATOMIC, call)) for _ in range(20)]
    await asyncio.sleep(0)
    assert calls == ["call"], "one leader, 19 followers"
    gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(type(r) is type(failure) for r in results), results
    assert not any(isinstance(r, SeatOccupied) for r in results)
    assert len(calls) == 20, "the leader's call, then each follower's own"


def booking(seat_id: int) -> Booking:
    seat = Seat(seat_id, "A1", "Main", "A", 1, 1, SeatStatus.BOOKED, "leader", datetime.now(UTC), 1)
    return Booking(booking_id=1, seat=seat, strategy=ATOMIC, sequence=1)


@pytest.mark.parametrize("answer", [booking(4), SeatNotFound(4)])
async def test_followers_share_the_leaders_answer(answer: Booking | Exception) -> None:
    """A winning leader: every follower gets 409 without a call of its own; a 404: the same 404."""
    flights = SingleFlight()
    gate = asyncio.Event()
    calls: list[str] = []

    async def call() -> Booking:
        calls.append("call")
        await gate.wait()
        if isinstance(answer, Exception):
            raise answer
        return answer

    tasks = [asyncio.ensure_future(flights.run(4, ATOMIC, call)) for _ in range(10)]
    await asyncio.sleep(0)
    gate.set()
    leader, *followers = await asyncio.gather(*tasks, return_exceptions=True)
    assert calls == ["call"]
    assert leader is answer
    if isinstance(answer, Booking):
        assert all(isinstance(r, SeatOccupied) and str(r) == "Seat 4 is already booked" for r in followers)
    else:
        assert all(type(r) is SeatNotFound and str(r) == "Seat 4 does not exist" for r in followers)
        assert len({id(r) for r in followers}) == 9, "each request raises its own exception object"


# --- the per-user seat cap inside a batch ---------------------------------------------------------

CAP = 3


async def claim_capped(batcher: ClaimBatcher, claims: list[tuple[int, str]]) -> list[Booking | BaseException]:
    """Like `claim_all`, every claim capped at CAP seats per user and event."""
    return await asyncio.gather(
        *(batcher.claim(seat, user, ATOMIC, CAP) for seat, user in claims), return_exceptions=True
    )


async def test_a_capped_batch_decides_each_claim_as_if_made_one_by_one(seated: tuple[str, Database]) -> None:
    """One statement: `ana` asks six seats (one of them taken) and gets the first three free ones in
    seat order; the taken seat is a 409 (she was under the cap then), the rest are over the cap.
    `bo` already has three seats (two booked, one held) and is refused; `cy` is untouched by both."""
    url, db = seated
    batcher = ClaimBatcher(db, claim_alone(db), max_batch=256, max_in_flight=1)
    await claim_all(batcher, [(2, "x"), (30, "bo"), (31, "bo")])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "UPDATE seats SET status = 'HELD', held_by = 'bo', hold_token = gen_random_uuid(),"
            " held_until = now() + interval '1 hour' WHERE id = 32"
        )
    before = batches()
    claims = [(seat, "ana") for seat in range(1, 7)] + [(40, "bo"), (41, "cy")]
    outcomes = await claim_capped(batcher, claims)
    after = batches()

    assert after[0] - before[0] == 1, "one batch, capped claims included"
    won = {seat for (seat, _), o in zip(claims, outcomes, strict=True) if isinstance(o, Booking)}
    assert won == {1, 3, 4, 41}
    assert isinstance(outcomes[1], SeatOccupied)
    for over in (outcomes[4], outcomes[5]):
        assert isinstance(over, SeatLimitExceeded) and over.limit == CAP, over
        assert str(over).endswith("you already have 3 held or booked")
    assert isinstance(outcomes[6], SeatLimitExceeded) and "you already have 3" in str(outcomes[6])
    assert rows(url, "SELECT seat_id FROM bookings WHERE user_id = 'ana' ORDER BY seat_id") == [
        {"seat_id": s} for s in (1, 3, 4)
    ]
    assert rows(url, "SELECT seat_id FROM bookings WHERE user_id = 'bo' AND seat_id = 40") == []
    assert_consistent(url)


async def test_a_user_whose_lock_is_held_costs_a_wait_never_a_wrong_answer(seated: tuple[str, Database]) -> None:
    """Another transaction holds `dan`'s cap lock (a multi-seat booking of his in progress) past
    lock_timeout: his batch is refused after that wait, committing nothing; every claim is then made
    alone: the others win their seats, dan's get 503 (busy), never a 409 or a seat over his cap."""
    url, db = seated
    batcher = ClaimBatcher(db, claim_alone(db), max_batch=256, max_in_flight=1)
    refused = retries("refused")
    with psycopg.connect(url) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(hashtextextended('boxoffice-user:' || 'dan', 0))")
        others = [asyncio.ensure_future(batcher.claim(seat, f"u{seat}", ATOMIC, CAP)) for seat in (11, 12, 13)]
        his = [asyncio.ensure_future(batcher.claim(seat, "dan", ATOMIC, CAP)) for seat in (14, 15)]
        assert all(isinstance(b, Booking) for b in await asyncio.gather(*others))
        answers = await asyncio.gather(*his, return_exceptions=True)
        assert all(isinstance(a, DatabaseBusy) for a in answers), answers
        holder.rollback()
    assert retries("refused") - refused == 5
    assert isinstance(await batcher.claim(14, "dan", ATOMIC, CAP), Booking)
    assert_consistent(url)


async def test_a_twin_of_an_over_cap_claim_gets_its_own_claim(seated: tuple[str, Database]) -> None:
    """`eve` is at her cap; her claim of seat 50 is first in the batch and `fay` rides on it. Eve's
    refusal says nothing about the seat: fay's claim goes out next and wins."""
    url, db = seated
    batcher = ClaimBatcher(db, claim_alone(db), max_batch=256, max_in_flight=1)
    await claim_all(batcher, [(60, "eve"), (61, "eve"), (62, "eve")])
    eve, fay = await claim_capped(batcher, [(50, "eve"), (50, "fay")])
    assert isinstance(eve, SeatLimitExceeded)
    assert isinstance(fay, Booking) and fay.seat.booked_by == "fay"
    assert rows(url, "SELECT user_id FROM bookings WHERE seat_id = 50") == [{"user_id": "fay"}]


async def test_a_refused_capped_batch_retries_alone_with_the_cap(seated: tuple[str, Database]) -> None:
    """A bad row (seat 70, within gus's first three) fails the capped batch; the retries alone still
    enforce the cap exactly."""
    url, db = seated
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO bookings (seat_id, user_id, strategy) VALUES (70, 'ghost', 'ATOMIC')")
    batcher = ClaimBatcher(db, claim_alone(db), max_batch=256, max_in_flight=1)
    refused = retries("refused")
    claims = [(seat, "gus") for seat in range(70, 80)]
    outcomes = await claim_capped(batcher, claims)
    assert retries("refused") - refused == len(claims)
    # Alone, gus's claims queue on his lock; on a busy machine one may outwait lock_timeout (503).
    won = [o for o in outcomes if isinstance(o, Booking)]
    busy = sum(isinstance(o, DatabaseBusy) for o in outcomes)
    assert len(won) == CAP or (busy and len(won) < CAP), outcomes
    assert isinstance(outcomes[0], SeatOccupied | SeatLimitExceeded | DatabaseBusy), "seat 70 has a booking row"
    assert all(isinstance(o, Booking | SeatLimitExceeded | DatabaseBusy) for o in outcomes[1:]), outcomes
    booked = rows(url, "SELECT id FROM seats WHERE booked_by = 'gus' AND status = 'BOOKED' ORDER BY id")
    assert [r["id"] for r in booked] == sorted(b.seat.id for b in won)


async def test_followers_of_a_leader_over_its_cap_claim_on_their_own() -> None:
    """The leader's user was over the cap: the seat may be free, so no follower is told 409."""
    flights = SingleFlight()
    calls: list[str] = []
    gate = asyncio.Event()

    async def call() -> Booking:
        calls.append("call")
        if len(calls) == 1:
            await gate.wait()
            raise SeatLimitExceeded(CAP, CAP)
        return booking(8)

    tasks = [asyncio.ensure_future(flights.run(8, ATOMIC, call)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    leader, *followers = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(leader, SeatLimitExceeded)
    assert not any(isinstance(r, SeatOccupied | SeatLimitExceeded) for r in followers), followers
    assert len(calls) == 5, "each follower made its own claim"
