"""`boxoffice bench`: flash-crowd scenarios for every strategy, against limits measured in the same run."""

from __future__ import annotations

import contextlib
import datetime
import json
import math
import os
import platform
import random
import shlex
import subprocess
import sys
import time
import uuid
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]
import psycopg
import typer
import uvloop

from boxoffice.bench import env, inventory, onsale, pgbench
from boxoffice.bench.client import Call, Outcome
from boxoffice.bench.cpu import Meters, process_meter
from boxoffice.bench.defaults import ALL_SCENARIOS, INVENTORY_SCENARIOS
from boxoffice.bench.progress import Display
from boxoffice.bench.report import render_html
from boxoffice.bench.scenarios import (
    Sizes,
    asyncpg_limit,
    drive,
    hot_seat_calls,
    sellout_calls,
    spread_calls,
    verify,
)
from boxoffice.bench.stats import Result, merge_rounds
from boxoffice.bench.summary import limits, ratios, table
from boxoffice.domain import Strategy
from boxoffice.settings import Settings

HOST = "127.0.0.1"
LIMIT_PATTERNS = (Strategy.ATOMIC, Strategy.DB)


@dataclass
class Plan:
    database_url: str
    port: int
    meters: Meters
    sizes: Sizes
    scenarios: list[str]
    strategies: list[Strategy]
    connections: int
    """The server's whole pool: as many connections for the asyncpg limit."""
    limit: pgbench.Settings
    seed: int
    inventory: inventory.InventorySizes = field(default_factory=inventory.InventorySizes.quick)


def step_count(plan: Plan) -> int:
    per_scenario = len(plan.strategies)
    engine = [s for s in plan.scenarios if s not in INVENTORY_SCENARIOS]
    spread = (
        (2 * len(LIMIT_PATTERNS) + per_scenario * (plan.sizes.spread_rounds - 1)) if "spread" in plan.scenarios else 0
    )
    return 1 + per_scenario * len(engine) + len(plan.scenarios) - len(engine) + spread


async def spread_limits(plan: Plan, rng: random.Random, display: Display) -> list[Result]:
    """The ceilings, measured right before the engine's spread runs so all see the same machine load."""
    results: list[Result] = []
    sizes = plan.sizes
    for pattern in LIMIT_PATTERNS:
        rounds: list[float] = []
        async with display.step(f"spread pgbench-{pattern.value}", plan.limit.min_seconds, "s", partial(sum, rounds)):
            result = await pgbench.measure(
                plan.limit,
                plan.database_url,
                pattern,
                seat_count=sizes.spread_seats,
                requests=sizes.spread_requests,
                meters=plan.meters,
                progress=rounds,
            )
        results.append(result)
        rounds_run = result.extra["rounds"]
        display.note(
            f"  spread    {result.strategy:15} {result.throughput:8.0f} claims/s "
            f"({rounds_run} round{'s' if rounds_run != 1 else ''} of {result.extra['round_transactions']})"
        )
    for pattern in LIMIT_PATTERNS:
        env.reset_inventory(plan.database_url)
        calls = spread_calls(sizes.spread_requests, sizes.spread_seats, f"asyncpg-{pattern.value}", rng)
        sink: list[Outcome] = []
        async with display.step(f"spread asyncpg-{pattern.value}", len(calls), "claims", partial(len, sink)):
            result, outcomes = await asyncpg_limit(
                plan.database_url, pattern, calls, plan.connections, plan.meters, sink
            )
        await verify(plan.database_url, result, outcomes)
        results.append(result)
        display.note(f"  spread    {result.strategy:15} {result.throughput:8.0f} claims/s (Python client, no HTTP)")
    return results


def workload(plan: Plan, scenario: str, strategy: Strategy, rng: random.Random) -> tuple[list[Call], int, int]:
    """(calls, client connections, seats that must be sold)."""
    sizes = plan.sizes
    if scenario == "hot-seat":
        calls = hot_seat_calls(sizes.hot_clients, strategy.value)
        return calls, len(calls), 0
    if scenario == "spread":
        return spread_calls(sizes.spread_requests, sizes.spread_seats, strategy.value, rng), sizes.concurrency, 0
    calls = sellout_calls(sizes.sellout_seats, sizes.sellout_factor, strategy.value, rng)
    return calls, sizes.concurrency, sizes.sellout_seats


async def run_all(plan: Plan, display: Display) -> list[Result]:
    rng = random.Random(plan.seed)
    results: list[Result] = []
    # Warm-up: open the server's pool connections and fill Python's caches before measuring.
    warm = spread_calls(min(500, plan.sizes.spread_requests), plan.sizes.spread_seats, Strategy.ATOMIC.value, rng)
    warm_sink: list[Outcome] = []
    async with display.step("warm-up", len(warm), "requests", partial(len, warm_sink)):
        await drive("warm-up", "ATOMIC", HOST, plan.port, warm, plan.sizes.concurrency, plan.meters, warm_sink)
    for scenario in plan.scenarios:
        if scenario in INVENTORY_SCENARIOS:
            results.append(await inventory_run(plan, scenario, rng, display))
            continue
        if scenario == "spread":
            results.extend(await spread_limits(plan, rng, display))
            results.extend(await spread_rounds(plan, rng, display))
            continue
        for strategy in plan.strategies:
            result, _ = await run_one(plan, scenario, strategy, rng, display, f"{scenario} {strategy.value}")
            results.append(result)
            display.note(f"  {scenario:9} {strategy.value:15} {result.throughput:8.0f} req/s")
    return results


