"""`Idempotency-Key` in the API: validate the key, fingerprint the request, render the answer to store."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api.deps import Api
from boxoffice.api.errors import VALIDATION_FAILED, ApiError, describe, error_body, is_final
from boxoffice.api.http import JSON, json_response
from boxoffice.booking.idempotency import Answer
from boxoffice.domain import BookingError, Caller
from boxoffice.tokens import fingerprint as secret_fingerprint

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")

Work = Callable[[], Awaitable[tuple[int, Any]]]
"""Calls a service and returns (status, payload) of the success answer."""


def namespace(caller: Caller, secret: str | None = None) -> str:
    """Whose keys a request's key joins: the verified user's, else the secret's it acts by (a hold
    token, a manage token), else the name it gives itself. Nobody can squat another's key."""
    if caller.authenticated or secret is None:
        return caller.user_id or ""
    return "secret:" + secret_fingerprint(secret)


async def respond(
    api: Api, request: Request, scope: str, owner: str, payload: BaseModel | None, work: Work
) -> Response:
    """Run `work` once per key of `owner`; a retry with the same key gets the first answer, refusals included.

    The fingerprint (path, owner, validated body) is only computed when a key is given; the same
    key with a different fingerprint is a client bug (422), never a silent replay.
    """
    key = request.headers.get("idempotency-key")
    if key is None:
        status, body = await work()
        return json_response(body, status)
    if not KEY_PATTERN.match(key):
        raise ApiError(VALIDATION_FAILED, "Idempotency-Key: must be 1-128 visible ASCII characters")
    fingerprint: dict[str, object] = {"path": request.url.path, "user": owner}
    if payload is not None:
        fingerprint["body"] = payload.model_dump(mode="json")
    digest = hashlib.sha256(orjson.dumps(fingerprint, option=orjson.OPT_SORT_KEYS)).digest()

    async def answer() -> Answer:
        try:
            status, body = await work()
        except BookingError as exc:
            if not is_final(exc):
                raise  # retryable (503): the key rolls back too, so the retry runs afresh
            code, extra, _ = describe(exc)
            return Answer(code.status, error_body(request.url.path, code, str(exc), extra))
        return Answer(status, orjson.dumps(body))

    result = await api.idempotency.once(owner, scope, key, digest, answer)
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return Response(result.body, status_code=result.status, media_type=JSON, headers=headers)
