"""Background housekeeping: broadcast lapsed holds as AVAILABLE, drop expired idempotency keys.

Only for what clients see and for table size: every claim already treats a lapsed hold as free,
so a stopped sweeper never blocks a sale. Several instances may sweep at once (SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from boxoffice.domain import BookingError
from boxoffice.settings import Settings
from boxoffice.storage import checkout, idempotency
from boxoffice.storage.db import Pool, connection

log = logging.getLogger(__name__)
BATCH = 500


async def sweep_once(pool: Pool, settings: Settings) -> int:
    async with connection(pool, settings.db_acquire_timeout_s) as conn:
        freed = await checkout.sweep_lapsed_holds(conn, BATCH)
        await idempotency.purge_expired(conn, BATCH)
    return freed


async def run_sweeper(pool: Pool, settings: Settings, on_change: Callable[[], None]) -> None:
    if not settings.hold_sweep_interval_s:
        return
    while True:
        await asyncio.sleep(settings.hold_sweep_interval_s)
        try:
            freed = await sweep_once(pool, settings)
            if freed:
                log.info("holds_swept seats=%s", freed)
                on_change()
        except BookingError as exc:
            log.warning("hold_sweep_failed error=%s", exc)
