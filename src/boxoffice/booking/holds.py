"""Holds: seats kept for one buyer for a while, then confirmed (see BookingService.confirm) or released."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

from boxoffice.booking.service import CheckoutPolicy, SeatChanges
from boxoffice.booking.strategies import Strategies
from boxoffice.domain import Hold, Strategy
from boxoffice.storage import checkout
from boxoffice.storage.db import Database


class HoldService:
    def __init__(self, db: Database, strategies: Strategies, policy: CheckoutPolicy, changes: SeatChanges) -> None:
        self._db = db
        self._strategies = strategies
        self.policy = policy
        self._changes = changes

    async def hold(self, seat_ids: Sequence[int], user_id: str, strategy: Strategy | None = None) -> Hold:
        """All of `seat_ids` or none, for `hold_ttl_s`; the returned token confirms, extends or releases."""
        ids = sorted(set(seat_ids))
        chosen = self._strategies.get(strategy)
        async with chosen.guard(ids), self._db.transaction() as conn:
            await self.policy.enforce_seat_cap(conn, user_id, ids)
            await chosen.prepare(conn, ids)
            hold = await checkout.place_hold(conn, ids, user_id, uuid.uuid4(), self.policy.hold_ttl_s)
            self._changes.written()
        return hold

    async def extend(self, token: UUID, user_id: str) -> Hold:
        async with self._db.transaction() as conn:
            hold = await checkout.extend_hold(conn, token, user_id, self.policy.hold_ttl_s, self.policy.hold_max_s)
            self._changes.written()
        return hold

    async def release(self, token: UUID, user_id: str) -> Hold:
        async with self._db.transaction() as conn:
            hold = await checkout.release_hold(conn, token, user_id)
            self._changes.written()
        return hold

    async def get(self, token: UUID) -> Hold:
        async with self._db.connection() as conn:
            return await checkout.get_hold(conn, token)
