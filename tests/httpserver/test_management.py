"""Metrics and API docs are private by default: on the public port for direct connections from this
machine only, on a management port only, or public when configured; health stays public."""

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
    # Ready once a worker is; each listens on the management port only once it is ready.
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


def non_loopback_address() -> str | None:
    """An address of this machine that is not loopback (the route a datagram would take), if any."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, only a route is looked up
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_by_default_only_this_machine_sees_them(server_factory: ServerFactory) -> None:
    server = server_factory(host="0.0.0.0")
    for path in MANAGED:
        # A direct connection from this machine: a local Prometheus, a developer's browser.
        assert status(f"{server.base_url}{path}") == 200, path
        # Through a reverse proxy on this machine (it connects from loopback for anyone): not served.
        for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP"):
            proxied = httpx.get(f"{server.base_url}{path}", headers={header: "203.0.113.7"}, timeout=30)
            assert proxied.status_code == 404, (path, header)
    assert status(f"{server.base_url}/actuator/health/readiness") == 200
    address = non_loopback_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to connect from")
    remote = f"http://{address}:{server.port}"
    for path in MANAGED:
        assert status(f"{remote}{path}") == 404, path
    # Health stays public: load balancers probe it.
    assert status(f"{remote}/actuator/health/readiness") == 200
    assert status(f"{remote}/api/v1/seats") == 200


def test_public_settings_open_them_to_every_client(server_factory: ServerFactory) -> None:
    server = server_factory(host="0.0.0.0", public_docs=True, public_metrics=True)
    address = non_loopback_address() or "127.0.0.1"
    for path in MANAGED:
        assert status(f"http://{address}:{server.port}{path}") == 200, path
        proxied = httpx.get(f"{server.base_url}{path}", headers={"X-Forwarded-For": "203.0.113.7"}, timeout=30)
        assert proxied.status_code == 200, path


def test_a_management_port_in_use_stops_the_start(server_factory: ServerFactory) -> None:
    """Workers share the port with SO_REUSEPORT: another instance listening there must not get half the scrapes."""
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind(("127.0.0.1", 0))
        other.listen()
        with pytest.raises(RuntimeError, match="exited"):
            server_factory(management_port=other.getsockname()[1], log="taken")
