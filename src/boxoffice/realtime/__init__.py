"""Real-time seat updates: STOMP 1.2 over WebSocket, fed by the transactional outbox."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import redis.asyncio as aioredis

from boxoffice.observability.tasks import Supervisor
from boxoffice.realtime.hub import Hub
from boxoffice.realtime.relay import OutboxRelay, RedisDoorbell
from boxoffice.settings import RealtimeSettings, RedisSettings
from boxoffice.storage import redis as redis_store


@dataclass
class Realtime:
    hub: Hub
    relay: OutboxRelay
    doorbell: RedisDoorbell

    def floor(self) -> int | None:
        """Where the relay has settled the outbox (None until it has positioned its cursor)."""
        return self.relay.cursor if self.relay.ready else None

    async def stop(self) -> None:
        """After the supervisor has stopped the relay and the listener."""
        await self.doorbell.stop()
        await self.relay.stop()
        await self.hub.stop()


def start_realtime(
    settings: RealtimeSettings,
    redis_settings: RedisSettings,
    database_url: str,
    redis: aioredis.Redis,
    supervisor: Supervisor,
    schema_ready: asyncio.Event,
) -> Realtime:
    """Start this process's hub, outbox relay (once the schema is ready) and doorbell listener, the
    latter two under `supervisor`; ring `doorbell.ring` after every commit. The doorbell is a Redis
    channel under `redis_settings`' key prefix, heard on a subscriber connection of its own."""
    hub = Hub(
        queue_size=settings.ws_queue_size,
        max_subscriptions=settings.ws_max_subscriptions,
        max_connections=settings.ws_max_connections,
        heartbeat_ms=settings.ws_heartbeat_ms,
        send_timeout_s=settings.ws_send_timeout_s,
        max_per_address=settings.ws_max_connections_per_address,
        frames_per_s=settings.ws_max_frames_per_s,
        idle_timeout_s=settings.ws_idle_timeout_s,
    )
    relay = OutboxRelay(
        database_url,
        hub,
        poll_s=settings.relay_poll_ms / 1000,
        batch=settings.relay_batch,
        hole_grace_s=settings.relay_hole_grace_ms / 1000,
        hole_max_wait_s=settings.relay_hole_max_wait_ms / 1000,
        coalesce_s=settings.relay_coalesce_ms / 1000,
    )
    doorbell = RedisDoorbell(
        lambda: redis_store.connect_subscriber(redis_settings),
        f"{redis_settings.redis_key_prefix}seat-events",
        redis,
        relay.wake,
        coalesce_s=settings.relay_coalesce_ms / 1000,
    )
    hub.start()
    # Capped at 2 s: after an outage, subscribers wait for the relay's next attempt.
    supervisor.start("relay", relay.run, gate=schema_ready, backoff_max_s=2.0)
    supervisor.start("doorbell", doorbell.listen)
    return Realtime(hub, relay, doorbell)
