"""With `--workers 2`, whichever worker answers a scrape reports the sum over both workers."""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
from prometheus_client.mmap_dict import mmap_key

from tests.helpers import DEADLINE_S, wait_for
from tests.observability.helpers import file_samples, mmap_file, redis_lease, scrape, value
from tests.support import LOAD_LIMITS_OFF, REDIS_URL, ServerFactory

POOL_MAX = 5


def worker_pids(metrics_dir: Path) -> set[int]:
    return {int(m.group(1)) for p in metrics_dir.iterdir() if (m := re.fullmatch(r"gauge_livesum_(\d+)\.db", p.name))}


def per_worker(metrics_dir: Path, name: str, **labels: str) -> dict[int, float]:
    """What each worker counted on its own, read from its mmap file."""
    out = {}
    key = (name, frozenset(labels.items()))
    for path in metrics_dir.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        out[pid] = file_samples(path).get(key, 0.0)
    return out


def book(client: httpx.Client, body: dict[str, object]) -> int:
    """POST on a fresh connection; a worker still starting answers 503 STARTING, which is retried."""

    def answer() -> int | None:
        response = client.post("/api/v1/bookings", json=body)
        starting = response.status_code == 503 and response.json()["error"] == "STARTING"
        return None if starting else response.status_code

    return wait_for(answer, what="a worker that has finished starting")


def test_two_workers_aggregate_and_survive_a_killed_worker(tmp_path: Path, server_factory: ServerFactory) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    # A previous run's leftovers must not leak into this one: `serve` empties the directory.
    stale = mmap_file(metrics_dir / "counter_1.db")
    stale.write_value(mmap_key("booking_conflict", "booking_conflict_total", ["path"], ["seat"], "stale"), 1000.0, 0.0)
    stale.close()
    prefix = f"bo-obs-{uuid.uuid4().hex[:8]}:"
    server = server_factory(
        "--workers",
        "2",
        env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        redis_key_prefix=prefix,
        db_pool_max=POOL_MAX,
        seed_rows=20,
        seed_cols=25,
        settings=LOAD_LIMITS_OFF,  # the seat cap would turn the winner's 11th booking into a "limited" 409
    )
    # The second worker may still be importing on a busy machine.
    wait_for(lambda: len(worker_pids(metrics_dir)) == 2, what="both workers to start")
    seen: Counter[int] = Counter()
    # No keep-alive: every request opens a connection, which either worker may accept.
    with httpx.Client(base_url=server.base_url, timeout=30, limits=httpx.Limits(max_keepalive_connections=0)) as client:
        seat = 0
        deadline = time.monotonic() + DEADLINE_S
        while seat < 400 and time.monotonic() < deadline:
            seat += 1
            seen[book(client, {"seatId": seat, "userId": "winner"})] += 1
            seen[book(client, {"seatId": seat, "userId": "loser"})] += 1
            wins = per_worker(metrics_dir, "booking_attempts_total", strategy="ATOMIC", outcome="win")
            if seat >= 10 and sum(1 for v in wins.values() if v > 0) == 2:
                break
        assert seen == {201: seat, 409: seat}, seen
        wins = per_worker(metrics_dir, "booking_attempts_total", strategy="ATOMIC", outcome="win")
        assert sum(1 for v in wins.values() if v > 0) == 2, f"one worker served everything: {wins}"

        with redis_lease(REDIS_URL, f"{prefix}lock:seat:{seat + 1}"):
            for _ in range(6):
                assert book(client, {"seatId": seat + 1, "userId": "x", "strategy": "REDIS"}) == 409

    for _ in range(6):  # each scrape may be answered by either worker
        samples = scrape(server.base_url)
        assert value(samples, "booking_attempts_total", strategy="ATOMIC", outcome="win") == seat
        assert value(samples, "booking_attempts_total", strategy="ATOMIC", outcome="conflict") == seat
        assert value(samples, "booking_conflict_total", path="seat") == seat + 6
        assert value(samples, "lock_failures_total", reason="contended") == 6
        assert value(samples, "booking_duration_seconds_count", strategy="ATOMIC") == 2 * seat
        assert value(samples, "boxoffice_worker_processes") == 2
        assert value(samples, "db_pool_connections_max") == 2 * POOL_MAX

    # Kill one worker outright: uvicorn replaces it; its counts stay, its live gauges go.
    victim = min(worker_pids(metrics_dir))
    os.kill(victim, signal.SIGKILL)

    def replaced() -> dict[tuple[str, frozenset[tuple[str, str]]], float] | None:
        samples = scrape(server.base_url)
        pids = worker_pids(metrics_dir)
        if victim in pids or len(pids) != 2 or value(samples, "boxoffice_worker_processes") != 2:
            return None
        if value(samples, "db_pool_connections_max") != 2 * POOL_MAX:
            return None  # the replacement is between importing and configuring its metrics
        return samples

    samples = wait_for(replaced, 2 * DEADLINE_S, "the killed worker to be replaced and forgotten", interval_s=0.5)
    assert value(samples, "booking_attempts_total", strategy="ATOMIC", outcome="win") == seat
    assert value(samples, "booking_conflict_total", path="seat") == seat + 6
    assert value(samples, "db_pool_connections_max") == 2 * POOL_MAX
    assert (metrics_dir / f"counter_{victim}.db").exists()
