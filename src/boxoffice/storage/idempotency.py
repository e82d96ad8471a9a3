"""Idempotency keys: claimed and answered inside the transaction of the change they guard.

Keys live in their owner's namespace (`owner`, `scope`, `key`): one user's key never collides with
another's, so nobody can squat a key someone else will send.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

# A live key blocks here until its first request's transaction ends (unique-index wait), so
# parallel retries see the committed answer; an expired key is taken over in place.
_CLAIM = """
INSERT INTO idempotency_keys (owner, scope, key, fingerprint, status_code, response, expires_at)
VALUES ($1, $2, $3, $4, 0, '', clock_timestamp() + make_interval(secs => $5))
ON CONFLICT (owner, scope, key) DO UPDATE
   SET fingerprint = EXCLUDED.fingerprint, status_code = 0, response = '', created_at = clock_timestamp(),
       expires_at = EXCLUDED.expires_at
 WHERE idempotency_keys.expires_at < clock_timestamp()
RETURNING TRUE
"""

# A key the server issued (fresh, random: nobody else can hold it) with the answer of the change it
# records, written last in that change's transaction: one round trip, no owner lock, no cap.
_RECORD = """
INSERT INTO idempotency_keys (owner, scope, key, fingerprint, status_code, response, expires_at)
VALUES ($1, $2, $3, $4, $5, $6, clock_timestamp() + make_interval(secs => $7))
"""

# Live keys of one owner, counted no further than the cap needs, and when the oldest one expires.
_LIVE = """
SELECT count(*) AS n, ceil(extract(epoch FROM min(expires_at) - clock_timestamp())) AS retry_s
  FROM (SELECT expires_at FROM idempotency_keys
         WHERE owner = $1 AND expires_at >= clock_timestamp()
         ORDER BY expires_at LIMIT $2) AS live
"""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    fingerprint: bytes
    status_code: int
    body: bytes


async def lock_owner(conn: asyncpg.Connection, owner: str) -> None:
    """Serialise one owner's new keys for the rest of the transaction, so the per-user cap cannot be
    overshot by parallel requests (a transaction-scoped advisory lock, like the seat cap's)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('boxoffice-idem:' || $1, 0))", owner)


async def claim(conn: asyncpg.Connection, owner: str, scope: str, key: str, fingerprint: bytes, ttl_s: int) -> bool:
    """True if this request owns the key; False if a live answer exists (read it with `stored`)."""
    return bool(await conn.fetchval(_CLAIM, owner, scope, key, fingerprint, ttl_s))


async def live_keys(conn: asyncpg.Connection, owner: str, cap: int) -> tuple[int, int]:
    """(live keys of `owner`, at most `cap + 1`; seconds until the oldest of them expires)."""
    row = await conn.fetchrow(_LIVE, owner, cap + 1)
    assert row is not None
    return int(row["n"]), max(1, int(row["retry_s"] or 1))


async def stored(conn: asyncpg.Connection, owner: str, scope: str, key: str) -> StoredResponse:
    row = await conn.fetchrow(
        "SELECT fingerprint, status_code, response FROM idempotency_keys WHERE owner = $1 AND scope = $2 AND key = $3",
        owner,
        scope,
        key,
    )
    assert row is not None, "a live key cannot vanish inside the transaction that saw it"
    return StoredResponse(fingerprint=row["fingerprint"], status_code=row["status_code"], body=row["response"])


async def answer(conn: asyncpg.Connection, owner: str, scope: str, key: str, status_code: int, body: bytes) -> None:
    await conn.execute(
        "UPDATE idempotency_keys SET status_code = $4, response = $5 WHERE owner = $1 AND scope = $2 AND key = $3",
        owner,
        scope,
        key,
        status_code,
        body,
    )


async def record(
    conn: asyncpg.Connection,
    owner: str,
    scope: str,
    key: str,
    fingerprint: bytes,
    status_code: int,
    body: bytes,
    ttl_s: int,
) -> None:
    """Store a server-issued key with its answer, in the transaction of the change it answers for."""
    await conn.execute(_RECORD, owner, scope, key, fingerprint, status_code, body, ttl_s)


async def purge_expired(conn: asyncpg.Connection, batch: int) -> int:
    result = await conn.execute(
        """
        DELETE FROM idempotency_keys
         WHERE ctid = ANY (ARRAY(SELECT ctid FROM idempotency_keys WHERE expires_at < clock_timestamp() LIMIT $1))
        """,
        batch,
    )
    return int(result.split()[-1])
