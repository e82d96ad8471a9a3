from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.shared import (
    ADMIN_TOKEN,
    CHECKOUT_PREFIX,
    HOLD_MAX_S,
    HOLD_TTL_S,
    IDEMPOTENCY_TTL_S,
    client_for,
    reset_checkout,
    start,
)
from tests.support import ServerProcess, fresh_database, reset_inventory

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def server(database_url: str, artifacts: Path) -> Iterator[ServerProcess]:
    """One real server (uvicorn, asyncpg pool, Redis) for the session, on its own database."""
    env = {
        "DATABASE_URL": database_url,
        "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-test-{uuid.uuid4().hex[:8]}:",
        "BOXOFFICE_SEED_ROWS": "20",
        "BOXOFFICE_SEED_COLS": "25",
        "BOXOFFICE_DB_POOL_MAX": "20",
    }
    with ServerProcess(env=env, log_path=artifacts / "server.log") as proc:
        yield proc


@pytest.fixture
def clean(server: ServerProcess, database_url: str) -> ServerProcess:
    reset_inventory(database_url)
    return server


@pytest.fixture
async def client(clean: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=300, max_keepalive_connections=300)
    async with httpx.AsyncClient(base_url=clean.base_url, limits=limits, timeout=30) as c:
        yield c


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