async def run_one(
    plan: Plan, scenario: str, strategy: Strategy, rng: random.Random, display: Display, step: str
) -> tuple[Result, list[Outcome]]:
    """One run of a scenario on a fresh inventory, its answers checked against the database."""
    env.reset_inventory(plan.database_url)
    calls, concurrency, must_sell = workload(plan, scenario, strategy, rng)
    sink: list[Outcome] = []
    async with display.step(step, len(calls), "requests", partial(len, sink)):
        result, outcomes = await drive(scenario, strategy.value, HOST, plan.port, calls, concurrency, plan.meters, sink)
    if scenario == "sell-out":
        wins = [o.done_s for o in outcomes if o.status == 201]
        result.extra["sold_out_s"] = round(max(wins), 3) if wins else None
    await verify(plan.database_url, result, outcomes, must_sell)
    return result, outcomes


async def spread_rounds(plan: Plan, rng: random.Random, display: Display) -> list[Result]:
    """The strategies' spread runs in interleaved rounds (A, B, C, A, B, C, ...), each strategy's merged
    into one result: a shared machine's drift then falls on every strategy alike, and their ratios hold."""
    count = plan.sizes.spread_rounds
    rounds: dict[Strategy, list[tuple[Result, list[Outcome]]]] = {s: [] for s in plan.strategies}
    for number in range(1, count + 1):
        for strategy in plan.strategies:
            step = f"spread {strategy.value} {number}/{count}"
            rounds[strategy].append(await run_one(plan, "spread", strategy, rng, display, step))
    merged = [merge_rounds(done) for done in rounds.values()]
    for result in merged:
        each = ", ".join(f"{t}" for t in result.extra["round_throughput"])
        display.note(f"  spread    {result.strategy:15} {result.throughput:8.0f} req/s (rounds: {each})")
    return merged


async def inventory_run(plan: Plan, scenario: str, rng: random.Random, display: Display) -> Result:
    sizes = plan.inventory
    run = inventory.best_available if scenario == "best-available" else inventory.general_admission
    total = sizes.best_requests if scenario == "best-available" else sizes.ga_requests
    sink: list[Outcome] = []
    async with display.step(scenario, total, "requests", partial(len, sink)):
        result = await run(plan.database_url, HOST, plan.port, sizes, plan.meters, rng, sink)
    extra = result.extra
    if scenario == "best-available":
        display.note(
            f"  {scenario:14} {result.throughput:8.0f} req/s  p99 {result.p99_ms:.0f} ms  sold {extra['sold']}"
            f"/{extra['seats']}  conflicts {extra['conflict_rate']:.2%}  orphans {extra['orphans_left']}"
        )
    else:
        display.note(
            f"  {scenario:14} {result.throughput:8.0f} req/s  p99 {result.p99_ms:.0f} ms  "
            f"{extra['tickets_sold']}/{extra['capacity']} tickets in {extra['sold_out_s']} s"
            f" ({extra['tickets_per_s']} tickets/s)  oversold {extra['oversold']}"
        )
    return result


def command_line() -> str:
    args = sys.argv[2:] if sys.argv[1:2] == ["bench"] else sys.argv[1:]
    return shlex.join(["boxoffice", "bench", *args])


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown"


def machine(database_url: str, binary: Path) -> dict[str, Any]:
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": row[0] if row else "unknown",
        "pgbench": version,
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


