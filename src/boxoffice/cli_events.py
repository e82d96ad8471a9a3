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

from boxoffice.booking.events import EventService
from boxoffice.domain import Event, EventExists
from boxoffice.layouts import EventSpec
from boxoffice.settings import get_settings
from boxoffice.storage import embedded
from boxoffice.storage import migrate as migrations
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
        typer.echo(f"{e.id}\t{e.slug}\t{e.seat_count} seats\t{e.name} @ {e.venue}")
