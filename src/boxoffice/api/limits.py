"""Request body bound, enforced before the body is buffered."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.api.errors import ApiError


class BodyLimitMiddleware:
    """Refuse bodies over `max_bytes`, by declared Content-Length or by counting chunked input.

    The error is raised when the endpoint reads the body, so the app's error handler answers it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        declared_too_large = declared is not None and (not declared.isdigit() or int(declared) > limit)
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if declared_too_large:
                raise ApiError(413, "PAYLOAD_TOO_LARGE", f"Request body exceeds {limit} bytes")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ApiError(413, "PAYLOAD_TOO_LARGE", f"Request body exceeds {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)
