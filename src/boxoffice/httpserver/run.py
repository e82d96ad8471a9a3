"""`boxoffice serve`'s HTTP server: uvicorn + httptools + uvloop with the bounded protocol.

Imports nothing that imports prometheus_client: in the supervisor process (several workers) the
metrics must stay untouched, and the app is loaded by each worker from its import string.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
from pathlib import Path

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from boxoffice.httpserver import workers as worker_marks
from boxoffice.httpserver.limits import raise_nofile
from boxoffice.observability.metrics_dir import ENV as METRICS_DIR_ENV
from boxoffice.settings import Settings

log = logging.getLogger("boxoffice.httpserver")

PROTOCOL = "boxoffice.httpserver.protocol:BoundedHttpProtocol"
GRACEFUL_SHUTDOWN_S = 10


def run(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve until SIGTERM/SIGINT (then drain for `drain_s` and shut down gracefully)."""
    soft, hard = raise_nofile()
    log.info("nofile soft=%d hard=%d", soft, hard)
    # Workers read how many siblings they have (instance-wide readiness) from the environment.
    os.environ[worker_marks.EXPECTED_ENV] = str(workers)
    metrics_dir = os.environ.get(METRICS_DIR_ENV)
    if metrics_dir:
        worker_marks.clear_stale(Path(metrics_dir))
    if settings.management_port is not None:
        _check_free(settings.management_host, settings.management_port)
    proxies = settings.trusted_proxy_list
    # uvicorn.run, with a supervisor that lets go of the listening socket when it stops the workers.
    config = uvicorn.Config(
        "boxoffice.server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        http=PROTOCOL,
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
        timeout_keep_alive=settings.keep_alive_s,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        # uvicorn kills a worker whose ping thread does not answer in time; on a saturated machine a
        # busy worker can miss 5 s, and killing it drops every request in flight.
        timeout_worker_healthcheck=settings.worker_healthcheck_s,
        # X-Forwarded-For/-Proto only from the configured proxies (outermost, before every limit).
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        ws="websockets-sansio",
        # Reject a huge WebSocket message before buffering it; up to twice the STOMP frame limit the
        # STOMP layer answers with an ERROR frame instead.
        ws_max_size=2 * settings.ws_max_frame_bytes,
        ws_per_message_deflate=settings.ws_compression,
    )
    if workers > 1:
        with contextlib.suppress(KeyboardInterrupt):
            Supervisor(config, sockets=[config.bind_socket()]).run()
        return
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C, re-raised by uvicorn once it has shut down
        server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor(Multiprocess):
    """uvicorn's supervisor of several workers. It holds a descriptor of the listening socket only to
    hand it to the workers it starts; held after they stop accepting, it would keep the socket
    listening with nobody to accept: the kernel completes handshakes, clients send requests, and
    everything queued is reset when the supervisor exits. So it closes its descriptor when it stops
    the workers, and the socket closes with the last worker's (drain.stop_listening)."""

    def terminate_all(self) -> None:
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def _check_free(host: str, port: int) -> None:
    """The workers share the management port through SO_REUSEPORT, which would also let another
    instance of the same user bind it and take half the scrapes: make sure nobody holds it yet."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not "taken"; a listener is
        try:
            sock.bind(address)
        except OSError as exc:
            raise SystemExit(f"BOXOFFICE_MANAGEMENT_PORT {host}:{port} is not free: {exc}") from exc
