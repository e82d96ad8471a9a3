"""`Idempotency-Key`: a retry gets the first answer (same status, same body), not a new outcome.

The key is claimed, the change made and the answer stored in one transaction, so a key can
never point at a change that did not commit, nor a committed change lack its answer. A write sent
without a key gets one from the server (`issued`), stored the same way, so that a lost answer
(`503 OUTCOME_UNKNOWN`) can be resolved by a retry with it.
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


class _NoAnswer(Exception):
    """Rolls back the probe of a key that has no answer, so that probing keeps nothing."""


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

    async def issued(self, owner: str, scope: str, key: str, fingerprint: bytes, work: Work) -> Answer:
        """Run `work` and store its answer under `key`, a key the server just issued, in one transaction.

        The key is fresh and unguessable, so nobody can hold it yet: no claim before the work, no
        owner lock and no cap (the caller did not choose it; what it stores is bounded by what the
        rate limits let change). A failure of `work` rolls the key back with everything else.
        """
        async with self._db.transaction() as conn:
            answer = await work()
            await store.record(conn, owner, scope, key, fingerprint, answer.status, answer.body, self._ttl_s)
        return answer

    async def stored(self, owner: str, scope: str, key: str, fingerprint: bytes) -> Answer | None:
        """The answer stored under a live key, for a request that may not run afresh; None (keeping
        nothing) if there is none. Like `once`, it waits for a first request still running with the key."""
        try:
            async with self._db.transaction() as conn:
                if await store.claim(conn, owner, scope, key, fingerprint, self._ttl_s):
                    raise _NoAnswer
                prior = await store.stored(conn, owner, scope, key)
        except _NoAnswer:
            return None
        if prior.fingerprint != fingerprint:
            raise IdempotencyKeyReused()
        return Answer(prior.status_code, prior.body, replayed=True)
