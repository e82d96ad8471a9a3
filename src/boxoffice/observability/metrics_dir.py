"""Sets up PROMETHEUS_MULTIPROC_DIR for `boxoffice serve`.

Imported by the CLI before the server starts, so it must not import prometheus_client:
the library picks its value storage (in-memory or mmap files) when it is first imported.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_directory() -> Iterator[Path]:
    """Point this process (and the workers it spawns) at an empty metrics directory.

    An operator-provided PROMETHEUS_MULTIPROC_DIR is emptied of stale `*.db` files (a previous
    run's counters must not leak into this one) and kept; otherwise a fresh temporary
    directory is created and removed on exit.
    """
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus_client was imported before the metrics directory was set up")
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
        yield path
        return
    path = Path(tempfile.mkdtemp(prefix="boxoffice-metrics-"))
    os.environ[ENV] = str(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.environ.pop(ENV, None)
