"""Inventory scenarios: best available under a crowd, and a general-admission sell-out.

- `best-available`: N concurrent `POST /api/v1/bookings` with `bestAvailable` for 2-6 seats on a
  seated event (orphan rule on). Checks: every answered block is one row of adjacent seats, no seat
  is in two answers, every 201 is in the database (and nothing else is), no orphan was left, and
  "conflicts": requests refused although a block of their size was still free at the end (seats
  are only ever taken in this run, so it was free when they were refused).
- `ga`: M concurrent requests for 1-4 tickets of one GA area. Checks: zero oversell (tickets in
  201 answers = tickets booked <= capacity, no ticket twice), every 201 in the database, sold out.

Both run against the server `boxoffice bench` started, on events created in its database.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from boxoffice.bench.client import UNKNOWN, Call, Connection, Outcome
from boxoffice.bench.cpu import Meters
from boxoffice.bench.stats import Result, summarise_outcomes
from boxoffice.layouts import EventSpec
from boxoffice.storage import venues

ACQUIRE_TIMEOUT_S = 60
CLIENT_TIMEOUT_S = 120.0
"""The server's pool acquire timeout in these runs: a crowd queues for a connection rather than being shed."""


@dataclass(frozen=True)
class InventorySizes:
    sections: int
    rows: int
    columns: int
    best_requests: int
    best_concurrency: int
    ga_capacity: int
    ga_requests: int
    ga_concurrency: int

    @classmethod
    def full(cls) -> InventorySizes:
        return cls(5, 20, 100, 2_000, 2_000, 10_000, 50_000, 2_000)

    @classmethod
    def quick(cls) -> InventorySizes:
        return cls(2, 10, 50, 200, 200, 1_000, 5_000, 500)

    @classmethod
    def tiny(cls) -> InventorySizes:
        return cls(1, 5, 20, 20, 20, 50, 200, 50)

    @property
    def seats(self) -> int:
        return self.sections * self.rows * self.columns


@dataclass(frozen=True, slots=True)
class Answer:
    quantity: int
    user_id: str
    status: int
    latency_s: float
    done_s: float
    body: bytes
    error: str | None