def run(
    *,
    quick: bool,
    tiny: bool,
    scenarios: list[str],
    strategies: list[Strategy],
    workers: int,
    pool_size: int,
    concurrency: int | None,
    pgbench_seconds: float | None,
    pgbench_clients: int,
    pgbench_bin: Path,
    admin_url: str,
    private_postgres: bool,
    redis_url: str,
    json_out: Path | None,
    report_out: Path | None,
    server_log: Path | None,
    seat_cap: int | None,
    seed: int,
) -> None:
    """`boxoffice bench` (options in command.py): the sizes chosen, the run, its report."""
    sizes = Sizes.tiny() if tiny else Sizes.quick() if quick else Sizes.full()
    inventory_sizes = (
        inventory.InventorySizes.tiny()
        if tiny
        else inventory.InventorySizes.quick()
        if quick
        else inventory.InventorySizes.full()
    )
    if concurrency:
        sizes = replace(sizes, concurrency=concurrency)
    if pgbench_seconds:
        sizes = replace(sizes, limit_seconds=pgbench_seconds)
    if "onsale" in scenarios:
        # The waiting room's scenario (docs/waiting-room.md#benchmark) runs on its own.
        if len(scenarios) > 1:
            raise typer.BadParameter("onsale runs on its own: --scenario onsale")
        with contextlib.ExitStack() as stack:
            if private_postgres:
                # Away from other databases' checkpoints (each CREATE DATABASE forces one).
                admin_url = stack.enter_context(env.private_postgres()).url
            onsale.run(
                quick=quick or tiny,
                workers=workers,
                pool_size=pool_size,
                admin_url=admin_url,
                redis_url=redis_url,
                json_out=json_out,
                server_log=server_log,
                seed=seed,
            )
        return
    if unknown := set(scenarios) - set(ALL_SCENARIOS):
        raise typer.BadParameter(f"unknown scenario {sorted(unknown)}; expected {', '.join(ALL_SCENARIOS)}")
    if "spread" in scenarios and not os.access(pgbench_bin, os.X_OK):
        raise typer.BadParameter(f"{pgbench_bin} is not an executable pgbench (Debian: postgresql-client)")
    seats_needed = max(sizes.spread_seats, sizes.sellout_seats, 1)
    cols = min(100, seats_needed)
    limit = pgbench.Settings(pgbench_clients, sizes.limit_seconds, pgbench_bin)
    if seat_cap is None:
        # Every request has a user of its own, so the cap refuses nothing: what it costs is measured.
        seat_cap = Settings.model_fields["seats_per_user"].default
    started = time.time()
    with contextlib.ExitStack() as stack:
        postgres_meter = None
        if private_postgres:
            cluster = stack.enter_context(env.private_postgres())
            admin_url = cluster.url
            postgres_meter = process_meter(cluster.postmaster_pid())
        database_url = stack.enter_context(env.fresh_database(admin_url))
        about = machine(database_url, pgbench_bin)
        server_env = {
            "DATABASE_URL": database_url,
            "BOXOFFICE_REDIS_URL": redis_url,
            "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-bench-{uuid.uuid4().hex[:8]}:",
            "BOXOFFICE_SEED_ROWS": str(math.ceil(seats_needed / cols)),
            "BOXOFFICE_SEED_COLS": str(cols),
            "BOXOFFICE_DB_POOL_MAX": str(pool_size),
            "BOXOFFICE_DB_POOL_MIN": str(pool_size),
            "BOXOFFICE_LOG_LEVEL": "WARNING",
            # A flash crowd from one address: the default rate limits would refuse it.
            "BOXOFFICE_RATE_LIMIT_PER_IP": "0",
            "BOXOFFICE_RATE_LIMIT_PER_USER": "0",
            "BOXOFFICE_SEATS_PER_USER": str(seat_cap),
        }
        if set(scenarios) & set(INVENTORY_SCENARIOS):
            # 2,000 requests at once, each a transaction of its own: let them queue for a connection
            # (as behind a waiting room) instead of shedding them after the default 2 s.
            server_env["BOXOFFICE_DB_ACQUIRE_TIMEOUT_S"] = str(inventory.ACQUIRE_TIMEOUT_S)
        with env.server(server_env, workers, server_log) as (port, proc):
            if workers > 1:
                time.sleep(1.0)
            plan = Plan(
                database_url,
                port,
                Meters(process_meter(proc.pid), postgres_meter),
                sizes,
                scenarios,
                strategies,
                pool_size * workers,
                limit,
                seed,
                inventory_sizes,
            )
            with Display(step_count(plan)) as display:
                # uvloop: the load generator shares the cores it measures, so it should cost little.
                results = uvloop.run(run_all(plan, display))
    about["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    ratio = ratios(results)
    typer.echo(table(results, ratio))
    typer.echo(f"seat cap: {f'{seat_cap} seats per user and event' if seat_cap else 'off'} (--seat-cap)")
    report: dict[str, Any] = {
        "started": started,
        "date": datetime.datetime.fromtimestamp(started).isoformat(timespec="seconds"),
        "command": command_line(),
        "machine": about,
        "options": {
            "sizes": asdict(sizes),
            "workers": workers,
            "pool_size": pool_size,
            "pgbench_clients": pgbench_clients,
            "pgbench_threads": limit.threads,
            "private_postgres": private_postgres,
            "seat_cap": seat_cap,
        },
        "limits": limits(results),
        "ratios": ratio,
        "pgbench_scripts": {f"pgbench-{p.value}": pgbench.script(p) for p in LIMIT_PATTERNS},
        "results": [{**asdict(r), "throughput": r.throughput} for r in results],
    }
    if json_out:
        json_out.write_text(json.dumps(report, indent=2))
    if report_out:
        report_out.write_text(render_html(results, report))
    violations = [v for r in results for v in r.violations]
    if violations:
        typer.echo(f"CORRECTNESS VIOLATIONS: {violations}", err=True)
        raise typer.Exit(1)
