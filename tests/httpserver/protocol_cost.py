"""CPU cost per request of the bounded protocol against uvicorn's own HttpToolsProtocol.

`python -m tests.httpserver.protocol_cost`: a fake transport and a no-op app, so only the protocols differ;
process CPU time (not wall time) so that other processes on a shared machine matter less.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import uvloop
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from boxoffice.httpserver.protocol import BoundedHttpProtocol

REQUEST = (
    b"GET /api/v1/seats?limit=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: python-httpx/0.28\r\n"
    b"Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n"
)
REQUESTS = 20_000
ROUNDS = 9


async def app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def write(self, data: Any) -> None:
        pass

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8080), "peername": ("127.0.0.1", 5555)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def per_request_us(
    protocol: type[HttpToolsProtocol], target: Any = app, request: bytes = REQUEST, requests: int = REQUESTS
) -> float:
    """Process CPU per request of `requests` keep-alive requests through `protocol` in front of `target`."""
    config = Config(target, http=protocol, lifespan="off", log_config=None, access_log=False, proxy_headers=False)
    config.load()
    state = ServerState()
    connection = protocol(config=config, server_state=state, app_state={}, _loop=asyncio.get_running_loop())
    connection.connection_made(Transport())
    start = time.process_time()
    for _ in range(requests):
        connection.data_received(request)
        await asyncio.gather(*state.tasks)
    return (time.process_time() - start) / requests * 1e6


async def main() -> None:
    results: dict[str, list[float]] = {"httptools": [], "bounded": []}
    for _ in range(ROUNDS):  # interleaved, so that drifts of the machine hit both alike
        results["httptools"].append(await per_request_us(HttpToolsProtocol))
        results["bounded"].append(await per_request_us(BoundedHttpProtocol))
    for name, values in results.items():
        print(
            f"{name:10s} median {statistics.median(values):6.2f} us/request",
            f"(runs: {sorted(round(v, 1) for v in values)})",
        )


if __name__ == "__main__":
    uvloop.run(main())
