"""`boxoffice` command line: serve, migrate, seed."""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
import uvicorn

from boxoffice.bench.runner import bench
from boxoffice.settings import Settings, get_settings
from boxoffice.storage import migrate as migrations
from boxoffice.storage.seed import Layout, seed

app = typer.Typer(help="Box Office: high-concurrency seat booking.", no_args_is_help=True)
log = logging.getLogger("boxoffice")


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s",
    )


def _database_url(settings: Settings) -> str:
    """The configured database, or an embedded one started in `data_dir`."""
    if settings.database_url:
        return settings.database_url
    from boxoffice.storage import embedded

    return embedded.start(settings.data_dir)


async def _seed(url: str, layout: Layout, reset: bool) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await seed(conn, layout, reset=reset)
    finally:
        await conn.close()


@app.command()
def migrate() -> None:
    """Apply database migrations (Alembic) up to the latest revision."""
    settings = get_settings()
    _configure_logging(settings)
    migrations.upgrade(_database_url(settings))
    typer.echo("migrations applied")


@app.command("seed")
def seed_command(
    rows: Annotated[int, typer.Option(min=1, max=500, help="Rows of the default grid")] = 10,
    cols: Annotated[int, typer.Option(min=1, max=500, help="Seats per row")] = 10,
    layout: Annotated[Path | None, typer.Option(exists=True, dir_okay=False, help="JSON layout file")] = None,
    reset: Annotated[bool, typer.Option(help="Delete all seats and bookings first")] = False,
) -> None:
    """Create the seat inventory (only when there is none, unless --reset)."""
    settings = get_settings()
    _configure_logging(settings)
    url = _database_url(settings)
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
    """Migrate, seed a default map if empty, and serve HTTP (embedded PostgreSQL without DATABASE_URL)."""
    settings = get_settings()
    _configure_logging(settings)
    url = _database_url(settings)
    migrations.upgrade(url)
    inserted = asyncio.run(_seed(url, Layout.grid(settings.seed_rows, settings.seed_cols), reset=False))
    if inserted:
        log.info("seeded seats=%s", inserted)
    # Worker processes build their settings from the environment: hand them the resolved URL.
    os.environ["DATABASE_URL"] = url
    uvicorn.run(
        "boxoffice.api.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=10,
    )


app.command("bench")(bench)

if __name__ == "__main__":
    app()
