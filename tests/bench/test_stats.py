"""Merging a strategy's interleaved spread rounds into one result."""

from __future__ import annotations

from boxoffice.bench.client import Call, Outcome
from boxoffice.bench.stats import merge_rounds, summarise_outcomes


def answered(statuses: list[int], latency_s: float, done_s: float) -> list[Outcome]:
    return [Outcome(Call(i + 1, f"u{i}"), status, latency_s, done_s) for i, status in enumerate(statuses)]


def test_rounds_add_up_and_weigh_cpu_by_requests() -> None:
    first = answered([201, 409, 409], 0.010, 0.5)
    second = answered([201, 409], 0.030, 1.5)
    one = summarise_outcomes("spread", "ATOMIC", first, 1.0, 0.3)
    one.server_cpu_ms, one.pg_cpu_ms, one.extra["booked"] = 0.2, 0.1, 1
    two = summarise_outcomes("spread", "ATOMIC", second, 2.0, 0.4)
    two.server_cpu_ms, two.pg_cpu_ms, two.extra["booked"] = 0.6, None, 1
    two.violations.append("1 bookings answered 201 but missing from the database")

    merged = merge_rounds([(one, first), (two, second)])

    assert (merged.requests, merged.seconds, merged.throughput) == (5, 3.0, 5 / 3)
    assert merged.statuses == {"201": 2, "409": 3}
    assert merged.server_cpu_ms == 0.36  # (3 x 0.2 + 2 x 0.6) / 5
    assert merged.pg_cpu_ms is None  # one round could not measure it
    assert merged.client_cpu == (0.3 * 1.0 + 0.2 * 2.0) / 3.0
    assert merged.violations == ["round 2: 1 bookings answered 201 but missing from the database"]
    assert merged.extra == {"rounds": 2, "round_throughput": [3, 1], "booked": 2}
    # The second round's answers come after the first round's time, not on top of it.
    assert merged.timeline is not None
    bucket = merged.timeline.bucket_s
    assert sum(merged.timeline.answers) == 5
    assert merged.timeline.answers[int(2.5 / bucket)] == 2
    assert merged.max_ms == 30.0
