"""A serving process's cache of the rooms: the configured rooms, the seat ids of gated events and
the early-ended admissions, re-read every tick. The check on the booking path is then a dictionary
lookup and a signature check, no database round trip.

If the store fails, the cache keeps the last configuration it read (gated events stay gated) and
says so (`store_ok`): the queue then answers from the store or not at all (fail closed).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from boxoffice.booking.waitroom.memory import VisitorMemory
from boxoffice.booking.waitroom.rooms import Room
from boxoffice.domain import WaitingRoomStats
from boxoffice.observability import metrics
from boxoffice.storage import waitroom as store
from boxoffice.storage.db import Database

REVOCATIONS_PER_REFRESH = 10_000


class RoomCache:
    def __init__(self, db: Database, memory: VisitorMemory) -> None:
        """`db`: a small pool of the room's own, so that a crowd exhausting the request pool cannot
        starve the refresh; `memory` forgets visitors whose admission ended and stale queue orders."""
        self._db = db
        self._memory = memory
        self.rooms: dict[int, Room] = {}
        self.gated: frozenset[int] = frozenset()
        self._seat_event: dict[int, int] = {}
        self._seat_sigs: dict[int, tuple[int, int]] = {}
        self._revoked: dict[int, float] = {}
        """Visitor id -> when its admission ended early (revoked or left): tokens admitted before are refused."""
        self._revision = 0
        self.loaded = False
        self.store_ok = False
        """The last refresh reached the store; answers from memory only while it does (fail closed)."""
        self._refreshing: asyncio.Lock | None = None

    @property
    def gates_nothing(self) -> bool:
        """The rooms were read and none gates an event."""
        return self.loaded and not self.gated

    def open_room(self, event_id: int) -> Room | None:
        """The room as this process last read it, if gated and the store answered that read."""
        room = self.rooms.get(event_id) if self.store_ok else None
        return room if room is not None and room.config.enabled else None

    def events_of(self, seat_ids: Sequence[int]) -> set[int]:
        """The gated events among these seats'."""
        return {self._seat_event[s] for s in seat_ids if s in self._seat_event}

    def ended_at(self, visitor_id: int) -> float | None:
        """When this visitor's admission ended early (revoked, or it left), if it did."""
        return self._revoked.get(visitor_id)

    def ended(self, visitor_id: int, admitted_at: float) -> None:
        """An admission this process ended (a purchase): its token is refused here at once, and on
        every other process from its next refresh (the store's revision)."""
        self._revoked[visitor_id] = admitted_at
        self._memory.forget(visitor_id)

    async def cached_stats(self, event_id: int) -> WaitingRoomStats | None:
        """The room as this process last read it (at most a tick old); None when never configured."""
        if not self.loaded:
            await self.refresh()
        room = self.rooms.get(event_id)
        return room.stats() if room is not None else None

    async def refresh(self) -> None:
        """Re-read the rooms, the seats of gated events and new revocations (raises if the store fails)."""
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        try:
            await self._refresh()
        except BaseException:
            self.store_ok = False
            raise

    async def _refresh(self) -> None:
        assert self._refreshing is not None
        async with self._refreshing, self._db.connection() as conn:
            rooms = {r["event_id"]: Room(r) for r in await store.rooms(conn)}
            gated = frozenset(e for e, room in rooms.items() if room.config.enabled)
            sigs = await store.seat_signatures(conn, sorted(gated)) if gated else {}
            seat_event = self._seat_event
            if any(self._seat_sigs.get(e) != sigs.get(e) for e in gated) or gated != self.gated:
                seat_event = {}
                for event_id in gated:
                    for seat_id in await store.seat_ids(conn, event_id):
                        seat_event[seat_id] = event_id
            revoked = await store.revocations_since(conn, self._revision, REVOCATIONS_PER_REFRESH)
        for row in revoked:
            self._revoked[row["id"]] = row["admitted_at"].timestamp()
            self._revision = max(self._revision, row["revision"])
        if len(self._revoked) > 4 * REVOCATIONS_PER_REFRESH:
            # Keep the newest: an admission ended this long ago has expired anyway (admission TTL <= 1 day).
            newest = sorted(self._revoked.items(), key=lambda kv: kv[1])[-2 * REVOCATIONS_PER_REFRESH :]
            self._revoked = dict(newest)
        for row in revoked:
            self._memory.forget(row["id"])
        for event_id, room in rooms.items():
            known = self.rooms.get(event_id)
            if known is not None:
                # The frontier only grows: a step of this process may have moved it after this read began.
                room.frontier = max(room.frontier, known.frontier)
            if known is None or known.frontier != room.frontier:
                # Someone was admitted: positions counted against the old order would be too high.
                self._memory.drop_queue(event_id)
        self.rooms, self.gated, self._seat_event, self._seat_sigs = rooms, gated, seat_event, sigs
        self.loaded = self.store_ok = True
        # Totals over the gated events (event ids are not a bounded label set).
        metrics.WAITROOM_WAITING.set(sum(rooms[e].waiting for e in gated))
        metrics.WAITROOM_ACTIVE.set(sum(rooms[e].active for e in gated))
        metrics.WAITROOM_RATE.set(sum(rooms[e].rate for e in gated))
