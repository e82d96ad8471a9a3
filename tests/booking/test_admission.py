"""The waiting room's arithmetic: AIMD, the admission budget, positions and waits, tokens, proof of work."""

from __future__ import annotations

import asyncio
import itertools
import random
import time

import jwt
import pytest

from boxoffice.booking.admission import (
    Admission,
    AdmissionTokens,
    Aimd,
    Health,
    HealthWindow,
    ProofOfWork,
    aggregate,
    budget,
    estimated_wait_s,
    leading_zero_bits,
    next_poll_scale,
    people_ahead,
    percentile_ms,
    poll_after_s,
    solve,
)
from boxoffice.domain import AdmissionRefused

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


# --- the visitor's view --------------------------------------------------------------------------------


def test_people_ahead_and_estimates() -> None:
    ranks = [3, 9, 10, 40, 2**40 + 1, 2**40 + 7]
    assert people_ahead(ranks, 3) == 0
    assert people_ahead(ranks, 40) == 3
    assert people_ahead(ranks, 2**40 + 7) == 5
    assert people_ahead(ranks, 2**40 + 99) == 6  # joined after the snapshot: behind everyone in it
    assert estimated_wait_s(0, 60) == 0
    assert estimated_wait_s(120, 60) == 120
    assert estimated_wait_s(1, 600) == 1
    assert estimated_wait_s(10, 0) == 6000  # a zero rate never divides by zero
    assert [poll_after_s(s) for s in (0, 4, 9, 30, 3600)] == [1, 1, 5, 15, 60]
    assert poll_after_s(None) == 5
    # Degraded: far-back visitors poll less, but never after their turn; the front keeps 1 s.
    assert [poll_after_s(s, scale=4) for s in (3, 9, 40, 3600)] == [1, 7, 30, 60]


def test_poll_scale_backs_off_while_degraded() -> None:
    scale = 1.0
    for _ in range(5):
        scale = next_poll_scale(scale, degraded=True)
    assert scale == 8.0
    for _ in range(20):
        scale = next_poll_scale(scale, degraded=False)
    assert scale == 1.0


def test_prestart_lottery_is_uniform() -> None:
    """Ranks drawn at random before the start: each of 4 visitors is first about a quarter of the time."""
    rng = random.Random(7)
    firsts = [0, 0, 0, 0]
    for _ in range(4000):
        ranks = [rng.randrange(2**40) for _ in range(4)]
        firsts[ranks.index(min(ranks))] += 1
    assert all(850 < f < 1150 for f in firsts), firsts


# --- tokens ----------------------------------------------------------------------------------------------

KEY = b"a" * 32
TOKENS = AdmissionTokens(KEY)


def _issue(exp_in: float = 86_400.0, user: str = "session:u1", event: int = 7) -> str:
    now = time.time()
    return TOKENS.issue(user, event, 42, now, now + exp_in)


def test_a_token_admits_its_session_to_its_event() -> None:
    admission = TOKENS.verify(_issue(), "session:u1", 7)
    assert isinstance(admission, Admission) and admission.visitor_id == 42 and admission.event_id == 7


@pytest.mark.parametrize(
    ("token", "user", "event", "reason"),
    [
        (
            AdmissionTokens(b"b" * 32).issue("session:u1", 7, 42, time.time(), time.time() + 86_400),
            "session:u1",
            7,
            "invalid",
        ),
        ("garbage", "session:u1", 7, "invalid"),
        ("x" * 5000, "session:u1", 7, "invalid"),
        (_issue(), "session:u2", 7, "invalid"),
        (_issue(), None, 7, "invalid"),
        (_issue(exp_in=-1), "session:u1", 7, "expired"),
        (_issue(), "session:u1", 8, "wrong_event"),
    ],
)
def test_refusals_name_their_reason(token: str, user: str | None, event: int, reason: str) -> None:
    with pytest.raises(AdmissionRefused) as refused:
        TOKENS.verify(token, user, event)
    assert refused.value.reason == reason


def test_a_session_token_or_other_audience_is_no_admission() -> None:
    other = jwt.encode({"sub": "session:u1", "exp": int(time.time()) + 60, "evt": 7, "vid": 1, "adm": 1.0}, KEY)
    with pytest.raises(AdmissionRefused):
        TOKENS.verify(other, "session:u1", 7)
    none_alg = jwt.encode(
        {"sub": "session:u1", "exp": int(time.time()) + 60, "evt": 7, "vid": 1, "adm": 1.0}, "", algorithm="none"
    )
    with pytest.raises(AdmissionRefused):
        TOKENS.verify(none_alg, "session:u1", 7)


def test_replay_after_expiry_is_refused() -> None:
    token = _issue(exp_in=10)
    TOKENS.verify(token, "session:u1", 7)
    with pytest.raises(AdmissionRefused) as refused:
        TOKENS.verify(token, "session:u1", 7, now=time.time() + 11)
    assert refused.value.reason == "expired"


# --- proof of work and the health window -----------------------------------------------------------------


def test_proof_of_work() -> None:
    assert (
        leading_zero_bits(b"\x00\x00\x80") == 16 and leading_zero_bits(b"\x0f") == 4 and leading_zero_bits(b"\x00") == 8
    )
    pow8 = ProofOfWork(8)
    answer = solve(3, "session:a", 8)
    assert asyncio.run(pow8.verify(3, "session:a", None, answer))
    assert not asyncio.run(pow8.verify(3, "session:a", None, None))
    assert not asyncio.run(pow8.verify(3, "session:a", None, "x" * 65))
    # Bound to the event and the session: another visitor must solve their own (almost surely fails).
    others = [asyncio.run(pow8.verify(4, f"session:{i}", None, answer)) for i in range(20)]
    assert sum(others) <= 2
    assert pow8.describe(3) == "sha256:8"


def test_health_window_drains() -> None:
    window = HealthWindow()
    for i in range(100):
        window.observe(i / 1000, unavailable=i % 50 == 0)
    requests, unavailable, p99 = window.drain()
    assert (requests, unavailable) == (100, 2) and p99 == pytest.approx(98.0)
    assert window.drain() == (0, 0, None)
    assert percentile_ms([0.5], 0.99) == 500.0
