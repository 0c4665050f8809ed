"""Ingest digests from files, folders and URLs into the archive: read, parse, store, report."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.digest import DigestError, parse_digest
from storage.papers import StoreResult, store_digest

Progress = Callable[[int, int, str], None]
SUFFIXES = (".md", ".json")
MAX_BYTES = 64 * 1024 * 1024  # a digest is kilobytes; refuse anything absurd
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")  # Telegram bot-token shape
_SECRET_PARAM = re.compile(r"token|key|secret|pass|auth|sig|credential", re.IGNORECASE)


class SourceError(Exception):
    """A source (file or URL) that could not be read; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class FileIssue:
    """A problem in one source: `fatal` when nothing of it could be stored."""

    file: str
    line: int
    message: str
    fatal: bool = False


@dataclass(slots=True)
class IngestReport:
    """Totals of one ingest run."""

    files: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    failed: int = 0
    papers: int = 0
    new_papers: int = 0
    errors: list[FileIssue] = field(default_factory=list)

    @property
    def digests(self) -> int:
        """Digest revisions written (new days plus new revisions)."""
        return self.new + self.revised

    def add(self, result: StoreResult) -> None:
        """Count one stored (or unchanged) digest."""
        self.papers += result.papers
        self.new_papers += result.new_papers
        if result.status == "new":
            self.new += 1
        elif result.status == "revision":
            self.revised += 1
        else:
            self.unchanged += 1

    def as_json(self) -> dict[str, Any]:
        """The `--json` object (a contract: files, digests, papers, new_papers, errors, …)."""
        return {
            "files": self.files,
            "digests": self.digests,
            "new": self.new,
            "revised": self.revised,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "papers": self.papers,
            "new_papers": self.new_papers,
            "errors": [
                {"file": e.file, "line": e.line, "message": e.message, "fatal": e.fatal}
                for e in self.errors
            ],
        }


def is_url(item: str) -> bool:
    """Whether `item` is an http(s) URL rather than a path."""
    return item.startswith(("http://", "https://"))


def redact_url(url: str) -> str:
    """`url` without passwords, secret-looking query values or bot tokens (safe to log/store)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    query = urlencode(
        [(k, "***" if _SECRET_PARAM.search(k) else v) for k, v in parse_qsl(parts.query, True)],
        safe="*",
    )
    clean = urlunsplit((parts.scheme, netloc, parts.path, query, ""))
    return _TOKEN.sub("***", clean)


def _is_digest_file(path: Path) -> bool:
    """Whether a file found in a folder looks like a digest (not a README, not hidden)."""
    name = path.name
    skipped = name.startswith(".") or name.upper().startswith(("README", "NOTICE", "LICENSE"))
    return path.suffix in SUFFIXES and not skipped and path.is_file()


def expand(items: Sequence[str]) -> list[str]:
    """Paths and URLs to read: folders become their digest files, recursively and sorted."""
    found: list[str] = []
    for item in items:
        path = Path(item)
        if not is_url(item) and path.is_dir():
            found.extend(str(p) for p in sorted(path.rglob("*")) if _is_digest_file(p))
        else:
            found.append(item)
    return found


def _decode(data: bytes) -> str:
    """UTF-8 text (a BOM is dropped), or a `SourceError` naming the bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (byte {exc.start})") from None


def _read_path(path: str) -> bytes:
    """The bytes of a local file, with a short reason when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise SourceError("no such file") from None
    except IsADirectoryError:
        raise SourceError("is a directory") from None
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or type(exc).__name__}") from None
    if len(data) > MAX_BYTES:
        raise SourceError(f"larger than {MAX_BYTES} bytes")
    return data


async def fetch_text(client: httpx.AsyncClient, url: str) -> str:
    """GET `url` and return its text; errors name the redacted URL, never a secret."""
    shown = redact_url(url)
    try:
        response = await client.get(url)
    except httpx.TimeoutException:
        raise SourceError(f"timed out fetching {shown}") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {shown}: {type(exc).__name__}") from None
    if response.status_code >= 400:
        raise SourceError(f"HTTP {response.status_code} from {shown}")
    if len(response.content) > MAX_BYTES:
        raise SourceError(f"larger than {MAX_BYTES} bytes: {shown}")
    return _decode(response.content)


async def read_source(item: str, *, client: httpx.AsyncClient | None) -> str:
    """The text of a file or URL (URLs need `client`)."""
    if is_url(item):
        if client is None:
            raise SourceError("no HTTP client to fetch URLs with")
        return await fetch_text(client, item)
    return _decode(await asyncio.to_thread(_read_path, item))


async def ingest_one(
    item: str, *, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient | None
) -> tuple[StoreResult | None, list[FileIssue]]:
    """Read, parse and store one source in its own transaction."""
    shown = redact_url(item) if is_url(item) else item
    try:
        digest = parse_digest(await read_source(item, client=client), source=shown)
    except SourceError as exc:
        return None, [FileIssue(shown, 0, str(exc), fatal=True)]
    except DigestError as exc:
        return None, [FileIssue(shown, exc.line, exc.message, fatal=True)]
    issues = [FileIssue(shown, issue.line, issue.message) for issue in digest.errors]
    try:
        async with sessions.begin() as session:
            result = await store_digest(session, digest=digest, source=shown)
    except SQLAlchemyError as exc:
        # The driver's message can quote SQL parameters; the class name is enough here.
        message = f"database error: {type(exc).__name__}"
        return None, [*issues, FileIssue(shown, 0, message, fatal=True)]
    return result, issues


async def ingest(
    items: Sequence[str],
    *,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Ingest every file, folder and URL in `items`; one transaction per source."""
    sources = expand(items)
    report = IngestReport(files=len(sources))
    async with contextlib.AsyncExitStack() as stack:
        if client is None and any(is_url(item) for item in sources):
            client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True)
            await stack.enter_async_context(client)
        for done, item in enumerate(sources, start=1):
            result, issues = await ingest_one(item, sessions=sessions, client=client)
            report.errors.extend(issues)
            if result is None:
                report.failed += 1
            else:
                report.add(result)
            if progress is not None:
                progress(done, len(sources), item)
    return report


async def ingest_samples(
    *, sessions: async_sessionmaker[AsyncSession], progress: Progress | None = None
) -> IngestReport:
    """Ingest the sample digests bundled in `bot/samples/`."""
    with as_file(files("bot") / "samples") as folder:
        return await ingest([str(folder)], sessions=sessions, progress=progress)
