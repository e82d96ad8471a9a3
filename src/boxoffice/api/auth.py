"""Who is asking: a verified bearer token, or (open mode only) a name the request gives itself.

Open mode issues anonymous sessions (`POST /api/v1/sessions`): a session's bearer token makes
the caller an authenticated user. Without one, the body's `userId` still books (the original
call), but as a bare name it proves nothing: changing or reading that booking or hold later
takes its secret (the hold token, the booking's manage token). In jwt mode every caller must
present a token of the identity provider. Either way a body `userId` that disagrees with the
token is refused, so nobody acts in another's name.
"""

from __future__ import annotations

from boxoffice.api.errors import UNAUTHENTICATED, USER_MISMATCH, VALIDATION_FAILED, ApiError
from boxoffice.domain import SESSION_PREFIX, Caller
from boxoffice.tokens import InvalidToken, Principal, Tokens

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="boxoffice"'}


def parse_bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer ...` header value, or None when there is none."""
    if not authorization or authorization[:7].lower() != "bearer ":
        return None
    return authorization[7:].strip() or None


class Authenticator:
    def __init__(self, tokens: Tokens) -> None:
        self.tokens = tokens
        self.mode = tokens.mode

    def principal(self, token: str) -> Principal:
        try:
            return self.tokens.verify(token)
        except InvalidToken as exc:
            raise ApiError(UNAUTHENTICATED, str(exc), CHALLENGE) from exc

    def caller(self, authorization: str | None, claimed: str | None) -> Caller:
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
        principal = self.principal(token)
        if claimed is not None and claimed != principal.user_id:
            raise ApiError(USER_MISMATCH, "userId does not match the authenticated user")
        return Caller(principal.user_id, authenticated=True, admin=principal.admin)
