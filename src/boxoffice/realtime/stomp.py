"""STOMP 1.2 frame codec: pure functions and an incremental parser, no I/O.

The parser is fed raw bytes as they arrive (one WebSocket message may carry half a frame,
several frames, or only heart-beat EOLs) and yields complete frames. Every size a client
controls is bounded so a hostile peer costs at most `max_frame_bytes` of buffer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

CLIENT_COMMANDS = frozenset(
    {"CONNECT", "STOMP", "SEND", "SUBSCRIBE", "UNSUBSCRIBE", "ACK", "NACK", "BEGIN", "COMMIT", "ABORT", "DISCONNECT"}
)
SERVER_COMMANDS = frozenset({"CONNECTED", "MESSAGE", "RECEIPT", "ERROR"})
# STOMP 1.2 section "Value Encoding": CONNECT and CONNECTED headers are never escaped.
_UNESCAPED_COMMANDS = frozenset({"CONNECT", "CONNECTED"})

_ESCAPES = {ord("\\"): "\\\\", ord("\n"): "\\n", ord("\r"): "\\r", ord(":"): "\\c"}
_UNESCAPES = {"\\": "\\", "n": "\n", "r": "\r", "c": ":"}

HEARTBEAT = b"\n"


class ProtocolError(Exception):
    """The peer broke the protocol; the server answers ERROR and closes."""


class FrameTooLargeError(ProtocolError):
    pass


@dataclass(frozen=True, slots=True)
class Frame:
    command: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


def escape(value: str) -> str:
    return value.translate(_ESCAPES)


def unescape(value: str) -> str:
    if "\\" not in value:
        return value
    out: list[str] = []
    chars = iter(value)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        if nxt not in _UNESCAPES:
            # The spec makes undefined escapes a fatal protocol error.
            raise ProtocolError(f"undefined escape sequence '\\{nxt}' in header")
        out.append(_UNESCAPES[nxt])
    return "".join(out)


def encode(command: str, headers: Iterable[tuple[str, str]] = (), body: bytes = b"") -> bytes:
    """Serialise one frame; adds content-length whenever there is a body."""
    raw = command in _UNESCAPED_COMMANDS
    lines = [command]
    for name, value in headers:
        lines.append(f"{name}:{value}" if raw else f"{escape(name)}:{escape(value)}")
    if body:
        lines.append(f"content-length:{len(body)}")
    return ("\n".join(lines) + "\n\n").encode() + body + b"\x00"


def error_frame(message: str, detail: str = "", receipt_id: str | None = None) -> bytes:
    headers = [("message", message[:200]), ("content-type", "text/plain")]
    if receipt_id is not None:
        headers.append(("receipt-id", receipt_id))
    return encode("ERROR", headers, detail.encode())


class FrameParser:
    """Incremental parser for one connection's byte stream.

    `feed` returns the frames completed by the new bytes; heart-beat EOLs between frames are
    consumed silently (the caller counts any received bytes as liveness).
    """

    def __init__(
        self,
        max_frame_bytes: int,
        max_headers: int = 32,
        commands: frozenset[str] = CLIENT_COMMANDS,
    ) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.max_headers = max_headers
        self.commands = commands
        self._buf = bytearray()
        # Parsed head of the frame whose body is still incomplete.
        self._pending: tuple[str, dict[str, str], int | None] | None = None
        self._body_start = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        while True:
            frame = self._next()
            if frame is None:
                break
            frames.append(frame)
        if len(self._buf) > self.max_frame_bytes:
            raise FrameTooLargeError(f"frame exceeds {self.max_frame_bytes} bytes")
        return frames

    def _next(self) -> Frame | None:
        buf = self._buf
        if self._pending is None:
            # Heart-beats: EOLs (LF or CRLF) before a frame carry no frame.
            start = 0
            while start < len(buf) and buf[start] in (0x0A, 0x0D):
                if buf[start] == 0x0D and (start + 1 >= len(buf) or buf[start + 1] != 0x0A):
                    if start + 1 >= len(buf):
                        break  # a lone CR may be the first half of a CRLF
                    raise ProtocolError("bare CR outside a frame")
                start += 1
            if start:
                del buf[:start]
            end = buf.find(b"\n\n")
            end_crlf = buf.find(b"\r\n\r\n")
            if end < 0 and end_crlf < 0:
                return None
            # The head ends at the first blank line, whichever EOL style found it first.
            if end_crlf >= 0 and (end < 0 or end_crlf < end):
                head, body_start = bytes(buf[:end_crlf]), end_crlf + 4
            else:
                head, body_start = bytes(buf[:end]), end + 2
            if body_start > self.max_frame_bytes:
                raise FrameTooLargeError(f"frame exceeds {self.max_frame_bytes} bytes")
            command, headers, length = self._parse_head(head)
            self._pending = (command, headers, length)
            self._body_start = body_start
        command, headers, length = self._pending
        start = self._body_start
        if length is not None:
            if start + length + 1 > self.max_frame_bytes:
                raise FrameTooLargeError(f"frame exceeds {self.max_frame_bytes} bytes")
            if len(buf) < start + length + 1:
                return None
            if buf[start + length] != 0:
                raise ProtocolError("frame body is not followed by NUL (content-length mismatch)")
            end = start + length
        else:
            end = buf.find(b"\x00", start, self.max_frame_bytes)
            if end < 0:
                if len(buf) >= self.max_frame_bytes:
                    raise FrameTooLargeError(f"frame exceeds {self.max_frame_bytes} bytes")
                return None
        body = bytes(buf[start:end])
        del buf[: end + 1]
        self._pending = None
        return Frame(command, headers, body)

    def _parse_head(self, head: bytes) -> tuple[str, dict[str, str], int | None]:
        try:
            text = head.decode()
        except UnicodeDecodeError as exc:
            raise ProtocolError("frame headers are not UTF-8") from exc
        lines = text.split("\n")
        command = lines[0].removesuffix("\r")
        if command not in self.commands:
            raise ProtocolError(f"unknown command {command[:32]!r}")
        if len(lines) - 1 > self.max_headers:
            raise ProtocolError(f"more than {self.max_headers} headers")
        raw = command in _UNESCAPED_COMMANDS
        headers: dict[str, str] = {}
        for line in lines[1:]:
            line = line.removesuffix("\r")
            name, sep, value = line.partition(":")
            if not sep or not name:
                raise ProtocolError("malformed header line")
            if not raw:
                name, value = unescape(name), unescape(value)
            # Repeated headers: only the first occurrence counts (STOMP 1.2).
            headers.setdefault(name, value)
        length: int | None = None
        if "content-length" in headers:
            value = headers["content-length"]
            if len(value) > 10:
                raise FrameTooLargeError(f"frame exceeds {self.max_frame_bytes} bytes")
            if not value.isascii() or not value.isdigit():
                raise ProtocolError("content-length is not a non-negative integer")
            length = int(value)
        return command, headers, length
