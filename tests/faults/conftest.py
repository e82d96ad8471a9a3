from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.faults.harness import ServerFactory
from tests.support import LOAD_LIMITS_OFF, ServerProcess, fresh_database


@pytest.fixture
def fault_db() -> Iterator[str]:
    with fresh_database("bo_fault") as url:
        yield url


@pytest.fixture
def start_server(artifacts: Path, request: pytest.FixtureRequest) -> Iterator[ServerFactory]:
    """Start real servers with per-test settings; all are stopped when the test ends."""
    stack = ExitStack()
    prefix = f"bo-fault-{uuid.uuid4().hex[:8]}:"

    def start(database_url: str, *args: str, **settings: str) -> ServerProcess:
        env = {
            "DATABASE_URL": database_url,
            "BOXOFFICE_REDIS_KEY_PREFIX": prefix,
            "BOXOFFICE_SEED_ROWS": "10",
            "BOXOFFICE_SEED_COLS": "40",
            "BOXOFFICE_LOG_LEVEL": "WARNING",
            # Small pools: the shared PostgreSQL's 100 connections serve every helper's tests at once.
            "BOXOFFICE_DB_POOL_MAX": "6",
            "BOXOFFICE_DB_POOL_MIN": "1",
            **LOAD_LIMITS_OFF,
            **{f"BOXOFFICE_{k.upper()}": v for k, v in settings.items()},
        }
        log = artifacts / f"fault-{request.node.name}.log"
        return stack.enter_context(ServerProcess(env=env, args=list(args), log_path=log))

    with stack:
        yield start
