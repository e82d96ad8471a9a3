"""`Idempotency-Key`: a retry gets the first answer (same status, same body), not a new outcome.

The key is claimed, the change made and the answer stored in one transaction, so a key can
never point at a change that did not commit, nor a committed change lack its answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from boxoffice.domain import IdempotencyKeyReused
from boxoffice.storage import idempotency as store
from boxoffice.storage.db import Database


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    replayed: bool = False


Work = Callable[[], Awaitable[Answer]]


class IdempotencyService:
    def __init__(self, db: Database, ttl_s: int) -> None:
        self._db = db
        self._ttl_s = ttl_s

    async def once(self, scope: str, key: str, fingerprint: bytes, work: Work) -> Answer:
        """Run `work` at most once per live key and return its answer; later calls replay it.

        `work` runs inside this transaction (services join it as a savepoint) and returns the answer
        to store, final refusals included; an exception from it rolls the key back too, so a
        retryable failure (503) lets the retry run afresh. A key reused with another fingerprint
        raises IdempotencyKeyReused.
        """
        async with self._db.transaction() as conn:
            if not await store.claim(conn, scope, key, fingerprint, self._ttl_s):
                prior = await store.stored(conn, scope, key)
                if prior.fingerprint != fingerprint:
                    raise IdempotencyKeyReused()
                return Answer(prior.status_code, prior.body, replayed=True)
            answer = await work()
            await store.answer(conn, scope, key, answer.status, answer.body)
        return answer
