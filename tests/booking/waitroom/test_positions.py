"""A waiting visitor's view: people ahead, estimated waits, when to poll, and the prestart draw."""

from __future__ import annotations

import random

from boxoffice.booking.waitroom.positions import estimated_wait_s, next_poll_scale, people_ahead, poll_after_s


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
