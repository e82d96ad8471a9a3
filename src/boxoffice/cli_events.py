"""`boxoffice event create|list`: events from layout files, without the admin API."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer
from pydantic import ValidationError

from boxoffice.settings import get_settings
from boxoffice.storage import migrate as migrations
from boxoffice.storage import venues

events_app = typer.Typer(help="Events and their seat maps.", no_args_is_help=True)


def _url() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    from boxoffice.storage import embedded

    return embedded.start(settings.data_dir)


async def _with_conn(url: str, action: Any) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await action(conn)
    finally:
        await conn.close()


@events_app.command("create")
def create(
    layout: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="JSON event layout file")],
) -> None:
    """Create an event and its seat map from a layout file (same format as POST /api/v1/admin/events)."""
    try:
        spec = venues.EventSpec.from_file(layout)
    except (ValidationError, json.JSONDecodeError) as exc:
        typer.echo(f"invalid layout {layout}: {exc}", err=True)
        raise typer.Exit(2) from exc
    url = _url()
    migrations.upgrade(url)
    try:
        event = asyncio.run(_with_conn(url, lambda conn: venues.create_event(conn, spec)))
    except venues.EventExists as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created event {event['id']} ({event['slug']}) with {event['seat_count']} seats")


@events_app.command("list")
def list_events() -> None:
    url = _url()
    for e in asyncio.run(_with_conn(url, venues.list_events)):
        typer.echo(f"{e['id']}\t{e['slug']}\t{e['seat_count']} seats\t{e['name']} @ {e['venue']}")
