"""The HTTP server's bounds, from the settings and this process's descriptor limit."""

from __future__ import annotations

import logging
import resource
from dataclasses import dataclass
from functools import cache

from boxoffice.settings import Settings, get_settings

log = logging.getLogger("boxoffice.httpserver")

RESERVED_FDS = 64
"""Descriptors kept for everything but client sockets besides the pools: the listening socket, the
health probe, metric files, logs, imports. Refused connections linger briefly in LINGER_SLOTS more."""
LINGER_SLOTS = 32
NOFILE_CEILING = 1 << 20
"""Raise the soft limit at most this far (a hard limit of `unlimited` is not a valid soft limit)."""


@dataclass(frozen=True)
class HttpLimits:
    max_header_bytes: int
    max_headers: int
    header_timeout_s: float
    body_timeout_s: float
    max_connections: int
    """Connections (HTTP and WebSocket) this worker keeps; one more is answered 503 and closed."""
    max_per_address: int
    """HTTP connections one peer address may hold in this worker (0: no cap); one more is answered 503
    and closed."""


def raise_nofile() -> tuple[int, int]:
    """Raise the descriptor soft limit to the hard limit (workers inherit it); returns (soft, hard)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = NOFILE_CEILING if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as exc:
            log.warning("nofile_raise_failed soft=%d hard=%d error=%s", soft, hard, exc)
    return soft, hard


def connection_cap(settings: Settings, soft_nofile: int) -> int:
    """The configured cap, lowered so that client sockets can never exhaust the descriptors."""
    if soft_nofile == resource.RLIM_INFINITY:
        return settings.http_max_connections
    others = RESERVED_FDS + LINGER_SLOTS + settings.db_pool_max + settings.redis_pool_max
    return max(1, min(settings.http_max_connections, soft_nofile - others))


def address_cap(settings: Settings, connection_cap: int) -> int:
    """The configured per-address cap, lowered to half the connection cap: one address (a client
    opening sockets it never uses) must leave the other half to everyone else. 0 stays 0 (no cap)."""
    configured = settings.http_max_connections_per_address
    if configured == 0:
        return 0
    return max(1, min(configured, connection_cap // 2))


@cache
def http_limits() -> HttpLimits:
    """This worker's limits (read once: the protocol is built by uvicorn, which knows no settings)."""
    settings = get_settings()
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = connection_cap(settings, soft)
    if cap < settings.http_max_connections:
        log.warning(
            "http_connection_cap_lowered configured=%d effective=%d nofile=%d",
            settings.http_max_connections,
            cap,
            soft,
        )
    per_address = address_cap(settings, cap)
    if per_address < settings.http_max_connections_per_address:
        log.warning(
            "http_address_cap_lowered configured=%d effective=%d connection_cap=%d",
            settings.http_max_connections_per_address,
            per_address,
            cap,
        )
    return HttpLimits(
        max_header_bytes=settings.http_max_header_bytes,
        max_headers=settings.http_max_headers,
        header_timeout_s=settings.http_header_timeout_s,
        body_timeout_s=settings.http_body_timeout_s,
        max_connections=cap,
        max_per_address=per_address,
    )
