"""Content negotiation, the compression middleware and the UI's compressed files (no server needed)."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from pathlib import Path

import brotli
import pytest
from fastapi import FastAPI
from starlette.responses import Response, StreamingResponse
from starlette.testclient import TestClient

from boxoffice.api.compression import CompressionMiddleware, negotiate
from boxoffice.api.frontend import mount_frontend


@pytest.mark.parametrize(
    ("header", "coding"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0.1, gzip;q=0.9", "gzip"),
        ("BR", "br"),
        ("*", "br"),
        ("*;q=0", "identity"),
        ("gzip;q=0, *", "br"),
        ("br;q=0, gzip;q=0", "identity"),
        ("deflate, identity", "identity"),
        ("gzip;q=nonsense, br;q=0", "identity"),
        ("gzip ; q=1.0", "gzip"),
    ],
)
def test_negotiation_follows_q_values(header: str | None, coding: str) -> None:
    assert negotiate(header) == coding


def decode(body: bytes, coding: str | None) -> bytes:
    if coding == "br":
        return bytes(brotli.decompress(body))
    if coding == "gzip":
        return gzip.decompress(body)
    return body


BIG = {"seats": [{"seatId": i, "status": "AVAILABLE"} for i in range(500)]}


def api_app(minimum_size: int = 1400) -> TestClient:
    app = FastAPI()

    @app.get("/big")
    async def big() -> Response:
        return Response(json.dumps(BIG).encode(), media_type="application/json")

    @app.get("/small")
    async def small() -> Response:
        return Response(b'{"ok":true}', media_type="application/json")

    @app.get("/encoded")
    async def encoded() -> Response:
        body = gzip.compress(json.dumps(BIG).encode())
        return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip"})

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"x" * 2000

        return StreamingResponse(parts(), media_type="text/plain")

    @app.get("/png")
    async def png() -> Response:
        return Response(b"\x89PNG" + b"\0" * 5000, media_type="image/png")

    return TestClient(CompressionMiddleware(app, minimum_size=minimum_size))


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_large_json_is_compressed_in_the_coding_asked_for(coding: str) -> None:
    client = api_app()
    response = client.get("/big", headers={"Accept-Encoding": coding})
    assert response.headers["content-encoding"] == coding
    assert response.headers["vary"] == "Accept-Encoding"
    assert json.loads(response.content) == BIG  # the client decoded it
    raw = client.get("/big", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and raw.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) < len(raw.content) / 5


def test_small_encoded_streamed_and_binary_answers_pass_untouched() -> None:
    client = api_app()
    accept = {"Accept-Encoding": "gzip, br"}
    small = client.get("/small", headers=accept)
    assert "content-encoding" not in small.headers and "vary" not in small.headers
    encoded = client.get("/encoded", headers=accept)
    assert encoded.headers["content-encoding"] == "gzip" and json.loads(encoded.content) == BIG
    stream = client.get("/stream", headers=accept)
    assert "content-encoding" not in stream.headers and stream.content == b"x" * 6000
    png = client.get("/png", headers=accept)
    assert "content-encoding" not in png.headers


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Box Office</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('seat map');\n" * 4000)
    (tmp_path / "assets" / "tiny-abc123.js").write_text("console.log(1)")
    (tmp_path / "assets" / "logo-abc123.png").write_bytes(b"\x89PNG" + b"\0" * 5000)
    return tmp_path


def ui(dist: Path) -> TestClient:
    app = FastAPI()
    assert mount_frontend(app, dist)
    return TestClient(CompressionMiddleware(app, minimum_size=1400))


@pytest.mark.parametrize("coding", ["br", "gzip"])
def test_ui_assets_are_served_compressed_with_their_own_etag(dist: Path, coding: str) -> None:
    client = ui(dist)
    plain = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    packed = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": coding})
    assert packed.status_code == 200
    assert packed.headers["content-encoding"] == coding
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert packed.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert packed.content == plain.content  # decoded by the client
    assert int(packed.headers["content-length"]) < len(plain.content) / 10
    etag = packed.headers["etag"]
    assert etag != plain.headers["etag"] and etag.endswith(f'-{coding}"')
    again = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": coding, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    # The other coding's tag does not validate this one.
    other = "gzip" if coding == "br" else "br"
    mismatch = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": other, "If-None-Match": etag})
    assert mismatch.status_code == 200 and mismatch.headers["content-encoding"] == other


def test_small_and_binary_ui_files_are_served_as_they_are(dist: Path) -> None:
    client = ui(dist)
    accept = {"Accept-Encoding": "br, gzip"}
    for path in ("/assets/tiny-abc123.js", "/assets/logo-abc123.png", "/"):
        response = client.get(path, headers=accept)
        assert response.status_code == 200, path
        assert "content-encoding" not in response.headers, path
    assert client.get("/", headers=accept).headers["cache-control"] == "no-cache"


def test_a_rebuilt_file_is_compressed_again(dist: Path) -> None:
    client = ui(dist)
    accept = {"Accept-Encoding": "br"}
    first = client.get("/assets/index-abc123.js", headers=accept)
    (dist / "assets" / "index-abc123.js").write_text("console.log('rebuilt');\n" * 5000)
    second = client.get("/assets/index-abc123.js", headers=accept)
    assert second.content != first.content and second.content.startswith(b"console.log('rebuilt')")
    assert decode(brotli.compress(second.content), "br") == second.content
