"""The pure row rules: the fast best-block search agrees with checking every window in full."""

from __future__ import annotations

import random

from boxoffice.booking import blocks
from boxoffice.storage.inventory import RowSeat


def _row(rng: random.Random, n: int) -> list[RowSeat]:
    return [
        RowSeat(i, f"A{i}", i, rng.random() < 0.6, rng.random() < 0.1, None, None, None, rng.random())
        for i in range(1, n + 1)
    ]


def _eligible(seat: RowSeat) -> bool:
    return seat.free and not seat.blocked


def test_best_block_matches_brute_force() -> None:
    rng = random.Random(1)
    for _ in range(3000):
        row = _row(rng, rng.randint(1, 15))
        quantity, ends = rng.randint(1, 4), rng.random() < 0.5
        clean, anyway = blocks.best_block(row, quantity, _eligible, 0, ends)
        best_clean: float | None = None
        best_any: float | None = None
        for start in range(len(row) - quantity + 1):
            window = row[start : start + quantity]
            if not all(_eligible(s) for s in window):
                continue
            score = sum(s.rank for s in window)
            best_any = score if best_any is None else min(best_any, score)
            if blocks.orphan_after(row, {s.id for s in window}, ends) is None:
                best_clean = score if best_clean is None else min(best_clean, score)
        assert (clean.score if clean else None) == best_clean
        assert (anyway.score if anyway else None) == best_any


def test_orphan_rules() -> None:
    row = [RowSeat(i, f"A{i}", i, i not in (2, 5), False, None, None, None, 0.0) for i in range(1, 7)]
    # A1 free, A2 taken, A3 A4 free, A5 taken, A6 free.
    assert blocks.orphan_after(row, {3}, row_ends=False) is row[3]  # A4 between A3 and A5
    assert blocks.orphan_after(row, {3, 4}, row_ends=False) is None
    assert blocks.orphan_after(row, {4}, row_ends=False) is row[2]
    # A1 is alone by the wall already: not this claim's doing unless the claim is next to it.
    assert blocks.orphan_after(row, {6}, row_ends=True) is None
    assert blocks.split([row], 3, _eligible, row_ends=False, allow_orphans=False) is None
    assert [s.col for s in blocks.split([row, row[:1]], 2, _eligible, row_ends=False, allow_orphans=False) or []] == [
        3,
        4,
    ]
