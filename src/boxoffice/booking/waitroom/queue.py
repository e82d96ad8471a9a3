"""The queue as visitors see it: join, poll one's place (position, estimated wait, when to come
back, or the admission token), leave.

If the store fails, the queue fails closed: joining and polling answer 503
WAITING_ROOM_UNAVAILABLE and nobody is let in.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from boxoffice.booking.waitroom.cache import RoomCache
from boxoffice.booking.waitroom.challenge import Challenge
from boxoffice.booking.waitroom.joins import Joins
from boxoffice.booking.waitroom.memory import VisitorMemory
from boxoffice.booking.waitroom.positions import estimated_wait_s, people_ahead, poll_after_s
from boxoffice.booking.waitroom.rooms import Room, gated_room, unavailable
from boxoffice.booking.waitroom.tokens import AdmissionTokens
from boxoffice.domain import (
    BookingError,
    Caller,
    ChallengeFailed,
    EventNotFound,
    VisitorNotFound,
    VisitorState,
    VisitorStatus,
    WaitingRoomUnavailable,
)
from boxoffice.observability import metrics
from boxoffice.storage import waitroom as store
from boxoffice.storage.db import Database

log = logging.getLogger(__name__)

PRESTART_POLL_S = 15
"""Early arrivals poll this often until the start is this near."""


class Queue:
    def __init__(
        self,
        db: Database,
        cache: RoomCache,
        memory: VisitorMemory,
        tokens: Callable[[], AdmissionTokens],
        challenge: Challenge | None,
    ) -> None:
        """`db`: the crowd's own pool, so that its joins and polls never make admitted buyers wait."""
        self._db = db
        self._cache = cache
        self._memory = memory
        self._tokens = tokens
        self.challenge = challenge
        self._joins = Joins(db)
        self.poll_scale = 1.0
        """Stretches visitors' Retry-After while this process measures a degraded engine (set each tick)."""

    async def join(
        self, event_id: int, caller: Caller, client: str | None, answer: str | None
    ) -> tuple[VisitorStatus, bool]:
        """Join (True: a new place), or find one's place again; NOT_GATED when the event is not gated."""
        user_id = caller.user
        if self.challenge is not None:
            try:
                ok = await self.challenge.verify(event_id, user_id, client, answer)
            except Exception as exc:  # a hook's failure refuses, never admits
                log.warning("waitroom_challenge_failed error=%s", type(exc).__name__)
                ok = False
            if not ok:
                metrics.WAITROOM_JOINS.labels("challenge_failed").inc()
                raise ChallengeFailed(
                    f"Solve the challenge ({self.challenge.describe(event_id)}) and send it as challenge"
                )
        try:
            room = self._cache.open_room(event_id)
            if room is not None:
                # The room as read at the last tick: joined together with this process's other joins.
                visitor, created = await self._joins.join(event_id, user_id, room.prestart)
            else:
                async with self._db.transaction() as conn:
                    room = await gated_room(conn, event_id)
                    if room is None:
                        return VisitorStatus(event_id, VisitorState.NOT_GATED), False
                    (visitor,) = await store.join(conn, [(event_id, user_id, room.prestart)])
                    created = bool(visitor["created"])
        except (EventNotFound, ChallengeFailed):
            raise
        except WaitingRoomUnavailable:
            metrics.WAITROOM_JOINS.labels("unavailable").inc()
            raise
        except BookingError as exc:
            metrics.WAITROOM_JOINS.labels("unavailable").inc()
            raise unavailable(exc) from exc
        metrics.WAITROOM_JOINS.labels("new" if created else "again").inc()
        return await self._status(room, visitor), created

    async def status(self, event_id: int, caller: Caller) -> VisitorStatus:
        """One poll. A visitor this process knows as waiting, ranked above the room's frontier, is
        answered from memory (it cannot have been admitted since the last tick's read; it is marked
        present in the store at the next tick); anyone else costs one round trip (its row)."""
        user_id = caller.user
        room = self._cache.open_room(event_id)
        if room is not None:
            waiting = self._memory.recall(room, user_id)
            if waiting is not None:
                metrics.WAITROOM_POLLS_MEMORY.inc()
                return await self._waiting_status(room, waiting.rank, waiting.joined_at)
        metrics.WAITROOM_POLLS_STORE.inc()
        room = self._cache.rooms.get(event_id) if self._cache.loaded else None
        try:
            async with self._db.connection() as conn:
                if room is None or not room.config.enabled:
                    room = await gated_room(conn, event_id)
                    if room is None:
                        return VisitorStatus(event_id, VisitorState.NOT_GATED)
                visitor = await store.visitor(conn, event_id, user_id, room.touch_after_s)
        except EventNotFound:
            raise
        except BookingError as exc:
            raise unavailable(exc) from exc
        if visitor is None:
            raise VisitorNotFound(event_id)
        return await self._status(room, visitor)

    async def leave(self, event_id: int, caller: Caller) -> VisitorStatus:
        self._memory.forget_user(event_id, caller.user)
        self._memory.drop_queue(event_id)
        try:
            async with self._db.transaction() as conn:
                room = await gated_room(conn, event_id)
                if room is None:
                    return VisitorStatus(event_id, VisitorState.NOT_GATED)
                visitor = await store.leave(conn, event_id, caller.user)
                if visitor is None:
                    visitor = await store.visitor(conn, event_id, caller.user, 3600.0)
        except EventNotFound:
            raise
        except BookingError as exc:
            raise unavailable(exc) from exc
        if visitor is None:
            raise VisitorNotFound(event_id)
        return await self._status(room, visitor)

    async def _status(self, room: Room, v: asyncpg.Record) -> VisitorStatus:
        c = room.config
        state = VisitorState(v["state"])
        now = datetime.now(UTC)
        self._memory.remember(room, v)
        base: dict[str, Any] = {"starts_at": c.starts_at, "joined_at": v["joined_at"]}
        if state is VisitorState.ADMITTED and v["claimed_at"] is None:
            # Admitted, but the claim did not go through (the leader sent it back meanwhile): next in line.
            return VisitorStatus(c.event_id, VisitorState.WAITING, 1, 0, 0, poll_after_s=1, **base)
        if state is VisitorState.ADMITTED:
            expires: datetime = v["expires_at"]
            if expires <= now:
                return VisitorStatus(c.event_id, VisitorState.EXPIRED, poll_after_s=5, **base)
            admitted: datetime = v["admitted_at"]
            token = self._tokens().issue(v["user_id"], c.event_id, v["id"], admitted.timestamp(), expires.timestamp())
            return VisitorStatus(
                c.event_id,
                state,
                admission_token=token,
                admitted_until=expires,
                poll_after_s=max(1, min(60, int((expires - now).total_seconds() // 2))),
                **base,
            )
        if state is not VisitorState.WAITING:
            return VisitorStatus(c.event_id, state, poll_after_s=5, **base)
        return await self._waiting_status(room, v["rank"], v["joined_at"])

    async def _waiting_status(self, room: Room, rank: int, joined_at: datetime) -> VisitorStatus:
        c = room.config
        now = datetime.now(UTC)
        state = VisitorState.WAITING
        base: dict[str, Any] = {"starts_at": c.starts_at, "joined_at": joined_at}
        to_start = math.ceil((c.starts_at - now).total_seconds()) if c.starts_at > now else 0
        if to_start > PRESTART_POLL_S:
            return VisitorStatus(c.event_id, state, poll_after_s=PRESTART_POLL_S, **base)
        ahead = people_ahead(await self._memory.queue(self._db, c.event_id), rank)
        estimate = estimated_wait_s(ahead, room.rate)
        poll = self._poll_after(room, ahead, estimate)
        if to_start:
            # The draw is made (a rank is final once drawn): come back when the turn may be near,
            # rather than all of the early crowd at the start. The place itself is shown after it.
            return VisitorStatus(c.event_id, state, poll_after_s=to_start + (0 if poll == 1 else poll), **base)
        return VisitorStatus(
            c.event_id,
            state,
            position=ahead + 1,
            people_ahead=ahead,
            estimated_wait_s=estimate,
            poll_after_s=poll,
            **base,
        )

    def _poll_after(self, room: Room, ahead: int, estimate: int) -> int:
        """Whoever the next free buyer slots will go to polls every second (an admission not fetched
        within the pickup time goes back in line: storage/waitroom.py, release_unclaimed); the
        others at a share of their estimated wait."""
        return 1 if ahead < max(room.config.max_active // 2, 1) else poll_after_s(estimate, self.poll_scale)
