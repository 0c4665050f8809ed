"""Ingest digests from files, folders and URLs into the archive: read, parse, store, report."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import datetime as dt
import gc
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.digest import Digest, DigestError, parse_digest
from storage.deliveries import mark_ready, observe_day
from storage.digest_store import StoreCache, StoreResult, store_digests
from storage.search_index import analyse_texts, paper_texts

Progress = Callable[[int, int, str], None]
SUFFIXES = (".md", ".json")
MAX_BYTES = 64 * 1024 * 1024  # a digest is kilobytes; refuse anything absurd
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
BATCH_FILES = 64  # files per transaction: few statements per table, small loss on a crash
BATCH_SECONDS = 0.25  # ...and commit at least this often, so slow sources still land steadily
_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")  # Telegram bot-token shape
_USERINFO = re.compile(r"//[^/]*@")
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
    """Totals of one ingest run; `held`: revisions stored but not made current (`force`)."""

    files: int = 0
    new: int = 0
    revised: int = 0
    unchanged: int = 0
    held: int = 0
    failed: int = 0
    papers: int = 0
    new_papers: int = 0
    errors: list[FileIssue] = field(default_factory=list)
    days: set[dt.date] = field(default_factory=set)  # days whose digest was new or revised

    @property
    def done(self) -> int:
        """Sources handled so far (stored, unchanged, held or failed)."""
        return self.new + self.revised + self.unchanged + self.held + self.failed

    @property
    def digests(self) -> int:
        """Digest revisions written (new days plus new revisions)."""
        return self.new + self.revised

    def add(self, result: StoreResult, *, shown: str = "") -> None:
        """Count one stored (unchanged, held) digest; a held one is also an issue of `shown`."""
        self.papers += result.papers
        self.new_papers += result.new_papers
        if result.status == "new":
            self.new += 1
        elif result.status == "revision":
            self.revised += 1
        elif result.status == "held":
            self.held += 1
            self.errors.append(FileIssue(shown, 0, held_message(result)))
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
            "held": self.held,
            "failed": self.failed,
            "papers": self.papers,
            "new_papers": self.new_papers,
            "errors": [
                {"file": e.file, "line": e.line, "message": e.message, "fatal": e.fatal}
                for e in self.errors
            ],
        }


def held_message(result: StoreResult) -> str:
    """Why a revision was held, and how to make it current anyway."""
    return (
        f"{result.papers} papers where the current revision has {result.current_papers}: "
        f"stored as revision {result.revision} but not made current (use --force)"
    )


def is_url(item: str) -> bool:
    """Whether `item` is an http(s) URL rather than a path."""
    return item.startswith(("http://", "https://"))


def redact_url(url: str) -> str:
    """`url` without passwords, secret-looking query values or bot tokens (safe to log/store)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bad port or IPv6 host: drop what could hold a secret, keep the rest
        bare = _USERINFO.sub("//", url.split("?", 1)[0].split("#", 1)[0])
        return _TOKEN.sub("***", bare)
    host = parts.hostname or ""
    netloc = f"{host}:{port}" if port else host
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


def _hidden(relative: Path) -> bool:
    """Whether a path inside a folder is in a hidden folder (`.git`, `.github`, …)."""
    return any(part.startswith(".") for part in relative.parts[:-1])


def expand(items: Sequence[str]) -> list[str]:
    """Paths and URLs to read: folders become their digest files, recursively and sorted."""
    found: list[str] = []
    for item in items:
        path = Path(item)
        if not is_url(item) and path.is_dir():
            found.extend(
                str(p)
                for p in sorted(path.rglob("*"))
                if _is_digest_file(p) and not _hidden(p.relative_to(path))
            )
        else:
            found.append(item)
    return found


@dataclass(frozen=True, slots=True)
class SourceText:
    """A source's text, and a note when its last bytes were an incomplete character."""

    text: str
    note: FileIssue | None = None


