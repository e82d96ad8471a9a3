"""The Redis lease is an optimisation; the database stays the arbiter."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import psycopg
import pytest
from redis.asyncio import Redis

from boxoffice.booking.locks import SeatLeases
from boxoffice.booking.strategies import RedisLockStrategy
from boxoffice.domain import SeatOccupied, Strategy
from boxoffice.settings import Settings
from boxoffice.storage import seats
from boxoffice.storage.db import Database, create_pool
from boxoffice.storage.migrate import upgrade
from boxoffice.storage.redis import connect as redis_client
from tests.helpers import eventually
from tests.support import REDIS_URL, ServerFactory, free_port, fresh_database


async def expired(redis: Redis, key: str) -> bool:
    return await redis.exists(key) == 0


@pytest.fixture
def seeded_url() -> Iterator[str]:
    with fresh_database() as url:
        upgrade(url)
        with psycopg.connect(url) as conn:
            conn.execute(
                "INSERT INTO seats (seat_number, section, row_label, row_idx, col_idx)"
                " SELECT 'A' || c, 'Main', 'A', 1, c FROM generate_series(1, 10) AS c"
            )
        yield url


@pytest.fixture
async def db(seeded_url: str) -> AsyncIterator[Database]:
    p = await create_pool(Settings(database_url=seeded_url), seeded_url)
    yield Database(p, acquire_timeout_s=2, pool_max=20)
    await p.close()


async def test_expired_lease_holder_cannot_double_book(seeded_url: str, db: Database) -> None:
    settings = Settings(database_url=seeded_url, redis_url=REDIS_URL)
    redis = redis_client(settings, acquire_timeout_s=settings.db_acquire_timeout_s)
    prefix = f"bo-test-{uuid.uuid4().hex[:8]}:"
    # Two instances share Redis; the first is "paused" past its 200 ms lease.
    stale = SeatLeases(redis, prefix=prefix, lease_s=0.2, wait_s=0)
    fresh = SeatLeases(redis, prefix=prefix, lease_s=5, wait_s=0)
    newcomer = RedisLockStrategy(db, fresh)
    try:
        async with stale.hold(5) as held:
            assert held
            # The pause: the holder does nothing until its lease has expired.
            await eventually(lambda: expired(redis, stale.key(5)), what="the stale lease to expire")
            async with fresh.hold(6) as other_held:  # unrelated seat: leases are per seat
                assert other_held
            booking = await newcomer.book(5, "newcomer")
            assert booking.seat.booked_by == "newcomer"
            async with fresh.hold(5) as newcomer_holds:
                assert newcomer_holds
                # The stale holder resumes and writes: the conditional write refuses it.
                with pytest.raises(SeatOccupied):
                    async with db.connection() as conn:
                        await seats.claim(conn, 5, "stale-holder", Strategy.REDIS)
                # Its release must not delete the newcomer's lease (token-checked compare-and-delete).
                key = stale.key(5)
            assert await redis.exists(key) == 0, "newcomer released its own lease"
        assert stale.stats.lost == 1, "the expired lease is counted"
        assert fresh.stats.lost == 0
    finally:
        await redis.aclose()

    with psycopg.connect(seeded_url) as conn:
        rows = conn.execute("SELECT seat_id, user_id FROM bookings WHERE status = 'CONFIRMED'").fetchall()
    assert rows == [(5, "newcomer")]


async def test_stale_release_keeps_newer_lease(seeded_url: str) -> None:
    """A holder whose lease expired releases after a newer holder took over: the newer lease survives."""
    redis = redis_client(Settings(database_url=seeded_url, redis_url=REDIS_URL), acquire_timeout_s=2.0)
    prefix = f"bo-test-{uuid.uuid4().hex[:8]}:"
    stale = SeatLeases(redis, prefix=prefix, lease_s=0.1, wait_s=0)
    fresh = SeatLeases(redis, prefix=prefix, lease_s=5, wait_s=0)
    fresh_ctx = fresh.hold(2)
    try:
        async with stale.hold(2) as held:
            assert held
            await eventually(lambda: expired(redis, stale.key(2)), what="the stale lease to expire")
            assert await fresh_ctx.__aenter__()
            newer = await redis.get(stale.key(2))
            assert newer is not None
        assert await redis.get(stale.key(2)) == newer, "stale release left the newer lease alone"
        assert stale.stats.lost == 1
        await fresh_ctx.__aexit__(None, None, None)
        assert await redis.get(stale.key(2)) is None, "the owner's own release works"
    finally:
        await redis.aclose()


def test_redis_down_is_503_and_other_strategies_still_work(server_factory: ServerFactory) -> None:
    url = server_factory.database()
    srv = server_factory(database_url=url, redis_url=f"redis://127.0.0.1:{free_port()}/0", default_strategy="REDIS")
    with httpx.Client(base_url=srv.base_url, timeout=30) as c:
        for body in ({"seatId": 1, "userId": "u"}, {"seatId": 1, "userId": "u", "strategy": "REDIS"}):
            resp = c.post("/api/v1/bookings", json=body)
            assert resp.status_code == 503, resp.text
            assert resp.headers["retry-after"] == "1"
            assert resp.json()["error"] == "REDIS_UNAVAILABLE"
            assert "Redis is unavailable" in resp.json()["message"]
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM bookings").fetchone() == (0,)
        assert c.post("/api/v1/bookings", json={"seatId": 1, "userId": "u", "strategy": "ATOMIC"}).status_code == 201
        assert c.post("/api/v1/bookings", json={"seatId": 2, "userId": "u", "strategy": "DB"}).status_code == 201
        resp = c.post("/api/v1/bookings", json={"seatId": 1, "userId": "v", "strategy": "DB"})
        assert resp.status_code == 409
