"""The STOMP codec on its own: framing, escaping, heart-beats, limits."""

from __future__ import annotations

import pytest

from boxoffice.realtime.stomp import (
    SERVER_COMMANDS,
    Frame,
    FrameParser,
    FrameTooLargeError,
    ProtocolError,
    encode,
    escape,
    unescape,
)


def parse(data: bytes) -> list[Frame]:
    return FrameParser(4096).feed(data)


def test_a_frame_with_headers_and_body() -> None:
    [frame] = parse(b"SEND\ndestination:/q\ncontent-type:text/plain\n\nhello\x00")
    assert frame == Frame("SEND", {"destination": "/q", "content-type": "text/plain"}, b"hello")


def test_crlf_line_endings_are_accepted() -> None:
    [frame] = parse(b"SUBSCRIBE\r\nid:1\r\ndestination:/topic/seats\r\n\r\n\x00")
    assert frame.headers == {"id": "1", "destination": "/topic/seats"}


def test_heart_beat_eols_between_frames_are_skipped() -> None:
    frames = parse(b"\n\r\n\nDISCONNECT\n\n\x00\n\n\r\nDISCONNECT\nreceipt:7\n\n\x00\n")
    assert [f.command for f in frames] == ["DISCONNECT", "DISCONNECT"]
    assert frames[1].headers == {"receipt": "7"}


def test_frames_split_anywhere_are_reassembled() -> None:
    data = b"\nSEND\ndestination:/a\\cb\ncontent-length:3\n\na\x00b\x00SUBSCRIBE\nid:x\ndestination:/t\n\n\x00"
    for size in (1, 2, 3, 7, 13):
        parser = FrameParser(4096)
        frames = [f for i in range(0, len(data), size) for f in parser.feed(data[i : i + size])]
        assert [f.command for f in frames] == ["SEND", "SUBSCRIBE"]
        assert frames[0].body == b"a\x00b"
        assert frames[0].headers["destination"] == "/a:b"


def test_several_frames_in_one_chunk() -> None:
    data = b"".join(encode("SUBSCRIBE", [("id", str(i)), ("destination", "/t")]) for i in range(5))
    assert [f.headers["id"] for f in parse(data)] == ["0", "1", "2", "3", "4"]


def test_content_length_allows_nul_in_body_and_must_match() -> None:
    [frame] = parse(b"SEND\ncontent-length:3\n\n\x00\x00\x00\x00")
    assert frame.body == b"\x00\x00\x00"
    with pytest.raises(ProtocolError, match="content-length"):
        parse(b"SEND\ncontent-length:2\n\nabc\x00")


@pytest.mark.parametrize("value", ["-1", "abc", "1.5", "١٢"])
def test_bad_content_length(value: str) -> None:
    with pytest.raises(ProtocolError):
        parse(f"SEND\ncontent-length:{value}\n\n\x00".encode())


def test_header_escaping_round_trips() -> None:
    nasty = "a:b\nc\rd\\e"
    assert unescape(escape(nasty)) == nasty
    assert escape(nasty) == "a\\cb\\nc\\rd\\\\e"
    wire = encode("MESSAGE", [("subscription", nasty)], b"{}")
    [frame] = FrameParser(4096, commands=SERVER_COMMANDS).feed(wire)
    assert frame.headers["subscription"] == nasty
    assert frame.headers["content-length"] == "2"


def test_undefined_escape_is_an_error() -> None:
    with pytest.raises(ProtocolError, match="escape"):
        parse(b"SUBSCRIBE\nid:a\\tb\n\n\x00")


def test_connect_headers_are_not_unescaped() -> None:
    [frame] = parse(b"CONNECT\npasscode:a\\tb\n\n\x00")
    assert frame.headers["passcode"] == "a\\tb"
    assert encode("CONNECTED", [("session", "a:b")]) == b"CONNECTED\nsession:a:b\n\n\x00"


def test_repeated_header_first_wins() -> None:
    [frame] = parse(b"SUBSCRIBE\nid:first\nid:second\n\n\x00")
    assert frame.headers["id"] == "first"


def test_header_value_may_contain_colons_when_unescaped_command() -> None:
    [frame] = parse(b"CONNECT\nhost:a:b\n\n\x00")
    assert frame.headers["host"] == "a:b"


@pytest.mark.parametrize(
    "data",
    [
        b"HELLO\n\n\x00",
        b"send\n\n\x00",
        b"SEND\nno-colon-here\n\n\x00",
        b"SEND\n:empty-name\n\n\x00",
        b"SEND\nh:\xff\xfe\n\n\x00",
        b"\rSEND\n\n\x00",
    ],
)
def test_malformed_frames(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(data)


def test_server_commands_are_refused_from_clients() -> None:
    with pytest.raises(ProtocolError, match="unknown command"):
        parse(b"MESSAGE\n\n\x00")


def test_size_limits() -> None:
    parser = FrameParser(1024)
    with pytest.raises(FrameTooLargeError):
        # No terminator yet, but already too big: refused before buffering more.
        parser.feed(b"SEND\n\n" + b"x" * 1100)
    with pytest.raises(FrameTooLargeError):
        FrameParser(1024).feed(b"SEND\ncontent-length:5000\n\n")
    with pytest.raises(FrameTooLargeError):
        FrameParser(1024).feed(b"SEND\nh:" + b"v" * 1100)
    with pytest.raises(FrameTooLargeError):
        FrameParser(1024).feed(b"SEND\ncontent-length:" + b"9" * 50 + b"\n\n")
    with pytest.raises(ProtocolError, match="headers"):
        FrameParser(4096, max_headers=3).feed(b"SEND\na:1\nb:2\nc:3\nd:4\n\n\x00")
    # Exactly at the limit is fine, split or not.
    frame = encode("SEND", [("destination", "/q")], b"y" * (1024 - 41))
    assert len(frame) == 1024
    assert FrameParser(1024).feed(frame)[0].body == b"y" * (1024 - 41)


def test_encode_adds_content_length_only_with_a_body() -> None:
    assert encode("RECEIPT", [("receipt-id", "1")]) == b"RECEIPT\nreceipt-id:1\n\n\x00"
    assert encode("ERROR", [("message", "x")], b"abc") == b"ERROR\nmessage:x\ncontent-length:3\n\nabc\x00"
