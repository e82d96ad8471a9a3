"""Per-client-IP and per-user request limits, shared across instances through Redis.

A fixed window anchored at the first request (INCR + PEXPIRE in one Lua call). When Redis
fails, each process falls back to its own counters, so limits loosen (per instance) but
never fail closed.
"""

from __future__ import annotations

import logging
import math
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from starlette.requests import Request

from boxoffice.api.errors import RATE_LIMITED, ApiError
from boxoffice.observability.metrics import RATE_LIMIT_FALLBACK, RATE_LIMITED_TOTAL

log = logging.getLogger(__name__)

_HIT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
"""
MAX_LOCAL_KEYS = 50_000


class RateLimiter:
    def __init__(self, client: aioredis.Redis, *, prefix: str, window_s: int, per_ip: int, per_user: int) -> None:
        self._hit_script = client.register_script(_HIT)
        self._prefix = prefix
        self._window_ms = window_s * 1000
        self.per_ip = per_ip
        self.per_user = per_user
        self._local: dict[str, tuple[float, int]] = {}

    @property
    def enabled(self) -> bool:
        return bool(self.per_ip or self.per_user)

    async def check_ip(self, request: Request) -> None:
        """Raise 429 with Retry-After when the client's address is over its limit (the socket peer;
        behind a proxy, put the limit on the proxy)."""
        if self.per_ip:
            host = request.client.host if request.client else "unknown"
            await self._hit("ip", host, self.per_ip)

    async def check_user(self, user_id: str) -> None:
        if self.per_user:
            await self._hit("user", user_id, self.per_user)

    async def _hit(self, kind: str, ident: str, limit: int) -> None:
        key = f"{self._prefix}rl:{kind}:{ident}"
        try:
            count, ttl_ms = await self._hit_script(keys=[key], args=[self._window_ms])
        except RedisError:
            RATE_LIMIT_FALLBACK.inc()
            count, ttl_ms = self._local_hit(key)
        if int(count) > limit:
            RATE_LIMITED_TOTAL.labels(kind).inc()
            retry = max(1, math.ceil(int(ttl_ms) / 1000))
            message = f"Too many requests for this {kind}; retry in {retry}s"
            raise ApiError(RATE_LIMITED, message, {"Retry-After": str(retry)})

    def _local_hit(self, key: str) -> tuple[int, int]:
        now = time.monotonic()
        if len(self._local) >= MAX_LOCAL_KEYS:
            self._local = {k: v for k, v in self._local.items() if v[0] > now}
            if len(self._local) >= MAX_LOCAL_KEYS:
                self._local.clear()
        expires, count = self._local.get(key, (0.0, 0))
        if expires <= now:
            expires, count = now + self._window_ms / 1000, 0
        self._local[key] = (expires, count + 1)
        return count + 1, int((expires - now) * 1000)
