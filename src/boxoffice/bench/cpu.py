"""CPU seconds spent by the server and by PostgreSQL: per request, robust to other tenants' load."""

from __future__ import annotations

import resource
from collections.abc import Callable
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped,unused-ignore]

Meter = Callable[[], float]
"""Returns CPU seconds used so far; the difference of two readings is what a run cost."""


def tree_cpu_s(pid: int) -> float:
    """CPU seconds used so far by a process, its live descendants and the children it has reaped.

    The PostgreSQL postmaster reaps every backend that ends (a pgbench or asyncpg connection
    closing), so counting reaped children keeps the total growing as connections come and go.
    """
    try:
        root = psutil.Process(pid)
        times = root.cpu_times()
    except psutil.Error:
        return 0.0
    total: float = times.user + times.system + times.children_user + times.children_system
    for proc in root.children(recursive=True):
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def process_meter(pid: int) -> Meter:
    return lambda: tree_cpu_s(pid)


def children_cpu_s() -> float:
    """CPU seconds of this process's reaped children (a pgbench run, once it has exited)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Meters:
    """What to read around each run; `postgres` is None unless the cluster is ours alone."""

    server: Meter
    postgres: Meter | None

    def read(self) -> tuple[float, float | None]:
        return self.server(), self.postgres() if self.postgres else None

    def per_request_ms(self, before: tuple[float, float | None], requests: int) -> tuple[float, float | None]:
        """(server, PostgreSQL) CPU milliseconds per request since `before`."""
        server, postgres = self.read()
        n = max(1, requests)
        pg = None if postgres is None or before[1] is None else round(1000 * (postgres - before[1]) / n, 3)
        return round(1000 * (server - before[0]) / n, 3), pg
