"""Log redaction: URL passwords and secret query values never reach a log line."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bot.logs import REDACTED, RedactTokens


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server hook's name
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        """Quiet: the test reads the client's log only."""


@pytest.fixture
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_httpx_request_lines_lose_url_secrets(port: int, caplog: pytest.LogCaptureFixture) -> None:
    """At DEBUG, httpx logs each request URL; its password and token= value are redacted."""
    caplog.handler.addFilter(RedactTokens())
    url = f"http://bob:pa55word@127.0.0.1:{port}/2024/01/03.md?token=SEKRIT&day=3&api_key=K9"
    with caplog.at_level(logging.DEBUG, logger="httpx"):
        assert httpx.get(url).status_code == 200
    assert "HTTP Request: GET" in caplog.text
    assert "pa55word" not in caplog.text
    assert "SEKRIT" not in caplog.text
    assert "K9" not in caplog.text
    assert f"token={REDACTED}&day=3" in caplog.text
