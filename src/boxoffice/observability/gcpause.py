"""How long the garbage collector stops a worker: every request in flight waits that long.

A full collection walks every tracked object, so its pause grows with what a worker keeps (caches,
a waiting room's visitors); the only sign of it from outside is a latency spike nobody can place.
`python_gc_pause_seconds{generation}` shows it, and a pause past `LONG_PAUSE_S` is logged.
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from prometheus_client import Histogram

log = logging.getLogger(__name__)

LONG_PAUSE_S = 0.05

GC_PAUSE = Histogram(
    "python_gc_pause_seconds",
    "Time the garbage collector stopped this worker, by generation collected.",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
_started = [0.0]


def _callback(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    pause = time.perf_counter() - _started[0]
    generation = int(info.get("generation", 0))
    GC_PAUSE.labels(str(generation)).observe(pause)
    if pause > LONG_PAUSE_S:
        log.warning("gc_pause generation=%s ms=%.1f collected=%s", generation, pause * 1000, info.get("collected"))


def watch() -> None:
    """Measure every collection of this process from now on (idempotent)."""
    for generation in range(3):
        GC_PAUSE.labels(str(generation))  # every series exists from the start, at 0
    if _callback not in gc.callbacks:
        gc.callbacks.append(_callback)
