"""Inventory rules inside the claim's transaction: who may take which seats, the orphan rule, and
best available (the server picks the block, or GA tickets by quantity).

Both run in the transaction that then claims the seats (`storage.checkout`), so nothing can change
between the check and the claim: rows whose orphan rule applies are locked (advisory row locks)
before their seats are read, and the seats themselves are locked in id order.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import asyncpg

from boxoffice.booking import blocks
from boxoffice.domain import (
    Access,
    AccessibleSeat,
    BestAvailable,
    BookingError,
    ChannelKeyRequired,
    NoBlockAvailable,
    OrphanSeat,
    SeatsBlocked,
    SeatsTaken,
    UnknownArea,
    plural,
)
from boxoffice.storage import inventory
from boxoffice.storage.db import Database
from boxoffice.storage.inventory import RowKey, RowSeat

T = TypeVar("T")

CANDIDATE_SEATS = 600
"""Free seats nearest the focal points that best available groups into candidate rows."""
CANDIDATE_ROWS = 40
ATTEMPTS = 4
"""Best-available transactions per request: a later one waits for a row the earlier found busy."""


class Contended(BookingError):
    """Best available found nothing in the rows it could lock, and others were busy: try again,
    waiting for `row` first. Never reaches a client."""

    def __init__(self, row: RowKey) -> None:
        super().__init__("rows busy")
        self.row = row


NO_ACCESS = Access()


async def check_pick(conn: asyncpg.Connection, seat_ids: Sequence[int], access: Access | None) -> None:
    """Hand-picked seats: refuse blocked, channel and accessible seats the request may not take, and a
    claim that would leave an orphan. Seats that do not exist or are taken are left to the claim
    (it names them)."""
    access = access or NO_ACCESS
    info = await inventory.seat_info(conn, seat_ids)
    rows = sorted({i.key for i in info if i.no_orphans and i.kind == "SEAT"}, key=lambda k: (k.event_id, k.lock))
    for key in rows:
        await inventory.lock_row(conn, key, wait=True)
    seats = await inventory.lock_seats(conn, seat_ids)
    if blocked := [s.id for s in seats if s.blocked is not None]:
        raise SeatsBlocked(blocked)
    channel_seats = [s for s in seats if s.channel is not None]
    if channel_seats and not access.admin:
        granted: dict[int, str] = {}
        if access.channel_key is not None:
            granted = await inventory.channels_for_key(
                conn, sorted({s.event_id for s in channel_seats}), access.channel_key
            )
        if refused := [s.id for s in channel_seats if granted.get(s.event_id) != s.channel]:
            raise ChannelKeyRequired(refused)
    if (special := [s.id for s in seats if s.accessibility is not None]) and not access.accessible:
        raise AccessibleSeat(special)
    by_row: dict[RowKey, tuple[bool, list[int]]] = {}
    for i in info:
        if i.no_orphans and i.kind == "SEAT":
            by_row.setdefault(i.key, (i.orphan_row_ends, []))[1].append(i.id)
    for key, (row_ends, ids) in by_row.items():
        row = await inventory.row_seats(conn, key)
        mine = [s for s in row if s.id in ids]
        if not all(s.free for s in mine):
            continue  # the claim refuses it with the seats' names
        if (orphan := blocks.orphan_after(row, set(ids), row_ends)) is not None:
            raise OrphanSeat(orphan.id, orphan.number)


async def _channel(conn: asyncpg.Connection, event_id: int, access: Access) -> str | None:
    """The pool a best-available request draws from: the public one, or its key's channel."""
    if access.channel_key is None:
        return None
    channel = (await inventory.channels_for_key(conn, [event_id], access.channel_key)).get(event_id)
    if channel is None:
        raise ChannelKeyRequired([])
    return channel


