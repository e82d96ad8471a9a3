"""`boxoffice bench --scenario onsale`: a gated on-sale against a crowd many times the engine's capacity.

Two runs on the same seats and the same crowd, one server:

- **ungated**: every visitor goes straight for a seat (the flash crowd the engine sheds with 409/503);
- **gated**: the event's waiting room is on; visitors join it (some before the start, the rest
  arriving over a window after it), poll at the `Retry-After` the room gives, and once admitted
  book one seat with their admission token. A buyer does not call `leave` (a tab closed after the
  purchase): the server ends its admission on the purchase and gives the slot to the next in line.
  An admitted visitor who goes without a seat leaves, as the page does.

Each visitor wants one seat and knows which seats are still free (as a live seat map would tell
it); on 409 it tries another. Reported: p99 booking latency of admitted buyers, time to sell out in
both runs, the admission rate over time, fairness (rank correlation between arrival and admission
after the start; the pre-start order is a lottery), double bookings and unsold seats.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Coroutine, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import orjson
import typer

from boxoffice.bench import env
from boxoffice.booking.waitroom import pacing
from boxoffice.settings import Settings
from boxoffice.tokens import Tokens

ADMIN_TOKEN = "bench-admin-" + "a" * 24
PRESTART_RANKS = 2**40
WINDOW_S = 5
LAG_PROBE_S = 0.05


@dataclass(frozen=True)
class OnsaleSizes:
    visitors: int
    seats: int
    prestart_share: float
    """Share of the crowd that arrives in the `prestart_s` before the start (the rest after it)."""
    prestart_s: float
    arrival_s: float
    """Later arrivals come uniformly over this long after the start."""
    deadline_s: float
    """Each run ends by then (after the start), sold out or not."""
    connections: int
    max_active: int
    per_minute: int
    min_per_minute: int

    @classmethod
    def full(cls) -> OnsaleSizes:
        return cls(20_000, 2_000, 0.1, 5.0, 60.0, 300.0, 256, 300, 30_000, 3_000)

    @classmethod
    def quick(cls) -> OnsaleSizes:
        return cls(2_000, 200, 0.1, 3.0, 10.0, 120.0, 128, 100, 6_000, 600)


# --- a lean HTTP/1.1 client that returns bodies ------------------------------------------------------


class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        payload = orjson.dumps(body) if body is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}", f"Content-Length: {len(payload)}"]
        if body is not None:
            lines.append("Content-Type: application/json")
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
        try:
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            assert self.reader is not None
            self.writer.write(raw)
            return await asyncio.wait_for(self._read(self.reader), 30)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            self.close()
            return 0, {}, None

    async def _read(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, str], Any]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0][9:12])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        data = await reader.readexactly(length) if length else b""
        if headers.get("connection") == "close":
            self.close()
        return status, headers, orjson.loads(data) if data else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Client:
    """A fixed pool of keep-alive connections shared by every simulated visitor."""

    def __init__(self, port: int, size: int) -> None:
        self._free: asyncio.Queue[Conn] = asyncio.Queue()
        for _ in range(size):
            self._free.put_nowait(Conn(port))
        self.requests = 0

    async def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any, float]:
        """(status, headers, body, seconds on the wire: from sending to the answer, not the wait for a connection)."""
        conn = await self._free.get()
        try:
            start = time.perf_counter()
            status, head, data = await conn.request(method, path, body, headers)
            self.requests += 1
            return status, head, data, time.perf_counter() - start
        finally:
            self._free.put_nowait(conn)

    def close(self) -> None:
        while not self._free.empty():
            self._free.get_nowait().close()


# --- the crowd ------------------------------------------------------------------------------------------


class Market:
    """What a live seat map tells every visitor: the seats not known to be taken (O(1) pick and removal)."""

    def __init__(self, seats: list[int]) -> None:
        self._free = list(seats)
        self._where = {s: i for i, s in enumerate(self._free)}
        self.sold_at: float | None = None
        self.booked = 0

    def pick(self, rng: random.Random) -> int | None:
        return self._free[rng.randrange(len(self._free))] if self._free else None

    def taken(self, seat: int, now: float) -> None:
        i = self._where.pop(seat, None)
        if i is not None:
            last = self._free.pop()
            if last != seat:
                self._free[i] = last
                self._where[last] = i
        if not self._free and self.sold_at is None:
            self.sold_at = now


@dataclass
class RunStats:
    latencies: list[float] = field(default_factory=list)
    """Booking requests (seconds on the wire)."""
    sent_at: list[float] = field(default_factory=list)
    """When each booking request was sent (seconds after the start), in the order of `latencies`."""
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    polls: int = 0
    joins: int = 0
    leaves: int = 0
    gave_up: int = 0
    seated: int = 0
    booked_at: list[float] = field(default_factory=list)
    client_lag: dict[int, float] = field(default_factory=dict)
    """Window -> the longest this client's own event loop woke up late (a late client inflates the
    latencies it measures)."""


async def crowd(stats: RunStats, t0: float, visitors: list[Coroutine[Any, Any, None]]) -> None:
    """Run the visitors while watching this client's event loop for lateness."""

    async def watch() -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(LAG_PROBE_S)
            late = time.monotonic() - before - LAG_PROBE_S
            window = int((time.monotonic() - t0) // WINDOW_S) * WINDOW_S
            stats.client_lag[window] = max(stats.client_lag.get(window, 0.0), late)

    # The crowd is tens of thousands of coroutines: full collections over them would stall this
    # client (and inflate what it measures), so what exists now is frozen and collections are rarer.
    gc.collect()
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 50, 1_000)
    watcher = asyncio.create_task(watch())
    try:
        await asyncio.gather(*visitors)
    finally:
        watcher.cancel()
        gc.set_threshold(*thresholds)
        gc.unfreeze()


