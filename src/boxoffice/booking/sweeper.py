"""Background housekeeping: broadcast lapsed holds as AVAILABLE, drop expired idempotency keys.

Only for what clients see and for table size: every claim already treats a lapsed hold as free,
so a stopped sweeper never blocks a sale. Several instances may sweep at once (SKIP LOCKED).
It runs under the supervisor (`boxoffice.observability.tasks`), gated on the schema being ready:
any failure is logged, counted and retried there, so the loop itself handles none.
"""

from __future__ import annotations

import asyncio
import logging

from boxoffice.booking.service import SeatChanges
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
        async with self._db.connection(writes=True) as conn:
            freed = await checkout.sweep_lapsed_holds(conn, BATCH)
            await idempotency.purge_expired(conn, BATCH)
        if freed:
            self._changes.written()
        return freed

    async def run(self) -> None:
        """Sweep every `interval_s` until cancelled; raises on any failure (the supervisor retries)."""
        while True:
            await asyncio.sleep(self.interval_s)
            freed = await self.sweep_once()
            if freed:
                log.info("holds_swept seats=%s", freed)
