"""Redis connections: a bounded pool that fails fast, to one server or to the master Sentinel names.

Redis only ever speeds things up here (leases, rate limits, the doorbell); PostgreSQL decides.
So a dead or swamped Redis must turn into a prompt answer, never a queue: short timeouts, no
retries, and a pool that waits only as long as a database connection would.

With `BOXOFFICE_REDIS_SENTINELS` set, every connection asks the Sentinels for the current master
first; after a failover, connections to the old master fail once (a 503 or an in-process fallback)
and the next one goes to the new master, with no restart.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import BlockingConnectionPool
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool
from redis.backoff import NoBackoff

from boxoffice.settings import RedisSettings


class SentinelBlockingConnectionPool(SentinelConnectionPool, BlockingConnectionPool):
    """Sentinel's master discovery with the blocking pool's bound: beyond `max_connections` a caller
    waits up to `timeout` for a free connection instead of failing at once (a flash crowd on one
    seat made redis-py's default pool refuse about 99% of REDIS-strategy requests)."""


def _sentinels(settings: RedisSettings) -> list[tuple[str, int]]:
    hosts = []
    for item in settings.redis_sentinels.split(","):
        host, _, port = item.strip().rpartition(":")
        hosts.append((host or "127.0.0.1", int(port)))
    return hosts


def _options(settings: RedisSettings, acquire_timeout_s: float) -> dict[str, Any]:
    return {
        "socket_timeout": settings.redis_timeout_s,
        # Connecting includes a handshake that waits behind a crowd's backlog on the event loop;
        # a dead Redis still fails at once (connection refused).
        "socket_connect_timeout": max(settings.redis_timeout_s, acquire_timeout_s),
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 0,
    }


def _sentinel(settings: RedisSettings) -> Sentinel:
    timeouts = {"socket_timeout": settings.redis_timeout_s, "socket_connect_timeout": settings.redis_timeout_s}
    return Sentinel(_sentinels(settings), sentinel_kwargs=timeouts)  # type: ignore[no-untyped-call]


def connect(settings: RedisSettings, *, acquire_timeout_s: float) -> aioredis.Redis:
    """The worker's shared client (leases, rate limits, doorbell publishes).

    `acquire_timeout_s` is the database pool's wait (`BOXOFFICE_DB_ACQUIRE_TIMEOUT_S`): a request
    waits no longer for a Redis connection than for a database one.
    """
    bound: dict[str, Any] = {"max_connections": settings.redis_pool_max, "timeout": acquire_timeout_s}
    if settings.redis_sentinels:
        client: aioredis.Redis = _sentinel(settings).master_for(
            settings.redis_sentinel_master,
            connection_pool_class=SentinelBlockingConnectionPool,
            **bound,
            **_options(settings, acquire_timeout_s),
        )
        return client
    pool = BlockingConnectionPool.from_url(settings.redis_url, **bound, **_options(settings, acquire_timeout_s))
    return aioredis.Redis.from_pool(pool)


def connect_subscriber(settings: RedisSettings) -> aioredis.Redis:
    """A client of its own for one long-lived subscription (it holds its connection for ever)."""
    if settings.redis_sentinels:
        client: aioredis.Redis = _sentinel(settings).master_for(
            settings.redis_sentinel_master, socket_connect_timeout=1.0, health_check_interval=15
        )
        return client
    return aioredis.Redis.from_url(settings.redis_url, socket_connect_timeout=1.0, health_check_interval=15)
