"""A purchase ends the buyer's turn: its admission slot goes to the next in line at the next step.

Called once a booking's answer is final (its transaction committed: `Api.purchased`), never inside
the claim's transaction. The admissions of the buyers to gated events are ended as a leave would
end them (`LEFT`, a new revision: every process refuses their tokens from its next refresh, this
one at once). The write goes out in the background, a batch per statement, so it neither delays a
201 nor can turn it into an error. A failed write is logged and counted
(`waitroom_purchase_end_failures_total`) and retried at the next ticks; after `ATTEMPTS` it is
given up, and that slot frees when its admission expires, as it would without this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from boxoffice.booking.waitroom.cache import RoomCache
from boxoffice.observability import metrics
from boxoffice.storage import waitroom as store
from boxoffice.storage.db import Database

log = logging.getLogger(__name__)

ATTEMPTS = 5
"""Writes of one buyer's end before it is given up (the first at once, then one per tick)."""
MAX_PENDING = 100_000
"""Ends waiting to be written, at most (bounds memory while the store is down); more are given up."""


class Purchases:
    def __init__(self, db: Database, cache: RoomCache) -> None:
        """`db`: the room's own small pool (the writes never take a connection from the bookings')."""
        self._db = db
        self._cache = cache
        self._pending: dict[tuple[int, str], int] = {}
        """(event, user) -> failed attempts so far."""
        self._writer: asyncio.Task[None] | None = None

    def bought(self, buyers: Iterable[tuple[int, str]]) -> None:
        """These (event, user) buyers have bookings: end their admissions to gated events, soon."""
        for buyer in buyers:
            if buyer[0] not in self._cache.gated or buyer in self._pending:
                continue
            if len(self._pending) >= MAX_PENDING:
                metrics.WAITROOM_PURCHASE_END_FAILURES.inc()
                continue
            self._pending[buyer] = 0
        self.resume()

    def resume(self) -> None:
        """Write what failed before, unless a write is under way (the tick calls this)."""
        if self._pending and self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    @property
    def pending(self) -> int:
        return len(self._pending)

    def ending(self, event_id: int, user_id: str) -> bool:
        """This buyer's admission is being ended: its token is refused already (any token it holds
        was issued before the purchase: its row is still the same admission until the write)."""
        return (event_id, user_id) in self._pending

    async def _drain(self) -> None:
        try:
            while self._pending and await self.flush():
                pass  # ends that arrived while a batch was being written go out next
        finally:
            self._writer = None

    async def flush(self) -> bool:
        """Write the pending ends in one statement: False if the store failed (kept for the next tick)."""
        if not self._pending:
            return True
        batch = sorted(self._pending)
        try:
            async with self._db.connection(writes=True) as conn:
                rows = await store.end_purchased(conn, batch)
        except Exception as exc:  # any failure: the purchases stand, the slots free later
            metrics.WAITROOM_PURCHASE_END_FAILURES.inc(len(batch))
            given_up = 0
            for buyer in batch:
                tries = self._pending.get(buyer)
                if tries is None:
                    continue
                if tries + 1 >= ATTEMPTS:
                    del self._pending[buyer]
                    given_up += 1
                else:
                    self._pending[buyer] = tries + 1
            log.warning("waitroom_purchase_end_failed buyers=%s given_up=%s error=%s", len(batch), given_up, exc)
            return False
        for buyer in batch:
            self._pending.pop(buyer, None)
        for row in rows:
            self._cache.ended(row["id"], row["admitted_at"].timestamp())
        metrics.WAITROOM_ENDED.labels("purchased").inc(len(rows))
        return True
