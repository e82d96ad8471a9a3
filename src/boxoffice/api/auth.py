"""Who is asking: a verified bearer token, or (open mode only) a name the request gives itself.

Open mode issues anonymous sessions (`POST /api/v1/sessions`): a session's bearer token makes
the caller an authenticated user. Without one, the body's `userId` still books (the original
call), but as a bare name it proves nothing: changing or reading that booking or hold later
takes its secret (the hold token, the booking's manage token). In jwt mode every caller must
present a token of the identity provider. Either way a body `userId` that disagrees with the
token is refused, so nobody acts in another's name.

A session can be revoked (`DELETE /api/v1/sessions/current`): its user id is then refused with
every token of it, renewals included, until the session's maximum age would have ended it anyway.
"""

from __future__ import annotations

import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from boxoffice.api.errors import UNAUTHENTICATED, USER_MISMATCH, VALIDATION_FAILED, ApiError
from boxoffice.booking.coalesce import Coalesced
from boxoffice.domain import SESSION_PREFIX, Caller, Unavailable
from boxoffice.tokens import InvalidToken, Principal, Tokens

log = logging.getLogger(__name__)

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="boxoffice"'}
MAX_BATCH = 256
MAX_LOCAL = 10_000


def parse_bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header value, or None when there is none."""
    if not authorization or authorization[:7].lower() != "bearer ":
        return None
    return authorization[7:].strip() or None


class SessionRevocations:
    """Revoked anonymous sessions, by user id, in Redis (shared by every worker and instance).

    A key per revoked session, expiring when the session's maximum age would have ended it; the
    concurrent checks of a worker share one `EXISTS` round trip. When Redis cannot answer a check,
    the session is accepted (as rate limits, sessions do not fail because Redis does) unless this
    worker revoked it; revoking needs Redis and answers 503 without it, so a client is never told
    a session ended that did not.
    """

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self._client = client
        self._prefix = f"{prefix}revoked:"
        self._check: Coalesced[str, bool] = Coalesced(self._exists, MAX_BATCH)
        self._local: dict[str, float] = {}
        self._warned = False

    async def revoke(self, user_id: str, until: float) -> None:
        """Refuse the session `user_id` until `until` (epoch seconds, the end of its maximum age)."""
        try:
            await self._client.set(self._prefix + user_id, b"1", exat=int(until) + 1)
        except RedisError as exc:
            raise Unavailable("The session store (Redis) is unreachable: the session was not revoked") from exc
        if len(self._local) >= MAX_LOCAL:
            now = time.time()
            self._local = {k: v for k, v in self._local.items() if v > now}
        self._local[user_id] = until

    async def revoked(self, user_id: str) -> bool:
        until = self._local.get(user_id)
        if until is not None and until > time.time():
            return True
        try:
            return await self._check(user_id)
        except RedisError as exc:
            if not self._warned:
                self._warned = True
                log.warning("session_revocation_check_failed accepted=true error=%s", type(exc).__name__)
            return False

    async def _exists(self, user_ids: list[str]) -> list[bool]:
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id in user_ids:
                pipe.exists(self._prefix + user_id)
            found = await pipe.execute()
        self._warned = False
        return [bool(n) for n in found]


class Authenticator:
    def __init__(self, tokens: Tokens, revocations: SessionRevocations | None = None) -> None:
        self.tokens = tokens
        self.mode = tokens.mode
        self.revocations = revocations

    async def principal(self, token: str) -> Principal:
        """The token's verified principal; a revoked session is refused like a bad token (401)."""
        try:
            principal = self.tokens.verify(token)
        except InvalidToken as exc:
            raise ApiError(UNAUTHENTICATED, str(exc), CHALLENGE) from exc
        revocations = self.revocations if principal.started is not None else None
        if revocations is not None and await revocations.revoked(principal.user_id):
            raise ApiError(
                UNAUTHENTICATED, "Session revoked: start a new one (POST /api/v1/sessions without a token)", CHALLENGE
            )
        return principal

    async def caller(self, authorization: str | None, claimed: str | None) -> Caller:
        """The caller per the auth mode. A bearer that is present must verify: a bad or expired
        token is 401, never a silent fall-back to the body's name."""
        token = parse_bearer(authorization)
        if token is None:
            if self.mode == "jwt":
                raise ApiError(UNAUTHENTICATED, "A bearer token is required", CHALLENGE)
            if claimed is not None and claimed.startswith(SESSION_PREFIX):
                raise ApiError(
                    VALIDATION_FAILED, f"userId: the prefix {SESSION_PREFIX!r} is reserved for anonymous sessions"
                )
            return Caller(claimed, authenticated=False)
        principal = await self.principal(token)
        if claimed is not None and claimed != principal.user_id:
            raise ApiError(USER_MISMATCH, "userId does not match the authenticated user")
        return Caller(principal.user_id, authenticated=True, admin=principal.admin)
