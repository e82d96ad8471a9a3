"""The uvicorn internals `BoundedHttpProtocol` (httpserver/protocol.py) overrides or reads, checked
against the installed uvicorn.

The protocol subclasses uvicorn's private `HttpToolsProtocol`: an upgrade that renames a method, changes
its parameters, or drops an attribute would otherwise fail at run time, or silently (an override of a
method uvicorn no longer calls is never called). Each failure here names the override or attribute to
revisit. `pyproject.toml` pins uvicorn to the range these checks passed on, and `requirements.lock`
must lie in it.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import textwrap
import tomllib
from collections import deque
from pathlib import Path
from typing import Any

import uvicorn
from packaging.requirements import Requirement
from uvicorn.config import Config
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.server import ServerState

from boxoffice.httpserver.protocol import BoundedHttpProtocol
from tests.helpers import until
from tests.httpserver.protocol_cost import Transport

ROOT = Path(__file__).resolve().parents[2]

OVERRIDES: dict[str, tuple[str, ...]] = {
    # uvicorn's method -> its parameters (after self), as the override in httpserver/protocol.py takes them.
    "__init__": ("config", "server_state", "app_state", "_loop"),
    "connection_made": ("transport",),
    "connection_lost": ("exc",),
    "shutdown": (),
    "handle_websocket_upgrade": (),
    "data_received": ("data",),
    "send_400_response": ("msg",),
    "on_message_begin": (),
    "on_url": ("url",),
    "on_header": ("name", "value"),
    "on_headers_complete": (),
    "on_body": ("body",),
    "on_message_complete": (),
    "_start_asgi_task": ("cycle", "app"),
}
CALLED: dict[str, tuple[str, ...]] = {
    # uvicorn's methods the protocol calls without overriding them.
    "on_response_complete": (),
    "_should_upgrade": (),
}
INLINED = {
    # Overridden without calling uvicorn's: the protocol repeats their code, which must still be this.
    "on_url": """
        def on_url(self, url: bytes) -> None:
            self.url += url
    """,
    "on_header": """
        def on_header(self, name: bytes, value: bytes) -> None:
            name = name.lower()
            if name == b"expect" and value.lower() == b"100-continue":
                self.expect_100_continue = True
            self.headers.append((name, value))
    """,
}
PROTOCOL_ATTRIBUTES = (
    # Read or written on a connection by the protocol (set by uvicorn's __init__ or connection_made).
    "app",
    "client",
    "config",
    "connections",
    "cycle",
    "expect_100_continue",
    "flow",
    "headers",
    "limit_concurrency",
    "logger",
    "loop",
    "parser",
    "pipeline",
    "root_path",
    "scope",
    "server",
    "server_state",
    "tasks",
    "transport",
    "url",
)
CYCLE_ATTRIBUTES = (
    # RequestResponseCycle fields the protocol reads (`_OneWrite`, timeouts) or that a lean exchange
    # stands in for where uvicorn keeps its cycle (`_Exchange`).
    "chunked_encoding",
    "disconnected",
    "expected_content_length",
    "keep_alive",
    "message_event",
    "response_complete",
    "response_started",
    "scope",
    "transport",
)
FLOW_MEMBERS = ("pause_reading", "resume_reading", "write_paused", "drain")
CONFIG_PARAMETERS = (
    # uvicorn.run / uvicorn.Config keywords httpserver/run.py and httpserver/management.py pass.
    "access_log",
    "factory",
    "forwarded_allow_ips",
    "http",
    "lifespan",
    "log_config",
    "log_level",
    "loop",
    "proxy_headers",
    "timeout_graceful_shutdown",
    "timeout_keep_alive",
    "timeout_worker_healthcheck",
    "workers",
    "ws",
    "ws_max_size",
    "ws_per_message_deflate",
)


def _parameters(function: Any) -> tuple[str, ...]:
    return tuple(name for name in inspect.signature(function).parameters if name != "self")


def test_every_override_is_listed_here() -> None:
    """A new override of a uvicorn method must be added to OVERRIDES (and so be checked below)."""
    overridden = {
        name
        for name, member in vars(BoundedHttpProtocol).items()
        if callable(member) and hasattr(HttpToolsProtocol, name)
    }
    assert overridden == set(OVERRIDES), f"BoundedHttpProtocol overrides {sorted(overridden ^ set(OVERRIDES))}"


def test_overridden_and_called_methods_keep_their_signatures() -> None:
    for name, expected in {**OVERRIDES, **CALLED}.items():
        method = getattr(HttpToolsProtocol, name, None)
        assert method is not None, f"uvicorn's HttpToolsProtocol.{name} is gone: revisit BoundedHttpProtocol.{name}"
        assert _parameters(method) == expected, (
            f"uvicorn's HttpToolsProtocol.{name}{_parameters(method)} changed (was {expected}): "
            f"revisit BoundedHttpProtocol.{name}"
        )


def test_inlined_methods_are_still_uvicorns_code() -> None:
    for name, code in INLINED.items():
        current = textwrap.dedent(inspect.getsource(getattr(HttpToolsProtocol, name))).strip()
        assert current == textwrap.dedent(code).strip(), (
            f"uvicorn's HttpToolsProtocol.{name} changed; BoundedHttpProtocol.{name} repeats the old code:\n{current}"
        )


async def test_attributes_the_protocol_reads_exist_on_a_connection() -> None:
    """uvicorn's own protocol, on a fake connection with one request in flight: the attributes the
    bounded protocol reads, its cycle's fields, flow control and the server state's default headers."""
    released = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await released.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    config = Config(app, lifespan="off", log_config=None, access_log=False, proxy_headers=False)
    config.load()
    state = ServerState()
    protocol = HttpToolsProtocol(config=config, server_state=state, app_state={}, _loop=asyncio.get_running_loop())
    protocol.connection_made(Transport())
    protocol.data_received(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
    try:
        for name in PROTOCOL_ATTRIBUTES:
            assert hasattr(protocol, name), f"uvicorn's HttpToolsProtocol has no `{name}` any more: revisit protocol.py"
        assert isinstance(protocol.pipeline, deque), "uvicorn's pipeline is no deque: revisit `_lean_exchange`"
        assert isinstance(protocol.tasks, set), "uvicorn's tasks are no set: revisit `_start`"
        for name in FLOW_MEMBERS:
            assert hasattr(protocol.flow, name), f"uvicorn's FlowControl has no `{name}`: revisit `_answer`/`_refuse`"
        cycle = protocol.cycle
        assert isinstance(cycle, RequestResponseCycle)
        for name in CYCLE_ATTRIBUTES:
            assert hasattr(cycle, name), f"uvicorn's RequestResponseCycle has no `{name}`: revisit _OneWrite/_Exchange"
        assert hasattr(protocol.config, "reset_contextvars"), "uvicorn's Config.reset_contextvars is gone: see `_start`"
        assert state.default_headers == [] and isinstance(state.default_headers, list)
    finally:
        released.set()
        await until(lambda: not protocol.tasks)
        protocol.connection_lost(None)


def test_status_lines_and_the_proxy_layer() -> None:
    assert STATUS_LINE[201] == b"HTTP/1.1 201 Created\r\n" and STATUS_LINE[500].startswith(b"HTTP/1.1 500 ")
    assert set(range(200, 600)) <= set(STATUS_LINE), "uvicorn's STATUS_LINE: the lean route writes it for every status"

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    proxy = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")
    assert proxy.app is app, "uvicorn's ProxyHeadersMiddleware.app is gone: revisit `_proxy_rewrite`"


def test_server_settings_are_still_accepted() -> None:
    accepted = set(_parameters(Config.__init__))
    missing = [name for name in CONFIG_PARAMETERS if name not in accepted]
    assert not missing, f"uvicorn.Config no longer takes {missing}: revisit httpserver/run.py and management.py"


def test_uvicorn_is_pinned_to_the_tested_range_and_the_lock_lies_in_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [Requirement(d) for d in project["project"]["dependencies"] if Requirement(d).name == "uvicorn"]
    assert len(pins) == 1
    locked = re.search(r"^uvicorn==(\S+)$", (ROOT / "requirements.lock").read_text(encoding="utf-8"), re.MULTILINE)
    assert locked is not None
    assert pins[0].specifier.contains(locked[1]), f"requirements.lock's uvicorn {locked[1]} is outside {pins[0]}"
    assert pins[0].specifier.contains(uvicorn.__version__), f"uvicorn {uvicorn.__version__} is outside {pins[0]}"
    upper = [s for s in pins[0].specifier if s.operator == "<"]
    assert upper and upper[0].version.count(".") == 1 and not upper[0].version.startswith("1"), (
        f"{pins[0]}: pin uvicorn below its next minor release (the internals above are private)"
    )
