"""Holds: seats kept for one buyer for a while, then confirmed (see BookingService.confirm) or released."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from boxoffice.booking.ownership import Ownership
from boxoffice.booking.service import MAX_PAGE, Checkout, CheckoutPolicy, SeatChanges, ToHold
from boxoffice.booking.strategies import Strategies
from boxoffice.domain import Access, BestAvailable, Caller, Hold, HoldNotFound, Strategy
from boxoffice.observability.metrics import count_conflicts
from boxoffice.storage import checkout, lookups
from boxoffice.storage.db import Database


class HoldService:
    def __init__(
        self, db: Database, strategies: Strategies, policy: CheckoutPolicy, changes: SeatChanges, owners: Ownership
    ) -> None:
        self._db = db
        self._strategies = strategies
        self.policy = policy
        self._changes = changes
        self._owners = owners
        self._checkout = Checkout(db, policy, changes)

    async def hold(
        self, seat_ids: Sequence[int], caller: Caller, strategy: Strategy | None = None, access: Access | None = None
    ) -> Hold:
        """All of `seat_ids` or none, for `hold_ttl_s`; the returned token confirms, extends or releases."""
        ids = sorted(set(seat_ids))
        chosen = self._strategies.get(strategy)
        with count_conflicts("hold"):
            return await self._checkout.take(ids, caller.user, chosen, access, ToHold(self.policy.hold_ttl_s))

    async def hold_best(self, best: BestAvailable, caller: Caller, access: Access | None = None) -> Hold:
        """The server picks the block (or GA tickets) and holds it in the same transaction."""
        return await self._checkout.take_best(
            best, caller.user, access, ToHold(self.policy.hold_ttl_s), lambda _path: count_conflicts("hold")
        )

    async def _lock_owned(self, conn: asyncpg.Connection, token: UUID, caller: Caller) -> asyncpg.Record:
        """The hold row, locked, if this caller may act on it and it is still active."""
        hold = await checkout.lock_hold(conn, token)
        if not self._owners.may(caller, hold["user_id"], secret_ok=True):
            raise HoldNotFound()
        checkout.ensure_active(hold)
        return hold

    async def extend(self, token: UUID, caller: Caller) -> Hold:
        async with self._db.transaction() as conn:
            row = await self._lock_owned(conn, token, caller)
            hold = await checkout.extend_hold(conn, token, row, self.policy.hold_ttl_s, self.policy.hold_max_s)
            self._changes.written()
        return hold

    async def release(self, token: UUID, caller: Caller) -> Hold:
        async with self._db.transaction() as conn:
            row = await self._lock_owned(conn, token, caller)
            hold = await checkout.release_hold(conn, token, row)
            self._changes.written()
        return hold

    async def get(self, token: UUID, caller: Caller) -> Hold:
        async with self._db.connection() as conn:
            hold = await lookups.get_hold(conn, token)
        if hold is None or not self._owners.may(caller, hold.user_id, secret_ok=True):
            raise HoldNotFound()
        return hold

    async def active_of(self, user_id: str, limit: int) -> list[Hold]:
        async with self._db.connection() as conn:
            return await lookups.active_holds_of(conn, user_id, min(limit, MAX_PAGE))
