"""python-telegram-bot's HTTP layer on aiohttp instead of httpx.

Every reply the bot sends is one HTTP request, and httpx/httpcore spend several times more CPU
per request than aiohttp (anyio cancel scopes, locks and a connection pool that checks every
idle connection with system calls on each request): with a busy bot, the HTTP client was most
of the event loop's time. This class keeps HTTPXRequest's contract: the same timeouts and
defaults, TimedOut for timeouts, NetworkError for connection failures, the token never in
an error message.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot import metrics

_TOKEN_IN_PATH = re.compile(r"(/(?:file/)?bot)[^/\s'\"]+")  # …/bot<token>/method in an error text
_JSON = {"Content-Type": "application/json"}


class ConnectionLost(NetworkError):
    """The connection failed after the request may have reached Telegram (not while connecting):
    like a timeout, its outcome is unknown, so a sender must count a retry as ambiguous."""


class AiohttpRequest(BaseRequest):
    """A connection-reusing aiohttp session with HTTPXRequest's defaults (see its docs).

    `connection_pool_size` bounds concurrent connections; `pool_timeout` is how long a request
    may wait for one, and together with `connect_timeout` bounds getting a connection at all.
    The read timeout applies to each read, as with httpx, so a large download that keeps
    flowing never times out. aiohttp has no per-write timeout: for an upload (the only request
    with a body worth the name) pool + connect + write + read bound the whole exchange, so a
    stalled upload fails instead of hanging. Redirects are not followed (httpx does not
    either: a redirected POST would silently lose its parameters).
    """

    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxies",
        "_proxy_of",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_of: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (again, after a shutdown)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # Idle connections expire after 5 s, as httpx's do: fewer stale sockets.
                connector=aiohttp.TCPConnector(
                    limit=self._pool_size, limit_per_host=0, keepalive_timeout=5.0
                ),
                headers={"User-Agent": self.USER_AGENT},
            )
            # HTTP(S)_PROXY / NO_PROXY as httpx honours them, read once: aiohttp's trust_env
            # reads the environment and ~/.netrc again on every request.
            self._proxies = urllib.request.getproxies_environment()
            self._proxy_of = {}

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One request; (HTTP status, body). Parameters go as JSON, files as multipart."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else {}
        default_write = self._media_write_timeout if files else self._write_timeout
        timeout = self._timeout(
            read=_value(read_timeout, self._read_timeout),
            write=_value(write_timeout, default_write),
            connect=_value(connect_timeout, self._connect_timeout),
            pool=_value(pool_timeout, self._pool_timeout),
            upload=bool(files),
        )
        options: dict[str, Any] = {}
        if self._proxies:
            options["proxy"] = self._proxy(url)
        if request_data is not None and files:
            options["data"] = _multipart(request_data.json_parameters, files)
        elif request_data is not None and request_data.parameters:
            options["data"] = request_data.json_payload
            options["headers"] = _JSON
        try:
            async with session.request(
                method, url, timeout=timeout, allow_redirects=False, **options
            ) as response:
                status, body = response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut(_redact(f"aiohttp.{type(error).__name__}: {error}")) from error
        except aiohttp.ClientConnectorError as error:  # nothing was sent
            raise NetworkError(_redact(f"aiohttp.{type(error).__name__}: {error}")) from error
        except aiohttp.ClientError as error:  # e.g. the server hung up before answering
            raise ConnectionLost(_redact(f"aiohttp.{type(error).__name__}: {error}")) from error
        _count(url, status, body)
        return status, body

    def _proxy(self, url: str) -> str | None:
        """The environment's proxy for `url`'s scheme and host (None: connect directly)."""
        parts = urllib.parse.urlsplit(url)
        key = parts.scheme, parts.hostname or ""
        if key not in self._proxy_of:
            bypass = urllib.request.proxy_bypass(key[1])
            chosen = self._proxies.get(key[0]) or self._proxies.get("all")
            self._proxy_of[key] = None if bypass else chosen
        return self._proxy_of[key]

    @staticmethod
    def _timeout(
        *,
        read: float | None,
        write: float | None,
        connect: float | None,
        pool: float | None,
        upload: bool = False,
    ) -> aiohttp.ClientTimeout:
        """aiohttp's timeouts for HTTPXRequest's four (None: no limit); see the class doc."""
        parts = (pool, connect, write, read)
        bounded = upload and all(part is not None for part in parts)
        total = sum(p for p in parts if p) if bounded else None
        getting = None if pool is None or connect is None else pool + connect
        return aiohttp.ClientTimeout(
            total=total, connect=getting, sock_connect=connect, sock_read=read
        )


def _count(url: str, status: int, body: bytes) -> None:
    """Metrics of one answer: a message sent, or a 429 and its retry_after."""
    method = url.rsplit("/", 1)[-1]
    if status == 200 and method.startswith("send") and method != "sendChatAction":
        metrics.MESSAGES_SENT.labels(method).inc()
    elif status == 429:
        metrics.RETRY_AFTER.labels(method).inc()
        try:
            retry_after = float(json.loads(body)["parameters"]["retry_after"])
        except (ValueError, KeyError, TypeError):
            return
        metrics.RETRY_AFTER_SECONDS.observe(retry_after)


def _value(given: ODVInput[float], default: float | None) -> float | None:
    """A timeout passed to do_request, or the instance's default for DEFAULT_NONE."""
    return default if isinstance(given, DefaultValue) else given


def _multipart(parameters: dict[str, str], files: dict[str, Any]) -> aiohttp.FormData:
    """A multipart body: the parameters as fields, then each file with its name and type."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in parameters.items():
        form.add_field(name, value)
    for name, (file_name, content, mime_type) in files.items():
        form.add_field(name, content, filename=file_name, content_type=mime_type)
    return form


def _redact(text: str) -> str:
    """An error text without the bot token (aiohttp puts URLs into some messages)."""
    return _TOKEN_IN_PATH.sub(r"\1<token>", text)
