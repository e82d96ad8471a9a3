"""Metrics that add up across uvicorn worker processes (prometheus-client multiprocess mode).

Each worker writes its samples to mmap files in PROMETHEUS_MULTIPROC_DIR; whichever worker
answers a scrape merges every file. A worker that dies keeps its counters (they stay
monotonic) but loses its live gauges (`mark_process_dead`), whether it exited cleanly or was
killed and replaced by uvicorn's supervisor.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from boxoffice.observability.metrics_dir import ENV

_LIVE_FILE = re.compile(r"^gauge_live[a-z]*_(\d+)\.db$")


def directory() -> Path | None:
    value = os.environ.get(ENV)
    return Path(value) if value else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def live_workers(path: Path) -> list[int]:
    """Pids of workers with live gauges; forget (mark dead) those whose process is gone."""
    pids = {int(m.group(1)) for e in os.scandir(path) if (m := _LIVE_FILE.match(e.name))}
    alive = []
    for pid in sorted(pids):
        if _alive(pid):
            alive.append(pid)
        else:
            multiprocess.mark_process_dead(pid, str(path))  # type: ignore[no-untyped-call]
    return alive


def mark_self_dead() -> None:
    path = directory()
    if path is not None:
        multiprocess.mark_process_dead(os.getpid(), str(path))  # type: ignore[no-untyped-call]


def _constant(pid: int) -> Callable[[], int]:
    return lambda: pid


class WorkerProcessCollector(Collector):
    """`process_*` metrics summed over the live workers (start time: the oldest worker).

    prometheus-client's ProcessCollector sees only the process answering the scrape; reading
    every worker's /proc entry makes CPU and memory cover the whole server.
    """

    def __init__(self, path: Path) -> None:
        self._path = path

    def collect(self) -> Iterable[Metric]:
        pids = live_workers(self._path)
        totals: dict[str, float] = {}
        families: dict[str, Metric] = {}
        for pid in pids:
            for family in ProcessCollector(pid=_constant(pid), registry=None).collect():
                value = family.samples[0].value
                previous = totals.get(family.name)
                families[family.name] = family
                if previous is None:
                    totals[family.name] = value
                elif family.name in ("process_start_time_seconds", "process_max_fds"):
                    totals[family.name] = min(previous, value)
                else:
                    totals[family.name] = previous + value
        for name, value in totals.items():
            doc = f"{families[name].documentation} Summed over worker processes."
            if families[name].type == "counter":
                yield CounterMetricFamily(name, doc, value=value)
            else:
                yield GaugeMetricFamily(name, doc, value=value)
        yield GaugeMetricFamily("boxoffice_worker_processes", "Live server worker processes.", value=len(pids))


def exposition() -> tuple[bytes, str]:
    """The text exposition for a scrape: merged over workers in multiprocess mode, else this process."""
    path = directory()
    if path is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_PLAIN_0_0_4
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(path))  # type: ignore[no-untyped-call]
    registry.register(WorkerProcessCollector(path))
    return generate_latest(registry), CONTENT_TYPE_PLAIN_0_0_4
