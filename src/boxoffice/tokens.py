"""Bearer tokens: anonymous sessions (open mode), your identity provider's JWTs (jwt mode), manage tokens.

Pure (no I/O), so the HTTP API and the WebSocket endpoint verify with the same code, and services
check a manage token inside the transaction that changes the booking.

Sessions and manage tokens are signed with keys derived from one master secret that every worker
and instance shares: `BOXOFFICE_SESSION_SECRET`, or the one migration 0004 generated in the
database (never a per-process random, which would make a session valid on one worker only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from boxoffice.domain import MAX_USER_ID_LENGTH, SESSION_PREFIX
from boxoffice.settings import AuthSettings

MAX_TOKEN_BYTES = 4096
SESSION_AUDIENCE = "boxoffice-session"
SESSION_ISSUER = "boxoffice"
# Printable text only; lone surrogates (a JSON "\ud800" escape) cannot be encoded for the database or Redis.
_SUBJECT = re.compile(rf"^[^\x00-\x1f\x7f\ud800-\udfff]{{1,{MAX_USER_ID_LENGTH}}}$")
_INVISIBLE = frozenset({"Cc", "Cf", "Cs"})
"""Unicode categories a user id never contains: controls, format characters (bidi overrides and
isolates, zero-width spaces and joiners, the BOM) and surrogates. They make two ids that look the same
differ, or reorder what an operator reads in a log."""


USER_ID_PATTERN = (
    "^[^\\u0000-\\u001F\\u007F-\\u009F\\u00AD\\u0600-\\u0605\\u061C\\u06DD\\u070F\\u0890-\\u0891\\u08E2"
    "\\u180E\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2064\\u2066-\\u206F\\uFEFF\\uFFF9-\\uFFFB"
    "\\U000110BD\\U000110CD\\U00013430-\\U00013438\\U0001BCA0-\\U0001BCA3\\U0001D173-\\U0001D17A"
    "\\U000E0001\\U000E0020-\\U000E007F]+$"
)
"""What a user id may contain, as a JSON-schema pattern: no control (Cc) or format (Cf) character, the
rule `user_id_problem` applies (surrogates left out: no regex engine here can name them). Written out,
not built at import (a scan of every code point costs 0.3 s); tests/test_tokens.py rebuilds it."""
_MANAGE_BYTES = 24
VERIFIED_CACHE_SIZE = 4096
"""Tokens remembered as verified (by digest, until they expire): a client sends the same token on
every request, and a signature check costs about 40 µs of CPU, a lookup about 1 µs."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def user_id_problem(user_id: str) -> str | None:
    """Why `user_id` (already NFC) is not acceptable, or None: the one rule for body ids and token subjects."""
    for ch in user_id:
        if unicodedata.category(ch) in _INVISIBLE:
            return f"Must not contain control, bidi or zero-width characters (U+{ord(ch):04X})"
    if len(user_id) > MAX_USER_ID_LENGTH:
        return f"String should have at most {MAX_USER_ID_LENGTH} characters"
    return None


def normal_user_id(user_id: str) -> str:
    """NFC, so "é" typed precomposed or as e + combining accent is one user."""
    return unicodedata.normalize("NFC", user_id)


class InvalidToken(Exception):
    """A bearer token that proves nothing: missing, malformed, forged, expired or too large."""


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified subject of a token."""

    user_id: str
    admin: bool = False
    started: int | None = None
    """An anonymous session's start (epoch seconds): renewals keep it, and its maximum age counts from it."""


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str
    user_id: str
    expires_at: datetime


def _derive(master: bytes, purpose: bytes) -> bytes:
    """One key per purpose, so a manage token can never pass as a session signature or the reverse."""
    return hmac.new(master, b"boxoffice/" + purpose, hashlib.sha256).digest()


