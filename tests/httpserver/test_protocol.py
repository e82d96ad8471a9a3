"""The HTTP server's bounds on a real server: header size and count, head/body/idle timeouts, and
every shed counted and logged. Reproductions of issue 12, section 4 (before: 200, 83 MB, never closed)."""

from __future__ import annotations

import httpx
import pytest

from tests.helpers import wait_for
from tests.httpserver.helpers import (
    connect,
    dribble_until_closed,
    log_lines,
    peak_rss_kib,
    read_all,
    send_in_background,
    status_of,
)
from tests.observability.helpers import scrape, value
from tests.support import ServerFactory, ServerProcess

MIB = 1 << 20
HEAD = b"GET /api/v1/seats HTTP/1.1\r\nHost: edge\r\n"


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory) -> ServerProcess:
    """Default limits, except timeouts short enough for a test to wait them out."""
    return module_servers(http_header_timeout_s=1, http_body_timeout_s=1, keep_alive_s=1, log="edge")


def shed(server: ServerProcess, reason: str) -> float:
    return value(scrape(server.base_url), "http_connections_shed_total", reason=reason)


def test_an_8_mib_header_is_refused_with_431(server: ServerProcess) -> None:
    before = shed(server, "header_too_large")
    sock = connect(server)
    send_in_background(sock, HEAD + b"X-Big: " + b"a" * (8 * MIB) + b"\r\n\r\n")
    response = read_all(sock)
    assert status_of(response) == 431, response[:200]
    assert b"connection: close" in response
    assert shed(server, "header_too_large") >= before + 1
    # A header just under the limit is still served.
    ok = httpx.get(f"{server.base_url}/api/v1/seats", headers={"X-Fine": "a" * 12_000}, timeout=30)
    assert ok.status_code == 200


def test_unfinished_huge_headers_cost_bounded_memory(server: ServerProcess) -> None:
    """Ten connections each sending 6 MiB of a header that never ends: each is refused after the
    limit, and the worker's peak memory barely moves (before: +83 MB, connections kept)."""
    assert server.proc is not None
    peak_before = peak_rss_kib(server.proc.pid)
    socks = [connect(server) for _ in range(10)]
    for sock in socks:
        send_in_background(sock, HEAD + b"X-Never-Ends: " + b"a" * (6 * MIB))
    answers = [status_of(read_all(sock)) for sock in socks]
    assert answers == [431] * 10
    growth_mib = (peak_rss_kib(server.proc.pid) - peak_before) / 1024
    assert growth_mib < 20, f"peak RSS grew {growth_mib:.1f} MiB"


def test_too_many_header_fields_are_refused(server: ServerProcess) -> None:
    fields = b"".join(b"X-F%d: 1\r\n" % i for i in range(150))
    sock = connect(server)
    sock.sendall(HEAD + fields + b"\r\n")
    assert status_of(read_all(sock)) == 431


def test_a_silent_connection_is_closed(server: ServerProcess) -> None:
    before = shed(server, "header_timeout")
    sock = connect(server)
    assert read_all(sock) == b""  # closed by the server (before: never)
    wait_for(lambda: shed(server, "header_timeout") >= before + 1, what="the timeout to be counted")


def test_a_slowloris_head_is_timed_out(server: ServerProcess) -> None:
    sock = connect(server)
    sock.sendall(b"GET /api/v1/seats HTTP/1.1\r\n")
    response = dribble_until_closed(sock, b"X", every_s=0.1, limit_s=60)
    assert status_of(response) == 408


def test_a_body_that_never_arrives_is_timed_out(server: ServerProcess) -> None:
    before = shed(server, "body_timeout")
    sock = connect(server)
    sock.sendall(b"POST /api/v1/sessions HTTP/1.1\r\nHost: edge\r\nContent-Length: 100\r\n\r\n{")
    response = read_all(sock)
    assert status_of(response) == 408
    wait_for(lambda: shed(server, "body_timeout") >= before + 1, what="the timeout to be counted")


def test_an_idle_keep_alive_connection_is_closed(server: ServerProcess) -> None:
    sock = connect(server)
    sock.sendall(HEAD + b"\r\n")
    # The response, then the close after keep_alive_s (read_all returns at the close, else times out).
    response = read_all(sock)
    assert status_of(response) == 200 and b"connection: close" not in response.lower()


def test_sheds_are_logged_at_most_once_per_interval(server: ServerProcess) -> None:
    socks = [connect(server) for _ in range(5)]
    for sock in socks:
        sock.sendall(HEAD + b"X-Big: " + b"a" * 40_000 + b"\r\n\r\n")
    assert [status_of(read_all(s)) for s in socks] == [431] * 5
    lines = log_lines(server, "http_connection_shed reason=header_too_large")
    assert 1 <= len(lines) <= 3, lines  # rate-limited: not one line per connection


def test_unparsable_requests_are_counted_not_each_logged(server: ServerProcess) -> None:
    """Before: one uvicorn WARNING per garbage request, so anyone could flood the log."""
    before = shed(server, "bad_request")
    for _ in range(20):
        sock = connect(server)
        sock.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        assert status_of(read_all(sock)) == 400
    assert shed(server, "bad_request") >= before + 20
    assert not log_lines(server, 'msg="Invalid HTTP request received')  # uvicorn's own line
    assert 1 <= len(log_lines(server, "http_connection_shed reason=bad_request")) <= 3
