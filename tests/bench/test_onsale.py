"""The on-sale benchmark's own arithmetic (the seat market, arrivals and rank correlation), and its
gated crowd against a real server: buyers behave as the page does and never call leave."""

from __future__ import annotations

import random

from boxoffice.bench import onsale
from boxoffice.bench.onsale import Market, OnsaleSizes, arrivals, percentile_ms, spearman
from boxoffice.settings import Settings
from boxoffice.tokens import Tokens
from tests.support import ServerFactory
from tests.waitroom import WAITROOM


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


async def test_gated_buyers_never_leave_and_the_server_frees_their_slots(server_factory: ServerFactory) -> None:
    """Two buyers at a time, admissions lasting 120 s, a 30 s sale: the seats sell out only because
    each purchase frees its slot (a slot freed by expiry would sell 2 seats in the run). The room's
    figures account for every buyer: its admission ended by the purchase, none left open."""
    db = server_factory.database("bo_onsale_room")
    server = server_factory(
        database_url=db, settings={**WAITROOM, "admin_token": onsale.ADMIN_TOKEN}, seed_rows=1, seed_cols=8
    )
    sizes = OnsaleSizes(24, 8, 0.25, 1.0, 2.0, 30.0, 8, 2, 6_000, 600)
    master = await onsale._master(db)
    tokens = Tokens(Settings(database_url=db), lambda: master)
    seat_ids = list(range(1, 9))
    room, starts_at = await onsale.gated(server.port, sizes, seat_ids, 7, tokens, 1)
    figures = await onsale.room_figures(db, 1, starts_at)
    assert room["booked"] == 8 and figures["unsold_seats"] == 0, (room, figures)
    assert room["sold_out_s"] is not None and room["sold_out_s"] < 20, room
    assert figures["buyers"] == 8 and figures["ended_by_purchase"] == 8, figures
    assert figures["admitted_after_purchase"] == 0 and figures["double_bookings"] == 0, figures
    # Only admitted visitors who went without a seat left by themselves.
    assert room["leaves"] <= room["visitors_without_seat"] == sizes.visitors - 8, room
    assert figures["visitor_states"].get("LEFT", 0) == 8 + room["leaves"], figures
