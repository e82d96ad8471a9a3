"""The booking use case: pick the strategy, claim, tell listeners."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from boxoffice.booking.strategies import BookingStrategy
from boxoffice.domain import DEFAULT_EVENT_ID, Booking, Inventory, Strategy
from boxoffice.observability.metrics import record_booking
from boxoffice.storage import seats
from boxoffice.storage.db import Pool, connection

BookedListener = Callable[[Booking], None]
ChangeListener = Callable[[], None]


class BookingService:
    def __init__(
        self,
        pool: Pool,
        strategies: Mapping[Strategy, BookingStrategy],
        default: Strategy,
        acquire_timeout_s: float,
    ) -> None:
        self._pool = pool
        self._strategies = dict(strategies)
        self.default = default
        self._acquire_timeout_s = acquire_timeout_s
        self._listeners: list[BookedListener] = []
        self._change_listeners: list[ChangeListener] = []
        self._sequence_floor: Callable[[], int | None] | None = None

    def on_booked(self, listener: BookedListener) -> None:
        """Listeners run after commit; they must not block (the outbox makes them best-effort)."""
        self._listeners.append(listener)

    async def book(self, seat_id: int, user_id: str, strategy: Strategy | None = None) -> Booking:
        chosen = strategy or self.default
        with record_booking(chosen):
            booking = await self._strategies[chosen].book(seat_id, user_id)
        self.notify([booking])
        return booking

    def strategy(self, strategy: Strategy | None = None) -> BookingStrategy:
        return self._strategies[strategy or self.default]

    def on_seats_changed(self, listener: ChangeListener) -> None:
        """Called after any committed seat change (bookings, holds, releases, cancellations, sweeps),
        e.g. to ring the outbox relay's doorbell; must not block."""
        self._change_listeners.append(listener)

    def notify(self, bookings: list[Booking]) -> None:
        """Tell listeners about committed bookings (callers with their own transaction call it after commit)."""
        for booking in bookings:
            for listener in self._listeners:
                listener(booking)
        if bookings:
            self.changed()

    def changed(self) -> None:
        for listener in self._change_listeners:
            listener()

    def sequence_floor(self, floor: Callable[[], int | None]) -> None:
        """Where the real-time relay has settled the outbox; snapshots then report a resume point."""
        self._sequence_floor = floor

    async def inventory(self, event_id: int = DEFAULT_EVENT_ID) -> Inventory:
        # Read the floor before the snapshot starts: everything settled below it is then visible.
        floor = self._sequence_floor() if self._sequence_floor else None
        async with connection(self._pool, self._acquire_timeout_s) as conn:
            return await seats.inventory(conn, event_id, floor)
