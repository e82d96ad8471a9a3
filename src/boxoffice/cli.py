"""`boxoffice` command line: serve, migrate, seed, bench, event, waiting-room.

`serve` loads neither the benchmark's run nor Alembic: commands that need them import them when they
run (each worker process imports this module again, so this counts there too).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import asyncpg
import typer

from boxoffice.bench.command import bench
from boxoffice.cli_events import events_app
from boxoffice.cli_waitroom import waitroom_app
from boxoffice.httpserver.run import run as run_server
from boxoffice.layouts import Layout
from boxoffice.observability.logs import configure_logging
from boxoffice.observability.metrics_dir import metrics_directory
from boxoffice.settings import Settings, get_settings
from boxoffice.storage import embedded
from boxoffice.storage.seed import seed

app = typer.Typer(help="Box Office: high-concurrency seat booking.", no_args_is_help=True)
app.add_typer(events_app, name="event")
app.add_typer(waitroom_app, name="waiting-room")
log = logging.getLogger("boxoffice")


def _configure_logging(settings: Settings) -> None:
    configure_logging(settings.log_level, settings.log_format)


async def _seed(url: str, layout: Layout, reset: bool) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await seed(conn, layout, reset=reset)
    finally:
        await conn.close()


@app.command()
def migrate() -> None:
    """Apply database migrations (Alembic) up to the latest revision."""
    from boxoffice.storage import migrate as migrations

    settings = get_settings()
    _configure_logging(settings)
    migrations.upgrade(embedded.database_url(settings))
    typer.echo("migrations applied")


@app.command("seed")
def seed_command(
    rows: Annotated[int, typer.Option(min=1, max=500, help="Rows of the default grid")] = 10,
    cols: Annotated[int, typer.Option(min=1, max=500, help="Seats per row")] = 10,
    layout: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="JSON layout file")] = None,
    reset: Annotated[bool, typer.Option(help="Delete all seats and bookings first")] = False,
) -> None:
    """Create the seat inventory (only when there is none, unless --reset)."""
    from boxoffice.storage import migrate as migrations

    settings = get_settings()
    _configure_logging(settings)
    url = embedded.database_url(settings)
    migrations.upgrade(url)
    chosen = Layout.from_file(layout) if layout else Layout.grid(rows, cols)
    inserted = asyncio.run(_seed(url, chosen, reset))
    typer.echo(f"seeded {inserted} seats" if inserted else "seats already exist; nothing seeded (use --reset)")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address [BOXOFFICE_HOST]")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port [BOXOFFICE_PORT]")] = None,
    workers: Annotated[int | None, typer.Option(min=1, max=64, help="Worker processes [BOXOFFICE_WORKERS]")] = None,
) -> None:
    """Serve HTTP (embedded PostgreSQL without DATABASE_URL); each worker migrates and seeds an empty map.

    The server starts even if the database is down: readiness stays DOWN and the API answers 503
    until migrations and seeding succeed (retried in the background).
    """
    settings = get_settings()
    _configure_logging(settings)
    # Before anything imports prometheus_client, so every worker counts into shared files.
    with metrics_directory():
        url = embedded.database_url(settings)
        # Worker processes build their settings from the environment: hand them the resolved URL.
        os.environ["DATABASE_URL"] = url
        get_settings.cache_clear()
        # uvicorn re-raises SIGTERM after its graceful shutdown; exiting normally instead lets
        # atexit stop the embedded PostgreSQL cleanly (and the metrics directory be removed).
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        run_server(settings, host or settings.host, port or settings.port, workers or settings.workers)


app.command("bench")(bench)

if __name__ == "__main__":
    app()
