"""Settings of the servers that several suites share, and the constants their tests assert against."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.support import ServerProcess, reset_inventory

HOLD_TTL_S = 3.0
HOLD_MAX_S = 6.0
IDEMPOTENCY_TTL_S = 3
JWT_SECRET = "test-secret-" + "x" * 40
ADMIN_TOKEN = "admin-token-" + "z" * 20
CHECKOUT_PREFIX = f"bo-co-{uuid.uuid4().hex[:8]}:"


def reset_checkout(database_url: str) -> None:
    """Every seat AVAILABLE at version 0, no bookings, holds, keys or events: each test starts equal."""
    reset_inventory(database_url, from_scratch=True)


def start(env: dict[str, str], database_url: str, log: Path) -> ServerProcess:
    base = {
        "DATABASE_URL": database_url,
        "BOXOFFICE_SEED_ROWS": "10",
        "BOXOFFICE_SEED_COLS": "20",
        "BOXOFFICE_DB_POOL_MAX": "8",
    }
    return ServerProcess(env={**base, **env}, log_path=log).start()


def client_for(server: ServerProcess) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    return httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30)