def _decode(data: bytes, shown: str) -> SourceText:
    """UTF-8 text (a BOM is dropped), or a `SourceError` naming the first bad byte's line.

    A file that ends inside a character (a download or a copy cut short) keeps everything
    before that character, with a note; any other invalid byte means it is not UTF-8 text.
    """
    try:
        return SourceText(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        if exc.reason != "unexpected end of data" or exc.end != len(data):
            raise SourceError(f"not UTF-8 text (line {line}, byte {exc.start})") from None
        message = f"ends inside a character (byte {exc.start}): the incomplete character dropped"
        return SourceText(data[: exc.start].decode("utf-8-sig"), FileIssue(shown, line, message))


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


async def fetch_text(client: httpx.AsyncClient, url: str) -> SourceText:
    """GET `url` and return its text; errors name the redacted URL, never a secret.

    The body is streamed and dropped past `MAX_BYTES`, so an absurd answer costs no memory.
    """
    shown = redact_url(url)
    try:
        urlsplit(url).port  # noqa: B018 - raises for a bad port or host, which httpx lets through
    except ValueError:
        raise SourceError(f"invalid URL {shown}") from None
    try:
        async with client.stream("GET", url) as response:
            if response.status_code >= 400:
                raise SourceError(f"HTTP {response.status_code} from {shown}")
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_BYTES:
                    raise SourceError(f"larger than {MAX_BYTES} bytes: {shown}")
    except httpx.TimeoutException:
        raise SourceError(f"timed out fetching {shown}") from None
    except httpx.InvalidURL:
        raise SourceError(f"invalid URL {shown}") from None
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot fetch {shown}: {type(exc).__name__}") from None
    return _decode(bytes(body), shown)


async def read_source(item: str, *, client: httpx.AsyncClient | None) -> SourceText:
    """The text of a file or URL (URLs need `client`)."""
    if is_url(item):
        if client is None:
            raise SourceError("no HTTP client to fetch URLs with")
        return await fetch_text(client, item)
    return _decode(await asyncio.to_thread(_read_path, item), item)


@dataclass(slots=True)
class _Source:
    """One source read and parsed, waiting in a batch to be stored."""

    shown: str
    digest: Digest | None
    issues: list[FileIssue]


async def load_one(item: str, *, client: httpx.AsyncClient | None) -> _Source:
    """Read and parse one source; a fatal issue (and no digest) when that fails."""
    shown = redact_url(item) if is_url(item) else item
    try:
        read = await read_source(item, client=client)
        digest = parse_digest(read.text, source=shown)
    except SourceError as exc:
        return _Source(shown, None, [FileIssue(shown, 0, str(exc), fatal=True)])
    except DigestError as exc:
        return _Source(shown, None, [FileIssue(shown, exc.line, exc.message, fatal=True)])
    issues = [FileIssue(shown, issue.line, issue.message) for issue in digest.errors]
    if read.note is not None:
        issues.append(read.note)
    if digest.mostly_damage:
        message = (
            f"mostly damage ({digest.error_count} errors, {len(digest.papers)} papers): not stored"
        )
        issues.append(FileIssue(shown, 0, message, fatal=True))
        return _Source(shown, None, issues)
    return _Source(shown, digest, issues)


def _database_issue(source: _Source, exc: SQLAlchemyError) -> FileIssue:
    """The fatal issue of a source whose transaction failed."""
    # The driver's message can quote SQL parameters; the class name is enough here.
    return FileIssue(source.shown, 0, f"database error: {type(exc).__name__}", fatal=True)


async def _store_batch(
    batch: list[_Source],
    *,
    sessions: async_sessionmaker[AsyncSession],
    cache: StoreCache,
    tokens: Mapping[str, str] | asyncio.Future[dict[str, str]] | None = None,
    force: bool = False,
) -> list[StoreResult | None]:
    """Store the batch's digests in one transaction; on failure, each alone (None = failed).

    A failing file must not take others down, so a failed batch is rolled back whole and its
    files are stored again one transaction each: only the culprit fails, as it would alone.
    """
    parsed = [source for source in batch if source.digest is not None]
    pairs = [(source.digest, source.shown) for source in parsed if source.digest is not None]
    if not pairs:
        return [None] * len(batch)
    stored: list[StoreResult | None]
    try:
        async with sessions.begin() as session:
            stored = list(
                await store_digests(session, digests=pairs, cache=cache, tokens=tokens, force=force)
            )
    except SQLAlchemyError as exc:
        cache.clear()  # author ids made by the rolled-back transaction are gone
        if len(parsed) == 1:
            parsed[0].issues.append(_database_issue(parsed[0], exc))
            return [None]
        stored = [
            result
            for source in parsed
            for result in await _store_batch(
                [source], sessions=sessions, cache=cache, tokens=tokens, force=force
            )
        ]
    results = iter(stored)
    return [None if source.digest is None else next(results) for source in batch]


async def ingest_one(
    item: str, *, sessions: async_sessionmaker[AsyncSession], client: httpx.AsyncClient | None
) -> tuple[StoreResult | None, list[FileIssue]]:
    """Read, parse and store one source in its own transaction."""
    source = await load_one(item, client=client)
    [result] = await _store_batch([source], sessions=sessions, cache=StoreCache())
    return result, source.issues


def _source_texts(sources: Sequence[_Source]) -> list[str]:
    """Every text the sources' papers can put in search documents."""
    return [
        text
        for source in sources
        if source.digest is not None
        for paper in source.digest.papers
        for text in paper_texts(paper)
    ]


async def _analysed(pool: Executor, texts: list[str]) -> dict[str, str]:
    """`analyse_texts` in the worker process, or here if the worker died (same result)."""
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, analyse_texts, texts)
    except BrokenExecutor:
        return analyse_texts(texts)


