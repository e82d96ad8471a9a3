"""Bearer tokens without a server: where the signing key comes from, the verified-token cache, manage tokens."""

from __future__ import annotations

import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from boxoffice.settings import Settings
from boxoffice.tokens import (
    SESSION_AUDIENCE,
    SESSION_ISSUER,
    USER_ID_PATTERN,
    VERIFIED_CACHE_SIZE,
    InvalidToken,
    Tokens,
)

SECRET = "configured-secret-" + "c" * 32


def test_a_configured_secret_wins_over_the_database_one() -> None:
    configured = Tokens(Settings(session_secret=SECRET), lambda: b"d" * 32)
    from_database = Tokens(Settings(), lambda: SECRET.encode())
    other = Tokens(Settings(), lambda: b"d" * 32)
    issued = configured.issue_session()
    assert from_database.verify(issued.token).user_id == issued.user_id
    with pytest.raises(InvalidToken):
        other.verify(issued.token)


def test_no_secret_yet_is_an_error_not_a_random_key() -> None:
    """Never a per-process random key: without the database's secret nothing is signed or verified."""
    tokens = Tokens(Settings(), lambda: None)
    with pytest.raises(RuntimeError, match="not loaded"):
        tokens.issue_session()


def test_renewal_keeps_the_user() -> None:
    tokens = Tokens(Settings(session_secret=SECRET), lambda: None)
    first = tokens.issue_session()
    again = tokens.issue_session(tokens.verify(first.token))
    assert again.user_id == first.user_id and tokens.verify(again.token).user_id == first.user_id


def test_verified_tokens_are_cached_until_they_expire() -> None:
    tokens = Tokens(Settings(session_secret=SECRET, jwt_leeway_s=0), lambda: None)
    key = tokens._derived()[0]
    now = int(time.time())
    claims = {"sub": "session:abc", "aud": SESSION_AUDIENCE, "iss": SESSION_ISSUER, "exp": now + 2}
    token = jwt.encode(claims, key, algorithm="HS256")
    assert tokens.verify(token).user_id == "session:abc"
    assert tokens.verify(token).user_id == "session:abc"  # from the cache
    # A cached good token vouches for nothing else: a tampered copy is checked, and refused.
    with pytest.raises(InvalidToken):
        tokens.verify(token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    while time.time() <= now + 2:  # wait for the expiry (a condition on the clock, not a timing assertion)
        time.sleep(0.05)
    with pytest.raises(InvalidToken, match="expired"):
        tokens.verify(token)


def test_the_cache_is_bounded() -> None:
    tokens = Tokens(Settings(session_secret=SECRET), lambda: None)
    for _ in range(VERIFIED_CACHE_SIZE + 10):
        tokens.verify(tokens.issue_session().token)
    assert len(tokens._verified) == VERIFIED_CACHE_SIZE


def test_manage_tokens_are_per_booking_and_creation_time() -> None:
    tokens = Tokens(Settings(session_secret=SECRET), lambda: None)
    created = datetime(2026, 11, 27, 16, 8, 40, 790422, tzinfo=UTC)
    token = tokens.manage_token(2, created)
    assert tokens.manage_token_valid(token, 2, created)
    assert not tokens.manage_token_valid(token, 3, created)
    assert not tokens.manage_token_valid(token, 2, created + timedelta(microseconds=1))
    assert not tokens.manage_token_valid(None, 2, created)
    assert not tokens.manage_token_valid("x" * 5000, 2, created)
    # Another secret (another database, or a rotated one): the token proves nothing there.
    assert not Tokens(Settings(session_secret="z" * 40), lambda: None).manage_token_valid(token, 2, created)


def test_renewal_keeps_the_start_and_stops_at_the_maximum_age() -> None:
    tokens = Tokens(Settings(session_secret=SECRET, session_ttl_s=3600, session_max_age_s=7200), lambda: None)
    first = tokens.issue_session()
    started = tokens.verify(first.token).started
    assert started is not None and abs(started - time.time()) < 5
    key = tokens._derived()[0]
    now = int(time.time())
    # A session that began almost two hours ago: its renewal ends at start + max age, not now + ttl.
    aging = {"sub": "session:x", "aud": SESSION_AUDIENCE, "iss": SESSION_ISSUER, "iat": now, "ses": now - 7000}
    principal = tokens.verify(jwt.encode({**aging, "exp": now + 60}, key, algorithm="HS256"))
    renewed = tokens.issue_session(principal)
    claims = jwt.decode(renewed.token, key, algorithms=["HS256"], audience=SESSION_AUDIENCE)
    assert claims["ses"] == now - 7000 and claims["exp"] == now + 200 and claims["sub"] == "session:x"
    too_old = {**aging, "ses": now - 7300, "exp": now + 60}
    with pytest.raises(InvalidToken, match="Session too old"):
        tokens.verify(jwt.encode(too_old, key, algorithm="HS256"))


def test_identity_provider_tokens_have_a_maximum_lifetime() -> None:
    secret = "idp-secret-" + "i" * 40
    tokens = Tokens(Settings(auth_mode="jwt", jwt_secret=secret, jwt_max_lifetime_s=3600), lambda: None)
    now = int(time.time())
    ok = jwt.encode({"sub": "kim", "iat": now, "exp": now + 3600}, secret, algorithm="HS256")
    assert tokens.verify(ok).user_id == "kim"
    for claims in ({"iat": now, "exp": 32_503_680_000}, {"exp": now + 7200}):
        with pytest.raises(InvalidToken, match="valid for longer than the 3600 s"):
            tokens.verify(jwt.encode({"sub": "kim", **claims}, secret, algorithm="HS256"))


def test_subjects_are_nfc_without_invisible_characters() -> None:
    secret = "idp-secret-" + "i" * 40
    tokens = Tokens(Settings(auth_mode="jwt", jwt_secret=secret), lambda: None)
    exp = int(time.time()) + 60
    assert tokens.verify(jwt.encode({"sub": "Jose\u0301", "exp": exp}, secret)).user_id == "Jos\u00e9"
    for sub in ("a\u202eb", "a\u200db", "\ufeffa", "a\u2069"):
        with pytest.raises(InvalidToken, match="subject"):
            tokens.verify(jwt.encode({"sub": sub, "exp": exp}, secret))


def test_library_words_never_reach_the_client() -> None:
    secret = "idp-secret-" + "i" * 40
    tokens = Tokens(Settings(auth_mode="jwt", jwt_secret=secret), lambda: None)
    for token in ("garbage", "a.b", "a.b.c", "x" * 10 + ".." + "y"):
        with pytest.raises(InvalidToken) as refused:
            tokens.verify(token)
        assert str(refused.value).startswith("Invalid bearer token: not a signed JWT"), str(refused.value)


def test_the_user_id_pattern_names_every_control_and_format_character() -> None:
    """`USER_ID_PATTERN` is written out (a scan at import would cost 0.3 s); this rebuilds it from the
    Unicode tables, so a new Python with new format characters fails here, not in production."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x110000):
        if 0xD800 <= code <= 0xDFFF or unicodedata.category(chr(code)) not in ("Cc", "Cf"):
            continue
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))

    def escape(code: int) -> str:
        return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"

    refused = "".join(escape(a) if a == b else f"{escape(a)}-{escape(b)}" for a, b in ranges)
    assert f"^[^{refused}]+$" == USER_ID_PATTERN
    pattern = re.compile(USER_ID_PATTERN)
    assert pattern.match("José") and not pattern.match("a\u202eb") and not pattern.match("a\u0081")
