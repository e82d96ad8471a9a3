"""Change listeners (the realtime doorbell) hear every committed seat change, not only bookings."""

from __future__ import annotations

import asyncpg
import pytest

from boxoffice.booking.checkout import CheckoutPolicy, CheckoutService
from boxoffice.booking.service import BookingService
from boxoffice.booking.strategies import AtomicStrategy, BookingStrategy
from boxoffice.domain import SeatsTaken, Strategy
from tests.shared import reset_checkout
from tests.support import ServerProcess


async def test_every_committed_change_rings_once_and_failures_stay_silent(
    checkout_server: ServerProcess, checkout_db: str
) -> None:
    """Runs the services in-process on the (migrated) checkout database."""
    reset_checkout(checkout_db)
    pool = await asyncpg.create_pool(checkout_db, min_size=1, max_size=2)
    assert pool is not None
    try:
        strategies: dict[Strategy, BookingStrategy] = {Strategy.ATOMIC: AtomicStrategy(pool, 2.0)}
        booking = BookingService(pool, strategies, Strategy.ATOMIC, 2.0)
        checkout = CheckoutService(pool, booking, CheckoutPolicy(60, 120, 0), 2.0)
        rings: list[str] = []
        booked: list[int] = []
        booking.on_seats_changed(lambda: rings.append("change"))
        booking.on_booked(lambda b: booked.append(b.seat.id))

        hold = await checkout.hold([1, 2], "lia")
        await checkout.extend(hold.token, "lia")
        await checkout.release(hold.token, "lia")
        done = await checkout.book([1, 2], "lia")
        await checkout.cancel(done[0].booking_id, "lia", None)
        assert rings == ["change"] * 5 and booked == [1, 2]
        with pytest.raises(SeatsTaken):
            await checkout.book([2, 3], "max")
        assert rings == ["change"] * 5, "a refused change must not ring"
    finally:
        await pool.close()
