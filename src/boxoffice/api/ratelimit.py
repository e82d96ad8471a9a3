"""Per-client-address and per-user write limits, shared across instances through Redis.

A fixed window anchored at the first request (INCR + PEXPIRE in one Lua call, shared by the
concurrent requests of a worker: one Redis round trip for many checks).

When Redis fails, the choice is explicit: each process counts on its own for the window (limits
keep applying, but per process instead of across them; requests are never refused *because*
Redis is down), and for `REDIS_RETRY_S` after a failure it does not ask Redis again, so a Redis
that hangs costs one timeout per process per second rather than one per request. Every check
answered in-process counts in `rate_limit_fallback_total`.
"""

from __future__ import annotations

import logging
import math
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from boxoffice.api.errors import RATE_LIMITED, ApiError
from boxoffice.booking.coalesce import Coalesced
from boxoffice.observability.metrics import RATE_LIMIT_FALLBACK, RATE_LIMITED_TOTAL

log = logging.getLogger(__name__)

# One call counts many hits (concurrent requests of this worker share it, see `Coalesced`): per key
# INCR, the window's expiry on the first hit, and the count and time left.
_HITS = """
local out = {}
for i, key in ipairs(KEYS) do
  local n = redis.call('INCR', key)
  if n == 1 then redis.call('PEXPIRE', key, ARGV[1]) end
  local ttl = redis.call('PTTL', key)
  if ttl < 0 then redis.call('PEXPIRE', key, ARGV[1]); ttl = tonumber(ARGV[1]) end
  out[2 * i - 1] = n
  out[2 * i] = ttl
end
return out
"""
# The failures counted so far in the current window, and the time left, without counting one.
_PEEK = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
return {n, redis.call('PTTL', KEYS[1])}
"""
FAILURE_WINDOW_S = 60
"""Failures (wrong admin tokens) are counted per minute, whatever the request window."""
MAX_BATCH = 256
MAX_LOCAL_KEYS = 50_000
REDIS_RETRY_S = 1.0
"""After a Redis failure, count in-process this long before trying Redis again."""


class RateLimiter:
    def __init__(self, client: aioredis.Redis, *, prefix: str, window_s: int, per_ip: int, per_user: int) -> None:
        self._hits_script = client.register_script(_HITS)
        self._peek_script = client.register_script(_PEEK)
        self._hits: Coalesced[str, tuple[int, int]] = Coalesced(self._count_many, MAX_BATCH)
        self._prefix = prefix
        self._window_ms = window_s * 1000
        self.per_ip = per_ip
        self.per_user = per_user
        self._local: dict[str, tuple[float, int]] = {}
        self._redis_down_until = 0.0

    @property
    def enabled(self) -> bool:
        return bool(self.per_ip or self.per_user)

    async def check_ip(self, host: str | None) -> None:
        """Raise 429 with Retry-After when the client's address is over its limit.

        The address is the socket peer as uvicorn reports it: behind a proxy listed in
        `BOXOFFICE_TRUSTED_PROXIES` (none by default) it is the `X-Forwarded-For` client.
        """
        if self.per_ip:
            await self._hit("ip", host or "unknown", self.per_ip)

    async def check_user(self, user_id: str) -> None:
        if self.per_user:
            await self._hit("user", user_id, self.per_user)

    async def check_failures(self, kind: str, ident: str | None, limit: int) -> None:
        """Raise 429 with Retry-After while the address has `limit` or more failures of `kind` this
        minute: past the limit nothing is even checked, so guessing a secret gets no answer to learn from."""
        key = f"{self._prefix}rl:fail:{kind}:{ident or 'unknown'}"
        try:
            count, ttl_ms = (int(v) for v in await self._peek_script(keys=[key]))
        except RedisError:
            RATE_LIMIT_FALLBACK.inc()
            expires, count = self._local.get(key, (0.0, 0))
            ttl_ms = int((expires - time.monotonic()) * 1000)
            if ttl_ms <= 0:
                count = 0
        if count >= limit:
            RATE_LIMITED_TOTAL.labels(kind).inc()
            retry = max(1, math.ceil(ttl_ms / 1000))
            raise ApiError(
                RATE_LIMITED,
                f"Too many failed attempts from this address; retry in {retry}s",
                {"Retry-After": str(retry)},
            )

    async def count_failure(self, kind: str, ident: str | None) -> None:
        """One more failure of `kind` (a wrong admin token) for the address, in a one-minute window."""
        key = f"{self._prefix}rl:fail:{kind}:{ident or 'unknown'}"
        try:
            await self._hits_script(keys=[key], args=[FAILURE_WINDOW_S * 1000])
        except RedisError:
            RATE_LIMIT_FALLBACK.inc()
            now = time.monotonic()
            expires, count = self._local.get(key, (0.0, 0))
            if expires <= now:
                expires, count = now + FAILURE_WINDOW_S, 0
            self._local[key] = (expires, count + 1)

    async def _hit(self, kind: str, ident: str, limit: int) -> None:
        key = f"{self._prefix}rl:{kind}:{ident}"
        count, ttl_ms = await self._count(key)
        if count > limit:
            RATE_LIMITED_TOTAL.labels(kind).inc()
            retry = max(1, math.ceil(ttl_ms / 1000))
            message = f"Too many requests for this {kind}; retry in {retry}s"
            raise ApiError(RATE_LIMITED, message, {"Retry-After": str(retry)})

    async def _count(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        if now >= self._redis_down_until:
            try:
                count, ttl_ms = await self._hits(key)
            except RedisError as exc:
                if self._redis_down_until == 0.0:
                    log.warning("rate_limit_redis_failed fallback=in_process error=%s", type(exc).__name__)
                self._redis_down_until = now + REDIS_RETRY_S
            else:
                if self._redis_down_until:
                    log.info("rate_limit_redis_recovered")
                    self._redis_down_until = 0.0
                return int(count), int(ttl_ms)
        RATE_LIMIT_FALLBACK.inc()
        return self._local_hit(key, now)

    async def _count_many(self, keys: list[str]) -> list[tuple[int, int]]:
        flat = await self._hits_script(keys=keys, args=[self._window_ms])
        return [(int(flat[2 * i]), int(flat[2 * i + 1])) for i in range(len(keys))]

    def _local_hit(self, key: str, now: float) -> tuple[int, int]:
        if len(self._local) >= MAX_LOCAL_KEYS:
            self._local = {k: v for k, v in self._local.items() if v[0] > now}
            if len(self._local) >= MAX_LOCAL_KEYS:
                self._local.clear()
        expires, count = self._local.get(key, (0.0, 0))
        if expires <= now:
            expires, count = now + self._window_ms / 1000, 0
        self._local[key] = (expires, count + 1)
        return count + 1, int((expires - now) * 1000)
