"""The backend serves the built UI at `/` without shadowing the API or WebSocket routes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI, WebSocket
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from boxoffice.api import errors
from boxoffice.api.frontend import mount_frontend


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>Box Office</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log(1)")
    return tmp_path


def app_with_frontend(dist: Path) -> FastAPI:
    app = FastAPI()
    errors.install(app)

    @app.get("/api/v1/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.websocket("/ws")
    async def ws(socket: WebSocket) -> None:
        await socket.accept()
        await socket.send_text("hello")
        await socket.close()

    assert mount_frontend(app, dist)
    return app


def test_index_and_assets_are_served_with_cache_rules(dist: Path) -> None:
    client = TestClient(app_with_frontend(dist))
    index = client.get("/")
    assert index.status_code == 200
    assert "Box Office" in index.text
    assert index.headers["cache-control"] == "no-cache"
    asset = client.get("/assets/index-abc123.js")
    assert asset.status_code == 200
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"


def test_api_and_websocket_routes_still_win(dist: Path) -> None:
    client = TestClient(app_with_frontend(dist))
    assert client.get("/api/v1/ping").json() == {"pong": "yes"}
    with client.websocket_connect("/ws") as socket:
        assert socket.receive_text() == "hello"


def test_unknown_paths_get_the_json_error_body_and_sockets_a_clean_refusal(dist: Path) -> None:
    client = TestClient(app_with_frontend(dist))
    missing = client.get("/api/v1/nope")
    assert missing.status_code == 404
    assert missing.json()["error"] == "NOT_FOUND"
    assert client.get("/../../etc/passwd").status_code == 404
    # Not StaticFiles' assertion error (a 500): the same refusal as a router without the mount.
    with pytest.raises(WebSocketDisconnect), client.websocket_connect("/elsewhere") as socket:
        socket.receive_text()


def test_nothing_is_mounted_before_the_frontend_is_built(tmp_path: Path) -> None:
    app = FastAPI()
    assert not mount_frontend(app, tmp_path)
    assert TestClient(app).get("/").status_code == 404
