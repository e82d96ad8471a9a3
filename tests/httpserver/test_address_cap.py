"""The per-address HTTP connection cap: one address holding idle sockets leaves the worker to the others
(before: 400 silent sockets from one client at a 256-descriptor limit took every connection slot, and
every other client got 503 until the head timeout closed them)."""

from __future__ import annotations

import base64
import os
import select
import socket

import httpx

from tests.helpers import wait_for
from tests.httpserver.helpers import READ_S, log_lines, read_all, status_of
from tests.httpserver.test_limits import nofile_for_children
from tests.observability.helpers import scrape, value
from tests.support import ServerFactory, ServerProcess

LIVENESS = "/actuator/health/liveness"
FLOOD = "127.0.0.2"
OTHER = "127.0.0.3"
PROXY = "127.0.0.4"


def connect_from(server: ServerProcess, source: str) -> socket.socket:
    """A connection from `source` (any 127.x address reaches the loopback listener)."""
    return socket.create_connection(("127.0.0.1", server.port), timeout=READ_S, source_address=(source, 0))


def readable(sock: socket.socket) -> bool:
    return bool(select.select([sock], [], [], 0)[0])


def answers_from(server: ServerProcess, source: str) -> bool:
    transport = httpx.HTTPTransport(local_address=source)
    try:
        with httpx.Client(transport=transport, timeout=5) as client:
            return client.get(f"{server.base_url}{LIVENESS}").status_code == 200
    except httpx.HTTPError:
        return False


def get(path: str, *headers: str) -> bytes:
    return "\r\n".join([f"GET {path} HTTP/1.1", "Host: t", *headers, "", ""]).encode()


def one_response(sock: socket.socket) -> bytes:
    """One response of known length on a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65_536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.lower().split(b"\r\n")
    length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length"))
    while len(body) < length:
        body += sock.recv(65_536)
    return head


def test_one_address_with_idle_sockets_leaves_the_worker_to_the_others(server_factory: ServerFactory) -> None:
    # The numbers: 400 silent sockets, 256 descriptors. The connection cap is 256 - 96 - 5
    # (pool) - 20 (Redis) = 135; one address gets half of it. The head timeout outlasts the test, so
    # the flood's accepted sockets stay open throughout.
    with nofile_for_children(256, 256):
        server = server_factory(http_header_timeout_s=300, redis_pool_max=20, log="flood")
    per_address = 135 // 2
    flood: list[socket.socket] = []
    try:
        for _ in range(400):
            flood.append(connect_from(server, FLOOD))
        # Another address is served while the flood holds its share (its refused sockets linger
        # up to a second, taking slots until they close).
        wait_for(lambda: answers_from(server, OTHER), timeout_s=20, what="another address to be served")
        refused = wait_for(
            lambda: [s for s in flood if readable(s)] if sum(readable(s) for s in flood) == 400 - per_address else None,
            what="every refusal to arrive",
        )
        held = [s for s in flood if s not in refused]
        assert len(held) == per_address
        answers = [read_all(s, limit=1024) for s in refused]
        assert {status_of(a) for a in answers} == {503}
        assert all(b"retry-after: 1" in a and b"connection: close" in a for a in answers)
        assert any(b"Too many connections from this address" in a for a in answers)
        assert log_lines(server, "http_connection_shed reason=address_cap client=127.0.0.2")
        samples = scrape(server.base_url)
        shed = value(samples, "http_connections_shed_total", reason="address_cap")
        assert shed >= 1 and shed + value(samples, "http_connections_shed_total", reason="connections") >= len(refused)
        # The flood's sockets are still open and silent: the other address got in beside them.
        assert not any(readable(s) for s in held)
        assert answers_from(server, OTHER)
    finally:
        for sock in flood:
            sock.close()


def served(server: ServerProcess, source: str) -> socket.socket | None:
    """A new connection from `source` that was answered 200 and stays open (kept alive), or None."""
    sock = connect_from(server, source)
    sock.sendall(get(LIVENESS))
    head = one_response(sock)
    if status_of(head) == 200:
        return sock
    sock.close()
    return None


def upgraded(server: ServerProcess, source: str) -> socket.socket | None:
    """A new connection from `source` upgraded to a WebSocket, or None."""
    sock = connect_from(server, source)
    key = base64.b64encode(os.urandom(16)).decode()
    upgrade = ("Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13")
    sock.sendall(get("/ws", *upgrade))
    if sock.recv(1024).startswith(b"HTTP/1.1 101 "):
        return sock
    sock.close()
    return None


def test_the_cap_counts_the_peer_and_each_connection_until_it_closes(server_factory: ServerFactory) -> None:
    server = server_factory(http_max_connections_per_address=3, trusted_proxies=PROXY, log="peer")
    held: list[socket.socket] = []
    try:
        for _ in range(3):  # kept alive after a request: still counted
            held.append(wait_for(lambda: served(server, PROXY), what="a connection within the cap"))
        # Behind a trusted proxy the peer is the proxy: X-Forwarded-For names the client for the app,
        # but the socket is the proxy's, and so is the count.
        extra = connect_from(server, PROXY)
        extra.sendall(get(LIVENESS, "X-Forwarded-For: 203.0.113.9"))
        refusal = read_all(extra)
        extra.close()
        assert status_of(refusal) == 503, refusal
        assert b"retry-after: 1" in refusal and b"connection: close" in refusal
        assert b"Too many connections from this address" in refusal
        assert answers_from(server, OTHER)
        # A closed connection gives its slot back.
        held.pop().close()
        held.append(wait_for(lambda: served(server, PROXY), what="the slot a closed connection freed"))
        # A WebSocket leaves the HTTP count when it upgrades (the WebSocket cap counts it from then on):
        # beside two HTTP connections and a WebSocket, a third HTTP connection fits.
        held.pop().close()
        held.append(wait_for(lambda: upgraded(server, PROXY), what="a WebSocket within the cap"))
        held.append(wait_for(lambda: served(server, PROXY), what="a third HTTP connection beside the WebSocket"))
        assert value(scrape(server.base_url), "http_connections_shed_total", reason="address_cap") >= 1
    finally:
        for sock in held:
            sock.close()