class Tokens:
    """Verifies bearer tokens per the auth mode and issues sessions and manage tokens."""

    def __init__(self, settings: AuthSettings, master: Callable[[], bytes | None]) -> None:
        self.mode = settings.auth_mode
        self._idp_key = settings.jwt_public_key or settings.jwt_secret or ""
        # Never let the token pick its algorithm: HS256 for a secret, asymmetric ones for a public key.
        self._idp_algorithms = ["RS256", "ES256", "EdDSA"] if settings.jwt_public_key else ["HS256"]
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self._leeway = settings.jwt_leeway_s
        self._admin_claim = settings.jwt_admin_claim
        self._admin_role = settings.jwt_admin_role
        self.session_ttl_s = settings.session_ttl_s
        self.session_max_age_s = settings.session_max_age_s
        self._max_lifetime = settings.jwt_max_lifetime_s
        self._admin = settings.admin_token.encode() if settings.admin_token else None
        configured = settings.session_secret.encode() if settings.session_secret else None
        self._master = (lambda: configured) if configured else master
        self._keys: tuple[bytes, bytes] | None = None
        self._verified: dict[bytes, tuple[float, Principal]] = {}

    def _derived(self) -> tuple[bytes, bytes]:
        if self._keys is None:
            master = self._master()
            if master is None:
                # Requests wait behind the start-up gate until the database secret is loaded.
                raise RuntimeError("the session secret is not loaded yet")
            self._keys = (_derive(master, b"session"), _derive(master, b"manage"))
        return self._keys

    def derive(self, purpose: bytes) -> bytes:
        """A key of its own for another kind of token (the waiting room's admissions), from the same master."""
        master = self._master()
        if master is None:
            raise RuntimeError("the session secret is not loaded yet")
        return _derive(master, purpose)

    # --- verifying ------------------------------------------------------------------------------

    def verify(self, token: str) -> Principal:
        """The principal of a bearer token: an anonymous session in open mode, an IdP token in jwt mode."""
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("Bearer token too large")
        digest = hashlib.sha256(token.encode()).digest()
        known = self._verified.get(digest)
        if known is not None and time.time() < known[0]:
            return known[1]
        try:
            principal, expires = self._verify(token)
        except InvalidToken:
            if self._admin is not None and hmac.compare_digest(token.encode(), self._admin):
                raise InvalidToken(
                    "This is the admin token: it opens /api/v1/admin only; buyers send a session"
                    " (POST /api/v1/sessions) or their own token"
                ) from None
            raise
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            del self._verified[next(iter(self._verified))]  # the oldest entry
        self._verified[digest] = (expires + self._leeway, principal)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        """Check the signature and claims: (principal, expiry)."""
        if self.mode == "jwt":
            claims = self._decode(
                token, self._idp_key, self._idp_algorithms, audience=self._audience, issuer=self._issuer
            )
            self._check_lifetime(claims)
            return Principal(_subject(claims), admin=self._is_admin(claims)), float(claims["exp"])
        claims = self._decode(token, self._derived()[0], ["HS256"], audience=SESSION_AUDIENCE, issuer=SESSION_ISSUER)
        subject = _subject(claims)
        if not subject.startswith(SESSION_PREFIX):
            raise InvalidToken("Invalid bearer token: not a session of this server")
        started = claims.get("ses", claims.get("iat"))
        if not isinstance(started, int):
            started = int(claims["exp"]) - self.session_ttl_s  # it began at most one lifetime before it ends
        ends = started + self.session_max_age_s
        if time.time() > ends + self._leeway:
            raise InvalidToken(
                f"Session too old: a session lasts at most {self.session_max_age_s} s from its start, renewals"
                " included; start a new one (POST /api/v1/sessions without a token)"
            )
        return Principal(subject, started=started), float(min(claims["exp"], ends))

    def session_end(self, principal: Principal) -> float:
        """When no token of this session can verify any more (its start plus the maximum age and leeway)."""
        assert principal.started is not None
        return float(principal.started + self.session_max_age_s + self._leeway)

    def _check_lifetime(self, claims: dict[str, Any]) -> None:
        """Refuse an identity-provider token valid for longer than `jwt_max_lifetime_s` (from `iat`, or from now)."""
        start = claims.get("iat")
        start = start if isinstance(start, int | float) else time.time()
        if float(claims["exp"]) - start > self._max_lifetime + self._leeway:
            raise InvalidToken(
                f"Invalid bearer token: it is valid for longer than the {self._max_lifetime} s this server"
                " accepts (exp - iat); ask your identity provider for a shorter-lived token"
            )

    def _decode(
        self, token: str, key: str | bytes, algorithms: list[str], *, audience: str | None, issuer: str | None
    ) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=audience,
                issuer=issuer,
                leeway=self._leeway,
                options={"require": ["sub", "exp"], "verify_aud": audience is not None},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("Bearer token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise InvalidToken(f"Invalid bearer token: {_reason(exc)}") from exc
        return claims

    def _is_admin(self, claims: dict[str, Any]) -> bool:
        """`roles: ["admin"]`, `role: "admin"` or an OAuth-style space-separated `scope: "... admin"`."""
        value = claims.get(self._admin_claim)
        if isinstance(value, str):
            return self._admin_role in value.split()
        if isinstance(value, list):
            return self._admin_role in value
        return False

    # --- issuing --------------------------------------------------------------------------------

    def issue_session(self, renewing: Principal | None = None) -> IssuedSession:
        """A new anonymous session, or the renewal of a verified one: same user, same start, a new
        expiry that never passes the start plus `session_max_age_s`."""
        now = int(time.time())
        if renewing is not None:
            user_id, started = renewing.user_id, renewing.started or now
        else:
            user_id, started = SESSION_PREFIX + secrets.token_urlsafe(16), now
        expires = min(now + self.session_ttl_s, started + self.session_max_age_s)
        claims = {
            "sub": user_id,
            "iat": now,
            "ses": started,
            "exp": expires,
            "aud": SESSION_AUDIENCE,
            "iss": SESSION_ISSUER,
        }
        token = jwt.encode(claims, self._derived()[0], algorithm="HS256")
        return IssuedSession(token, user_id, datetime.fromtimestamp(expires, UTC))

    def manage_token(self, booking_id: int, created_at: datetime) -> str:
        """The secret that lets whoever booked without a session read and cancel this booking.

        Derived, not stored: the booking's id and creation time (ids may restart after a reset,
        times do not repeat) under the manage key.
        """
        micros = (created_at - _EPOCH) // timedelta(microseconds=1)  # exact, unlike float timestamps
        message = f"{booking_id}:{micros}".encode()
        digest = hmac.new(self._derived()[1], message, hashlib.sha256).digest()[:_MANAGE_BYTES]
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def manage_token_valid(self, token: str | None, booking_id: int, created_at: datetime) -> bool:
        if not token or len(token) > MAX_TOKEN_BYTES:
            return False
        return hmac.compare_digest(token.encode(), self.manage_token(booking_id, created_at).encode())


def _subject(claims: dict[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _SUBJECT.match(subject):
        raise InvalidToken("Invalid bearer token: its subject (sub) is not a valid user id")
    subject = normal_user_id(subject)
    if (problem := user_id_problem(subject)) is not None:
        raise InvalidToken(f"Invalid bearer token: its subject (sub) is not a valid user id: {problem}")
    return subject


def _reason(exc: jwt.InvalidTokenError) -> str:
    """A plain reason for a refused token, in this server's words rather than the JWT library's."""
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the signature does not verify"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "it is signed with an algorithm this server does not accept"
    if isinstance(exc, jwt.DecodeError):
        return "not a signed JWT (three base64url parts separated by dots)"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the {exc.claim!r} claim is missing"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "it is meant for another audience (aud)"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "it comes from another issuer (iss)"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "it is not valid yet (nbf or iat in the future)"
    return "a claim is malformed (exp, iat and nbf must be numbers)"


def fingerprint(secret: str) -> str:
    """A short, stable stand-in for a secret (an idempotency namespace), that does not reveal it."""
    return hashlib.sha256(secret.encode()).hexdigest()[:32]
