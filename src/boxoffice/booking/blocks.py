"""Pure rules over one row of seats: which free seat a claim would leave alone, and the best block.

"Taken" means booked, held (not lapsed) or blocked. An orphan is a free seat that a claim leaves
between two taken seats, or (with `row_ends`) between a taken seat and the end of the row. Only
seats next to the claim count: an orphan that was there before is not this claim's doing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from boxoffice.storage.inventory import RowSeat


def _taken(seat: RowSeat) -> bool:
    return not seat.free or seat.blocked


def orphan_after(row: Sequence[RowSeat], claim: Collection[int], row_ends: bool) -> RowSeat | None:
    """The first seat the claim (seat ids) would leave alone, or None."""
    by_col = {s.col: s for s in row}
    cols = {s.col for s in row if s.id in claim}

    def occupied(col: int) -> bool:
        seat = by_col.get(col)
        return seat is not None and (seat.id in claim or _taken(seat))

    for seat in row:
        if seat.id in claim or _taken(seat) or not ({seat.col - 1, seat.col + 1} & cols):
            continue
        left, right = seat.col - 1, seat.col + 1
        if occupied(left) and occupied(right):
            return seat
        if row_ends and ((left not in by_col and occupied(right)) or (right not in by_col and occupied(left))):
            return seat
    return None


@dataclass(frozen=True, slots=True)
class Block:
    seats: list[RowSeat]
    score: float
    leaves_orphan: bool


def best_block(
    row: Sequence[RowSeat],
    quantity: int,
    eligible: Callable[[RowSeat], bool],
    wheelchairs: int,
    row_ends: bool,
) -> tuple[Block | None, Block | None]:
    """(the best block that leaves no orphan, the best block at all) of `quantity` adjacent eligible
    seats with at least `wheelchairs` wheelchair spaces; best = lowest summed rank."""
    clean: Block | None = None
    anyway: Block | None = None
    by_col = {s.col: s for s in row}
    ok = [eligible(s) for s in row]
    for start in range(len(row) - quantity + 1):
        window = row[start : start + quantity]
        if window[-1].col - window[0].col != quantity - 1 or not all(ok[start : start + quantity]):
            continue
        if wheelchairs and sum(s.accessibility == "WHEELCHAIR" for s in window) < wheelchairs:
            continue
        score = sum(s.rank for s in window)
        # Only the seats just outside the window can become orphans: O(1) per window.
        orphan = _lone(by_col, window[0].col - 1, -1, row_ends) or _lone(by_col, window[-1].col + 1, 1, row_ends)
        block = Block(list(window), score, orphan)
        if anyway is None or score < anyway.score:
            anyway = block
        if not orphan and (clean is None or score < clean.score):
            clean = block
    return clean, anyway


def _lone(by_col: dict[int, RowSeat], col: int, step: int, row_ends: bool) -> bool:
    """Whether the free seat at `col`, next to a claimed window on its other side, would be left alone."""
    seat = by_col.get(col)
    if seat is None or _taken(seat):
        return False
    beyond = by_col.get(col + step)
    if beyond is None:
        return row_ends
    return _taken(beyond)


def split(
    rows: Sequence[Sequence[RowSeat]],
    quantity: int,
    eligible: Callable[[RowSeat], bool],
    row_ends: bool,
    allow_orphans: bool,
) -> list[RowSeat] | None:
    """`together: false`: the largest blocks first, from the best rows, until `quantity` seats are found."""
    chosen: list[RowSeat] = []
    remaining = quantity
    for row in rows:
        taken = {s.id for s in chosen}
        seats = [s if s.id not in taken else _as_taken(s) for s in row]
        for size in range(remaining, 0, -1):
            clean, anyway = best_block(seats, size, eligible, 0, row_ends)
            block = clean or (anyway if allow_orphans else None)
            if block is not None:
                chosen += block.seats
                remaining -= size
                break
        if remaining == 0:
            return chosen
    return None


def _as_taken(seat: RowSeat) -> RowSeat:
    return RowSeat(seat.id, seat.number, seat.col, False, seat.blocked, seat.channel, seat.accessibility,
                   seat.category, seat.rank)  # fmt: skip
