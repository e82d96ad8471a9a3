"""Admission tokens: what an admitted visitor shows on each hold and booking of a gated event.

Signed with a key derived for this purpose only (`boxoffice.tokens.Tokens.derive`), expiring,
bound to the event and the session; verified without a round trip.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

from boxoffice.domain import AdmissionRefused

ADMISSION_AUDIENCE = "boxoffice-admission"
ADMISSION_ISSUER = "boxoffice"
MAX_ADMISSION_TOKEN_BYTES = 2048


@dataclass(frozen=True, slots=True)
class Admission:
    """A verified admission: who, to which event, which visitor row, when admitted."""

    user_id: str
    event_id: int
    visitor_id: int
    admitted_at: float
    expires_at: float


class AdmissionTokens:
    """Signed (HS256, a key derived for this purpose only), expiring, bound to event and session."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def issue(self, user_id: str, event_id: int, visitor_id: int, admitted_at: float, expires_at: float) -> str:
        claims = {
            "sub": user_id,
            "evt": event_id,
            "vid": visitor_id,
            "iat": int(admitted_at),
            "adm": round(admitted_at, 6),
            "exp": int(expires_at),
            "aud": ADMISSION_AUDIENCE,
            "iss": ADMISSION_ISSUER,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str, user_id: str | None, event_id: int, now: float | None = None) -> Admission:
        """The admission, or AdmissionRefused (invalid, expired, wrong_event) naming why."""
        if len(token) > MAX_ADMISSION_TOKEN_BYTES:
            raise AdmissionRefused("invalid", "Admission token too large")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=ADMISSION_AUDIENCE,
                issuer=ADMISSION_ISSUER,
                options={"require": ["sub", "exp", "evt", "vid", "adm"], "verify_exp": False},
            )
        except jwt.InvalidTokenError as exc:
            raise AdmissionRefused("invalid", f"Invalid admission token: {exc}") from exc
        sub, evt, vid, adm, exp = claims["sub"], claims["evt"], claims["vid"], claims["adm"], claims["exp"]
        if not (isinstance(evt, int) and isinstance(vid, int) and isinstance(adm, int | float)):
            raise AdmissionRefused("invalid", "Invalid admission token: bad claims")
        if user_id is None or sub != user_id:
            raise AdmissionRefused("invalid", "The admission token belongs to another session")
        if (now if now is not None else time.time()) >= exp:
            raise AdmissionRefused("expired", "The admission token has expired; join the waiting room again")
        if evt != event_id:
            raise AdmissionRefused("wrong_event", f"The admission token admits to event {evt}, not {event_id}")
        return Admission(sub, evt, vid, float(adm), float(exp))
