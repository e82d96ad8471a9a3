"""Change listeners (the realtime doorbell) hear every committed seat change, and only after commit."""

from __future__ import annotations

import asyncpg
import pytest

from boxoffice.booking import strategies
from boxoffice.booking.holds import HoldService
from boxoffice.booking.idempotency import Answer, IdempotencyService
from boxoffice.booking.locks import SeatLeases
from boxoffice.booking.ownership import Ownership
from boxoffice.booking.service import BookingService, CheckoutPolicy, SeatChanges
from boxoffice.domain import Caller, SeatsTaken, Strategy
from boxoffice.settings import Settings
from boxoffice.storage.db import Database
from boxoffice.storage.redis import connect as redis_client
from boxoffice.tokens import Tokens
from tests.shared import reset_checkout
from tests.support import REDIS_URL, ServerProcess


async def test_every_committed_change_rings_once_and_failures_stay_silent(
    checkout_server: ServerProcess, checkout_db: str
) -> None:
    """Runs the services in-process on the (migrated) checkout database."""
    reset_checkout(checkout_db)
    pool = await asyncpg.create_pool(checkout_db, min_size=1, max_size=2)
    assert pool is not None
    redis = redis_client(Settings(redis_url=REDIS_URL), acquire_timeout_s=2.0)
    try:
        db = Database(pool, acquire_timeout_s=2.0, pool_max=2)
        leases = SeatLeases(redis, prefix="bo-listeners:", lease_s=5, wait_s=0)
        chosen = strategies.standard(db, leases, Strategy.ATOMIC)
        policy = CheckoutPolicy(60, 120, 0)
        changes = SeatChanges()
        owners = Ownership(Tokens(Settings(session_secret="s" * 32), lambda: None))
        bookings = BookingService(db, chosen, policy, changes, owners)
        holds = HoldService(db, chosen, policy, changes, owners)
        rings: list[str] = []
        changes.subscribe(lambda: rings.append("change"))
        lia = Caller("lia", authenticated=False)

        hold = await holds.hold([1, 2], lia)
        await holds.extend(hold.token, lia)
        await holds.release(hold.token, lia)
        done = await bookings.book_seats([1, 2], lia)
        await bookings.cancel(done[0].booking_id, lia, done[0].manage_token, None)
        await bookings.book_seat(5, lia)
        assert rings == ["change"] * 6
        with pytest.raises(SeatsTaken):
            await bookings.book_seats([2, 3], Caller("max", authenticated=False))
        assert rings == ["change"] * 6, "a refused change must not ring"

        # Inside an idempotency key's transaction the ring waits for that transaction's commit.
        idempotency = IdempotencyService(db, ttl_s=60, per_user=10)
        heard_inside: list[int] = []

        async def work() -> Answer:
            await bookings.book_seat(7, lia)
            heard_inside.append(len(rings))
            return Answer(201, b"{}")

        await idempotency.once("lia", "test", "key-1", b"fp", work)
        assert heard_inside == [6] and rings == ["change"] * 7
    finally:
        await redis.aclose()
        await pool.close()
