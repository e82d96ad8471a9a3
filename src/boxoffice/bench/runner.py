"""`boxoffice bench`: flash-crowd scenarios for every strategy, against the raw-SQL limit."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import random
import time
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from boxoffice.bench import env
from boxoffice.bench.scenarios import (
    Result,
    Sizes,
    drive,
    hot_seat_calls,
    raw_limit,
    sellout_calls,
    spread_calls,
    verify,
)
from boxoffice.domain import Strategy

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCENARIOS = ("hot-seat", "spread", "sell-out")
HOST = "127.0.0.1"


async def run_all(
    database_url: str,
    port: int,
    server_pid: int,
    sizes: Sizes,
    scenarios: list[str],
    strategies: list[Strategy],
    pool_size: int,
    seed: int,
) -> list[Result]:
    rng = random.Random(seed)
    results: list[Result] = []
    # Warm-up: open the server's pool connections and JIT-free Python caches before measuring.
    warm = spread_calls(min(500, sizes.spread_requests), sizes.spread_seats, Strategy.ATOMIC.value, rng)
    await drive("warm-up", "ATOMIC", HOST, port, warm, sizes.concurrency, server_pid)
    for scenario in scenarios:
        if scenario == "spread":
            # The ceiling, measured right before the engine so both see the same machine load.
            for raw in (Strategy.ATOMIC, Strategy.DB):
                env.reset_inventory(database_url)
                calls = spread_calls(sizes.spread_requests, sizes.spread_seats, f"raw-{raw.value}", rng)
                result, outcomes = await raw_limit(database_url, raw, calls, pool_size)
                await verify(database_url, result, outcomes)
                results.append(result)
                typer.echo(f"  spread    {result.strategy:14} {result.throughput:8.0f} claims/s (no HTTP)", err=True)
        for strategy in strategies:
            env.reset_inventory(database_url)
            must_sell = 0
            concurrency = sizes.concurrency
            if scenario == "hot-seat":
                calls = hot_seat_calls(sizes.hot_clients, strategy.value)
                concurrency = len(calls)
            elif scenario == "spread":
                calls = spread_calls(sizes.spread_requests, sizes.spread_seats, strategy.value, rng)
            else:
                calls = sellout_calls(sizes.sellout_seats, sizes.sellout_factor, strategy.value, rng)
                must_sell = sizes.sellout_seats
            result, outcomes = await drive(scenario, strategy.value, HOST, port, calls, concurrency, server_pid)
            if scenario == "sell-out":
                wins = [o.done_s for o in outcomes if o.status == 201]
                result.extra["sold_out_s"] = round(max(wins), 3) if wins else None
            await verify(database_url, result, outcomes, must_sell)
            results.append(result)
            typer.echo(f"  {scenario:9} {strategy.value:14} {result.throughput:8.0f} req/s", err=True)
    return results


def ratios(results: list[Result]) -> dict[str, float]:
    spread = {r.strategy: r.throughput for r in results if r.scenario == "spread"}
    raw = spread.get("raw-sql-ATOMIC", 0.0)
    engine = {k: v for k, v in spread.items() if not k.startswith("raw-")}
    out: dict[str, float] = {}
    if raw and engine:
        fastest = max(engine, key=lambda k: engine[k])
        out[f"fastest ({fastest}) / raw-sql-ATOMIC"] = engine[fastest] / raw
        for name, value in engine.items():
            out[f"{name} / raw-sql-ATOMIC"] = value / raw
            if name != fastest:
                out[f"{name} / {fastest}"] = value / engine[fastest]
    if spread.get("raw-sql-DB") and "DB" in engine:
        out["DB / raw-sql-DB"] = engine["DB"] / spread["raw-sql-DB"]
    return out


def table(results: list[Result], ratio: dict[str, float]) -> str:
    head = f"{'scenario':9} {'strategy':15} {'requests':>8} {'seconds':>7} {'req/s':>7} {'p50 ms':>7} "
    head += f"{'p99 ms':>7} {'max ms':>7} {'gen cpu':>7}  statuses / checks"
    lines = [head, "-" * len(head)]
    for r in results:
        checks = ", ".join(r.violations) if r.violations else "OK"
        extra = " ".join(f"{k}={v}" for k, v in r.extra.items())
        statuses = " ".join(f"{k}:{v}" for k, v in r.statuses.items())
        lines.append(
            f"{r.scenario:9} {r.strategy:15} {r.requests:8d} {r.seconds:7.2f} {r.throughput:7.0f} {r.p50_ms:7.1f} "
            f"{r.p99_ms:7.1f} {r.max_ms:7.1f} {r.client_cpu:7.2f}  {statuses} {extra} [{checks}]"
        )
    lines.append("")
    lines.extend(f"{name:40} {value:6.2f}" for name, value in ratio.items())
    return "\n".join(lines)


def bench(
    quick: Annotated[bool, typer.Option(help="Smaller sizes: runs in under a minute")] = False,
    tiny: Annotated[bool, typer.Option(hidden=True, help="Smoke-test sizes")] = False,
    scenario: Annotated[
        list[str] | None, typer.Option(help=f"Scenarios to run (default: {', '.join(SCENARIOS)})")
    ] = None,
    strategy: Annotated[list[Strategy] | None, typer.Option(help="Strategies to run (default: all)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=8, help="Server worker processes")] = 1,
    pool_size: Annotated[int, typer.Option(min=1, max=200, help="Server DB pool per worker")] = 20,
    concurrency: Annotated[int | None, typer.Option(min=1, max=2000, help="Client connections (spread)")] = None,
    admin_url: Annotated[str, typer.Option(envvar="BOXOFFICE_BENCH_ADMIN_URL")] = DEFAULT_ADMIN_URL,
    private_postgres: Annotated[
        bool, typer.Option(help="Run against a PostgreSQL cluster of its own (PostgreSQL 15 binaries)")
    ] = False,
    redis_url: Annotated[str, typer.Option(envvar="BOXOFFICE_BENCH_REDIS_URL")] = "redis://127.0.0.1:6379/0",
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results as JSON here")] = None,
    server_log: Annotated[Path | None, typer.Option(help="Append the server's output here")] = None,
    seed: Annotated[int, typer.Option(help="Random seed for the workloads")] = 1,
) -> None:
    """Flash-crowd benchmark: hot seat, spread and sell-out per strategy, plus the raw-SQL limit."""
    sizes = Sizes.tiny() if tiny else Sizes.quick() if quick else Sizes.full()
    if concurrency:
        sizes = Sizes(**{**asdict(sizes), "concurrency": concurrency})
    strategies = strategy or list(Strategy)
    scenarios = scenario or list(SCENARIOS)
    if unknown := set(scenarios) - set(SCENARIOS):
        raise typer.BadParameter(f"unknown scenario {sorted(unknown)}; expected {', '.join(SCENARIOS)}")
    seats_needed = max(sizes.spread_seats, sizes.sellout_seats, 1)
    cols = min(100, seats_needed)
    started = time.time()
    with contextlib.ExitStack() as stack:
        if private_postgres:
            admin_url = stack.enter_context(env.private_postgres())
        database_url = stack.enter_context(env.fresh_database(admin_url))
        server_env = {
            "DATABASE_URL": database_url,
            "BOXOFFICE_REDIS_URL": redis_url,
            "BOXOFFICE_REDIS_KEY_PREFIX": f"bo-bench-{uuid.uuid4().hex[:8]}:",
            "BOXOFFICE_SEED_ROWS": str(math.ceil(seats_needed / cols)),
            "BOXOFFICE_SEED_COLS": str(cols),
            "BOXOFFICE_DB_POOL_MAX": str(pool_size),
            "BOXOFFICE_DB_POOL_MIN": str(pool_size),
            "BOXOFFICE_LOG_LEVEL": "WARNING",
            # A flash crowd from one address: the default rate limits and seat cap would refuse it.
            "BOXOFFICE_RATE_LIMIT_PER_IP": "0",
            "BOXOFFICE_RATE_LIMIT_PER_USER": "0",
            "BOXOFFICE_SEATS_PER_USER": "0",
        }
        with env.server(server_env, workers, server_log) as (port, proc):
            if workers > 1:
                time.sleep(1.0)
            results = asyncio.run(
                run_all(database_url, port, proc.pid, sizes, scenarios, strategies, pool_size * workers, seed)
            )
    ratio = ratios(results)
    typer.echo(table(results, ratio))
    report: dict[str, Any] = {
        "started": started,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "options": {
            "sizes": asdict(sizes),
            "workers": workers,
            "pool_size": pool_size,
            "private_postgres": private_postgres,
        },
        "results": [{**asdict(r), "throughput": r.throughput} for r in results],
        "ratios": ratio,
    }
    if json_out:
        json_out.write_text(json.dumps(report, indent=2))
    violations = [v for r in results for v in r.violations]
    if violations:
        typer.echo(f"CORRECTNESS VIOLATIONS: {violations}", err=True)
        raise typer.Exit(1)
