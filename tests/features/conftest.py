"""Servers configured for checkout tests (short holds, idempotency TTL, limits, JWT), each on its own database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import LOAD_LIMITS_OFF, ServerProcess, fresh_database, reset_inventory

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
        **LOAD_LIMITS_OFF,  # tests of the limits set their own
    }
    return ServerProcess(env={**base, **env}, log_path=log).start()


def client_for(server: ServerProcess) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    return httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30)


@pytest.fixture(scope="session")
def checkout_db() -> Iterator[str]:
    with fresh_database("bo_checkout") as url:
        yield url


@pytest.fixture(scope="session")
def checkout_server(checkout_db: str, artifacts: Path) -> Iterator[ServerProcess]:
    """Sweeper OFF: every expiry assertion here proves claims need no background job."""
    env = {
        "BOXOFFICE_REDIS_KEY_PREFIX": CHECKOUT_PREFIX,
        "BOXOFFICE_HOLD_TTL_S": str(HOLD_TTL_S),
        "BOXOFFICE_HOLD_MAX_S": str(HOLD_MAX_S),
        "BOXOFFICE_HOLD_SWEEP_INTERVAL_S": "0",
        "BOXOFFICE_IDEMPOTENCY_TTL_S": str(IDEMPOTENCY_TTL_S),
        "BOXOFFICE_REDIS_LOCK_WAIT_MS": "200",
        "BOXOFFICE_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    server = start(env, checkout_db, artifacts / "checkout-server.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def co(checkout_server: ServerProcess, checkout_db: str) -> AsyncIterator[httpx.AsyncClient]:
    reset_checkout(checkout_db)
    async with client_for(checkout_server) as c:
        yield c
