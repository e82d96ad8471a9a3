"""Fixtures every suite can use: the server factory, and the servers several suites share.

`server_factory` starts servers for one test, `module_servers` and `session_servers` for a module or
the whole session (per xdist worker); all are the same `ServerFactory`, which stops its servers and
drops its databases at teardown.

Under pytest-xdist (`--dist loadscope`, set in pyproject.toml) each module runs on one worker, so a
module-scoped server (or browser or benchmark run) starts once; session-scoped servers start at most
once per worker.

Tiers: a test that starts a real server (one of `SERVER_FIXTURES`, directly or through a fixture
built on one) or that lives in `OUT_OF_PROCESS` is marked `slow` here; `./scripts/test --fast` runs
the rest (`-m "not slow"`), the in-process tier. A test that spends seconds in processes of its
own (a `boxoffice` command that migrates, a benchmark run, Redis Sentinel) is marked slow by hand.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.shared import CHECKOUT, client_for, reset_checkout
from tests.support import ARTIFACTS, LOAD_LIMITS_OFF, ServerFactory, ServerProcess, reset_inventory

SERVER_FIXTURES = frozenset({"server_factory", "module_servers", "session_servers"})
"""Fixtures that start `boxoffice serve` processes; every server fixture is built on one of them."""
OUT_OF_PROCESS = frozenset({"ha"})
"""Test directories whose tests start processes of their own without a server fixture (the HA stack)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    tests = Path(__file__).parent
    for item in items:
        directory = item.path.relative_to(tests).parts[0]
        if directory in OUT_OF_PROCESS or SERVER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def server_factory(artifacts: Path, request: pytest.FixtureRequest) -> Iterator[ServerFactory]:
    """Real servers with this test's settings (`server_factory(hold_ttl_s=3)`), stopped when it ends."""
    with ServerFactory(artifacts, request.node.name) as factory:
        yield factory


@pytest.fixture(scope="module")
def module_servers(artifacts: Path, request: pytest.FixtureRequest) -> Iterator[ServerFactory]:
    with ServerFactory(artifacts, request.node.name.removesuffix(".py")) as factory:
        yield factory


@pytest.fixture(scope="session")
def session_servers(artifacts: Path) -> Iterator[ServerFactory]:
    with ServerFactory(artifacts, "session") as factory:
        yield factory


@pytest.fixture(scope="session")
def database_url(session_servers: ServerFactory) -> str:
    return session_servers.database("bo_core")


@pytest.fixture(scope="session")
def server(session_servers: ServerFactory, database_url: str) -> ServerProcess:
    """One real server (uvicorn, asyncpg pool, Redis) for the session, on its own database."""
    return session_servers(
        database_url=database_url,
        log="core",
        settings=LOAD_LIMITS_OFF,
        seed_rows=20,
        seed_cols=25,
        db_pool_max=20,
        db_acquire_timeout_s=10,
    )


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
def checkout_db(session_servers: ServerFactory) -> str:
    return session_servers.database("bo_checkout")


@pytest.fixture(scope="session")
def checkout_server(session_servers: ServerFactory, checkout_db: str) -> ServerProcess:
    """Sweeper OFF: every expiry assertion here proves claims need no background job."""
    return session_servers(database_url=checkout_db, log="checkout", settings=CHECKOUT)


@pytest.fixture
async def co(checkout_server: ServerProcess, checkout_db: str) -> AsyncIterator[httpx.AsyncClient]:
    reset_checkout(checkout_db)
    async with client_for(checkout_server) as c:
        yield c
