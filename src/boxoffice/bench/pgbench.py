"""The physical limit: pgbench (a C client, prepared statements) running the engine's own claim SQL.

A Python client understates what PostgreSQL can do; pgbench on the same database, in the same
run, does not. It runs the spread workload's own mix (M claims on random seats among S, so the
share of claims that find the seat taken matches the engine's run) in rounds, resetting the
inventory between rounds, until at least `min_seconds` of measured time has passed.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from boxoffice.bench import defaults, env
from boxoffice.bench.cpu import Meters, children_cpu_s
from boxoffice.bench.scenarios import check_database
from boxoffice.bench.stats import Result, summarise
from boxoffice.domain import Strategy
from boxoffice.storage import seats

CLAIM_PARAMS = ("seat", "user", "strategy")
"""pgbench variables standing for the claim's $1 (seat id), $2 (user id) and $3 (strategy)."""
DRAW = "\\set seat random(1, :seats)\n\\set user random(1, 1000000000000)\n"
"""A random seat among the spread seats, and a user id unique enough that no two claims share one."""


def as_pgbench(sql: str, names: Sequence[str]) -> str:
    """The statement with asyncpg's `$n` as pgbench `:name`; `-M prepared` sends them as parameters again."""

    def variable(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        if not 0 <= index < len(names):
            raise ValueError(f"no pgbench variable for ${index + 1}")
        return ":" + names[index]

    return re.sub(r"\$(\d+)", variable, sql.strip())


def script(strategy: Strategy) -> str:
    """ATOMIC: the one claim statement. DB: its own pattern, BEGIN; lock the row; claim if free; COMMIT."""
    claim = as_pgbench(seats._CLAIM, CLAIM_PARAMS) + ";\n"
    if strategy is not Strategy.DB:
        return DRAW + claim
    lock = as_pgbench(seats._LOCK_ROW, CLAIM_PARAMS[:1])
    return f"{DRAW}BEGIN;\n{lock} \\gset\n\\if :free\n{claim}\\endif\nCOMMIT;\n"


@dataclass(frozen=True)
class Settings:
    clients: int
    min_seconds: float
    binary: Path = defaults.PGBENCH

    @property
    def threads(self) -> int:
        return max(1, min(self.clients, os.cpu_count() or 1))


@dataclass
class Round:
    transactions: int
    seconds: float
    """pgbench's own measured time: transactions / reported tps, connection set-up excluded."""
    latencies_ms: list[float]


def parse_output(stdout: str) -> tuple[int, float]:
    """(transactions processed, tps without initial connection time) from pgbench's summary.

    A failed transaction (pgbench 15 counts them apart) would make the limit lie: refused.
    """
    done = re.search(r"number of transactions actually processed: (\d+)", stdout)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", stdout)
    failed = re.search(r"number of failed transactions: (\d+)", stdout)
    if not done or not tps:
        raise RuntimeError(f"unexpected pgbench output:\n{stdout}")
    if failed and int(failed.group(1)):
        raise RuntimeError(f"pgbench transactions failed:\n{stdout}")
    return int(done.group(1)), float(tps.group(1))


def parse_logs(log_dir: Path) -> list[float]:
    """Latencies (ms) from pgbench's per-transaction logs (`-l`): `client txn latency_us script epoch us`."""
    latencies: list[float] = []
    for path in log_dir.iterdir():
        for line in path.read_text().splitlines():
            fields = line.split()
            if len(fields) >= 6:
                latencies.append(int(fields[2]) / 1000)
    return latencies


async def run_pgbench(settings: Settings, database_url: str, script_path: Path, per_client: int, *args: str) -> str:
    """pgbench's summary output; raises on any failed client."""
    proc = await asyncio.create_subprocess_exec(
        str(settings.binary),
        "--no-vacuum",
        "--protocol=prepared",
        f"--client={settings.clients}",
        f"--jobs={settings.threads}",
        f"--transactions={per_client}",
        f"--file={script_path}",
        *args,
        database_url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"pgbench exited with {proc.returncode}:\n{stderr.decode()}{stdout.decode()}")
    return stdout.decode()


async def run_round(
    settings: Settings, database_url: str, script_path: Path, strategy: Strategy, seat_count: int, requests: int
) -> Round:
    # -t counts per client: every client runs the same share, about M claims in all.
    per_client = max(1, math.ceil(requests / settings.clients))
    with tempfile.TemporaryDirectory(prefix="bo-pgbench-") as logs:
        stdout = await run_pgbench(
            settings,
            database_url,
            script_path,
            per_client,
            f"--define=seats={seat_count}",
            f"--define=strategy={strategy.value}",
            "--log",
            f"--log-prefix={Path(logs) / 'txn'}",
        )
        transactions, tps = parse_output(stdout)
        latencies = parse_logs(Path(logs))
    return Round(transactions, transactions / tps if tps else 0.0, latencies)


async def connection_cost(settings: Settings, database_url: str, meters: Meters, runs: int = 3) -> float:
    """PostgreSQL CPU seconds of one round's start-up alone (backends forked, one trivial query each).

    pgbench's reported time already leaves connection set-up out; this keeps it out of the
    CPU per claim too, so the figure compares with the engine's long-lived pool. The mean of a
    few runs, as CPU times come in clock ticks.
    """
    if meters.postgres is None:
        return 0.0
    with tempfile.NamedTemporaryFile("w", prefix="bo-pgbench-", suffix=".sql") as file:
        file.write("SELECT 1;\n")
        file.flush()
        before = meters.postgres()
        for _ in range(runs):
            await run_pgbench(settings, database_url, Path(file.name), 1)
        return max(0.0, meters.postgres() - before) / runs


async def measure(
    settings: Settings,
    database_url: str,
    strategy: Strategy,
    *,
    seat_count: int,
    requests: int,
    meters: Meters,
    progress: list[float] | None = None,
) -> Result:
    """Rounds of the spread mix until `min_seconds` are measured; the database is checked after each."""
    rounds: list[Round] = []
    booked = 0
    server_cpu = pg_cpu = client_cpu = 0.0
    violations: list[str] = []
    start_up = await connection_cost(settings, database_url, meters)
    with tempfile.NamedTemporaryFile("w", prefix="bo-pgbench-", suffix=".sql") as file:
        file.write(script(strategy))
        file.flush()
        while not rounds or sum(r.seconds for r in rounds) < settings.min_seconds:
            env.reset_inventory(database_url)
            before, child_before = meters.read(), children_cpu_s()
            done = await run_round(settings, database_url, Path(file.name), strategy, seat_count, requests)
            after = meters.read()
            client_cpu += children_cpu_s() - child_before
            server_cpu += after[0] - before[0]
            if after[1] is not None and before[1] is not None:
                pg_cpu += max(0.0, after[1] - before[1] - start_up)
            rounds.append(done)
            if progress is not None:
                progress.append(done.seconds)
            state = await check_database(database_url)
            booked += state.booked
            violations.extend(f"round {len(rounds)}: {p}" for p in state.problems)
            if not state.booked:
                violations.append(f"round {len(rounds)}: pgbench booked no seat")
    transactions = sum(r.transactions for r in rounds)
    seconds = sum(r.seconds for r in rounds)
    statuses = Counter({"201": booked, "409": transactions - booked})
    latencies = [x for r in rounds for x in r.latencies_ms]
    result = summarise("spread", f"pgbench-{strategy.value}", latencies, seconds, client_cpu, statuses)
    result.requests = transactions
    result.violations.extend(violations)
    result.server_cpu_ms = round(1000 * server_cpu / max(1, transactions), 3)
    result.pg_cpu_ms = round(1000 * pg_cpu / max(1, transactions), 3) if meters.postgres else None
    result.extra.update(
        clients=settings.clients,
        threads=settings.threads,
        rounds=len(rounds),
        round_transactions=rounds[0].transactions,
        booked=booked,
        pg_cpu_start_up_ms=round(1000 * start_up, 1),
    )
    return result
