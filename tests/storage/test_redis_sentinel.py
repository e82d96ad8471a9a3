"""Redis through Sentinel: the shared client and the doorbell's subscriber follow a failover by themselves."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy.ha.localstack import RedisSentinels
from redis.exceptions import RedisError

from boxoffice.settings import Settings
from boxoffice.storage.redis import connect, connect_subscriber
from tests.helpers import DEADLINE_S


@pytest.fixture
def sentinels() -> Iterator[RedisSentinels]:
    group = RedisSentinels(Path(tempfile.mkdtemp(prefix="bo-sentinel-")))
    try:
        yield group.up()
    finally:
        group.down()


@pytest.mark.slow  # Redis and Sentinel processes
async def test_the_client_follows_a_sentinel_failover(sentinels: RedisSentinels) -> None:
    settings = Settings(redis_sentinels=sentinels.sentinels, redis_sentinel_master="boxoffice", redis_timeout_s=1)
    client = connect(settings, acquire_timeout_s=settings.db_acquire_timeout_s)
    subscriber = connect_subscriber(settings)
    try:
        await client.set("k", "before")
        pubsub = subscriber.pubsub()
        await pubsub.subscribe("bell")
        old_master = sentinels.ports["master"]
        assert sentinels.master_port() == old_master

        assert sentinels.kill_master() == "master"
        # Until Sentinel promotes the replica, commands fail fast (a 503 or the in-process fallback
        # upstream), never hang; then the same client object reaches the new master.
        failures = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE_S
        while True:
            assert loop.time() < deadline, "no write reached the new master"
            try:
                await client.set("k", "after")
                break
            except RedisError:
                failures += 1
                await asyncio.sleep(0.2)
        assert sentinels.master_port() == sentinels.ports["replica"]
        assert failures > 0, "the old master's death was noticed"
        assert await client.get("k") == b"after"

        # The doorbell's subscriber reconnects through Sentinel too (the supervisor retries it).
        await pubsub.aclose()  # type: ignore[no-untyped-call]
        pubsub = subscriber.pubsub()
        await pubsub.subscribe("bell")
        await client.publish("bell", "ring")
        messages: list[str] = []
        while len(messages) < 2 and loop.time() < deadline:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None:
                messages.append(message["type"])
        assert messages == ["subscribe", "message"]
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    finally:
        await client.aclose()
        await subscriber.aclose()
