"""Every connection the HTTP server refuses or closes is counted, and logged at most once per interval."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from boxoffice.observability import metrics

log = logging.getLogger("boxoffice.httpserver")

LOG_INTERVAL_S = 10.0
"""Least time between two log lines of one reason: a flood must not turn into a log flood."""


@dataclass
class _Pending:
    count: int = 0
    last_logged: float = field(default=float("-inf"))


_PENDING: dict[str, _Pending] = {}


def shed(reason: str, client: tuple[str, int] | None, detail: str) -> None:
    """Count one shed connection; log it unless this reason was logged within LOG_INTERVAL_S."""
    metrics.HTTP_CONNECTIONS_SHED.labels(reason).inc()
    pending = _PENDING.setdefault(reason, _Pending())
    pending.count += 1
    now = time.monotonic()
    if now - pending.last_logged < LOG_INTERVAL_S:
        return
    address = client[0] if client else "-"
    log.warning(
        "http_connection_shed reason=%s client=%s detail=%r shed_since_last_line=%d",
        reason,
        address,
        detail,
        pending.count,
    )
    pending.count = 0
    pending.last_logged = now
