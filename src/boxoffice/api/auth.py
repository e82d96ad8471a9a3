"""Who is asking: the body's `userId` (open mode) or a verified JWT subject (jwt mode).

Open mode is the original design and trusts the body: anyone can act as anyone, fine for a
local demo only. In jwt mode the subject of a verified bearer token is the user, and a body
`userId` that disagrees is refused, so nobody can book or cancel in another's name.
"""

from __future__ import annotations

import re

import jwt
from starlette.requests import Request

from boxoffice.api.errors import UNAUTHENTICATED, USER_MISMATCH, VALIDATION_FAILED, ApiError
from boxoffice.api.http import bearer_token
from boxoffice.domain import MAX_USER_ID_LENGTH
from boxoffice.settings import Settings

MAX_TOKEN_BYTES = 4096
# Printable text only; lone surrogates (a JSON "\ud800" escape) cannot be encoded for the database or Redis.
_SUBJECT = re.compile(rf"^[^\x00-\x1f\x7f\ud800-\udfff]{{1,{MAX_USER_ID_LENGTH}}}$")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="boxoffice"'}


class Authenticator:
    def __init__(self, settings: Settings) -> None:
        self.mode = settings.auth_mode
        self._key = settings.jwt_public_key or settings.jwt_secret or ""
        # Never let the token pick its algorithm: HS256 for a secret, asymmetric ones for a public key.
        self._algorithms = ["RS256", "ES256", "EdDSA"] if settings.jwt_public_key else ["HS256"]
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self._leeway = settings.jwt_leeway_s

    def user(self, request: Request, claimed: str | None) -> str:
        if self.mode == "open":
            if claimed is None:
                raise ApiError(VALIDATION_FAILED, "userId: Field required")
            return claimed
        subject = self._subject(bearer_token(request))
        if claimed is not None and claimed != subject:
            raise ApiError(USER_MISMATCH, "userId does not match the authenticated user")
        return subject

    def _subject(self, token: str | None) -> str:
        if not token:
            raise ApiError(UNAUTHENTICATED, "A bearer token is required", _CHALLENGE)
        if len(token) > MAX_TOKEN_BYTES:
            raise ApiError(UNAUTHENTICATED, "Bearer token too large", _CHALLENGE)
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["sub", "exp"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise ApiError(UNAUTHENTICATED, "Bearer token expired", _CHALLENGE) from exc
        except jwt.InvalidTokenError as exc:
            raise ApiError(UNAUTHENTICATED, f"Invalid bearer token: {exc}", _CHALLENGE) from exc
        subject = claims.get("sub")
        if not isinstance(subject, str) or not _SUBJECT.match(subject):
            raise ApiError(UNAUTHENTICATED, "Token subject is not a valid user id", _CHALLENGE)
        return subject
