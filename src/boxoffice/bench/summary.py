"""Ratios against the limits, and the plain-text table."""

from __future__ import annotations

from boxoffice.bench.stats import Result
from boxoffice.domain import Strategy

LIMIT = "pgbench-ATOMIC"
"""The physical limit every strategy is measured against: the ATOMIC claim statement from a C client."""
ENGINE = {s.value for s in Strategy}


def spread_throughput(results: list[Result]) -> dict[str, float]:
    return {r.strategy: r.throughput for r in results if r.scenario == "spread"}


def ratios(results: list[Result]) -> dict[str, float]:
    """Each strategy's spread throughput over the limits; DB also over its own pattern's limit."""
    spread = spread_throughput(results)
    engine = {k: v for k, v in spread.items() if k in ENGINE}
    out: dict[str, float] = {}
    if engine and spread.get(LIMIT):
        fastest = max(engine, key=lambda k: engine[k])
        out[f"fastest ({fastest}) / {LIMIT}"] = engine[fastest] / spread[LIMIT]
    for limit in (LIMIT, "asyncpg-ATOMIC"):
        if spread.get(limit):
            out.update({f"{name} / {limit}": value / spread[limit] for name, value in engine.items()})
    for limit in ("pgbench-DB", "asyncpg-DB"):
        if "DB" in engine and spread.get(limit):
            out[f"DB / {limit}"] = engine["DB"] / spread[limit]
    for pattern in ("ATOMIC", "DB"):
        if spread.get(f"pgbench-{pattern}") and spread.get(f"asyncpg-{pattern}"):
            out[f"asyncpg-{pattern} / pgbench-{pattern}"] = spread[f"asyncpg-{pattern}"] / spread[f"pgbench-{pattern}"]
    return {k: round(v, 3) for k, v in out.items()}


def limits(results: list[Result]) -> dict[str, dict[str, float]]:
    """The limit figures in claims/s, keyed by client then pattern (for the JSON and the report)."""
    out: dict[str, dict[str, float]] = {}
    for r in results:
        client, _, pattern = r.strategy.partition("-")
        if r.scenario == "spread" and client in ("pgbench", "asyncpg"):
            out.setdefault(client, {})[pattern] = round(r.throughput, 1)
    return out


def cell(value: float | None, width: int, digits: int = 2) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:{width}.{digits}f}"


def sold_out(r: Result) -> float | None:
    value = r.extra.get("sold_out_s")
    return float(value) if value is not None else None


def table(results: list[Result], ratio: dict[str, float]) -> str:
    head = (
        f"{'scenario':9} {'strategy':15} {'requests':>8} {'seconds':>7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'max ms':>7} {'gen cpu':>7} {'srv ms':>6} {'pg ms':>6} {'sold s':>7}  statuses [checks]"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        checks = ", ".join(r.violations) if r.violations else "OK"
        statuses = " ".join(f"{k}:{v}" for k, v in r.statuses.items())
        lines.append(
            f"{r.scenario:9} {r.strategy:15} {r.requests:8d} {r.seconds:7.2f} {r.throughput:7.0f} {r.p50_ms:7.1f} "
            f"{r.p99_ms:7.1f} {r.max_ms:7.1f} {r.client_cpu:7.2f} {cell(r.server_cpu_ms, 6)} {cell(r.pg_cpu_ms, 6)} "
            f"{cell(sold_out(r), 7)}  {statuses} [{checks}]"
        )
    lines.append("")
    lines.append("gen cpu: load generator cores; srv ms / pg ms: server / PostgreSQL CPU per request")
    lines.extend(f"{name:40} {value:6.2f}" for name, value in ratio.items())
    return "\n".join(lines)
