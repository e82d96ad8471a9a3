"""What the synchronous standby costs: bookings with Patroni's synchronous_mode on, then off.

    .venv/bin/python -m deploy.ha.sync_cost [--rounds 3] [--clients 32] [--bookings 3000]

starts the local stack (deploy/ha/localstack.py, two instances behind HAProxy) with 10,000 seats and,
alternating synchronous_mode on/off (Patroni's REST API; PostgreSQL's synchronous_standby_names
follows), measures in each round:
  - HTTP: `--bookings` ATOMIC bookings of distinct seats through HAProxy from `--clients` clients
    (bookings/s, p50/p99 latency as the client sees it);
  - pgbench: the engine's own ATOMIC claim statement (boxoffice.bench.pgbench) through HAProxy's
    primary endpoint, `--clients` connections, one claim per transaction (tps, mean latency);
  - pgbench with ONE connection: the latency of one claim and its commit alone, the part of a
    booking's latency that synchronous replication adds to (least sensitive to a busy machine).
The inventory is reset before every measurement. Prints one line per measurement and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx

from boxoffice.bench.pgbench import script
from boxoffice.domain import Strategy
from deploy.ha.localstack import Stack, wait_for

SEATS = 10_000


def set_synchronous(stack: Stack, on: bool) -> None:
    node = stack.nodes[0]
    request = urllib.request.Request(
        f"http://127.0.0.1:{node.api_port}/config",
        data=json.dumps({"synchronous_mode": on}).encode(),
        method="PATCH",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()

    def applied() -> bool:
        names = stack._psql(stack.ports["pg_primary"], "SHOW synchronous_standby_names")
        return (names != "") == on

    wait_for(f"synchronous_mode={on}", applied, timeout_s=60)


def reset(stack: Stack) -> None:
    subprocess.run(
        ["psql", stack.database_url, "-qtAc", "TRUNCATE seat_events, bookings, holds, idempotency_keys"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "psql",
            stack.database_url,
            "-qtAc",
            "UPDATE seats SET status = 'AVAILABLE', booked_by = NULL, booked_at = NULL, held_by = NULL,"
            " hold_token = NULL, held_until = NULL, version = version + 1",
        ],
        check=True,
        capture_output=True,
    )
    subprocess.run(["psql", stack.database_url, "-qtAc", "CHECKPOINT"], check=True, capture_output=True)


async def http_round(base_url: str, clients: int, bookings: int) -> tuple[float, float, float]:
    """(bookings/s, p50 ms, p99 ms) for `bookings` ATOMIC bookings of distinct seats."""
    seats = iter(range(1, bookings + 1))
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:

        async def worker() -> None:
            for seat in seats:
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/bookings", json={"seatId": seat, "userId": f"b{seat}", "strategy": "ATOMIC"}
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    raise RuntimeError(f"seat {seat}: {response.status_code} {response.text}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return bookings / elapsed, 1000 * latencies[len(latencies) // 2], 1000 * latencies[int(len(latencies) * 0.99)]


def pgbench_round(stack: Stack, clients: int, bookings: int) -> tuple[float, float]:
    """(tps, mean latency ms) of the ATOMIC claim statement through HAProxy's primary endpoint."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", prefix="bo-sync-") as file:
        file.write(script(Strategy.ATOMIC))
        file.flush()
        out = subprocess.run(
            [
                "pgbench",
                "--no-vacuum",
                "--protocol=prepared",
                f"--client={clients}",
                "--jobs=2",
                f"--transactions={max(1, bookings // clients)}",
                f"--file={file.name}",
                f"--define=seats={SEATS}",
                "--define=strategy=ATOMIC",
                stack.database_url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    tps = float(out.split("tps = ")[1].split()[0])
    latency = float(out.split("latency average = ")[1].split()[0])
    return tps, latency


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--bookings", type=int, default=1000)
    args = parser.parse_args()
    env = {"BOXOFFICE_SEED_ROWS": "100", "BOXOFFICE_SEED_COLS": "100", "BOXOFFICE_LOG_LEVEL": "WARNING"}
    env |= {
        k: "0" for k in ("BOXOFFICE_RATE_LIMIT_PER_IP", "BOXOFFICE_RATE_LIMIT_PER_USER", "BOXOFFICE_SEATS_PER_USER")
    }
    stack = Stack(Path(tempfile.mkdtemp(prefix="bo-ha-sync-")), apps=2, python=sys.executable, app_env=env)
    results: dict[str, list[tuple[float, ...]]] = {}
    try:
        stack.up()
        for _ in range(args.rounds):
            for on in (True, False):
                set_synchronous(stack, on)
                mode = "sync" if on else "async"
                reset(stack)
                http = asyncio.run(http_round(stack.base_url, args.clients, args.bookings))
                reset(stack)
                pg = pgbench_round(stack, args.clients, args.bookings)
                reset(stack)
                one = pgbench_round(stack, 1, 500)
                results.setdefault(f"http {mode}", []).append(http)
                results.setdefault(f"pgbench {mode}", []).append(pg)
                results.setdefault(f"1-client {mode}", []).append(one)
                print(
                    f"{mode:5}  HTTP {http[0]:7.0f} bookings/s  p50 {http[1]:6.1f} ms  p99 {http[2]:6.1f} ms"
                    f"   pgbench {pg[0]:7.0f} tps  mean {pg[1]:6.2f} ms   1 client {one[1]:6.2f} ms",
                    flush=True,
                )
    finally:
        stack.down()
    print("medians (HTTP: bookings/s, p50 ms, p99 ms; pgbench: tps, mean ms):")
    for name, rows in results.items():
        medians = [statistics.median(column) for column in zip(*rows, strict=True)]
        print(f"  {name:14} " + "  ".join(f"{m:8.1f}" for m in medians))


if __name__ == "__main__":
    main()
