"""Instance-wide readiness: each worker marks itself ready in the shared metrics directory.

With several worker processes behind one port, a load balancer's probe reaches one of them at
random; readiness must speak for all. A worker writes `worker_ready_<pid>` once it has migrated
and seeded and removes it when it drains or stops; the instance is ready when as many live workers
as `serve` started have marked themselves. A worker that died (and is being replaced) leaves its
file behind with a dead pid, which does not count.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from boxoffice.observability.metrics_dir import ENV

PREFIX = "worker_ready_"
EXPECTED_ENV = "BOXOFFICE_WORKERS"


@dataclass(frozen=True)
class Workers:
    ready: int
    expected: int

    @property
    def all_ready(self) -> bool:
        return self.ready >= self.expected


def _directory() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def _alive(pid: int) -> bool:
    # Not shared with observability.multiprocess: importing it loads prometheus_client, which must
    # not happen before serve has set up the metrics directory.
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def mark_ready(ready: bool) -> None:
    """Mark (or unmark) this worker ready; a no-op outside `boxoffice serve` (no shared directory)."""
    path = _directory()
    if path is None:
        return
    marker = path / f"{PREFIX}{os.getpid()}"
    if ready:
        marker.touch()
    else:
        with contextlib.suppress(FileNotFoundError):
            marker.unlink()


def clear_stale(path: Path) -> None:
    """Forget a previous run's markers (an operator-provided directory outlives the server)."""
    for stale in path.glob(f"{PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()


def workers() -> Workers | None:
    """How many workers are ready out of how many `serve` started; None outside `boxoffice serve`."""
    path = _directory()
    if path is None:
        return None
    expected = int(os.environ.get(EXPECTED_ENV, "1") or "1")
    ready = 0
    for entry in os.scandir(path):
        name = entry.name
        if name.startswith(PREFIX) and name[len(PREFIX) :].isdigit() and _alive(int(name[len(PREFIX) :])):
            ready += 1
    return Workers(ready, expected)
