"""Real-time seat updates: STOMP 1.2 over WebSocket, fed by the transactional outbox."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from boxoffice.realtime.hub import Hub
from boxoffice.realtime.relay import OutboxRelay, RedisDoorbell
from boxoffice.settings import Settings


@dataclass
class Realtime:
    hub: Hub
    relay: OutboxRelay
    doorbell: RedisDoorbell

    def floor(self) -> int | None:
        """Where the relay has settled the outbox (None until it has positioned its cursor)."""
        return self.relay.cursor if self.relay.ready else None

    async def stop(self) -> None:
        await self.doorbell.stop()
        await self.relay.stop()
        await self.hub.stop()


async def start_realtime(settings: Settings, database_url: str, redis: aioredis.Redis) -> Realtime:
    """Start this process's hub, outbox relay and doorbell; ring `doorbell.ring` after every commit."""
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
        coalesce_s=settings.relay_coalesce_ms / 1000,
    )
    doorbell = RedisDoorbell(
        settings.redis_url,
        f"{settings.redis_key_prefix}seat-events",
        redis,
        relay.wake,
        coalesce_s=settings.relay_coalesce_ms / 1000,
    )
    await relay.start()
    hub.start()
    doorbell.start()
    return Realtime(hub, relay, doorbell)