async def buy(
    client: Client,
    market: Market,
    stats: RunStats,
    rng: random.Random,
    headers: dict[str, str],
    user: str,
    t0: float,
    deadline: float,
) -> bool:
    """Try seats until one is booked, the market is sold out, or time is up."""
    while time.monotonic() < deadline:
        seat = market.pick(rng)
        if seat is None:
            return False
        body: dict[str, Any] = {"seatIds": [seat]}
        if "Authorization" not in headers:
            body["userId"] = user
        status, head, data, wire = await client.call("POST", "/api/v1/bookings", body, headers)
        stats.latencies.append(wire)
        stats.sent_at.append(time.monotonic() - t0 - wire)
        stats.statuses[status] += 1
        now = time.monotonic() - t0
        if status == 201:
            stats.seated += 1
            market.booked += 1
            stats.booked_at.append(now)
            market.taken(seat, now)
            return True
        if status == 409:
            market.taken(seat, now)
        elif status in (503, 429, 0):
            stats.errors[(data or {}).get("error", str(status)) if isinstance(data, dict) else str(status)] += 1
            await asyncio.sleep(float(head.get("retry-after", "0.2") or 0.2) if status else 0.2)
        else:
            stats.errors[str((data or {}).get("error", status) if isinstance(data, dict) else status)] += 1
            return False
    return False


def arrivals(sizes: OnsaleSizes, rng: random.Random) -> list[float]:
    """Arrival times relative to the start: a share before it, the rest spread after it."""
    early = round(sizes.visitors * sizes.prestart_share)
    times = [-rng.uniform(0.2, sizes.prestart_s) for _ in range(early)]
    times += [rng.uniform(0, sizes.arrival_s) for _ in range(sizes.visitors - early)]
    return times


