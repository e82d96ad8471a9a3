"""`boxoffice waiting-room configure|show|revoke`: gate an event's on-sale without the admin API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import asyncpg
import typer

from boxoffice import wire
from boxoffice.booking.waitroom.admin import RoomAdmin
from boxoffice.domain import EventNotFound, WaitingRoomConfig
from boxoffice.settings import get_settings
from boxoffice.storage import embedded
from boxoffice.storage.db import Database

T = TypeVar("T")
waitroom_app = typer.Typer(help="Waiting rooms of gated on-sales (docs/waiting-room.md).", no_args_is_help=True)


async def _with_admin(url: str, action: Callable[[RoomAdmin], Awaitable[T]]) -> T:
    """The room's operator part alone: one connection, no tokens, no cache, no admission step."""
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    try:
        return await action(RoomAdmin(Database(pool, acquire_timeout_s=30, pool_max=1)))
    finally:
        await pool.close()


def _run(action: Callable[[RoomAdmin], Awaitable[T]]) -> T:
    from boxoffice.storage import migrate as migrations  # Alembic: loaded only by commands that migrate

    url = embedded.database_url(get_settings())
    migrations.upgrade(url)
    try:
        return asyncio.run(_with_admin(url, action))
    except EventNotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


def _print(event_id: int, payload: dict[str, object]) -> None:
    for key, value in payload.items():
        typer.echo(f"{key}\t{value.isoformat() if isinstance(value, datetime) else value}")


@waitroom_app.command("configure")
def configure(
    event_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1)],
    starts_at: Annotated[datetime, typer.Option(help="On-sale start (UTC unless it names a zone)")],
    max_active: Annotated[int, typer.Option(min=1, max=1_000_000, help="Admitted buyers at once")],
    per_minute: Annotated[int, typer.Option(min=1, max=1_000_000, help="New admissions a minute, at most")],
    enable: Annotated[bool, typer.Option("--enable/--disable", help="Gate the event or stop gating it")] = True,
    min_per_minute: Annotated[int | None, typer.Option(min=1, max=1_000_000, help="Floor of the adaptive rate")] = None,
    adaptive: Annotated[bool, typer.Option("--adaptive/--fixed", help="Follow the engine's measured health")] = True,
    hold_s: Annotated[int, typer.Option(min=10, max=86_400, help="Keep an absent visitor's place this long")] = 600,
    admission_ttl_s: Annotated[int, typer.Option(min=10, max=86_400, help="How long an admission lasts")] = 600,
) -> None:
    """Gate (or stop gating) an event's on-sale: start time and limits."""
    start = starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=UTC)
    floor = min_per_minute or max(1, per_minute // 10)
    if floor > per_minute:
        raise typer.BadParameter("--min-per-minute must not exceed --per-minute")
    config = WaitingRoomConfig(
        event_id, enable, start, max_active, per_minute, floor, adaptive, hold_s, admission_ttl_s
    )
    stats = _run(lambda room: room.configure(config))
    _print(event_id, wire.waiting_room_admin_json(event_id, stats, datetime.now(UTC)))


@waitroom_app.command("show")
def show(event_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1)]) -> None:
    """The configuration, the live figures and the adaptive rate in force."""
    stats = _run(lambda room: room.stats(event_id))
    if stats is None:
        typer.echo(f"event {event_id} has no waiting room configured")
        return
    _print(event_id, wire.waiting_room_admin_json(event_id, stats, datetime.now(UTC)))


@waitroom_app.command("revoke")
def revoke(
    event_id: Annotated[int, typer.Argument(min=1, max=2**31 - 1)],
    user: Annotated[str | None, typer.Option(help="One visitor's user id; without it every admission so far")] = None,
) -> None:
    """Revoke admissions: their tokens stop working on every instance within a tick."""
    count = _run(lambda room: room.revoke(event_id, user))
    typer.echo(f"revoked {count}")