class BodyConnection(Connection):
    """The load generator's connection, keeping each answer's body (the chosen seats)."""

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        try:
            if self._writer is None:
                await self.open()
            assert self._reader is not None and self._writer is not None
            self._writer.write(request)
            return await asyncio.wait_for(self._read_body(self._reader), self.timeout_s)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError):
            self.close()
            return UNKNOWN, b""

    async def _read_body(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        start = lower.find(b"content-length:")
        length = int(lower[start + 15 : lower.find(b"\r\n", start)]) if start >= 0 else 0
        body = await reader.readexactly(length) if length else b""
        if b"connection: close" in lower:
            self.close()
        return status, body


def _request(host: str, body: dict[str, Any]) -> bytes:
    payload = orjson.dumps(body)
    head = (
        f"POST /api/v1/bookings HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def send_all(
    host: str, port: int, bodies: Sequence[dict[str, Any]], concurrency: int, sink: list[Outcome]
) -> tuple[list[Answer], float]:
    """Every body over `concurrency` keep-alive connections opened before the clock starts, released at once."""
    connections = [BodyConnection(host, port, CLIENT_TIMEOUT_S) for _ in range(min(concurrency, len(bodies)))]
    await asyncio.gather(*(c.open() for c in connections))
    host_header = f"{host}:{port}"
    work: Iterator[tuple[dict[str, Any], bytes]] = iter([(b, _request(host_header, b)) for b in bodies])
    answers: list[Answer] = []
    gate = asyncio.Event()

    async def worker(conn: BodyConnection) -> None:
        await gate.wait()
        for body, request in work:
            start = time.perf_counter()
            status, raw = await conn.exchange(request)
            now = time.perf_counter()
            error = None
            if status >= 400:
                try:
                    error = str(orjson.loads(raw).get("error"))
                except (orjson.JSONDecodeError, AttributeError):
                    error = "unparsable"
            quantity = int(body["bestAvailable"]["quantity"])
            answers.append(Answer(quantity, str(body["userId"]), status, now - start, now - started, raw, error))
            sink.append(
                Outcome(Call(0, str(body["userId"])), status, now - start, now - started, False,
                        error if status >= 500 else None)
            )  # fmt: skip
        conn.close()

    tasks = [asyncio.create_task(worker(c)) for c in connections]
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    gate.set()
    await asyncio.gather(*tasks)
    return answers, time.perf_counter() - started


async def create_event(database_url: str, spec: EventSpec) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            event = await venues.create_event(conn, spec)
        await conn.execute("VACUUM ANALYZE seats")
    finally:
        await conn.close()
    return event.id


def seated_spec(sizes: InventorySizes) -> EventSpec:
    return EventSpec.model_validate(
        {
            "slug": f"bench-best-{uuid.uuid4().hex[:8]}",
            "name": "Best available",
            "venue": "Bench hall",
            "noOrphans": True,
            "categories": {"STD": {"priceCents": 5000}},
            "sections": [
                {"name": f"S{i + 1}", "rows": sizes.rows, "columns": sizes.columns, "category": "STD"}
                for i in range(sizes.sections)
            ],
        }
    )


def ga_spec(sizes: InventorySizes) -> EventSpec:
    return EventSpec.model_validate(
        {
            "slug": f"bench-ga-{uuid.uuid4().hex[:8]}",
            "name": "General admission",
            "venue": "Bench field",
            "categories": {"GA": {"priceCents": 3000}},
            "sections": [{"name": "Field", "capacity": sizes.ga_capacity, "category": "GA"}],
        }
    )


def _result(name: str, answers: list[Answer], sink: list[Outcome], seconds: float, cpu: float) -> Result:
    result = summarise_outcomes(name, "ATOMIC", sink, seconds, cpu)
    result.statuses = dict(
        sorted(Counter(f"{a.status} {a.error}" if a.error else str(a.status) for a in answers).items())
    )
    return result


async def best_available(
    database_url: str, host: str, port: int, sizes: InventorySizes, meters: Meters, rng: random.Random,
    sink: list[Outcome],
) -> Result:  # fmt: skip
    event_id = await create_event(database_url, seated_spec(sizes))
    bodies = [
        {"eventId": event_id, "bestAvailable": {"quantity": rng.randint(2, 6)}, "userId": f"ba-{i}"}
        for i in range(sizes.best_requests)
    ]
    cpu = time.process_time()
    before = meters.read()
    answers, seconds = await send_all(host, port, bodies, sizes.best_concurrency, sink)
    server_ms, pg_ms = meters.per_request_ms(before, len(answers))
    result = _result("best-available", answers, sink, seconds, time.process_time() - cpu)
    result.server_cpu_ms, result.pg_cpu_ms = server_ms, pg_ms
    await check_best(database_url, event_id, answers, result)
    return result


async def check_best(database_url: str, event_id: int, answers: list[Answer], result: Result) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        seats = {
            r["id"]: r
            for r in await conn.fetch(
                "SELECT id, section, row_idx, col_idx, status, booked_by FROM seats WHERE event_id = $1", event_id
            )
        }
        booked = await conn.fetchval(
            "SELECT count(*) FROM bookings b JOIN seats s ON s.id = b.seat_id"
            " WHERE s.event_id = $1 AND b.status = 'CONFIRMED'",
            event_id,
        )
    finally:
        await conn.close()
    seen: set[int] = set()
    not_adjacent = overlapping = missing = 0
    for a in answers:
        if a.status != 201:
            continue
        ids = [b["seatId"] for b in orjson.loads(a.body)["bookings"]]
        spots = sorted((seats[i]["section"], seats[i]["row_idx"], seats[i]["col_idx"]) for i in ids)
        if (
            len(ids) != a.quantity
            or len({(s, r) for s, r, _ in spots}) != 1
            or [c for *_, c in spots] != list(range(spots[0][2], spots[0][2] + len(spots)))
        ):
            not_adjacent += 1
        if seen & set(ids):
            overlapping += 1
        seen |= set(ids)
        missing += sum(seats[i]["booked_by"] != a.user_id for i in ids)
    # No answer (client timeout) or 503: the outcome is unknown; its seats may be booked.
    unknown_users = {a.user_id for a in answers if a.status == 0 or a.status >= 500}
    unexplained = sum(
        1
        for s in seats.values()
        if s["status"] == "BOOKED" and s["id"] not in seen and s["booked_by"] not in unknown_users
    )
    runs = _free_runs(seats.values())
    largest = max(runs, default=0)
    orphans = _orphans(seats.values())
    refused = [a for a in answers if a.status != 201]
    conflicts = [a for a in refused if a.status == 0 or a.status >= 500 or a.quantity <= largest]
    unknown = sum(a.status == 0 or a.status >= 500 for a in answers)
    wins = [a for a in answers if a.status == 201]
    result.extra.update(
        {
            "seats": len(seats),
            "sold": len(seen),
            "conflicts": len(conflicts),
            "conflict_rate": round(len(conflicts) / max(1, len(answers)), 4),
            "no_answer_or_503": unknown,
            "refused_while_block_left": len(conflicts) - unknown,
            "refused_sold_out": len(refused) - len(conflicts),
            "largest_free_block_left": largest,
            "orphans_left": orphans,
            "sold_out_s": round(max((a.done_s for a in wins), default=0.0), 3),
        }
    )
    if not_adjacent:
        result.violations.append(f"{not_adjacent} answers were not one row of adjacent seats")
    if overlapping:
        result.violations.append(f"{overlapping} answers shared a seat with another")
    if missing:
        result.violations.append(f"{missing} seats answered 201 are not booked by that buyer")
    if unexplained:
        result.violations.append(f"{unexplained} seats booked in the database that no client was told about")
    if booked < len(seen):
        result.violations.append(f"{booked} seats booked in the database, {len(seen)} answered")
    if orphans:
        result.violations.append(f"{orphans} orphan seats left")
    if len(conflicts) > 0.01 * len(answers):
        result.violations.append(f"conflict rate {len(conflicts) / len(answers):.2%} is over 1%")


def _free_runs(seats: Any) -> list[int]:
    """Lengths of the runs of free seats in every row."""
    rows: dict[tuple[str, int], dict[int, bool]] = {}
    for s in seats:
        rows.setdefault((s["section"], s["row_idx"]), {})[s["col_idx"]] = s["status"] == "AVAILABLE"
    runs: list[int] = []
    for cols in rows.values():
        run = 0
        for c in sorted(cols):
            if cols[c]:
                run += 1
            else:
                if run:
                    runs.append(run)
                run = 0
        if run:
            runs.append(run)
    return runs


def _orphans(seats: Any) -> int:
    """Free seats with a taken seat on both sides."""
    state = {(s["section"], s["row_idx"], s["col_idx"]): s["status"] == "AVAILABLE" for s in seats}
    return sum(
        1
        for (sec, row, col), free in state.items()
        if free and state.get((sec, row, col - 1)) is False and state.get((sec, row, col + 1)) is False
    )


async def general_admission(
    database_url: str, host: str, port: int, sizes: InventorySizes, meters: Meters, rng: random.Random,
    sink: list[Outcome],
) -> Result:  # fmt: skip
    event_id = await create_event(database_url, ga_spec(sizes))
    bodies = [
        {"eventId": event_id, "bestAvailable": {"quantity": rng.randint(1, 4), "section": "Field"}, "userId": f"ga-{i}"}
        for i in range(sizes.ga_requests)
    ]
    cpu = time.process_time()
    before = meters.read()
    answers, seconds = await send_all(host, port, bodies, sizes.ga_concurrency, sink)
    server_ms, pg_ms = meters.per_request_ms(before, len(answers))
    result = _result("ga", answers, sink, seconds, time.process_time() - cpu)
    result.server_cpu_ms, result.pg_cpu_ms = server_ms, pg_ms
    await check_ga(database_url, event_id, sizes.ga_capacity, answers, result)
    return result


async def check_ga(database_url: str, event_id: int, capacity: int, answers: list[Answer], result: Result) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        booked = {
            r["id"]: r["booked_by"]
            for r in await conn.fetch(
                "SELECT id, booked_by FROM seats WHERE event_id = $1 AND kind = 'GA' AND status = 'BOOKED'", event_id
            )
        }
        bookings = await conn.fetchval(
            "SELECT count(*) FROM bookings b JOIN seats s ON s.id = b.seat_id"
            " WHERE s.event_id = $1 AND b.status = 'CONFIRMED'",
            event_id,
        )
        left = await conn.fetchval(
            "SELECT count(*) FROM seats WHERE event_id = $1 AND kind = 'GA' AND status = 'AVAILABLE'", event_id
        )
    finally:
        await conn.close()
    answered: list[int] = []
    wrong_owner = 0
    for a in answers:
        if a.status == 201:
            ids = [b["seatId"] for b in orjson.loads(a.body)["bookings"]]
            answered += ids
            wrong_owner += sum(booked.get(i) != a.user_id for i in ids)
    wins = [a for a in answers if a.status == 201]
    sold_out_s = max((a.done_s for a in wins), default=0.0)
    unknown = sum(a.status == 0 or a.status >= 500 for a in answers)
    result.extra.update(
        {
            "capacity": capacity,
            "tickets_sold": len(answered),
            "tickets_per_s": round(len(answered) / sold_out_s, 1) if sold_out_s else None,
            "sold_out_s": round(sold_out_s, 3),
            "left": left,
            "oversold": max(0, len(answered) - capacity),
        }
    )
    if len(answered) != len(set(answered)):
        result.violations.append(f"{len(answered) - len(set(answered))} tickets were answered to two buyers")
    if len(answered) > capacity or len(booked) > capacity or bookings > capacity:
        result.violations.append(f"oversold: {len(answered)} answered, {len(booked)} booked, capacity {capacity}")
    if len(booked) != len(answered) or bookings != len(answered) or wrong_owner:
        result.violations.append(
            f"database disagrees: {len(booked)} booked seats, {bookings} bookings, {len(answered)} answered,"
            f" {wrong_owner} with another owner"
        )
    if left and not unknown and left >= 4:
        result.violations.append(f"{left} tickets left unsold although demand exceeded capacity")