class _Batcher:
    """Groups sources into transactions of `BATCH_FILES` files or `BATCH_SECONDS` of work.

    A batch is stored in a background task while the next one is read and parsed, so the
    database's work (in the driver's thread) overlaps with parsing; batches still commit one
    after another, in order.
    """

    def __init__(
        self,
        report: IngestReport,
        sessions: async_sessionmaker[AsyncSession],
        progress: Progress | None,
        pool: Executor | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Start empty, with a run-wide author cache."""
        self.pool = pool
        self.force = force
        self.report = report
        self.sessions = sessions
        self.progress = progress
        self.cache = StoreCache()
        self.pending: list[_Source] = []
        self.started = time.monotonic()
        self.storing: asyncio.Task[None] | None = None

    def add(self, source: _Source) -> bool:
        """Queue a loaded source; True when the open batch should be committed now."""
        self.pending.append(source)
        elapsed = time.monotonic() - self.started
        return len(self.pending) >= BATCH_FILES or elapsed >= BATCH_SECONDS

    async def submit(self) -> None:
        """Analyse the open batch's texts, wait for the batch being stored, then store it.

        With a worker process the analysis runs there while the database writes this batch's
        archive rows (its index rows come last), and only strings cross over; without one it
        runs here, while the database still writes the previous batch.
        """
        tokens: Mapping[str, str] | asyncio.Future[dict[str, str]] | None = None
        texts = _source_texts(self.pending)
        if self.pool is not None and texts:
            tokens = asyncio.ensure_future(_analysed(self.pool, texts))
        elif texts:
            tokens = analyse_texts(texts)
        await self.drain()
        if self.pending:
            self.storing = asyncio.create_task(self._commit(self.pending, tokens))
        self.pending = []
        self.started = time.monotonic()

    async def drain(self) -> None:
        """Wait until the batch being stored (if any) is committed and counted."""
        storing, self.storing = self.storing, None
        if storing is not None:
            await storing

    async def cancel(self) -> None:
        """Stop the batch being stored (its transaction rolls back)."""
        if self.storing is not None:
            self.storing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.storing
            self.storing = None

    async def _commit(
        self,
        batch: list[_Source],
        tokens: Mapping[str, str] | asyncio.Future[dict[str, str]] | None,
    ) -> None:
        """Store and commit one batch, then count and report its files in order."""
        results = await _store_batch(
            batch, sessions=self.sessions, cache=self.cache, tokens=tokens, force=self.force
        )
        for source, result in zip(batch, results, strict=True):
            self.report.errors.extend(source.issues)
            if result is None:
                self.report.failed += 1
            else:
                self.report.add(result, shown=source.shown)
                if result.status in ("new", "revision") and source.digest is not None:
                    self.report.days.add(source.digest.date)
            if self.progress is not None:
                self.progress(self.report.done, self.report.files, source.shown)


def _freeze_heap(stack: contextlib.AsyncExitStack) -> None:
    """Keep the objects that exist now out of garbage collection until `stack` closes.

    A bulk load allocates enough objects to trigger full collections, and each one walked the
    whole heap (every imported module's objects): ~60 ms apiece, 0.1 s of a 1.5 s corpus
    ingest. Frozen objects are only skipped, not lost: they are collectable again afterwards.
    The forked analysis worker also shares the frozen pages instead of copying them.
    """
    gc.freeze()
    stack.callback(gc.unfreeze)


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end this process when the parent that started it dies.

    A SIGKILLed parent runs no shutdown, and the worker, blocked writing its result pipe,
    would outlive it for good. Linux delivers SIGKILL itself on the parent's death (prctl);
    elsewhere, and should that call fail, a daemon thread watches the parent id change.
    """
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the signal was asked for
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int, interval: float = 0.5) -> None:
    """Exit the process at once when the parent is gone (its id changes on reparenting)."""
    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)


