"""Admission tokens: bound to a session and an event, expiring, refused with a reason."""

from __future__ import annotations

import time

import jwt
import pytest

from boxoffice.booking.waitroom.tokens import Admission, AdmissionTokens
from boxoffice.domain import AdmissionRefused

KEY = b"a" * 32
TOKENS = AdmissionTokens(KEY)


def _issue(exp_in: float = 86_400.0, user: str = "session:u1", event: int = 7) -> str:
    now = time.time()
    return TOKENS.issue(user, event, 42, now, now + exp_in)


def test_a_token_admits_its_session_to_its_event() -> None:
    admission = TOKENS.verify(_issue(), "session:u1", 7)
    assert isinstance(admission, Admission) and admission.visitor_id == 42 and admission.event_id == 7


@pytest.mark.parametrize(
    ("token", "user", "event", "reason"),
    [
        (
            AdmissionTokens(b"b" * 32).issue("session:u1", 7, 42, time.time(), time.time() + 86_400),
            "session:u1",
            7,
            "invalid",
        ),
        ("garbage", "session:u1", 7, "invalid"),
        ("x" * 5000, "session:u1", 7, "invalid"),
        (_issue(), "session:u2", 7, "invalid"),
        (_issue(), None, 7, "invalid"),
        (_issue(exp_in=-1), "session:u1", 7, "expired"),
        (_issue(), "session:u1", 8, "wrong_event"),
    ],
)
def test_refusals_name_their_reason(token: str, user: str | None, event: int, reason: str) -> None:
    with pytest.raises(AdmissionRefused) as refused:
        TOKENS.verify(token, user, event)
    assert refused.value.reason == reason


def test_a_session_token_or_other_audience_is_no_admission() -> None:
    other = jwt.encode({"sub": "session:u1", "exp": int(time.time()) + 60, "evt": 7, "vid": 1, "adm": 1.0}, KEY)
    with pytest.raises(AdmissionRefused):
        TOKENS.verify(other, "session:u1", 7)
    none_alg = jwt.encode(
        {"sub": "session:u1", "exp": int(time.time()) + 60, "evt": 7, "vid": 1, "adm": 1.0}, "", algorithm="none"
    )
    with pytest.raises(AdmissionRefused):
        TOKENS.verify(none_alg, "session:u1", 7)


def test_replay_after_expiry_is_refused() -> None:
    token = _issue(exp_in=10)
    TOKENS.verify(token, "session:u1", 7)
    with pytest.raises(AdmissionRefused) as refused:
        TOKENS.verify(token, "session:u1", 7, now=time.time() + 11)
    assert refused.value.reason == "expired"
