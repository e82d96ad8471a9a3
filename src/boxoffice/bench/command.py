"""`boxoffice bench`'s command line: its options and help, without the run.

The run (`runner.py` and what it imports: psutil, psycopg, the load generator, the report) loads only
when the command runs, so `boxoffice serve` and every other command start without the benchmark.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from boxoffice.bench import defaults
from boxoffice.domain import Strategy


def bench(
    quick: Annotated[bool, typer.Option(help="Smaller sizes: runs in about two minutes")] = False,
    tiny: Annotated[bool, typer.Option(hidden=True, help="Smoke-test sizes")] = False,
    scenario: Annotated[
        list[str] | None,
        typer.Option(
            help=f"Scenarios to run (default: {', '.join(defaults.SCENARIOS)}; "
            f"also {', '.join(defaults.INVENTORY_SCENARIOS)}; or onsale, alone)"
        ),
    ] = None,
    strategy: Annotated[list[Strategy] | None, typer.Option(help="Strategies to run (default: all)")] = None,
    workers: Annotated[int, typer.Option(min=1, max=8, help="Server worker processes")] = 1,
    pool_size: Annotated[int, typer.Option(min=1, max=200, help="Server DB pool per worker")] = 20,
    concurrency: Annotated[int | None, typer.Option(min=1, max=2000, help="Client connections (spread)")] = None,
    pgbench_seconds: Annotated[
        float | None,
        typer.Option(min=0.1, max=3600, help="Least time pgbench measures each limit (default 20, quick 10)"),
    ] = None,
    pgbench_clients: Annotated[
        int, typer.Option(min=1, max=200, help="pgbench client connections")
    ] = defaults.PGBENCH_CLIENTS,
    pgbench_bin: Annotated[
        Path, typer.Option(envvar="BOXOFFICE_PGBENCH", help="The pgbench binary")
    ] = defaults.PGBENCH,
    admin_url: Annotated[str, typer.Option(envvar="BOXOFFICE_BENCH_ADMIN_URL")] = defaults.ADMIN_URL,
    private_postgres: Annotated[
        bool, typer.Option(help="Run against a PostgreSQL cluster of its own (also measures PostgreSQL CPU)")
    ] = False,
    redis_url: Annotated[str, typer.Option(envvar="BOXOFFICE_BENCH_REDIS_URL")] = defaults.REDIS_URL,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write results as JSON here")] = None,
    report_out: Annotated[Path | None, typer.Option("--report", help="Write a self-contained HTML report here")] = None,
    server_log: Annotated[Path | None, typer.Option(help="Append the server's output here")] = None,
    seat_cap: Annotated[
        int | None,
        typer.Option(min=0, max=10_000, help="Per-user seat cap of the server (default: the server's default; 0: off)"),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed for the workloads")] = 1,
) -> None:
    """Flash-crowd benchmark: hot seat, spread and sell-out per strategy, against pgbench's limit."""
    from boxoffice.bench import runner  # here, not at the top: the run loads only when the command runs

    runner.run(
        quick=quick,
        tiny=tiny,
        scenarios=scenario or list(defaults.SCENARIOS),
        strategies=strategy or list(Strategy),
        workers=workers,
        pool_size=pool_size,
        concurrency=concurrency,
        pgbench_seconds=pgbench_seconds,
        pgbench_clients=pgbench_clients,
        pgbench_bin=pgbench_bin,
        admin_url=admin_url,
        private_postgres=private_postgres,
        redis_url=redis_url,
        json_out=json_out,
        report_out=report_out,
        server_log=server_log,
        seat_cap=seat_cap,
        seed=seed,
    )
