"""Trusted proxies: X-Forwarded-For is the client only when a configured proxy sent it.

The per-address rate limit (on `POST /api/v1/sessions`) shows which address the server believed.
"""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from tests.helpers import wait_for
from tests.httpserver.helpers import log_lines
from tests.realtime.client import StompClient, ws_url
from tests.support import LOAD_LIMITS_OFF, ServerFactory

PER_IP = 3


def statuses(base_url: str, forwarded_for: list[str]) -> list[int]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return [
            client.post("/api/v1/sessions", headers={"X-Forwarded-For": address}).status_code
            for address in forwarded_for
        ]


def test_a_trusted_proxy_forwards_the_client_address(server_factory: ServerFactory) -> None:
    server = server_factory(
        settings=LOAD_LIMITS_OFF, rate_limit_per_ip=PER_IP, trusted_proxies="127.0.0.0/8, ::1", access_log=True
    )
    # Five clients behind the proxy: each has its own budget.
    assert statuses(server.base_url, [f"203.0.113.{i}" for i in range(5)]) == [201] * 5
    # One client sending too much is limited, whatever the proxy's other clients do.
    assert statuses(server.base_url, ["198.51.100.7"] * 5) == [201] * PER_IP + [429] * 2
    # The proxy appends the peer it saw: a client's own forged entry on the left is not believed.
    forged = [f"10.9.9.{i}, 198.51.100.8" for i in range(5)]
    assert statuses(server.base_url, forged) == [201] * PER_IP + [429] * 2
    # The access log names the client too.
    assert wait_for(lambda: log_lines(server, "client=198.51.100.7"), what="an access log line for the client")


def test_an_untrusted_peer_cannot_choose_its_address(server_factory: ServerFactory) -> None:
    server = server_factory(settings=LOAD_LIMITS_OFF, rate_limit_per_ip=PER_IP, trusted_proxies="10.0.0.0/8")
    assert statuses(server.base_url, [f"203.0.113.{i}" for i in range(5)]) == [201] * PER_IP + [429] * 2


def test_no_proxy_is_trusted_by_default(server_factory: ServerFactory) -> None:
    server = server_factory(settings=LOAD_LIMITS_OFF, rate_limit_per_ip=PER_IP)
    assert statuses(server.base_url, [f"203.0.113.{i}" for i in range(5)]) == [201] * PER_IP + [429] * 2


async def test_the_websocket_address_cap_sees_the_forwarded_client(server_factory: ServerFactory) -> None:
    server = server_factory(ws_max_connections_per_address=1, trusted_proxies="127.0.0.1")
    target = ws_url(server.base_url)
    first = await StompClient.open(target, additional_headers={"X-Forwarded-For": "203.0.113.1"})
    second = await StompClient.open(target, additional_headers={"X-Forwarded-For": "203.0.113.2"})
    with pytest.raises(InvalidStatus) as refused:
        await StompClient.open(target, additional_headers={"X-Forwarded-For": "203.0.113.1"})
    assert refused.value.response.status_code == 403
    await first.close()
    await second.close()
