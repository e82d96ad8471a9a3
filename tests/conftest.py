from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import LOAD_LIMITS_OFF, ServerProcess, fresh_database, reset_inventory

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
        **LOAD_LIMITS_OFF,
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
