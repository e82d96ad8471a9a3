"""Shared HTTP helpers: reading a JSON body, answering JSON, documenting bodies."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from boxoffice.api.errors import MALFORMED_JSON, UNSUPPORTED_MEDIA_TYPE, VALIDATION_FAILED, ApiError
from boxoffice.api.schemas import BestAvailableRequest
from boxoffice.domain import Access, BestAvailable

JSON = "application/json"
SCHEMA_ONLY = "A schema-only declaration documents its route; api/lean.py answers it and api/app.py never routes here"
"""What a schema-only declaration's endpoint raises: it is in the OpenAPI document, never in the router."""


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """orjson-encoded (datetimes, UUIDs): the API's one way to answer a payload."""
    return Response(orjson.dumps(payload), status_code=status, media_type=JSON, headers=headers)


async def read_body(request: Request, *, required: bool = True) -> bytes:
    """The JSON body, refused early when it is not JSON or missing (400/415, never 500)."""
    return checked_body(await request.body(), request.headers.get("content-type", ""), required=required)


def checked_body(body: bytes, content_type: str, *, required: bool = True) -> bytes:
    """`read_body` once the body is read: shared with the lean routes (api/lean.py)."""
    if not body and not required:
        return b"{}"
    if content_type.split(";")[0].strip().lower() != JSON:
        raise ApiError(UNSUPPORTED_MEDIA_TYPE, "Content-Type must be application/json")
    if not body:
        raise ApiError(MALFORMED_JSON, "Request body is required")
    return body


def request_body(model: type[BaseModel], *, required: bool = True) -> dict[str, Any]:
    """OpenAPI `requestBody` for a model read by hand, with `$defs` inlined so every ref resolves."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return {"requestBody": {"required": required, "content": {JSON: {"schema": inline(schema)}}}}


CHANNEL_KEY_HEADER = "x-channel-key"


def access_of(request: Request, admin: bool, accessible: bool) -> Access:
    """What the request may take besides public seats: its channel key (`X-Channel-Key`), an admin's
    rights, wheelchair/companion seats asked for on purpose."""
    key = request.headers.get(CHANNEL_KEY_HEADER)
    if key is not None and not (16 <= len(key) <= 128 and key.isascii() and key.isprintable() and " " not in key):
        raise ApiError(VALIDATION_FAILED, "X-Channel-Key: must be 16-128 visible ASCII characters")
    return Access(channel_key=key, admin=admin, accessible=accessible)


def best_of(event_id: int | None, best: BestAvailableRequest | None) -> BestAvailable | None:
    if best is None or event_id is None:
        return None
    return BestAvailable(
        event_id=event_id,
        quantity=best.quantity,
        category=best.category,
        section=best.section,
        together=best.together,
        accessible=best.accessible,
    )
