from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import LOAD_LIMITS_OFF, ServerProcess, fresh_database

HEARTBEAT_MS = 400
MAX_FRAME = 2048
MAX_SUBSCRIPTIONS = 3
ALLOWED_ORIGIN = "http://allowed.example"


def realtime_env(database_url: str, **overrides: str) -> dict[str, str]:
    env = {
        "DATABASE_URL": database_url,
        "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-rt-{uuid.uuid4().hex[:8]}:",
        "BOXOFFICE_SEED_ROWS": "20",
        "BOXOFFICE_SEED_COLS": "25",
        "BOXOFFICE_WS_HEARTBEAT_MS": str(HEARTBEAT_MS),
        "BOXOFFICE_WS_MAX_FRAME_BYTES": str(MAX_FRAME),
        "BOXOFFICE_WS_MAX_SUBSCRIPTIONS": str(MAX_SUBSCRIPTIONS),
        "BOXOFFICE_WS_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
        "BOXOFFICE_LOG_LEVEL": "WARNING",
        # The machine's PostgreSQL is shared (max_connections=100): keep each server's pool small.
        "BOXOFFICE_DB_POOL_MIN": "1",
        "BOXOFFICE_DB_POOL_MAX": "5",
        **LOAD_LIMITS_OFF,
    }
    env.update(overrides)
    return env


@pytest.fixture(scope="session")
def rt_database() -> Iterator[str]:
    with fresh_database("bo_rt") as url:
        yield url


@pytest.fixture(scope="session")
def rt_server(rt_database: str, artifacts: Path) -> Iterator[ServerProcess]:
    """One real server with short heart-beats and small limits, shared by the protocol tests."""
    with ServerProcess(env=realtime_env(rt_database), log_path=artifacts / "realtime-server.log") as proc:
        yield proc