def _analysis_pool(stack: contextlib.AsyncExitStack) -> Executor | None:
    """One worker process for search analysis, shut down with `stack` (None without fork).

    Forked, not spawned: a spawned worker would import the caller's main module again and
    start slower than a whole batch takes. The worker only runs pure text analysis, and dies
    with this process, however this one ends.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    pool = ProcessPoolExecutor(
        1,
        mp_context=multiprocessing.get_context("fork"),
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    )
    stack.callback(pool.shutdown, wait=True, cancel_futures=True)
    return pool


async def ingest(
    items: Sequence[str],
    *,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> IngestReport:
    """Ingest every file, folder and URL in `items`, committing a batch of files at a time.

    A revision that would lose most of its day's papers is held (stored, not current) unless
    `force`; a file that is mostly damage is not stored at all.

    A crash loses at most the batches not yet committed (two at most: the one being stored and
    the one being read, each ≤ `BATCH_FILES` files and ~`BATCH_SECONDS` of work). Nothing
    committed is touched again, and ingesting the same sources again stores exactly what was
    lost, since files already stored are recognised as unchanged.
    """
    sources = expand(items)
    report = IngestReport(files=len(sources))
    async with contextlib.AsyncExitStack() as stack:
        bulk = len(sources) > BATCH_FILES
        if bulk:
            _freeze_heap(stack)
        pool = _analysis_pool(stack) if bulk else None
        batcher = _Batcher(report, sessions, progress, pool, force=force)
        stack.push_async_callback(batcher.cancel)
        if client is None and any(is_url(item) for item in sources):
            client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True)
            await stack.enter_async_context(client)
        for item in sources:
            if batcher.add(await load_one(item, client=client)):
                await batcher.submit()
        await batcher.submit()
        await batcher.drain()
    return report


async def announce_days(
    days: Iterable[dt.date],
    *,
    sessions: async_sessionmaker[AsyncSession],
    now: dt.datetime,
    ready: bool = False,
) -> None:
    """Tell the scheduler about days stored by hand, as a poll does for what it stores.

    They then settle and go out like polled days (an old day is never broadcast: dispatch
    skips what is older than its catch-up window); `ready` makes them complete at once.
    """
    async with sessions.begin() as session:
        for day in sorted(days):
            observed = await observe_day(session, date=day, now=now)
            if ready and observed is not None:
                await mark_ready(session, date=day, now=now, by_hand=True)


async def ingest_samples(
    *, sessions: async_sessionmaker[AsyncSession], progress: Progress | None = None
) -> IngestReport:
    """Ingest the sample digests bundled in `bot/samples/`."""
    with as_file(files("bot") / "samples") as folder:
        return await ingest([str(folder)], sessions=sessions, progress=progress)
