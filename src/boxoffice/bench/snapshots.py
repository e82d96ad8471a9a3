"""Seat snapshot cost: many clients loading one big event's seat map at once, cache off and on.

    .venv/bin/python -m boxoffice.bench.snapshots --clients 1000 --rounds 2

A private PostgreSQL cluster (its CPU is measured alone), a 20,000-seat event in four sections
with 30% of its seats booked, and a real `boxoffice serve` per cache setting. Each round opens
`--clients` connections, then sends one `GET /api/v1/events/{id}/seats` on every one at the same
moment and reads each answer to its end without decoding it (the client must not be what is
measured). Reported per setting and coding: requests/s over the round, latency p50/p99, server and
PostgreSQL CPU per request, and bytes on the wire per answer. Results: docs/performance.md#seat-snapshots.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import time
import urllib.request
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from boxoffice.bench.cpu import Meters, process_meter
from boxoffice.bench.env import fresh_database, private_postgres, server

ADMIN_TOKEN = "bench-admin-" + "t" * 24
SECTIONS = [("Stalls", 50, 120), ("Circle", 40, 100), ("Balcony", 30, 100), ("Gallery", 20, 150), ("Boxes", 40, 100)]
"""6,000 + 4,000 + 3,000 + 3,000 + 4,000 = 20,000 seats."""


@dataclass
class Result:
    cache_ms: int
    coding: str
    clients: int
    ok: int
    errors: int
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms: float
    postgres_cpu_ms: float | None
    wire_bytes: int
    """Per answer, headers included."""
    statuses: dict[str, int]
    reads: int
    """Snapshot reads PostgreSQL ran in the round (pg_stat_statements)."""
    checks: int
    """Unchanged-since checks it ran (booking/snapshots.py)."""


def _spec() -> dict[str, object]:
    return {
        "slug": f"arena-{uuid.uuid4().hex[:8]}",
        "name": "Arena",
        "venue": "Bench Arena",
        "categories": {"A": {"priceCents": 9000}, "B": {"priceCents": 5500}, "C": {"priceCents": 3500}},
        "sections": [
            {"name": name, "rows": rows, "columns": cols, "category": "ABCCB"[i]}
            for i, (name, rows, cols) in enumerate(SECTIONS)
        ],
    }


def _create_event(port: int, database_url: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/admin/events",
        data=json.dumps(_spec()).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {ADMIN_TOKEN}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        event_id: int = json.loads(response.read())["eventId"]
    # A third of the seats booked, at different times: bodies look like a real on-sale's.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "UPDATE seats SET status = 'BOOKED', booked_by = 'bench', version = version + 1,"
            " booked_at = clock_timestamp() - (id %% 3600) * interval '1 second'"
            " WHERE event_id = %s AND id %% 3 = 0",
            (event_id,),
        )
        conn.execute("VACUUM ANALYZE seats")
    return event_id


async def _load(port: int, path: str, coding: str, clients: int) -> tuple[list[tuple[float, int, int]], float]:
    """Every client sends at once; returns (latency s, wire bytes, status) per client and the wall time."""
    connections = []
    for start in range(0, clients, 100):
        connections += await asyncio.gather(
            *(asyncio.open_connection("127.0.0.1", port) for _ in range(min(100, clients - start)))
        )
    request = (f"GET {path} HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: {coding}\r\nConnection: close\r\n\r\n").encode()
    gate = asyncio.Event()

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> tuple[float, int, int]:
        await gate.wait()
        began = time.perf_counter()
        writer.write(request)
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        received = 0
        while received < length:
            chunk = await reader.read(min(1 << 20, length - received))
            if not chunk:
                break
            received += len(chunk)
        elapsed = time.perf_counter() - began
        writer.close()
        return elapsed, len(head) + received, status

    tasks = [asyncio.create_task(one(r, w)) for r, w in connections]
    await asyncio.sleep(0.2)
    began = time.perf_counter()
    gate.set()
    results = await asyncio.gather(*tasks)
    return results, time.perf_counter() - began


READS = "%FROM seats WHERE event_id = $1 ORDER BY section_order%"
CHECKS = "%pg_relation_filenode%EXISTS%"


def _statements(database_url: str) -> tuple[int, int]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT COALESCE(sum(calls) FILTER (WHERE query LIKE %s), 0),"
            " COALESCE(sum(calls) FILTER (WHERE query LIKE %s), 0) FROM pg_stat_statements",
            (READS, CHECKS),
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def _measure(
    port: int, path: str, coding: str, clients: int, cache_ms: int, meters: Meters, database_url: str
) -> Result:
    statements = _statements(database_url)
    before = meters.read()
    results, wall = asyncio.run(_load(port, path, coding, clients))
    server_ms, postgres_ms = meters.per_request_ms(before, clients)
    reads, checks = (after - first for after, first in zip(_statements(database_url), statements, strict=True))
    ok = [r for r in results if r[2] == 200]
    latencies = sorted(r[0] for r in ok) or [0.0]
    return Result(
        cache_ms=cache_ms,
        coding=coding,
        clients=clients,
        ok=len(ok),
        errors=len(results) - len(ok),
        requests_per_s=round(len(ok) / wall, 1),
        p50_ms=round(1000 * statistics.median(latencies), 1),
        p99_ms=round(1000 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1),
        server_cpu_ms=server_ms,
        postgres_cpu_ms=postgres_ms,
        wire_bytes=round(statistics.mean(r[1] for r in ok)) if ok else 0,
        statuses=dict(Counter(str(r[2]) for r in results)),
        reads=reads,
        checks=checks,
    )


def main(
    clients: Annotated[int, typer.Option(help="Clients loading the snapshot at once.")] = 1000,
    rounds: Annotated[int, typer.Option(help="Rounds per setting and coding.")] = 2,
    before_clients: Annotated[
        int | None, typer.Option(help="Clients of the cache-off run (default: --clients); it costs ~0.3 s CPU each.")
    ] = None,
    workers: Annotated[int, typer.Option(help="Server worker processes.")] = 1,
    cache_ms: Annotated[int, typer.Option(help="BOXOFFICE_SNAPSHOT_CACHE_MS of the 'after' runs.")] = 200,
    codings: Annotated[str, typer.Option(help="Accept-Encoding values of the 'after' runs.")] = "identity,gzip,br",
    redis_url: Annotated[str, typer.Option(envvar="BOXOFFICE_BENCH_REDIS_URL")] = "redis://127.0.0.1:6379/0",
    out: Annotated[Path | None, typer.Option(help="Also write the results here as JSON.")] = None,
) -> None:
    """Snapshot cost for a 20,000-seat event: cache off (identity, as before) against cache on (each coding)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4 * clients + 256)), hard))
    runs = [(0, ["identity"]), (cache_ms, [c.strip() for c in codings.split(",") if c.strip()])]
    load = {0: before_clients or clients, cache_ms: clients}
    results: list[Result] = []
    with (
        private_postgres("-c shared_preload_libraries=pg_stat_statements") as pg,
        fresh_database(pg.url) as database_url,
    ):
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        event_id: int | None = None
        for setting, accepted in runs:
            env = {
                "DATABASE_URL": database_url,
                "BOXOFFICE_REDIS_URL": redis_url,
                "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-bench-{uuid.uuid4().hex[:8]}:",
                "BOXOFFICE_SNAPSHOT_CACHE_MS": str(setting),
                "BOXOFFICE_ADMIN_TOKEN": ADMIN_TOKEN,
                "BOXOFFICE_RATE_LIMIT_PER_IP": "0",
                "BOXOFFICE_RATE_LIMIT_PER_USER": "0",
                # Cache off, 1,000 reads queue for 20 connections: let them wait rather than fail.
                "BOXOFFICE_DB_ACQUIRE_TIMEOUT_S": "60",
                "BOXOFFICE_DB_STATEMENT_TIMEOUT_MS": "60000",
                "BOXOFFICE_LOG_LEVEL": "WARNING",
            }
            with server(env, workers, Path(os.devnull)) as (port, proc):
                if event_id is None:
                    event_id = _create_event(port, database_url)
                path = f"/api/v1/events/{event_id}/seats"
                urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120).read()  # warm up
                meters = Meters(process_meter(proc.pid), process_meter(pg.postmaster_pid()))
                for coding in accepted:
                    for round_ in range(rounds):
                        result = _measure(port, path, coding, load[setting], setting, meters, database_url)
                        results.append(result)
                        typer.echo(
                            f"cache {setting:>4} ms  {coding:<8} round {round_ + 1}: {result.ok}/{result.clients} ok, "
                            f"{result.requests_per_s} req/s, p50 {result.p50_ms} ms, p99 {result.p99_ms} ms, "
                            f"server {result.server_cpu_ms} ms CPU/req, "
                            f"PostgreSQL {result.postgres_cpu_ms} ms CPU/req, "
                            f"{result.wire_bytes:,} bytes/answer, statuses {result.statuses}, "
                            f"{result.reads} reads, {result.checks} checks"
                        )
    if out is not None:
        out.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")


if __name__ == "__main__":
    typer.run(main)
