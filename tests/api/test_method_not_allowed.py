"""A 405 names the methods the path answers (`Allow`, RFC 9110 15.5.6): FastAPI's routes, the lean
routes (api/lean.py), and paths served by several routes (all their methods, not the first's)."""

from __future__ import annotations

import httpx
import pytest

from tests.support import ServerFactory, ServerProcess

CASES = [
    ("TRACE", "/actuator/health", "GET"),
    ("DELETE", "/api/v1/seats", "GET"),
    ("PUT", "/api/v1/bookings", "POST"),  # a lean route
    ("GET", "/api/v1/events/1/waiting-room/join", "POST"),  # a lean route with an id
    ("DELETE", "/api/v1/admin/events/1/waiting-room", "GET, PUT"),  # two routes on one path
    ("GET", "/api/v1/holds/6f1c1d7e-2b1a-4c55-9a51-0c1f5a7d9e01/extend", "POST"),
]


@pytest.fixture(scope="module")
def small_server(module_servers: ServerFactory) -> ServerProcess:
    return module_servers(seed_rows=1, seed_cols=2)


@pytest.mark.parametrize(("method", "path", "allow"), CASES)
def test_405_carries_allow(small_server: ServerProcess, method: str, path: str, allow: str) -> None:
    server = small_server
    answer = httpx.request(method, server.base_url + path)
    assert answer.status_code == 405
    assert answer.json()["error"] == "METHOD_NOT_ALLOWED"
    assert answer.headers.get("allow") == allow
