"""Coalesce concurrent calls of one kind into one round trip: one batch in flight, the next collecting.

No timer: a lone call goes out at once; calls made while a batch is in flight go out together
when it returns. Used for Redis seat leases (one script call for many leases).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

In = TypeVar("In")
Out = TypeVar("Out")


class Coalesced(Generic[In, Out]):
    def __init__(self, send: Callable[[list[In]], Awaitable[list[Out]]], max_batch: int) -> None:
        self._send = send
        self._max_batch = max_batch
        self._pending: list[tuple[In, asyncio.Future[Out]]] = []
        self._running = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, item: In) -> Out:
        return await self.submit(item)

    def submit(self, item: In) -> asyncio.Future[Out]:
        """Queue `item` now (calls go out in the order submitted); its result arrives on the future."""
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if not self._running:
            self._running = True
            task = asyncio.ensure_future(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                try:
                    results = await self._send([item for item, _ in batch])
                except BaseException as exc:
                    failure = exc if isinstance(exc, Exception) else RuntimeError("cancelled")
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(failure)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, future), result in zip(batch, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._running = False
