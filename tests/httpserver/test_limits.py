"""Descriptors: the soft limit is raised at start, and a flood of idle sockets at a low limit is
shed with 503s instead of taking the worker down (before: 400 idle sockets at 256 descriptors
stopped the server, with no log line)."""

from __future__ import annotations

import contextlib
import resource
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from tests.helpers import wait_for
from tests.httpserver.helpers import connect, log_lines, read_all, status_of
from tests.observability.helpers import scrape, value
from tests.support import ServerFactory

LIVENESS = "/actuator/health/liveness"


@contextlib.contextmanager
def nofile_for_children(soft: int, hard: int) -> Iterator[None]:
    """Processes started inside the block get these descriptor limits (the test's own stay)."""
    real: Callable[..., subprocess.Popen[bytes]] = subprocess.Popen

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    def popen(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        return real(*args, preexec_fn=limit, **kwargs)

    with mock.patch.object(subprocess, "Popen", popen):
        yield


def nofile_of(pid: int) -> tuple[int, int]:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return int(soft), int(hard)
    raise AssertionError("no descriptor limit")


def test_the_descriptor_soft_limit_is_raised_to_the_hard_limit(server_factory: ServerFactory) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with nofile_for_children(256, hard):
        server = server_factory()
    assert server.proc is not None
    assert nofile_of(server.proc.pid) == (hard, hard)


def test_idle_sockets_at_a_low_descriptor_limit_are_shed_not_fatal(server_factory: ServerFactory) -> None:
    with nofile_for_children(256, 256):
        # One address here: its own cap (half the connection cap, test_address_cap.py) would refuse first.
        server = server_factory(
            http_header_timeout_s=3, redis_pool_max=20, http_max_connections_per_address=0, log="nofile"
        )
    held: list[socket.socket] = []
    try:
        for _ in range(400):
            held.append(connect(server))
        # Each ends: those over the cap with a 503 at once, the others (idle, within the cap) closed
        # after the head timeout while this client still holds them open.
        endings = [status_of(read_all(sock, limit=1024)) for sock in held]
        refused = [e for e in endings if e == 503]
        assert 200 <= len(refused) < 400 and set(endings) == {503, None}, endings
        assert log_lines(server, "http_connection_shed reason=connections")
        wait_for(lambda: answers(server.base_url), what="the server to answer again")
        samples = scrape(server.base_url)
        assert value(samples, "http_connections_shed_total", reason="connections") >= len(refused)
        assert value(samples, "http_connections_shed_total", reason="header_timeout") >= 1
        assert server.proc is not None and server.proc.poll() is None
    finally:
        for sock in held:
            sock.close()


def answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}{LIVENESS}", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False
