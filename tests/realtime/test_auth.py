"""jwt mode: `/ws` admits only a handshake that carries a valid token (header, subprotocol or URL);
anything else is HTTP 401 before the upgrade, so a stranger never holds a connection."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import jwt
import orjson
import pytest
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus

from tests.realtime.client import StompClient, ws_url
from tests.realtime.helpers import REALTIME
from tests.shared import JWT_SECRET
from tests.support import ServerFactory, ServerProcess

CHALLENGE = 'Bearer realm="boxoffice"'


@pytest.fixture(scope="module")
def jwt_ws(module_servers: ServerFactory) -> ServerProcess:
    return module_servers(settings=REALTIME, auth_mode="jwt", jwt_secret=JWT_SECRET, jwt_audience="boxoffice")


def token(sub: str = "zoe", secret: str = JWT_SECRET, **claims: object) -> str:
    payload = {"sub": sub, "aud": "boxoffice", "exp": int(time.time()) + 300, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def refused_unauthenticated(base_url: str) -> float:
    text = httpx.get(f"{base_url}/actuator/prometheus", timeout=30).text
    match = re.search(r'^websocket_refused_total\{reason="unauthenticated"\} (\S+)$', text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def refusal(url: str, **kwargs: Any) -> tuple[int, Headers, dict[str, object]]:
    with pytest.raises(InvalidStatus) as caught:
        client = await StompClient.open(url, **kwargs)
        await client.close()
    response = caught.value.response
    return response.status_code, response.headers, orjson.loads(response.body)


def ways(url: str, tok: str) -> list[tuple[str, dict[str, Any]]]:
    """The three places a handshake may carry the token, as (url, StompClient.open keywords)."""
    return [
        (url, {"additional_headers": {"Authorization": f"Bearer {tok}"}}),
        (url, {"subprotocols": ("v12.stomp", f"bearer.{tok}")}),
        (f"{url}?access_token={tok}", {}),
    ]


async def test_a_handshake_without_a_token_gets_401_before_the_upgrade(jwt_ws: ServerProcess) -> None:
    url = ws_url(jwt_ws.base_url)
    before = refused_unauthenticated(jwt_ws.base_url)
    status, headers, body = await refusal(url)
    assert status == 401
    assert headers["WWW-Authenticate"] == CHALLENGE
    assert body["error"] == "UNAUTHENTICATED"
    message = str(body["message"])
    assert "Authorization" in message and "bearer.<token>" in message and "access_token" in message, message
    # An empty query parameter or a non-bearer Authorization header is no token either.
    assert (await refusal(f"{url}?access_token="))[0] == 401
    assert (await refusal(url, additional_headers={"Authorization": "Basic Zm9vOmJhcg=="}))[0] == 401
    assert refused_unauthenticated(jwt_ws.base_url) == before + 3


async def test_a_bad_token_gets_401_invalid_token_wherever_it_is(jwt_ws: ServerProcess) -> None:
    url = ws_url(jwt_ws.base_url)
    bad_tokens = {
        "expired": token(exp=int(time.time()) - 3600),
        "forged": token(secret="another-secret-" + "y" * 40),
        "garbage": "garbage",
    }
    for name, bad in bad_tokens.items():
        for target, kwargs in ways(url, bad):
            status, headers, body = await refusal(target, **kwargs)
            assert status == 401, (name, kwargs)
            assert headers["WWW-Authenticate"] == f'{CHALLENGE}, error="invalid_token"', (name, kwargs)
            assert body["error"] == "UNAUTHENTICATED" and body["message"], body


async def test_a_good_token_at_the_handshake_connects_each_way(jwt_ws: ServerProcess) -> None:
    url = ws_url(jwt_ws.base_url)
    connect = [("accept-version", "1.2"), ("host", "boxoffice")]
    for target, kwargs in ways(url, token()):
        client = await StompClient.open(target, **kwargs)
        # The server selects the STOMP subprotocol, never the one carrying the token.
        assert client.ws.subprotocol == "v12.stomp", kwargs
        await client.send("CONNECT", connect)
        frame = await client.next_frame()
        assert frame.command == "CONNECTED", (kwargs, frame)
        await client.subscribe()
        await client.close()
