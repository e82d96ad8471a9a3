"""The admission step's arithmetic: AIMD, the admission budget and this process's health window."""

from __future__ import annotations

import itertools

import pytest

from boxoffice.booking.waitroom.pacing import Aimd, Health, HealthWindow, aggregate, budget, percentile_ms

GOOD = Health(requests=500, unavailable=0, p99_ms=40.0, saturation=0.3)
AIMD = Aimd(target_p99_ms=150)


# --- AIMD -----------------------------------------------------------------------------------------


def test_healthy_and_rate_limited_increases_additively_up_to_the_ceiling() -> None:
    rates = [100.0]
    for _ in range(20):
        rates.append(AIMD.next_rate(rates[-1], GOOD, floor=100, ceiling=1000, rate_limited=True))
    steps = {round(b - a, 6) for a, b in itertools.pairwise(rates) if b < 1000}
    assert steps == {100.0}  # 10% of the ceiling per step
    assert rates[-1] == 1000


def test_an_unused_rate_does_not_grow() -> None:
    assert AIMD.next_rate(300, GOOD, 100, 1000, rate_limited=False) == 300


@pytest.mark.parametrize(
    ("health", "signal"),
    [
        (Health(500, 0, 151.0, 0.3), "latency"),
        (Health(500, 0, 40.0, 0.95), "saturation"),
        (Health(500, 6, 40.0, 0.3), "unavailable"),  # 1.2% of 500
        (Health(5, 3, None, 0.1), "unavailable"),  # few requests, but three 503s
    ],
)
def test_each_degraded_signal_backs_off_multiplicatively(health: Health, signal: str) -> None:
    assert AIMD.degraded(health) == signal
    assert AIMD.next_rate(800, health, 100, 1000, rate_limited=True) == pytest.approx(560)


def test_backoff_never_goes_below_the_floor_nor_growth_above_the_ceiling() -> None:
    bad = Health(500, 100, 900.0, 1.0)
    rate = 1000.0
    for _ in range(30):
        rate = AIMD.next_rate(rate, bad, 50, 1000, rate_limited=True)
    assert rate == 50
    assert AIMD.next_rate(990, GOOD, 50, 1000, rate_limited=True) == 1000


def test_one_503_in_a_quiet_window_is_not_a_trend() -> None:
    assert AIMD.degraded(Health(3, 1, 20.0, 0.1)) is None
    assert AIMD.degraded(Health(1000, 10, 20.0, 0.1)) is None  # exactly 1%


def test_no_samples_is_healthy() -> None:
    assert AIMD.degraded(Health(0, 0, None, 0.0)) is None
    assert aggregate([]) == Health(0, 0, None, 0.0)


def test_aggregate_adds_counts_and_takes_the_worst_instance() -> None:
    total = aggregate([Health(100, 1, 30.0, 0.2), Health(50, 2, None, 0.7), Health(10, 0, 90.0, 0.1)])
    assert total == Health(160, 3, 90.0, 0.7)


def test_aimd_converges_below_a_capacity_it_cannot_see() -> None:
    """A simulated engine whose p99 explodes above 600 admissions/min: the rate saw-tooths under it."""
    rate, seen = 60.0, []
    for _ in range(200):
        p99 = 40.0 if rate <= 600 else 400.0
        rate = AIMD.next_rate(rate, Health(500, 0, p99, 0.3), 60, 2000, rate_limited=True)
        seen.append(rate)
    tail = seen[100:]
    assert max(tail) <= 600 + 200 and min(tail) >= 600 * 0.7 * 0.7
    assert sum(tail) / len(tail) > 400


# --- the budget -------------------------------------------------------------------------------------


def test_budget_accrues_the_rate_over_elapsed_time_with_a_carry() -> None:
    admitted, carry = 0, 0.0
    for _ in range(10):  # 90/min for ten 1-second steps = 15
        n, carry = budget(90, 1.0, carry, active=0, max_active=1000, waiting=1000)
        admitted += n
    assert admitted == 15 and carry == pytest.approx(0.0)


def test_budget_respects_free_slots_and_the_queue() -> None:
    assert budget(6000, 1.0, 0.0, active=8, max_active=10, waiting=1000) == (2, 0.0)
    assert budget(6000, 1.0, 0.0, active=0, max_active=10, waiting=3) == (3, 0.0)
    assert budget(6000, 1.0, 0.0, active=12, max_active=10, waiting=3) == (0, 0.0)


def test_a_paused_leader_releases_no_burst() -> None:
    n, _ = budget(600, 3600.0, 0.0, active=0, max_active=10**6, waiting=10**6)
    assert n == 20  # two seconds' worth, not an hour's


# --- the health window ---------------------------------------------------------------------------


def test_health_window_drains() -> None:
    window = HealthWindow()
    for i in range(100):
        window.observe(i / 1000, unavailable=i % 50 == 0)
    requests, unavailable, p99 = window.drain()
    assert (requests, unavailable) == (100, 2) and p99 == pytest.approx(98.0)
    assert window.drain() == (0, 0, None)
    assert percentile_ms([0.5], 0.99) == 500.0
