"""`Idempotency-Key` in the API: validate the key, fingerprint the request, render the answer to store,
issue a key to a write sent without one, and keep secrets out of replays to callers that prove nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api.deps import Api
from boxoffice.api.errors import VALIDATION_FAILED, ApiError, describe, error_body, is_final
from boxoffice.api.http import JSON, json_response
from boxoffice.booking.idempotency import Answer
from boxoffice.domain import BookingError, Caller, OutcomeUnknown
from boxoffice.tokens import fingerprint as secret_fingerprint

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")
HEADER = "Idempotency-Key"
ISSUED_PREFIX = "bo1."
"""Keys the server issues read `bo1.<22 random characters>.<16-character tag>`."""
SECRET_FIELDS = ("manageToken", "holdToken")
"""What a replay to a caller that proves nothing leaves out: the secrets that act on what was made."""

Work = Callable[[], Awaitable[tuple[int, Any]]]
"""Calls a service and returns (status, payload) of the success answer."""


@dataclass(frozen=True, slots=True)
class KeyOwner:
    """Whose key a request's key is, and what the key may give back."""

    owner: str
    """The namespace the key joins (`namespace`)."""
    bare: bool
    """The owner is only a name the request gave itself (no session or JWT, no secret)."""

    @classmethod
    def of(cls, caller: Caller, secret: str | None) -> KeyOwner:
        return cls(namespace(caller, secret), bare=not caller.authenticated and secret is None)


def namespace(caller: Caller, secret: str | None = None) -> str:
    """Whose keys a request's key joins: the verified user's, else the secret's it acts by (a hold
    token, a manage token), else the name it gives itself. Nobody can squat another's key."""
    if caller.authenticated or secret is None:
        return caller.user_id or ""
    return "secret:" + secret_fingerprint(secret)


def issue_key(api: Api) -> str:
    """A key for a write sent without one: 128 random bits, tagged so the server knows it issued it."""
    nonce = secrets.token_urlsafe(16)
    return f"{ISSUED_PREFIX}{nonce}.{_tag(api, nonce)}"


def issued_by_server(api: Api, key: str) -> bool:
    """Whether the server issued `key` (its tag verifies): such a key cannot be guessed, so whoever
    sends it received the first request's answer (or was given the key by whoever did)."""
    if not key.startswith(ISSUED_PREFIX):
        return False
    nonce, _, tag = key[len(ISSUED_PREFIX) :].partition(".")
    return bool(nonce) and hmac.compare_digest(tag.encode(), _tag(api, nonce).encode())


def _tag(api: Api, nonce: str) -> str:
    digest = hmac.new(api.auth.tokens.derive(b"idempotency-key"), nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:12]).decode()


def _request_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not KEY_PATTERN.match(key):
        raise ApiError(VALIDATION_FAILED, "Idempotency-Key: must be 1-128 visible ASCII characters")
    return key


def _fingerprint(request: Request, owner: str, payload: BaseModel | None) -> bytes:
    fingerprint: dict[str, object] = {"path": request.url.path, "user": owner}
    if payload is not None:
        fingerprint["body"] = payload.model_dump(mode="json")
    return hashlib.sha256(orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)).digest()


async def respond(
    api: Api,
    request: Request,
    scope: str,
    caller: Caller,
    secret: str | None,
    payload: BaseModel | None,
    work: Work,
    *,
    issue: bool = True,
) -> Response:
    """Run `work` once per key of the caller; a retry with the same key gets the first answer, refusals included.

    `secret` is what the request acts by (a hold token, a manage token), if anything. The
    fingerprint (path, owner, validated body) is computed for every key; the same key with a
    different fingerprint is a client bug (422), never a silent replay. With `issue`, a request
    without a key gets one from the server, stored with the change it makes and sent back in the
    `Idempotency-Key` header (and in the body of a `503 OUTCOME_UNKNOWN`); without it (the
    single-seat booking, which keeps its one-statement claim and group commit) it just runs.
    """
    who = KeyOwner.of(caller, secret)
    key = _request_key(request)
    if key is None and not issue:
        status, body = await work()
        return json_response(body, status)
    digest = _fingerprint(request, who.owner, payload)

    async def answer() -> Answer:
        try:
            status, body = await work()
        except BookingError as exc:
            if not is_final(exc):
                raise  # retryable (503): the key rolls back too, so the retry runs afresh
            code, extra, _ = describe(exc)
            return Answer(code.status, error_body(request.url.path, code, str(exc), extra))
        return Answer(status, orjson.dumps(body))

    if key is not None:
        result = await api.idempotency.once(who.owner, scope, key, digest, answer)
        return _replay(api, who, key, result) if result.replayed else _answer(result)
    key = issue_key(api)

    async def change() -> Answer:
        status, body = await work()
        return Answer(status, orjson.dumps(body))

    try:
        # Only a change is stored: the key reaches its client with the outcome, except when the answer to
        # COMMIT is lost; a refusal (or a rolled-back 503) changed nothing, and is answered as usual.
        result = await api.idempotency.issued(who.owner, scope, key, digest, change)
    except OutcomeUnknown as exc:
        code, extra, headers = describe(exc)
        body = error_body(request.url.path, code, str(exc), {**extra, "idempotencyKey": key})
        return Response(body, status_code=code.status, media_type=JSON, headers={**(headers or {}), HEADER: key})
    return _answer(result, {HEADER: key})


async def stored_answer(
    api: Api, request: Request, scope: str, caller: Caller, secret: str | None, payload: BaseModel | None
) -> Response | None:
    """The answer stored under the request's key, for a request that may not run afresh now (its
    admission was refused): a stored answer replays whatever happened since. None without one."""
    key = _request_key(request)
    if key is None:
        return None
    who = KeyOwner.of(caller, secret)
    result = await api.idempotency.stored(who.owner, scope, key, _fingerprint(request, who.owner, payload))
    return None if result is None else _replay(api, who, key, result)


def _answer(result: Answer, headers: dict[str, str] | None = None) -> Response:
    return Response(result.body, status_code=result.status, media_type=JSON, headers=headers)


def _replay(api: Api, who: KeyOwner, key: str, result: Answer) -> Response:
    """A stored answer, again. A caller known only by the name it gives gets it without the secrets
    that act on what was made, unless its key is one the server issued: anyone can name a user and
    guess a key the client chose, nobody can guess an issued one."""
    body = result.body
    if who.bare and result.status < 300 and not issued_by_server(api, key):
        body = _without_secrets(body)
    return Response(body, status_code=result.status, media_type=JSON, headers={"Idempotent-Replayed": "true"})


def _without_secrets(body: bytes) -> bytes:
    """`body` with every `manageToken` and `holdToken` (at the top and in `bookings`) set to null."""
    data = orjson.loads(body)
    if not isinstance(data, dict):
        return body
    for item in (data, *(b for b in data.get("bookings") or () if isinstance(b, dict))):
        for field in SECRET_FIELDS:
            if item.get(field) is not None:
                item[field] = None
    return orjson.dumps(data)
