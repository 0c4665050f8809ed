"""Log redaction: URL passwords and secret query values never reach a log line."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from bot.logs import REDACTED, RedactTokens, setup_logging


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


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Restore the root logger's handlers and level after a test that sets logging up."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("root_logging")
def test_json_lines_are_redacted_like_text(capsys: pytest.CaptureFixture[str]) -> None:
    """LOG_FORMAT=json writes one JSON object per line, token redacted in message and traceback."""
    token = "123456789:AAbbCCddEEffGGhhIIjjKKllMMnnOOpp"
    setup_logging("INFO", secrets=[token], log_format="json")
    log = logging.getLogger("paperboy.test")
    log.info("calling %s", f"https://api.telegram.org/bot{token}/getMe")
    try:
        raise RuntimeError(f"The token `{token}` was rejected by the server.")
    except RuntimeError:
        log.exception("start failed")
    lines = capsys.readouterr().err.splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 2
    assert [e["level"] for e in entries] == ["INFO", "ERROR"]
    assert {e["logger"] for e in entries} == {"paperboy.test"}
    assert entries[0]["message"] == f"calling https://api.telegram.org/bot{REDACTED}/getMe"
    assert entries[0]["time"].endswith("+00:00")
    assert "exc_info" not in entries[0]
    assert entries[1]["message"] == "start failed"
    assert "RuntimeError: The token `[REDACTED]` was rejected" in entries[1]["exc_info"]
    assert token.split(":")[1] not in "\n".join(lines)


@pytest.mark.usefixtures("root_logging")
def test_text_is_still_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    """Without LOG_FORMAT a record is one plain text line."""
    setup_logging("INFO")
    logging.getLogger("paperboy.test").warning("plain")
    line = capsys.readouterr().err.strip()
    assert line.endswith("WARNING paperboy.test: plain")
