"""One run's figures: throughput, latency quantiles, CPU per request and answers over time."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from boxoffice.bench.client import UNKNOWN, Outcome

QUANTILES = tuple(i / 200 for i in range(201))
"""Where the latency distribution is sampled for the report's CDF (every half percent, min to max)."""
TIMELINE_BUCKETS = 40
"""About this many buckets for throughput over time, whatever the run's length."""


@dataclass
class Timeline:
    """Answers (and 201s) per bucket of completion time, counted from the release of the load."""

    bucket_s: float
    answers: list[int]
    created: list[int]


@dataclass
class Result:
    scenario: str
    strategy: str
    requests: int
    seconds: float
    statuses: dict[str, int]
    p50_ms: float
    p99_ms: float
    max_ms: float
    client_cpu: float
    """Load generator CPU seconds per wall second (1.0 = one core busy)."""
    server_cpu_ms: float | None = None
    """Server CPU (all workers) per request; None when no server took part."""
    pg_cpu_ms: float | None = None
    """PostgreSQL CPU (postmaster and every backend) per request; only with a private cluster."""
    violations: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    latency_ms: list[float] = field(default_factory=list)
    """Latency at each of QUANTILES."""
    timeline: Timeline | None = None

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def label(self) -> str:
        return f"{self.scenario} {self.strategy}"


def percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values)) - 1))
    return sorted_values[index]


def nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 x 10^k not below `raw`: bucket widths and axis ticks people can read."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9)))


def timeline(done_s: Sequence[float], created_s: Sequence[float], seconds: float) -> Timeline:
    bucket = max(0.01, nice_step(seconds / TIMELINE_BUCKETS))
    count = max(1, math.ceil(seconds / bucket))
    answers, created = [0] * count, [0] * count
    for t in done_s:
        answers[min(count - 1, int(t / bucket))] += 1
    for t in created_s:
        created[min(count - 1, int(t / bucket))] += 1
    return Timeline(bucket, answers, created)


def summarise(
    scenario: str, strategy: str, latencies_ms: list[float], seconds: float, cpu: float, statuses: Counter[str]
) -> Result:
    latencies_ms.sort()
    return Result(
        scenario=scenario,
        strategy=strategy,
        requests=len(latencies_ms),
        seconds=seconds,
        statuses=dict(sorted(statuses.items())),
        p50_ms=percentile(latencies_ms, 0.50),
        p99_ms=percentile(latencies_ms, 0.99),
        max_ms=latencies_ms[-1] if latencies_ms else 0.0,
        client_cpu=cpu / seconds if seconds else 0.0,
        latency_ms=[round(percentile(latencies_ms, q), 3) for q in QUANTILES] if latencies_ms else [],
    )


def status_name(outcome: Outcome) -> str:
    if outcome.status == UNKNOWN:
        return "unknown"
    return f"{outcome.status} {outcome.error}" if outcome.error else str(outcome.status)


def summarise_outcomes(scenario: str, strategy: str, outcomes: list[Outcome], seconds: float, cpu: float) -> Result:
    statuses = Counter(status_name(o) for o in outcomes)
    result = summarise(scenario, strategy, [o.latency_s * 1000 for o in outcomes], seconds, cpu, statuses)
    result.timeline = timeline(
        [o.done_s for o in outcomes], [o.done_s for o in outcomes if o.status == 201], max(seconds, 1e-3)
    )
    if scenario == "hot-seat":
        winners = statuses.get("201", 0)
        result.extra["winners"] = winners
        if winners != 1:
            result.violations.append(f"hot seat had {winners} winners")
    return result


def merge_rounds(rounds: Sequence[tuple[Result, list[Outcome]]]) -> Result:
    """Rounds of one workload as one run: times and answers add up, each round's answer times offset
    by the rounds before it; CPU per request weighted by requests."""
    first = rounds[0][0]
    outcomes: list[Outcome] = []
    seconds = client_cpu = 0.0
    for result, answered in rounds:
        outcomes += [replace(o, done_s=o.done_s + seconds) for o in answered]
        client_cpu += result.client_cpu * result.seconds
        seconds += result.seconds
    merged = summarise_outcomes(first.scenario, first.strategy, outcomes, seconds, client_cpu)
    merged.server_cpu_ms = _per_request([(r.server_cpu_ms, r.requests) for r, _ in rounds])
    merged.pg_cpu_ms = _per_request([(r.pg_cpu_ms, r.requests) for r, _ in rounds])
    merged.violations = [f"round {i}: {v}" for i, (r, _) in enumerate(rounds, 1) for v in r.violations]
    merged.extra.update(
        rounds=len(rounds),
        round_throughput=[round(r.throughput) for r, _ in rounds],
        booked=sum(r.extra.get("booked", 0) for r, _ in rounds),
    )
    return merged


def _per_request(figures: Sequence[tuple[float | None, int]]) -> float | None:
    if any(ms is None for ms, _ in figures):
        return None
    total = sum(n for _, n in figures)
    return round(sum((ms or 0.0) * n for ms, n in figures) / total, 3) if total else None
