"""Joining the queue in batches: one statement and one commit for a process's concurrent joins."""

from __future__ import annotations

import asyncio
import contextvars
import itertools

import asyncpg

from boxoffice.booking.waitroom.rooms import unavailable
from boxoffice.domain import WaitingRoomUnavailable
from boxoffice.storage import waitroom as store
from boxoffice.storage.db import Database


class Joins:
    """Concurrent joins of one process, written together: one statement and one commit per batch,
    the next batch collecting while one is in flight. No timer: a lone join goes out at once.

    Two joins of one visitor in a batch (two tabs) share one row: the first is told whether it
    made a new place, the other that it found the place again. Joining is idempotent, so a batch
    that failed may be retried by its visitors whatever it committed (503 WAITING_ROOM_UNAVAILABLE).
    """

    MAX_BATCH = 500

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: dict[tuple[int, str], tuple[bool, asyncio.Future[asyncpg.Record]]] = {}
        self._running = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def join(self, event_id: int, user_id: str, prestart: bool) -> tuple[asyncpg.Record, bool]:
        key = (event_id, user_id)
        pending = self._pending.get(key)
        first = pending is None
        if pending is None:
            pending = (prestart, asyncio.get_running_loop().create_future())
            self._pending[key] = pending
            if not self._running:
                self._running = True
                # A context of its own: the batch belongs to no request (nor to its unit of work).
                task = asyncio.get_running_loop().create_task(self._drain(), context=contextvars.Context())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        # Shielded: one visitor hanging up neither cancels the batch nor its twin's answer.
        row = await asyncio.shield(pending[1])
        return row, first and bool(row["created"])

    async def _drain(self) -> None:
        try:
            while self._pending:
                keys = list(itertools.islice(self._pending, self.MAX_BATCH))
                batch = [(key, self._pending.pop(key)) for key in keys]
                try:
                    async with self._db.connection(writes=True) as conn:
                        rows = await store.join(conn, [(e, u, prestart) for (e, u), (prestart, _) in batch])
                except Exception as exc:
                    for _, (_, future) in batch:
                        if not future.done():
                            future.set_exception(unavailable(exc))
                    continue
                found = {(r["event_id"], r["user_id"]): r for r in rows}
                for key, (_, future) in batch:
                    if not future.done():
                        row = found.get(key)
                        if row is None:
                            future.set_exception(WaitingRoomUnavailable("The join was not recorded; join again"))
                        else:
                            future.set_result(row)
        finally:
            self._running = False
