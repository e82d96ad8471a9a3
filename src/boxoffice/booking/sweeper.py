"""Background housekeeping: broadcast lapsed holds as AVAILABLE, drop expired idempotency keys.

Only for what clients see and for table size: every claim already treats a lapsed hold as free,
so a stopped sweeper never blocks a sale. Several instances may sweep at once (SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import logging

from boxoffice.booking.service import SeatChanges
from boxoffice.domain import BookingError
from boxoffice.storage import checkout, idempotency
from boxoffice.storage.db import Database

log = logging.getLogger(__name__)
BATCH = 500


class Sweeper:
    def __init__(self, db: Database, changes: SeatChanges, interval_s: float) -> None:
        self._db = db
        self._changes = changes
        self.interval_s = interval_s

    async def sweep_once(self) -> int:
        async with self._db.connection() as conn:
            freed = await checkout.sweep_lapsed_holds(conn, BATCH)
            await idempotency.purge_expired(conn, BATCH)
        if freed:
            self._changes.written()
        return freed

    async def run(self) -> None:
        if not self.interval_s:
            return
        while True:
            await asyncio.sleep(self.interval_s)
            try:
                freed = await self.sweep_once()
                if freed:
                    log.info("holds_swept seats=%s", freed)
            except BookingError as exc:
                log.warning("hold_sweep_failed error=%s", exc)
