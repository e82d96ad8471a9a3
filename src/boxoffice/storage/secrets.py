"""Server secrets generated in the database (migration 0004), shared by every worker and instance."""

from __future__ import annotations

import asyncpg

SESSION = "session"


async def load(conn: asyncpg.Connection, name: str) -> bytes | None:
    value: bytes | None = await conn.fetchval("SELECT value FROM server_secrets WHERE name = $1", name)
    return value
