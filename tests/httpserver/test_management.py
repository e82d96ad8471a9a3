"""Metrics and API docs can leave the public port: moved to a management port, or switched off."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.support import ServerFactory, free_port

MANAGED = ("/actuator/prometheus", "/docs", "/openapi.json")


def status(url: str) -> int:
    return httpx.get(url, timeout=30).status_code


def test_a_management_port_takes_metrics_and_docs_off_the_public_port(server_factory: ServerFactory) -> None:
    port = free_port()
    # Ready once both workers are (each serves the management port only after its start-up).
    server = server_factory("--workers", "2", management_port=port, ready_path="/actuator/health/readiness")
    management = f"http://127.0.0.1:{port}"
    for path in MANAGED:
        assert status(f"{server.base_url}{path}") == 404, path
        assert status(f"{management}{path}") == 200, path
    # The API stays on the public port only; health answers on both (a load balancer may probe either).
    assert status(f"{server.base_url}/api/v1/seats") == 200
    assert status(f"{management}/api/v1/seats") == 404
    assert status(f"{management}/actuator/health/readiness") == 200
    assert status(f"{server.base_url}/actuator/health/readiness") == 200
    # Either worker answers a scrape for both (they share the port).
    scrape = httpx.get(f"{management}/actuator/prometheus", timeout=30).text
    assert "http_connections_shed_total" in scrape


def test_docs_and_metrics_can_be_switched_off(server_factory: ServerFactory) -> None:
    server = server_factory(public_docs=False, public_metrics=False)
    for path in MANAGED:
        assert status(f"{server.base_url}{path}") == 404, path
    assert status(f"{server.base_url}/actuator/health") == 200


def test_by_default_they_stay_public(server_factory: ServerFactory) -> None:
    server = server_factory()
    for path in MANAGED:
        assert status(f"{server.base_url}{path}") == 200, path


def test_a_management_port_in_use_stops_the_start(server_factory: ServerFactory) -> None:
    """Workers share the port with SO_REUSEPORT: another instance listening there must not get half the scrapes."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(RuntimeError, match="exited"):
            server_factory(management_port=other.getsockname()[1], log="taken")
