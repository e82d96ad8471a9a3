"""The on-sale benchmark's own arithmetic: the seat market, arrivals and rank correlation."""

from __future__ import annotations

import random

from boxoffice.bench.onsale import Market, OnsaleSizes, arrivals, percentile_ms, spearman


def test_market_picks_only_free_seats_and_notes_the_sell_out() -> None:
    market = Market([1, 2, 3])
    rng = random.Random(1)
    market.taken(2, 0.5)
    assert {market.pick(rng) for _ in range(50)} == {1, 3}
    market.taken(2, 0.6)  # twice: no harm
    market.taken(1, 0.7)
    assert market.sold_at is None
    market.taken(3, 0.9)
    assert market.pick(rng) is None and market.sold_at == 0.9


def test_arrivals_split_before_and_after_the_start() -> None:
    sizes = OnsaleSizes.quick()
    times = arrivals(sizes, random.Random(3))
    early = [t for t in times if t < 0]
    assert len(times) == sizes.visitors and len(early) == round(sizes.visitors * sizes.prestart_share)
    assert min(times) >= -sizes.prestart_s and max(times) <= sizes.arrival_s


def test_spearman() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
    assert spearman([1, 2], [1, 2]) is None
    rng = random.Random(5)
    shuffled = list(range(2000))
    rng.shuffle(shuffled)
    rho = spearman([float(x) for x in range(2000)], [float(x) for x in shuffled])
    assert rho is not None and abs(rho) < 0.1


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    ordered = [i / 1000 for i in range(1, 101)]  # 1..100 ms
    assert percentile_ms(ordered, 0.99) == 99.0
    assert percentile_ms(ordered, 0.5) == 50.0
    assert percentile_ms([0.25], 0.99) == 250.0