async def choose(
    conn: asyncpg.Connection, best: BestAvailable, access: Access | None, wait_for: RowKey | None
) -> list[int]:
    """The seats to claim for a best-available request (sorted ids); raises NoBlockAvailable, or
    Contended when busy rows might still have had a block."""
    access = access or NO_ACCESS
    policy = await inventory.event_policy(conn, best.event_id)
    channel = await _channel(conn, best.event_id, access)
    if best.section is not None and best.section in policy.ga_sections:
        ids = await inventory.pick_ga(conn, best.event_id, best.section, channel, best.quantity)
        if len(ids) < best.quantity:
            raise _too_few(best, len(ids))
        return sorted(ids)
    wheelchairs = best.accessible

    def eligible(seat: RowSeat) -> bool:
        return (
            seat.free
            and not seat.blocked
            and seat.channel == channel
            and (best.category is None or seat.category == best.category)
            and (seat.accessibility is None or wheelchairs > 0)
        )

    candidates = await inventory.candidate_rows(
        conn,
        best.event_id,
        channel,
        best.category,
        best.section,
        wheelchairs > 0,
        CANDIDATE_SEATS,
        CANDIDATE_ROWS,
        best.quantity,
    )
    if wait_for is not None:
        await inventory.lock_row(conn, wait_for, wait=True)
        candidates = [wait_for, *(c for c in candidates if c != wait_for)]
    skipped: list[RowKey] = []
    examined: list[list[RowSeat]] = []
    fallback: blocks.Block | None = None
    pending = list(candidates)
    first = wait_for is not None
    while pending:
        if first:
            key, pending, first = pending[0], pending[1:], False
        else:
            index = await inventory.lock_first(conn, best.event_id, pending)
            if index is None:
                skipped += pending
                break
            skipped += pending[:index]
            key, pending = pending[index], pending[index + 1 :]
        row = await inventory.row_seats(conn, key)
        clean, anyway = blocks.best_block(row, best.quantity, eligible, wheelchairs, policy.orphan_row_ends)
        if clean is not None:
            return sorted(s.id for s in clean.seats)
        examined.append(row)
        if anyway is not None and not policy.no_orphans and fallback is None:
            fallback = anyway
    if skipped:
        # Wait for one of the busy rows next time; a random one, so a crowd does not queue on the best.
        raise Contended(random.choice(skipped))
    if fallback is not None:
        return sorted(s.id for s in fallback.seats)  # every block left an orphan; the event allows it
    if not best.together and wheelchairs == 0:
        chosen = blocks.split(examined, best.quantity, eligible, policy.orphan_row_ends, not policy.no_orphans)
        if chosen is not None:
            return sorted(s.id for s in chosen)
    await _check_names(conn, best)
    where = " ".join(x for x in (best.category, best.section) if x)
    what = "seat" if best.quantity == 1 else f"{'block' if best.together else 'set'} of {best.quantity} seats"
    raise NoBlockAvailable(f"No {what}{' in ' + where if where else ''} is available now")


async def _check_names(conn: asyncpg.Connection, best: BestAvailable) -> None:
    """Before answering "none available": a section or category the event does not have is the
    client's mistake (422 naming the field), not a sold-out event. Asked only on this path, so a
    request that finds its seats pays nothing for it."""
    if best.section is not None and not await inventory.has_section(conn, best.event_id, best.section):
        raise UnknownArea(best.section, "section", "bestAvailable.section")
    if best.category is not None and not await inventory.has_category(conn, best.event_id, best.category):
        raise UnknownArea(best.category, "category", "bestAvailable.category")


_GA_AREAS: dict[int, frozenset[str]] = {}
"""Event id -> its GA areas. Sections never change after an event is created, so this worker caches them."""


async def ga_quick(db: Database, best: BestAvailable) -> bool:
    """Whether the request names a GA area (so the one-statement GA claim may serve it)."""
    if best.section is None:
        return False
    areas = _GA_AREAS.get(best.event_id)
    if areas is None:
        async with db.connection() as conn:
            areas = (await inventory.event_policy(conn, best.event_id)).ga_sections
        if len(_GA_AREAS) > 10_000:
            _GA_AREAS.clear()
        _GA_AREAS[best.event_id] = areas
    return best.section in areas


async def ga_channel(conn: asyncpg.Connection, best: BestAvailable, access: Access | None) -> str | None:
    return await _channel(conn, best.event_id, access or NO_ACCESS)


async def ga_sold_out(conn: asyncpg.Connection, best: BestAvailable, channel: str | None) -> None:
    """After the one-statement claim took nothing: refuse at once when the pool cannot cover the request
    (the common answer once an area is sold out); otherwise the checked path decides."""
    assert best.section is not None
    left = await inventory.ga_left(conn, best.event_id, best.section, channel, best.quantity)
    if left < best.quantity:
        raise _too_few(best, left)


def _too_few(best: BestAvailable, left: int) -> NoBlockAvailable:
    return NoBlockAvailable(f"Only {plural(left, 'ticket')} of {best.section} available now; asked for {best.quantity}")


async def with_attempts(db: Database, attempt: Callable[[asyncpg.Connection, RowKey | None], Awaitable[T]]) -> T:
    """Run a best-available transaction, again (waiting on the busy row) when it found only busy rows
    or lost a chosen seat to a fast-path claim; each attempt commits or rolls back on its own."""
    wait_for: RowKey | None = None
    for _ in range(ATTEMPTS - 1):
        try:
            async with db.transaction() as conn:
                return await attempt(conn, wait_for)
        except Contended as busy:
            wait_for = busy.row
        except SeatsTaken as lost:
            if type(lost) is not SeatsTaken:
                raise
            wait_for = None
    async with db.transaction() as conn:
        try:
            return await attempt(conn, wait_for)
        except Contended as busy:
            raise NoBlockAvailable("Every matching row is being booked right now; try again") from busy
