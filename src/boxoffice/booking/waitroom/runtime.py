"""A serving process's waiting room: every part built together over one cache of the rooms.

State lives in PostgreSQL (storage/waitroom.py), so every instance and worker shares one queue and
a restart loses nothing; each process keeps only caches (`cache.py`, `memory.py`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from boxoffice.booking.waitroom.admin import RoomAdmin
from boxoffice.booking.waitroom.cache import RoomCache
from boxoffice.booking.waitroom.challenge import Challenge
from boxoffice.booking.waitroom.gate import Gate
from boxoffice.booking.waitroom.memory import VisitorMemory
from boxoffice.booking.waitroom.pacing import Aimd, HealthWindow
from boxoffice.booking.waitroom.purchases import Purchases
from boxoffice.booking.waitroom.queue import Queue
from boxoffice.booking.waitroom.step import AdmissionLoop
from boxoffice.booking.waitroom.tokens import AdmissionTokens
from boxoffice.storage.db import Database


class WaitingRoom:
    def __init__(
        self,
        db: Database,
        tokens: Callable[[], AdmissionTokens],
        *,
        tick_s: float,
        aimd: Aimd,
        challenge: Challenge | None = None,
        pool_saturation: Callable[[], float] = lambda: 0.0,
        background: Database | None = None,
        pickup_s: float = 10.0,
    ) -> None:
        """`db` answers visitors and the operator; `background` (default `db`), a small pool of the
        room's own, serves the cache refresh and the admission step. `tokens` is called once, at
        the first admission token issued or checked (the signing key exists only after start-up)."""
        background = background or db
        admission_tokens = functools.cache(tokens)
        memory = VisitorMemory()
        self.cache = RoomCache(background, memory)
        self.window = HealthWindow()
        self.purchases = Purchases(background, self.cache)
        self.gate = Gate(self.cache, admission_tokens, self.purchases)
        self.queue = Queue(db, self.cache, memory, admission_tokens, challenge)
        self.admin = RoomAdmin(db, changed=self.cache.refresh)
        self.loop = AdmissionLoop(
            background,
            self.cache,
            memory,
            self.queue,
            self.window,
            tick_s=tick_s,
            aimd=aimd,
            pool_saturation=pool_saturation,
            pickup_s=pickup_s,
            purchases=self.purchases,
        )
        # What the routes and the booking path call, each answered by its part.
        self.check = self.gate.check
        self.observe = self.window.observe
        """A hold or booking answered (any event): the health the adaptive rate follows."""
        self.join, self.status, self.leave = self.queue.join, self.queue.status, self.queue.leave
        self.configure, self.stats, self.revoke = self.admin.configure, self.admin.stats, self.admin.revoke
        self.cached_stats = self.cache.cached_stats
        self.bought = self.purchases.bought
        """Bookings answered 201 for these (event, user): their admissions end (purchases.py)."""
        self.run = self.loop.run

    @property
    def gates_nothing(self) -> bool:
        """The rooms were read and none gates an event: a write needs no admission and its latency
        paces nothing, so holds and bookings skip both (`Api.admit`, `Api.measured`)."""
        return self.cache.gates_nothing
