"""Raw-socket clients for the HTTP server tests: what an attacker sends is not what an HTTP library sends."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

from tests.support import ServerProcess

READ_S = 60.0
"""How long a raw client waits for the server to answer or close (a real failure, not a slow machine)."""


def connect(server: ServerProcess) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=READ_S)
    return sock


def read_all(sock: socket.socket, limit: int = 65_536) -> bytes:
    """Everything the server sends until it closes (or resets) the connection."""
    data = b""
    with contextlib.suppress(ConnectionResetError):
        while len(data) < limit:
            chunk = sock.recv(65_536)
            if not chunk:
                break
            data += chunk
    return data


def send_in_background(sock: socket.socket, data: bytes) -> threading.Thread:
    """Send `data` from a thread (the server may stop reading, or close, half-way)."""

    def run() -> None:
        with contextlib.suppress(OSError):
            sock.sendall(data)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def status_of(response: bytes) -> int | None:
    if not response.startswith(b"HTTP/1.1 "):
        return None
    return int(response[9:12])


def peak_rss_kib(pid: int) -> int:
    """VmHWM: the most resident memory the process ever had."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmHWM for {pid}")


def log_lines(server: ServerProcess, needle: str) -> list[str]:
    assert server.log_path is not None
    return [line for line in server.log_path.read_text().splitlines() if needle in line]


def dribble_until_closed(sock: socket.socket, byte: bytes, every_s: float, limit_s: float) -> bytes:
    """Send one byte every `every_s` (a slowloris client) until the server answers or closes."""
    sock.settimeout(every_s)
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            sock.sendall(byte)
        except OSError:
            break
        try:
            data = sock.recv(65_536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return b""
        return data + read_all(sock)
    sock.settimeout(READ_S)
    return read_all(sock)
