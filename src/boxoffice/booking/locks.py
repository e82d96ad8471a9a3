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


# One script call takes and frees many leases, each `SET key token NX PX` or compare-and-delete on
# its own key: the semantics of one lease per seat, at one round trip per batch instead of two per
# request. Frees go first, so a seat freed and asked for in the same batch is taken at once.
# ARGV holds a (lease ms, token) pair per key; lease ms 0 means free. (Several keys in one script:
# standalone Redis or Sentinel, not Redis Cluster.)
_LEASES = """
local out = {}
for i, key in ipairs(KEYS) do
  if ARGV[2 * i - 1] == '0' then
    if redis.call('GET', key) == ARGV[2 * i] then redis.call('DEL', key); out[i] = 1 else out[i] = 0 end
  end
end
for i, key in ipairs(KEYS) do
  if ARGV[2 * i - 1] ~= '0' then
    if redis.call('SET', key, ARGV[2 * i], 'NX', 'PX', ARGV[2 * i - 1]) then out[i] = 1 else out[i] = 0 end
  end
end
return out
"""
MAX_BATCH = 256
RETRY_S = 0.01
FREE = 0


@dataclass(frozen=True, slots=True)
class Lease:
    seat_id: int
    key: str
    token: str


class SeatLeases:
    def __init__(self, client: aioredis.Redis, *, prefix: str, lease_s: float, wait_s: float) -> None:
        self._prefix = prefix
        self._lease_ms = max(1, round(lease_s * 1000))
        self._lease_s = lease_s
        self._wait_s = wait_s
        self.stats = LeaseStats()
        self._script = client.register_script(_LEASES)
        self._ops: Coalesced[tuple[str, int, str], bool] = Coalesced(self._run_ops, MAX_BATCH)
        # A lease's token must be unique to its holder: a random prefix per instance and a counter.
        self._token_prefix = uuid.uuid4().hex
        self._tokens = itertools.count()

    def key(self, seat_id: int) -> str:
        return f"{self._prefix}lock:seat:{seat_id}"

    async def _run_ops(self, ops: list[tuple[str, int, str]]) -> list[bool]:
        args: list[str | int] = []
        for _, lease_ms, token in ops:
            args += [lease_ms, token]
        done = await self._script(keys=[key for key, _, _ in ops], args=args)
        return [bool(d) for d in done]

    async def take(self, seat_id: int) -> Lease | None:
        """The seat's lease, or None if another holder kept it past the wait."""
        lease = Lease(seat_id, self.key(seat_id), f"{self._token_prefix}:{next(self._tokens)}")
        started = time.perf_counter()
        deadline = time.monotonic() + self._wait_s
        op = (lease.key, self._lease_ms, lease.token)
        try:
            acquired = await self._ops(op)
            # The holder may be another process: poll (as redis-py's Lock does) until the wait runs out.
            while not acquired and (left := deadline - time.monotonic()) > 0:
                await asyncio.sleep(min(RETRY_S, left))
                acquired = await self._ops(op)
        except RedisError as exc:
            self.stats.errors += 1
            LOCK_FAILURES.labels("error").inc()
            raise LockServiceUnavailable("Redis is unavailable; the REDIS strategy cannot lock seats") from exc
        LOCK_ACQUIRE.observe(time.perf_counter() - started)
        if not acquired:
            self.stats.contended += 1
            LOCK_FAILURES.labels("contended").inc()
            return None
        self.stats.acquired += 1
        return lease

    async def give_back(self, lease: Lease) -> None:
        """Free the lease if it is still ours (token-checked); count it lost if it expired meanwhile."""
        try:
            released = await self._ops((lease.key, FREE, lease.token))
        except RedisError:
            self._failed(lease)
            return
        self._freed(lease, released)

    def give_back_soon(self, lease: Lease) -> None:
        """`give_back` without waiting for Redis: the release is queued now (before any later take in
        this worker) and its outcome counted when it arrives."""
        future = self._ops.submit((lease.key, FREE, lease.token))
        future.add_done_callback(lambda f: self._failed(lease) if f.exception() else self._freed(lease, f.result()))

    def _freed(self, lease: Lease, released: bool) -> None:
        if not released:
            # The lease expired under us; the database write already decided the outcome.
            self.stats.lost += 1
            LOCK_FAILURES.labels("lost").inc()
            log.warning("lease_lost seat_id=%s lease_s=%s", lease.seat_id, self._lease_s)

    def _failed(self, lease: Lease) -> None:
        # The lease will expire by itself; the booking outcome is already decided.
        self.stats.errors += 1
        LOCK_FAILURES.labels("error").inc()
        log.warning("lease_release_failed seat_id=%s", lease.seat_id)

    @asynccontextmanager
    async def hold(self, seat_id: int) -> AsyncIterator[bool]:
        """Yield True while holding the seat's lease, False if another holder kept it past the wait."""
        lease = await self.take(seat_id)
        if lease is None:
            yield False
            return
        try:
            yield True
        finally:
            await self.give_back(lease)

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
