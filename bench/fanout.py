"""Fan-out latency (booking commit -> MESSAGE at a subscriber) and memory per idle STOMP connection.

Starts a real server (`boxoffice serve`) on a throwaway database, opens N STOMP subscribers spread
over several client processes, books seats one at a time at a steady rate and records when each
subscriber received each seat's MESSAGE. The commit time is the seat's `bookedAt` (PostgreSQL
clock_timestamp() inside the booking statement, same host clock), so the latency includes the
commit itself, the relay, the hub and the WebSocket hop.

    .venv/bin/python bench/fanout.py --subscribers 1000 --bookings 200 --rate 20
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import time
import uuid
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import ServerProcess, fresh_database  # noqa: E402

CONNECT = "CONNECT\naccept-version:1.2\nhost:bench\nheart-beat:0,0\n\n\x00"
SUBSCRIBE = "SUBSCRIBE\nid:0\ndestination:/topic/seats\nreceipt:ok\n\n\x00"


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def shard(url: str, count: int, expected: int, compression: bool, pipe: Connection) -> None:
    """One client process: `count` subscribers; reports (seq, receive time) per message."""
    import uvloop

    async def main() -> None:
        conns = []
        for _ in range(count):
            ws = await connect(
                url,
                compression="deflate" if compression else None,
                ping_interval=None,
                max_queue=None,
                open_timeout=60,
            )
            await ws.send(CONNECT)
            await ws.recv()
            await ws.send(SUBSCRIBE)
            await ws.recv()
            conns.append(ws)
        pipe.send("ready")
        samples: list[tuple[int, float]] = []

        async def listen(ws: Any) -> None:
            got = 0
            while got < expected:
                message = await ws.recv()
                now = time.time()
                if message.startswith("MESSAGE"):
                    samples.append((_seq(message), now))
                    got += 1

        try:
            async with asyncio.timeout(300):
                await asyncio.gather(*(listen(ws) for ws in conns))
        finally:
            pipe.send(samples)
            for ws in conns:
                await ws.close()

    uvloop.run(main())


def _seq(message: str) -> int:
    body = message[message.index("\n\n") + 2 : -1]
    seq: int = orjson.loads(body)["sequence"]
    return seq


def cpu_seconds(pid: int) -> float:
    """utime + stime of the server process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def book(base_url: str, seats: list[int], rate: float) -> dict[int, float]:
    """Seq -> commit time (epoch seconds) for each booking, made one at a time at `rate`/s."""
    committed: dict[int, float] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        for i, seat in enumerate(seats):
            start = time.monotonic()
            response = await http.post("/api/v1/bookings", json={"seatId": seat, "userId": f"bench-{i}"})
            response.raise_for_status()
            body = response.json()
            committed[body["sequence"]] = datetime.fromisoformat(body["bookedAt"]).timestamp()
            await asyncio.sleep(max(0.0, 1 / rate - (time.monotonic() - start)))
    return committed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--bookings", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="bookings per second")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--compression", action="store_true", help="permessage-deflate on server and clients")
    args = parser.parse_args()
    rows = max(1, -(-args.bookings // 50))

    with fresh_database("bo_bench_fanout") as database_url:
        env = {
            "DATABASE_URL": database_url,
            "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-bench-{uuid.uuid4().hex[:8]}:",
            "BOXOFFICE_SEED_ROWS": str(rows),
            "BOXOFFICE_SEED_COLS": "50",
            "BOXOFFICE_LOG_LEVEL": "WARNING",
            "BOXOFFICE_WS_COMPRESSION": "true" if args.compression else "false",
            # Every subscriber and booking comes from this one address.
            "BOXOFFICE_WS_MAX_CONNECTIONS_PER_ADDRESS": "0",
            "BOXOFFICE_RATE_LIMIT_PER_IP": "0",
        }
        with ServerProcess(env=env) as server:
            assert server.proc is not None
            pid = server.proc.pid
            url = server.base_url.replace("http://", "ws://") + "/ws"
            httpx.get(f"{server.base_url}/api/v1/seats").raise_for_status()  # warm up
            time.sleep(1.0)
            before = rss_kib(pid)

            ctx = mp.get_context("spawn")
            per = [args.subscribers // args.client_processes] * args.client_processes
            per[0] += args.subscribers - sum(per)
            pipes, procs = [], []
            for count in per:
                mine, theirs = ctx.Pipe()
                proc = ctx.Process(
                    target=shard, args=(url, count, args.bookings, args.compression, theirs), daemon=True
                )
                proc.start()
                pipes.append(mine)
                procs.append(proc)
            for pipe in pipes:
                assert pipe.recv() == "ready"
            time.sleep(2.0)
            after = rss_kib(pid)
            per_conn = (after - before) * 1024 / args.subscribers

            seats = list(range(1, args.bookings + 1))
            started, cpu_before = time.monotonic(), cpu_seconds(pid)
            committed = asyncio.run(book(server.base_url, seats, args.rate))
            samples = [s for pipe in pipes for s in pipe.recv()]
            elapsed, cpu = time.monotonic() - started, cpu_seconds(pid) - cpu_before
            for proc in procs:
                proc.join(30)

    latencies = [(received - committed[seq]) * 1000 for seq, received in samples]
    last_per_event: dict[int, float] = {}
    first_per_event: dict[int, float] = {}
    for seq, received in samples:
        latency = (received - committed[seq]) * 1000
        last_per_event[seq] = max(last_per_event.get(seq, 0.0), latency)
        first_per_event[seq] = min(first_per_event.get(seq, latency), latency)
    expected = args.subscribers * args.bookings
    print(f"subscribers={args.subscribers} bookings={args.bookings} rate={args.rate}/s ({elapsed:.1f}s)")
    print(f"messages received {len(samples)}/{expected}")
    print(
        f"server CPU {cpu:.2f}s for {len(samples)} messages ({cpu / elapsed * 100:.0f}% of one core):"
        f" {cpu / max(1, len(samples)) * 1e6:.1f}us per delivered message incl. the bookings"
    )
    print(
        "commit -> subscriber latency: "
        f"p50={statistics.median(latencies):.1f}ms p99={pct(latencies, 99):.1f}ms max={max(latencies):.1f}ms"
    )
    print(
        "commit -> first subscriber: "
        f"p50={statistics.median(first_per_event.values()):.1f}ms p99={pct(list(first_per_event.values()), 99):.1f}ms"
    )
    print(
        "commit -> last of all subscribers: "
        f"p50={statistics.median(last_per_event.values()):.1f}ms p99={pct(list(last_per_event.values()), 99):.1f}ms"
    )
    print(
        f"server RSS {before / 1024:.1f} MiB -> {after / 1024:.1f} MiB with {args.subscribers} idle subscribed"
        f" connections: {per_conn / 1024:.1f} KiB per connection (compression={'on' if args.compression else 'off'})"
    )
    if len(samples) != expected:
        sys.exit(1)


if __name__ == "__main__":
    main()