async def ungated(port: int, sizes: OnsaleSizes, seat_ids: list[int], seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    market, stats = Market(seat_ids), RunStats()
    client = Client(port, sizes.connections)
    times = arrivals(sizes, rng)
    t0 = time.monotonic() + sizes.prestart_s
    deadline = t0 + sizes.deadline_s

    async def visitor(i: int, at: float) -> None:
        # Without a room, nobody waits: arrivals before the start hit the start together.
        await asyncio.sleep(max(0.0, t0 + max(at, 0.0) - time.monotonic()))
        if not await buy(client, market, stats, random.Random(seed * 1_000_003 + i), {}, f"u{i}", t0, deadline):
            stats.gave_up += 1

    await crowd(stats, t0, [visitor(i, at) for i, at in enumerate(times)])
    client.close()
    return summary(stats, market, len(seat_ids), client.requests)


async def gated(
    port: int, sizes: OnsaleSizes, seat_ids: list[int], seed: int, tokens: Tokens, event_id: int
) -> tuple[dict[str, Any], datetime]:
    rng = random.Random(seed + 1)
    market, stats = Market(seat_ids), RunStats()
    client = Client(port, sizes.connections)
    times = arrivals(sizes, rng)
    t0 = time.monotonic() + sizes.prestart_s
    starts_at = datetime.now(UTC) + timedelta(seconds=sizes.prestart_s)
    deadline = t0 + sizes.deadline_s
    status, _, body, _ = await client.call(
        "PUT",
        f"/api/v1/admin/events/{event_id}/waiting-room",
        {
            "enabled": True,
            "startsAt": starts_at.isoformat(),
            "maxActive": sizes.max_active,
            "perMinute": sizes.per_minute,
            "minPerMinute": sizes.min_per_minute,
            "adaptive": True,
            "admissionTtlS": 120,
            "holdS": 60,
        },
        {"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    if status != 200:
        raise RuntimeError(f"configuring the waiting room failed: {status} {body}")
    room = f"/api/v1/events/{event_id}/waiting-room"

    async def visitor(i: int, at: float) -> None:
        vrng = random.Random(seed * 1_000_003 + i)
        session = tokens.issue_session()
        auth = {"Authorization": f"Bearer {session.token}"}
        await asyncio.sleep(max(0.0, t0 + at - time.monotonic()))
        status, head, data, _ = await client.call("POST", f"{room}/join", None, auth)
        stats.joins += 1
        while time.monotonic() < deadline:
            if market.sold_at is not None:
                stats.gave_up += 1  # the page shows "sold out": stop polling (the place lapses)
                return
            if status in (200, 201) and isinstance(data, dict) and data.get("state") == "ADMITTED":
                headers = {**auth, "Admission-Token": str(data["admissionToken"])}
                if not await buy(client, market, stats, vrng, headers, session.user_id, t0, deadline):
                    stats.gave_up += 1
                    await client.call("POST", f"{room}/leave", None, auth)  # no seat: the page gives the turn back
                    stats.leaves += 1
                return  # bought: the server ended the admission (docs/waiting-room.md#a-purchase-ends-the-turn)
            lost = status == 404 or (
                status in (200, 201) and isinstance(data, dict) and data.get("state") not in ("WAITING", "ADMITTED")
            )
            if lost:
                # Never joined (the join failed: 503 or no answer), or dropped: join (again).
                await asyncio.sleep(float(head.get("retry-after", "1") or 1) if status == 404 else 0)
                status, head, data, _ = await client.call("POST", f"{room}/join", None, auth)
                continue
            wait = float(head.get("retry-after", "1") or 1)
            await asyncio.sleep(wait * vrng.uniform(0.9, 1.1))
            status, head, data, _ = await client.call("GET", f"{room}/me", None, auth)
            stats.polls += 1
        stats.gave_up += 1

    await crowd(stats, t0, [visitor(i, at) for i, at in enumerate(times)])
    client.close()
    return summary(stats, market, len(seat_ids), client.requests), starts_at


def percentile_ms(seconds: list[float], q: float) -> float | None:
    """The q-quantile (nearest rank, as the waiting room's own health sample) in milliseconds, to 0.1."""
    value = pacing.percentile_ms(seconds, q)
    return None if value is None else round(value, 1)


def summary(stats: RunStats, market: Market, seats: int, requests: int) -> dict[str, Any]:
    lat = sorted(stats.latencies)
    windows: dict[int, list[float]] = {}
    for sent, wire in zip(stats.sent_at, stats.latencies, strict=True):
        windows.setdefault(int(sent // WINDOW_S) * WINDOW_S, []).append(wire)

    return {
        "seats": seats,
        "booked": market.booked,
        "sold_out_s": round(market.sold_at, 2) if market.sold_at is not None else None,
        "booking_requests": len(lat),
        "booking_p50_ms": percentile_ms(lat, 0.5),
        "booking_p99_ms": percentile_ms(lat, 0.99),
        "booking_max_ms": round(lat[-1] * 1000, 1) if lat else None,
        # Where the slow answers were: (requests, p99 ms) of the bookings sent in each window after the start.
        "booking_p99_ms_by_window": {
            str(start): [len(ws), percentile_ms(ws, 0.99)] for start, ws in sorted(windows.items())
        },
        "slowest_bookings_sent_at_s_ms": [
            [round(sent, 2), round(wire * 1000, 1)]
            for sent, wire in sorted(zip(stats.sent_at, stats.latencies, strict=True), key=lambda p: -p[1])[:10]
        ],
        "client_loop_late_max_ms_by_window": {
            str(w): round(late * 1000, 1) for w, late in sorted(stats.client_lag.items()) if w >= 0
        },
        "statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "errors": dict(stats.errors),
        "joins": stats.joins,
        "polls": stats.polls,
        "leaves": stats.leaves,
        "http_requests": requests,
        "visitors_without_seat": stats.gave_up,
    }


def spearman(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 3:
        return None

    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(n), key=lambda i: values[i])
        out = [0.0] * n
        for r, i in enumerate(order):
            out[i] = float(r)
        return out

    rx, ry = ranks(xs), ranks(ys)
    d2 = sum((a - b) ** 2 for a, b in zip(rx, ry, strict=True))
    return round(1 - 6 * d2 / (n * (n * n - 1)), 4)


BUYERS_SQL = """
SELECT count(*) AS buyers,
       count(*) FILTER (WHERE v.state = 'LEFT') AS ended,
       count(*) FILTER (WHERE v.state = 'ADMITTED' AND v.expires_at > clock_timestamp()) AS admitted
FROM waitroom_visitors v
WHERE v.event_id = $1 AND EXISTS (
    SELECT 1 FROM bookings b JOIN seats s ON s.id = b.seat_id
    WHERE b.user_id = v.user_id AND s.event_id = $1 AND b.status = 'CONFIRMED')
"""
"""Visitors who bought: how many, whose admission a purchase ended (LEFT: buyers never call leave),
and whose admission is still open (must be none)."""
PURCHASE_ENDS_S = 5.0
"""How long the last buyers' admissions may take to be ended (written just after their answers)."""


async def room_figures(database_url: str, event_id: int, starts_at: datetime) -> dict[str, Any]:
    """From the queue store: admission rate per second, fairness, and the correctness checks."""
    conn = await asyncpg.connect(database_url)
    try:

        async def buyers_now() -> asyncpg.Record:
            row: asyncpg.Record | None = await conn.fetchrow(BUYERS_SQL, event_id)
            assert row is not None
            return row

        buyers = await buyers_now()
        for _ in range(int(PURCHASE_ENDS_S / 0.05)):
            if not buyers["admitted"]:
                break
            await asyncio.sleep(0.05)  # the ends are written in the background, just after each 201
            buyers = await buyers_now()
        states = await conn.fetch(
            "SELECT state, count(*) AS n FROM waitroom_visitors WHERE event_id = $1 GROUP BY state", event_id
        )
        visitors = await conn.fetch(
            "SELECT id, rank, joined_at, admitted_at FROM waitroom_visitors WHERE event_id = $1", event_id
        )
        doubles = await conn.fetchval(
            "SELECT count(*) FROM (SELECT seat_id FROM bookings WHERE status = 'CONFIRMED'"
            " GROUP BY seat_id HAVING count(*) > 1) d"
        )
        unsold = await conn.fetchval("SELECT count(*) FROM seats WHERE event_id = $1 AND status <> 'BOOKED'", event_id)
        room = await conn.fetchrow(
            "SELECT rate_per_minute, admitted_total FROM waitroom_events WHERE event_id = $1", event_id
        )
    finally:
        await conn.close()
    admitted = [v for v in visitors if v["admitted_at"] is not None]
    per_second: Counter[int] = Counter(int((v["admitted_at"] - starts_at).total_seconds()) for v in admitted)
    order = sorted(admitted, key=lambda v: (v["admitted_at"], v["rank"]))
    admitted_index = {v["id"]: i for i, v in enumerate(order)}
    early = [v for v in admitted if v["rank"] < PRESTART_RANKS]
    late = [v for v in admitted if v["rank"] >= PRESTART_RANKS]

    def correlation(group: list[asyncpg.Record]) -> float | None:
        return spearman([v["joined_at"].timestamp() for v in group], [float(admitted_index[v["id"]]) for v in group])

    waits = sorted((v["admitted_at"] - max(v["joined_at"], starts_at)).total_seconds() for v in admitted)
    return {
        "visitors_joined": len(visitors),
        "admitted": len(admitted),
        "admitted_per_second": {str(k): per_second[k] for k in sorted(per_second)},
        "final_rate_per_minute": round(float(room["rate_per_minute"]), 1) if room else None,
        # Every admission the steps made, including those sent back unfetched (which lose admitted_at).
        "admissions_total": int(room["admitted_total"]) if room else None,
        "fairness_after_start_spearman": correlation(late),
        "fairness_after_start_n": len(late),
        "prestart_order_spearman": correlation(early),
        "prestart_n": len(early),
        "wait_p50_s": round(waits[len(waits) // 2], 2) if waits else None,
        "wait_max_s": round(waits[-1], 2) if waits else None,
        "visitor_states": {r["state"]: int(r["n"]) for r in sorted(states, key=lambda r: str(r["state"]))},
        "buyers": int(buyers["buyers"]),
        "ended_by_purchase": int(buyers["ended"]),
        "admitted_after_purchase": int(buyers["admitted"]),
        "double_bookings": int(doubles),
        "unsold_seats": int(unsold),
    }


def reset_sale(database_url: str) -> None:
    env.reset_inventory(database_url)


@contextlib.contextmanager
def onsale_server(
    database_url: str, rows: int, cols: int, workers: int, pool_size: int, redis_url: str, log: Path | None
) -> Iterator[tuple[int, int]]:
    """A server for on-sales (the crowd's per-address limits off): its (port, process id)."""
    server_env = {
        "DATABASE_URL": database_url,
        "BOXOFFICE_REDIS_URL": redis_url,
        "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-onsale-{uuid.uuid4().hex[:8]}:",
        "BOXOFFICE_SEED_ROWS": str(rows),
        "BOXOFFICE_SEED_COLS": str(cols),
        "BOXOFFICE_DB_POOL_MAX": str(pool_size),
        "BOXOFFICE_DB_POOL_MIN": str(pool_size),
        "BOXOFFICE_LOG_LEVEL": os.environ.get("BOXOFFICE_BENCH_LOG_LEVEL", "WARNING"),
        "BOXOFFICE_ADMIN_TOKEN": ADMIN_TOKEN,
        # One address stands for the whole crowd: per-address limits would refuse it.
        "BOXOFFICE_RATE_LIMIT_PER_IP": "0",
        "BOXOFFICE_RATE_LIMIT_PER_USER": "0",
        "BOXOFFICE_WAITROOM_JOINS_PER_IP": "0",
        # Buyers never call leave: the server ends their admissions (the default, pinned here).
        "BOXOFFICE_WAITROOM_END_ON_PURCHASE": "true",
        "BOXOFFICE_SEATS_PER_USER": "0",
        "BOXOFFICE_WAITROOM_TICK_S": "0.5",
        "BOXOFFICE_HOLD_SWEEP_INTERVAL_S": "0",
    }
    with env.server(server_env, workers, log) as (port, proc):
        yield port, proc.pid


async def _master(database_url: str) -> bytes:
    conn = await asyncpg.connect(database_url)
    try:
        value: bytes = await conn.fetchval("SELECT value FROM server_secrets WHERE name = 'session'")
        return bytes(value)
    finally:
        await conn.close()


def run(
    *,
    quick: bool,
    workers: int,
    pool_size: int,
    admin_url: str,
    redis_url: str,
    json_out: Path | None,
    server_log: Path | None,
    seed: int,
) -> None:
    sizes = OnsaleSizes.quick() if quick else OnsaleSizes.full()
    cols = 100
    rows = math.ceil(sizes.seats / cols)
    with (
        env.fresh_database(admin_url, "bo_onsale") as database_url,
        onsale_server(database_url, rows, cols, workers, pool_size, redis_url, server_log) as (port, _pid),
    ):
        master = asyncio.run(_master(database_url))
        tokens = Tokens(Settings(database_url=database_url), lambda: master)
        seat_ids = list(range(1, rows * cols + 1))[: sizes.seats]
        typer.echo(f"on-sale: {sizes.visitors} visitors, {len(seat_ids)} seats, {workers} worker(s)")
        started = time.time()
        plain = asyncio.run(ungated(port, sizes, seat_ids, seed))
        capacity = plain["booking_requests"] / max(plain["sold_out_s"] or sizes.deadline_s, 0.001)
        typer.echo(f"ungated: {json.dumps(plain)}")
        reset_sale(database_url)
        room, starts_at = asyncio.run(gated(port, sizes, seat_ids, seed, tokens, 1))
        typer.echo(f"gated:   {json.dumps(room)}")
        figures = asyncio.run(room_figures(database_url, 1, starts_at))
        typer.echo(f"room:    {json.dumps(figures)}")
    report = {
        "scenario": "onsale",
        "started": started,
        "sizes": asdict(sizes),
        "workers": workers,
        "pool_size": pool_size,
        "measured_capacity_booking_answers_per_s": round(capacity, 1),
        "crowd_over_capacity": round(sizes.visitors / max(capacity, 1), 1),
        "ungated": plain,
        "gated": room,
        "room": figures,
    }
    violations = []
    if figures["double_bookings"]:
        violations.append(f"{figures['double_bookings']} seats booked twice")
    if figures["unsold_seats"] and room["visitors_without_seat"]:
        violations.append(f"{figures['unsold_seats']} seats unsold while visitors went without")
    if figures["admitted_after_purchase"]:
        violations.append(f"{figures['admitted_after_purchase']} buyers still admitted after their purchase")
    report["violations"] = violations
    typer.echo(
        f"admitted buyers' booking p99 {room['booking_p99_ms']} ms (ungated {plain['booking_p99_ms']} ms);"
        f" sold out after {room['sold_out_s']} s gated vs {plain['sold_out_s']} s ungated;"
        f" fairness after start {figures['fairness_after_start_spearman']}"
        f" (n={figures['fairness_after_start_n']}), pre-start order {figures['prestart_order_spearman']}"
        f" (n={figures['prestart_n']}); double bookings {figures['double_bookings']},"
        f" unsold {figures['unsold_seats']}"
    )
    if json_out:
        json_out.write_text(json.dumps(report, indent=2))
    if violations:
        typer.echo(f"CORRECTNESS VIOLATIONS: {violations}", err=True)
        raise typer.Exit(1)
