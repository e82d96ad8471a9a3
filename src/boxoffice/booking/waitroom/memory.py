"""What a serving process remembers of the queue: its waiting visitors and the queue's order.

A visitor this process knows as waiting, ranked above its room's frontier, is answered from memory
(it cannot have been admitted since the last read); its presence is written at the next tick. The
queue's order is read at most once a second per process however many poll.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from boxoffice.booking.waitroom.rooms import Room, unavailable
from boxoffice.domain import BookingError, VisitorState
from boxoffice.storage import waitroom as store
from boxoffice.storage.db import Database

PRUNE_EVERY_S = 10.0
"""How often a process forgets the remembered visitors who stopped polling."""
RANKS_MAX_AGE_S = 1.0
"""How old the cached queue order may be when a position is computed."""


@dataclass(slots=True)
class Waiting:
    """A waiting visitor as this process last saw it: enough to answer its polls from memory."""

    visitor_id: int
    rank: int
    joined_at: datetime
    present_at: float
    """When its presence is next due in the store (monotonic): between half and all of the touch
    interval after the last write, drawn at random so that a crowd that joined in one second does
    not fall due in one tick."""


def _next_presence(interval_s: float) -> float:
    return time.monotonic() + interval_s * random.uniform(0.5, 1.0)


class VisitorMemory:
    def __init__(self) -> None:
        self._waiting: dict[tuple[int, str], Waiting] = {}
        """(event, user) -> a waiting visitor whose polls this process answers from memory while its
        rank is above the room's frontier (it cannot have been admitted since the last refresh)."""
        self._by_id: dict[int, tuple[int, str]] = {}
        self._present: set[int] = set()
        """Visitor ids polled from memory since the last tick: marked present in the store then."""
        self._ranks: dict[int, tuple[float, list[int]]] = {}
        self._ranks_lock: dict[int, asyncio.Lock] = {}
        self._pruned_at = time.monotonic()

    # --- visitors -------------------------------------------------------------------------------

    def remember(self, room: Room, v: asyncpg.Record) -> None:
        """Keep a waiting visitor's place in memory, so that its next polls cost no round trip."""
        key = (room.config.event_id, str(v["user_id"]))
        if v["state"] != VisitorState.WAITING.value:
            self.forget(int(v["id"]))
            return
        present_at = _next_presence(room.touch_after_s)
        self._waiting[key] = Waiting(int(v["id"]), int(v["rank"]), v["joined_at"], present_at)
        self._by_id[int(v["id"])] = key

    def recall(self, room: Room, user_id: str) -> Waiting | None:
        """The visitor, if remembered as waiting and ranked above the room's frontier; its presence
        is then noted for the next tick when due."""
        waiting = self._waiting.get((room.config.event_id, user_id))
        if waiting is None or waiting.rank <= room.frontier:
            return None
        if time.monotonic() >= waiting.present_at:
            self._present.add(waiting.visitor_id)
        return waiting

    def forget(self, visitor_id: int) -> None:
        key = self._by_id.pop(visitor_id, None)
        if key is not None:
            self._waiting.pop(key, None)
        self._present.discard(visitor_id)

    def forget_user(self, event_id: int, user_id: str) -> None:
        waiting = self._waiting.get((event_id, user_id))
        if waiting is not None:
            self.forget(waiting.visitor_id)

    async def mark_present(self, db: Database, rooms: Mapping[int, Room]) -> None:
        """Write the presence of the visitors polled from memory (one statement); forget those no
        longer waiting (admitted, dropped or gone elsewhere): their next poll reads the store."""
        present, self._present = self._present, set()
        if not present:
            return
        try:
            async with db.connection(writes=True) as conn:
                still = set(await store.touch(conn, sorted(present)))
        except BaseException:
            self._present |= present
            raise
        for visitor_id in present:
            key = self._by_id.get(visitor_id)
            if visitor_id not in still:
                self.forget(visitor_id)
            elif key is not None and key in self._waiting:
                room = rooms.get(key[0])
                self._waiting[key].present_at = _next_presence(room.touch_after_s if room else 0.0)

    def prune(self, rooms: Mapping[int, Room]) -> None:
        """Forget visitors who stopped polling (at most every PRUNE_EVERY_S): the store drops them after
        `holdS`, and a visitor that comes back reads the store. Keeps memory to the live crowd."""
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        for key, waiting in list(self._waiting.items()):
            room = rooms.get(key[0])
            if room is None or now - waiting.present_at > room.config.hold_s:
                self.forget(waiting.visitor_id)

    # --- the queue's order ----------------------------------------------------------------------

    async def queue(self, db: Database, event_id: int) -> list[int]:
        """The queue order, at most RANKS_MAX_AGE_S old, read once per process however many poll."""
        cached = self._ranks.get(event_id)
        if cached is not None and time.monotonic() - cached[0] < RANKS_MAX_AGE_S:
            return cached[1]
        lock = self._ranks_lock.setdefault(event_id, asyncio.Lock())
        async with lock:
            cached = self._ranks.get(event_id)
            if cached is not None and time.monotonic() - cached[0] < RANKS_MAX_AGE_S:
                return cached[1]
            try:
                async with db.connection() as conn:
                    ranks = await store.waiting_ranks(conn, event_id)
            except BookingError as exc:
                # A poll needing the order while the store is down: the room's own answer (fail closed).
                raise unavailable(exc) from exc
            self._ranks[event_id] = (time.monotonic(), ranks)
            return ranks

    def drop_queue(self, event_id: int) -> None:
        """Someone was admitted or left: positions counted against the old order would be too high."""
        self._ranks.pop(event_id, None)
