"""Redis seat leases: an efficiency device, never the safety guarantee.

A lease can expire while its holder is paused, and Redis can lose every key; the
database's conditional write stays the arbiter. Release is token-checked (a
Lua compare-and-delete), so a stale holder never frees a newer holder's lease. Concurrent lease
calls of a worker share one script call (`Coalesced`): one round trip for many requests.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from boxoffice.booking.coalesce import Coalesced
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


# One script call takes or frees many leases, each `SET key token NX PX` / compare-and-delete on its
# own key: the semantics of one lease per seat, at one round trip per batch instead of per request.
# (Several keys in one script: standalone Redis or Sentinel, not Redis Cluster.)
_ACQUIRE = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, ARGV[2 * i - 1], 'NX', 'PX', ARGV[2 * i]) then out[i] = 1 else out[i] = 0 end
end
return out
"""
_RELEASE = """
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[i] then redis.call('DEL', key); out[i] = 1 else out[i] = 0 end
end
return out
"""
MAX_BATCH = 256
RETRY_S = 0.01


class SeatLeases:
    def __init__(self, client: aioredis.Redis, *, prefix: str, lease_s: float, wait_s: float) -> None:
        self._client = client
        self._prefix = prefix
        self._lease_ms = max(1, round(lease_s * 1000))
        self._lease_s = lease_s
        self._wait_s = wait_s
        self.stats = LeaseStats()
        self._acquire_script = client.register_script(_ACQUIRE)
        self._release_script = client.register_script(_RELEASE)
        self._acquire: Coalesced[tuple[str, str], bool] = Coalesced(self._acquire_many, MAX_BATCH)
        self._release: Coalesced[tuple[str, str], bool] = Coalesced(self._release_many, MAX_BATCH)
        # A lease's token must be unique to its holder: a random prefix per instance and a counter.
        self._token_prefix = uuid.uuid4().hex
        self._tokens = itertools.count()

    def key(self, seat_id: int) -> str:
        return f"{self._prefix}lock:seat:{seat_id}"

    async def _acquire_many(self, leases: list[tuple[str, str]]) -> list[bool]:
        args: list[str | int] = []
        for _, token in leases:
            args += [token, self._lease_ms]
        taken = await self._acquire_script(keys=[key for key, _ in leases], args=args)
        return [bool(t) for t in taken]

    async def _release_many(self, leases: list[tuple[str, str]]) -> list[bool]:
        freed = await self._release_script(keys=[key for key, _ in leases], args=[token for _, token in leases])
        return [bool(f) for f in freed]

    @asynccontextmanager
    async def hold(self, seat_id: int) -> AsyncIterator[bool]:
        """Yield True while holding the seat's lease, False if another holder kept it past the wait."""
        lease = (self.key(seat_id), f"{self._token_prefix}:{next(self._tokens)}")
        started = time.perf_counter()
        deadline = time.monotonic() + self._wait_s
        try:
            acquired = await self._acquire(lease)
            # The holder may be another process: poll (as redis-py's Lock does) until the wait runs out.
            while not acquired and (left := deadline - time.monotonic()) > 0:
                await asyncio.sleep(min(RETRY_S, left))
                acquired = await self._acquire(lease)
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
            await self._free(lease, seat_id)

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

    async def _free(self, lease: tuple[str, str], seat_id: int) -> None:
        try:
            released = await self._release(lease)
        except RedisError:
            # The lease will expire by itself; the booking outcome is already decided.
            self.stats.errors += 1
            LOCK_FAILURES.labels("error").inc()
            log.warning("lease_release_failed seat_id=%s", seat_id)
            return
        if not released:
            # The lease expired under us; the database write already decided the outcome.
            self.stats.lost += 1
            LOCK_FAILURES.labels("lost").inc()
            log.warning("lease_lost seat_id=%s lease_s=%s", seat_id, self._lease_s)
