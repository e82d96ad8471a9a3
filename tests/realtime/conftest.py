"""Servers for the real-time suites: short heart-beats and small limits, so the tests can reach them."""

from __future__ import annotations

import pytest

from tests.realtime.helpers import REALTIME
from tests.support import ServerFactory, ServerProcess, StartServer


@pytest.fixture
def realtime_server(server_factory: ServerFactory) -> StartServer:
    """Start servers with the real-time settings (a call's own settings win)."""
    return server_factory.configured(REALTIME)


@pytest.fixture(scope="session")
def rt_database(session_servers: ServerFactory) -> str:
    return session_servers.database("bo_rt")


@pytest.fixture(scope="session")
def rt_server(session_servers: ServerFactory, rt_database: str) -> ServerProcess:
    """One real server with short heart-beats and small limits, shared by the protocol tests."""
    return session_servers(database_url=rt_database, log="realtime", settings=REALTIME)
