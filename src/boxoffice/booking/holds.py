"""Holds: seats kept for one buyer for a while, then confirmed (see BookingService.confirm) or released."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from boxoffice.booking import picking
from boxoffice.booking.ownership import Ownership
from boxoffice.booking.service import MAX_PAGE, CheckoutPolicy, SeatChanges
from boxoffice.booking.strategies import Strategies
from boxoffice.domain import Access, BestAvailable, Caller, Hold, HoldNotFound, Strategy
from boxoffice.storage import checkout, inventory, lookups
from boxoffice.storage.db import Database
from boxoffice.storage.inventory import RowKey


class HoldService:
    def __init__(
        self, db: Database, strategies: Strategies, policy: CheckoutPolicy, changes: SeatChanges, owners: Ownership
    ) -> None:
        self._db = db
        self._strategies = strategies
        self.policy = policy
        self._changes = changes
        self._owners = owners

    async def hold(
        self, seat_ids: Sequence[int], caller: Caller, strategy: Strategy | None = None, access: Access | None = None
    ) -> Hold:
        """All of `seat_ids` or none, for `hold_ttl_s`; the returned token confirms, extends or releases."""
        ids = sorted(set(seat_ids))
        user_id = caller.user
        chosen = self._strategies.get(strategy)
        async with chosen.guard(ids), self._db.transaction() as conn:
            await self.policy.enforce_seat_cap(conn, user_id, ids)
            await picking.check_pick(conn, ids, access)
            await chosen.prepare(conn, ids)
            hold = await checkout.place_hold(conn, ids, user_id, uuid.uuid4(), self.policy.hold_ttl_s)
            self._changes.written()
        return hold

    async def hold_best(self, best: BestAvailable, caller: Caller, access: Access | None = None) -> Hold:
        """The server picks the block (or GA tickets) and holds it in the same transaction."""
        user_id = caller.user
        if not self.policy.seats_per_user and await picking.ga_quick(self._db, best):
            # GA by quantity in one statement (SKIP LOCKED); the checked transaction below when it took nothing.
            assert best.section is not None
            async with self._db.atomic() as conn:
                channel = await picking.ga_channel(conn, best, access)
                quick = await inventory.hold_ga(
                    conn, best.event_id, best.section, channel, best.quantity, user_id, uuid.uuid4(),
                    self.policy.hold_ttl_s,
                )  # fmt: skip
                if quick is None:
                    await picking.ga_sold_out(conn, best, channel)
            if quick is not None:
                self._changes.written()
                return quick

        async def attempt(conn: asyncpg.Connection, wait_for: RowKey | None) -> Hold:
            await self.policy.enforce_seat_cap(conn, user_id, [])
            ids = await picking.choose(conn, best, access, wait_for)
            await self.policy.enforce_seat_cap(conn, user_id, ids)
            hold = await checkout.place_hold(conn, ids, user_id, uuid.uuid4(), self.policy.hold_ttl_s)
            self._changes.written()
            return hold

        return await picking.with_attempts(self._db, attempt)

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
