"""`Idempotency-Key`: a retry gets the first answer (same status, same body), not a new outcome.

The key is claimed, the change made and the answer stored in one transaction, so a key can
never point at a change that did not commit, nor a committed change lack its answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from boxoffice.domain import IdempotencyKeyLimit, IdempotencyKeyReused
from boxoffice.storage import idempotency as store
from boxoffice.storage.db import Database


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    replayed: bool = False


Work = Callable[[], Awaitable[Answer]]


class IdempotencyService:
    def __init__(self, db: Database, ttl_s: int, per_user: int) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self.per_user = per_user

    async def once(self, owner: str, scope: str, key: str, fingerprint: bytes, work: Work) -> Answer:
        """Run `work` at most once per live key of `owner` and return its answer; later calls replay it.

        `work` runs inside this transaction (services join it as a savepoint) and returns the answer
        to store, final refusals included; an exception from it rolls the key back too, so a
        retryable failure (503) lets the retry run afresh. A key reused with another fingerprint
        raises IdempotencyKeyReused; a new key beyond the owner's `per_user` live keys raises
        IdempotencyKeyLimit (and is not kept).
        """
        async with self._db.transaction() as conn:
            await store.lock_owner(conn, owner)
            if not await store.claim(conn, owner, scope, key, fingerprint, self._ttl_s):
                prior = await store.stored(conn, owner, scope, key)
                if prior.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return Answer(prior.status_code, prior.body, replayed=True)
            live, retry_s = await store.live_keys(conn, owner, self.per_user)
            if live > self.per_user:
                raise IdempotencyKeyLimit(self.per_user, retry_s)
            answer = await work()
            await store.answer(conn, owner, scope, key, answer.status, answer.body)
        return answer
