"""The admission step: every tick a process refreshes its cache, publishes its measured health
(hold and booking p99, 503s, pool saturation) and tries to run the step of each open room.

`FOR UPDATE SKIP LOCKED` on the room's row plus its `ticked_at` make exactly one process decide per
step, whichever gets there. A step sends back admissions not fetched within the pickup time, ends
lapsed places and admissions, admits what the rate earned (AIMD on the engine's health when the
room is adaptive) and moves the room's frontier. If the store fails, nobody is admitted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime

from boxoffice.booking.waitroom.cache import RoomCache
from boxoffice.booking.waitroom.memory import VisitorMemory
from boxoffice.booking.waitroom.pacing import Aimd, Health, HealthWindow, aggregate, budget
from boxoffice.booking.waitroom.positions import next_poll_scale
from boxoffice.booking.waitroom.purchases import Purchases
from boxoffice.booking.waitroom.queue import Queue
from boxoffice.domain import BookingError
from boxoffice.observability import metrics
from boxoffice.storage import waitroom as store
from boxoffice.storage.db import Database

log = logging.getLogger(__name__)

HEALTH_WINDOW_TICKS = 3
"""The leader reads health samples this many ticks back (instances tick out of phase)."""


class AdmissionLoop:
    def __init__(
        self,
        db: Database,
        cache: RoomCache,
        memory: VisitorMemory,
        queue: Queue,
        window: HealthWindow,
        *,
        tick_s: float,
        aimd: Aimd,
        pool_saturation: Callable[[], float],
        pickup_s: float,
        purchases: Purchases | None = None,
    ) -> None:
        """`db`: the room's own small pool (a crowd exhausting the request pool must not starve the
        step that lets it in); `window`: this process's holds and bookings, the health it publishes."""
        self._db = db
        self._cache = cache
        self._memory = memory
        self._queue = queue
        self.window = window
        self.tick_s = tick_s
        self.aimd = aimd
        self._saturation = pool_saturation
        self.pickup_s = pickup_s
        self._purchases = purchases
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    async def run(self) -> None:
        """Every tick: refresh the cache, publish this process's health, run due admission steps."""
        while True:
            started = time.monotonic()
            try:
                await self.tick()
            except BookingError as exc:
                # The store is down: nothing is admitted (fail closed); try again next tick.
                log.warning("waitroom_tick_failed error=%s", type(exc).__name__)
            await asyncio.sleep(max(0.0, self.tick_s - (time.monotonic() - started)))

    async def tick(self) -> None:
        await self._cache.refresh()
        requests, unavailable, p99 = self.window.drain()
        if not self._cache.gated:
            return  # nothing to pace: no health sample is written while no on-sale is gated
        if self._purchases is not None:
            self._purchases.resume()  # admissions whose end after a purchase failed to be written
        saturation = self._saturation()
        local = Health(requests, unavailable, p99, saturation)
        self._queue.poll_scale = next_poll_scale(self._queue.poll_scale, self.aimd.degraded(local) is not None)
        await self._memory.mark_present(self._db, self._cache.rooms)
        self._memory.prune(self._cache.rooms)
        async with self._db.connection(writes=True) as conn:
            await store.publish_health(conn, self.instance, requests, unavailable, p99, saturation)
        now = datetime.now(UTC)
        for event_id in sorted(self._cache.gated):
            room = self._cache.rooms[event_id]
            if room.config.starts_at <= now:
                await self.step(event_id)

    async def step(self, event_id: int) -> int | None:
        """The admission step of one room, if due and no other process holds it: how many were admitted."""
        async with self._db.transaction() as conn:
            row = await store.lock_due(conn, event_id, self.tick_s * 0.9)
            if row is None:
                return None
            config = store.config_of(row)
            # The rate accrues from the start of the sale: a last step before it (or the configuration)
            # must not let the first step release a burst the rate never earned.
            elapsed = (row["now"] - max(row["ticked_at"], config.starts_at)).total_seconds()
            missed = await store.release_unclaimed(conn, event_id, self.pickup_s)
            expired, dropped = await store.end_lapsed(conn, event_id, config.hold_s)
            waiting, active = await store.counts(conn, event_id)
            samples = await store.recent_health(conn, self.tick_s * HEALTH_WINDOW_TICKS)
            health = aggregate([Health(r["requests"], r["unavailable"], r["p99_ms"], r["saturation"]) for r in samples])
            rate = float(row["rate_per_minute"])
            count, carry = budget(rate, elapsed, float(row["carry"]), active, config.max_active, waiting)
            admitted = await store.admit(conn, event_id, count, config.admission_ttl_s)
            waits = [waited for waited, _ in admitted]
            if config.adaptive:
                # The rate limited this step if it, not the queue or the buyer cap, stopped admissions.
                limited = waiting > len(waits) and active + len(waits) < config.max_active
                rate = self.aimd.next_rate(rate, health, config.min_per_minute, config.per_minute, limited)
            else:
                rate = float(config.per_minute)
            frontier = await store.finish_step(
                conn,
                event_id,
                rate,
                carry,
                len(waits),
                waiting - len(waits),
                active + len(waits),
                max((r for _, r in admitted), default=-1),
            )
            room = self._cache.rooms.get(event_id) if self._cache.loaded else None
            if room is not None:
                room.rate = rate
                room.frontier = frontier
            if waits:
                self._memory.drop_queue(event_id)  # those admitted no longer count as ahead of anyone
        metrics.WAITROOM_ADMITTED.inc(len(waits))
        metrics.WAITROOM_ENDED.labels("dropped").inc(dropped)
        metrics.WAITROOM_ENDED.labels("expired").inc(expired)
        metrics.WAITROOM_ENDED.labels("missed").inc(missed)
        for waited in waits:
            metrics.WAITROOM_WAIT.observe(waited)
        reason = self.aimd.degraded(health)
        if reason is not None:
            metrics.WAITROOM_BACKOFFS.labels(reason).inc()
        log.debug(
            "waitroom_step event=%s admitted=%s waiting=%s active=%s elapsed_s=%.2f rate=%.0f p99_ms=%s"
            " saturation=%.2f requests=%s unavailable=%s",
            event_id,
            len(waits),
            waiting,
            active,
            elapsed,
            rate,
            health.p99_ms,
            health.saturation,
            health.requests,
            health.unavailable,
        )
        return len(waits)
