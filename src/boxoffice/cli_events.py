"""`boxoffice event create|list`: events from layout files, without the admin API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import asyncpg
import typer
from pydantic import ValidationError

from boxoffice import layouts
from boxoffice.booking.events import Allocation, EventService
from boxoffice.domain import UNSET, BookingError, Event, EventChanges, EventExists
from boxoffice.layouts import EventSpec
from boxoffice.settings import get_settings
from boxoffice.storage import embedded
from boxoffice.storage.db import Database

T = TypeVar("T")
events_app = typer.Typer(help="Events and their seat maps.", no_args_is_help=True)


async def _with_events(url: str, action: Callable[[EventService], Awaitable[T]]) -> T:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        return await action(EventService(Database(pool, acquire_timeout_s=30, pool_max=1)))
    finally:
        await pool.close()


@events_app.command("create")
def create(
    layout: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="JSON event layout file")],
) -> None:
    """Create an event and its seat map from a layout file (same format as POST /api/v1/admin/events)."""
    from boxoffice.storage import migrate as migrations  # here: `serve` must not load Alembic

    try:
        spec = EventSpec.from_file(layout)
    except (ValidationError, json.JSONDecodeError) as exc:
        typer.echo(f"invalid layout {layout}: {exc}", err=True)
        raise typer.Exit(2) from exc
    url = embedded.database_url(get_settings())
    migrations.upgrade(url)
    try:
        event: Event = asyncio.run(_with_events(url, lambda events: events.create(spec)))
    except EventExists as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created event {event.id} ({event.slug}) with {event.seat_count} seats")


@events_app.command("list")
def list_events() -> None:
    url = embedded.database_url(get_settings())
    for e in asyncio.run(_with_events(url, lambda events: events.list())):
        rules = " no-orphans" if e.no_orphans else ""
        channels = f" channels={','.join(e.channels)}" if e.channels else ""
        typer.echo(f"{e.id}\t{e.slug}\t{e.seat_count} seats\t{e.name} @ {e.venue}{rules}{channels}")


def _run_events(action: Callable[[EventService], Awaitable[T]]) -> T:
    from boxoffice.storage import migrate as migrations  # here: `serve` must not load Alembic

    url = embedded.database_url(get_settings())
    migrations.upgrade(url)
    try:
        return asyncio.run(_with_events(url, action))
    except BookingError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


BLOCK_REASONS = ", ".join(layouts.BLOCK_REASONS)


@events_app.command("allocate")
def allocate(
    event: Annotated[int, typer.Option(min=1, max=2**31 - 1, help="Event id")],
    seats: Annotated[str | None, typer.Option(help="Seat ids, comma-separated (only free seats change)")] = None,
    section: Annotated[str | None, typer.Option(help="A GA area (with --count)")] = None,
    count: Annotated[int | None, typer.Option(min=1, max=100_000, help="GA tickets to move")] = None,
    blocked: Annotated[str | None, typer.Option(help=f"Block with this reason ({BLOCK_REASONS})")] = None,
    channel: Annotated[str | None, typer.Option(help="Assign to this sales channel")] = None,
    from_blocked: Annotated[str | None, typer.Option(help="GA: take tickets blocked for this reason")] = None,
    from_channel: Annotated[str | None, typer.Option(help="GA: take tickets of this channel")] = None,
) -> None:
    """Block seats or GA tickets, put them in a channel, or (with neither) back on public sale."""
    if (seats is None) == (section is None) or (section is not None and count is None):
        typer.echo("give --seats, or --section with --count", err=True)
        raise typer.Exit(2)
    for reason in (blocked, from_blocked):
        if reason is not None and reason not in layouts.BLOCK_REASONS:
            typer.echo(f"unknown block reason {reason!r}; expected one of {BLOCK_REASONS}", err=True)
            raise typer.Exit(2)
    if blocked is not None and channel is not None:
        typer.echo("a seat is either blocked or in a channel, not both", err=True)
        raise typer.Exit(2)
    target = Allocation(blocked, channel, from_blocked, from_channel)
    if seats is not None:
        try:
            ids = sorted({int(s) for s in seats.split(",") if s.strip()})
        except ValueError as exc:
            typer.echo(f"--seats must be comma-separated seat ids: {exc}", err=True)
            raise typer.Exit(2) from exc
        if not ids or len(ids) > 1000:
            typer.echo("--seats takes 1 to 1000 seat ids", err=True)
            raise typer.Exit(2)
        changed = _run_events(lambda events: events.allocate_seats(event, ids, target))
    else:
        assert section is not None and count is not None
        changed = _run_events(lambda events: events.allocate_area(event, section, count, target))
    typer.echo(f"changed {len(changed)} seats/tickets of event {event}")


@events_app.command("options")
def options(
    event: Annotated[int, typer.Option(min=1, max=2**31 - 1, help="Event id")],
    no_orphans: Annotated[bool | None, typer.Option("--no-orphans/--allow-orphans")] = None,
    orphan_row_ends: Annotated[bool | None, typer.Option("--orphan-row-ends/--no-orphan-row-ends")] = None,
) -> None:
    """The orphan rule of an event (as PATCH /api/v1/admin/events/{id})."""
    changes = EventChanges(
        no_orphans=UNSET if no_orphans is None else no_orphans,
        orphan_row_ends=UNSET if orphan_row_ends is None else orphan_row_ends,
    )
    updated = _run_events(lambda events: events.update(event, changes))
    typer.echo(f"event {updated.id}: noOrphans={updated.no_orphans} orphanRowEnds={updated.orphan_row_ends}")


@events_app.command("cancel")
def cancel(
    event: Annotated[int, typer.Option(min=1, max=2**31 - 1, help="Event id")],
    reason: Annotated[str, typer.Option(help="Why (1-200 characters; shown with the event)")],
) -> None:
    """Cancel an event (as POST /api/v1/admin/events/{id}/cancel): its bookings voided, its holds
    released, nothing sold any more; in one transaction."""
    if not 1 <= len(reason) <= 200 or not reason.isprintable():
        typer.echo("--reason must be 1-200 printable characters", err=True)
        raise typer.Exit(2)
    done = _run_events(lambda events: events.cancel(event, reason, "admin"))
    typer.echo(
        f"cancelled event {event}: {done.bookings_voided} bookings voided, {done.holds_released} holds released,"
        f" {done.seats_freed} seats freed"
    )
