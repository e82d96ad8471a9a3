"""Idempotency keys: claimed and answered inside the transaction of the change they guard."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

# A live key blocks here until its first request's transaction ends (unique-index wait), so
# parallel retries see the committed answer; an expired key is taken over in place.
_CLAIM = """
INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, response, expires_at)
VALUES ($1, $2, $3, 0, '', clock_timestamp() + make_interval(secs => $4))
ON CONFLICT (scope, key) DO UPDATE
   SET fingerprint = EXCLUDED.fingerprint, status_code = 0, response = '', created_at = clock_timestamp(),
       expires_at = EXCLUDED.expires_at
 WHERE idempotency_keys.expires_at < clock_timestamp()
RETURNING TRUE
"""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    fingerprint: bytes
    status_code: int
    body: bytes


async def claim(conn: asyncpg.Connection, scope: str, key: str, fingerprint: bytes, ttl_s: int) -> bool:
    """True if this request owns the key; False if a live answer exists (read it with `stored`)."""
    return bool(await conn.fetchval(_CLAIM, scope, key, fingerprint, ttl_s))


async def stored(conn: asyncpg.Connection, scope: str, key: str) -> StoredResponse:
    row = await conn.fetchrow(
        "SELECT fingerprint, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2", scope, key
    )
    assert row is not None, "a live key cannot vanish inside the transaction that saw it"
    return StoredResponse(fingerprint=row["fingerprint"], status_code=row["status_code"], body=row["response"])


async def answer(conn: asyncpg.Connection, scope: str, key: str, status_code: int, body: bytes) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $3, response = $4 WHERE scope = $1 AND key = $2",
        scope,
        key,
        status_code,
        body,
    )


async def purge_expired(conn: asyncpg.Connection, batch: int) -> int:
    result = await conn.execute(
        """
        DELETE FROM idempotency_keys
         WHERE ctid = ANY (ARRAY(SELECT ctid FROM idempotency_keys WHERE expires_at < clock_timestamp() LIMIT $1))
        """,
        batch,
    )
    return int(result.split()[-1])
