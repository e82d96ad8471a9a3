"""Redis seat leases: an efficiency device, never the safety guarantee.

A lease can expire while its holder is paused, and Redis can lose every key; the
database's conditional write stays the arbiter. Release is token-checked (redis-py's
Lua compare-and-delete), so a stale holder never frees a newer holder's lease.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import LockNotOwnedError, RedisError

from boxoffice.domain import LockServiceUnavailable
from boxoffice.observability.metrics import LOCK_ACQUIRE, LOCK_FAILURES

log = logging.getLogger(__name__)


@dataclass
class LeaseStats:
    """Per-process counts for tests and logs; the Prometheus counters (summed over workers) move alongside."""

    acquired: int = 0
    contended: int = 0
    lost: int = 0
    errors: int = 0


class SeatLeases:
    def __init__(self, client: aioredis.Redis, *, prefix: str, lease_s: float, wait_s: float) -> None:
        self._client = client
        self._prefix = prefix
        self._lease_s = lease_s
        self._wait_s = wait_s
        self.stats = LeaseStats()

    def key(self, seat_id: int) -> str:
        return f"{self._prefix}lock:seat:{seat_id}"

    @asynccontextmanager
    async def hold(self, seat_id: int) -> AsyncIterator[bool]:
        """Yield True while holding the seat's lease, False if another holder kept it past the wait."""
        lock = self._client.lock(
            self.key(seat_id),
            timeout=self._lease_s,
            blocking=self._wait_s > 0,
            blocking_timeout=self._wait_s or None,
            sleep=min(0.01, self._wait_s or 0.01),
            thread_local=False,
        )
        started = time.perf_counter()
        try:
            acquired = await lock.acquire()
        except RedisError as exc:
            self.stats.errors += 1
            LOCK_FAILURES.labels("error").inc()
            raise LockServiceUnavailable("Redis is unavailable; the REDIS strategy cannot lock seats") from exc
        LOCK_ACQUIRE.observe(time.perf_counter() - started)
        if not acquired:
            self.stats.contended += 1
            LOCK_FAILURES.labels("contended").inc()
            yield False
            return
        self.stats.acquired += 1
        try:
            yield True
        finally:
            await self._release(lock, seat_id)

    @asynccontextmanager
    async def hold_many(self, seat_ids: Sequence[int]) -> AsyncIterator[list[int]]:
        """Lease every seat in id order; yield the seats another holder kept (empty when all are ours).

        Ordered acquisition means two overlapping requests cannot each wait on the other's lease.
        """
        async with AsyncExitStack() as stack:
            for seat_id in sorted(seat_ids):
                if not await stack.enter_async_context(self.hold(seat_id)):
                    yield [seat_id]
                    return
            yield []

    async def _release(self, lock: aioredis.lock.Lock, seat_id: int) -> None:
        try:
            await lock.release()
        except LockNotOwnedError:
            # The lease expired under us; the database write already decided the outcome.
            self.stats.lost += 1
            LOCK_FAILURES.labels("lost").inc()
            log.warning("lease_lost seat_id=%s lease_s=%s", seat_id, self._lease_s)
        except RedisError:
            # The lease will expire by itself; the booking outcome is already decided.
            self.stats.errors += 1
            LOCK_FAILURES.labels("error").inc()
            log.warning("lease_release_failed seat_id=%s", seat_id)
