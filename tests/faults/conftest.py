"""Fault cases start their own servers (several per case at times) on their own database."""

from __future__ import annotations

import uuid

import pytest

from tests.support import LOAD_LIMITS_OFF, ServerFactory, Setting, StartServer

FAULTS: dict[str, Setting] = {
    "seed_rows": 10,
    "seed_cols": 40,
    "log_level": "WARNING",
    "db_pool_max": 6,
    **LOAD_LIMITS_OFF,
}


@pytest.fixture
def fault_db(server_factory: ServerFactory) -> str:
    return server_factory.database("bo_fault")


@pytest.fixture
def start_server(server_factory: ServerFactory) -> StartServer:
    """Servers with the fault cases' settings; one Redis prefix per case, as instances of one deployment."""
    return server_factory.configured(redis_key_prefix=f"bo-fault-{uuid.uuid4().hex[:8]}:", settings=FAULTS)
