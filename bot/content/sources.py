"""Digest sources (`DIGEST_SOURCES`): poll folders, URL templates and the HF JSON API.

Fetching is I/O and lives here; parsing and storing reuse `bot.digest` and `storage.digest_store`.
A poll stores what changed and tells `storage.deliveries.observe_digest` the day's current
content, so readiness (bot/delivery/dispatch.py) can see a digest still growing.

- Folder: files new or modified since the last poll (mtime watermark kept as the poll's etag).
- URL template (`…/{date:%Y/%m/%d}.md`): today's and yesterday's dates in the source's time zone
  (Asia/Seoul); ETag / If-Modified-Since per URL; 404 means "not published yet", not an error.
- HF daily-papers list (`…/api/daily_papers?date={date:%Y-%m-%d}`, or any `.json` template):
  the live source, polled through HF's day (UTC) for today and the `VOTE_DAYS` before it, in
  pages of `HF_PAGE`. Its votes keep moving: every poll records them (`storage.votes`), but a
  new revision is stored only when the day's list of papers changed, so a list whose votes
  alone move settles like any digest (and the archive keeps one raw text per list change).
A fetched digest that would lose most of its day's papers (a CDN serving a cut file, a list
cut short) is stored but held back (`storage.digest_store.store_digests`): the day keeps its
current revision and a warning names the source. A file that is mostly damage is skipped.
HTTP failures (timeouts, connection errors, 5xx, 429) are retried with exponential backoff,
`attempts` times; then one warning line names the redacted URL and the reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import os
import zoneinfo
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Literal

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.config import LIVE_HF_JSON_TEMPLATE, LIVE_MARKDOWN_TEMPLATE, Settings
from bot.content.ingest import MAX_BYTES, is_url, redact_url
from bot.digest import Digest, DigestError, parse_digest, parse_hf_json
from storage.deliveries import SourcePoll, get_poll, observe_day, record_poll
from storage.digest_store import StoreResult, store_digests
from storage.papers import digest_revisions, latest_revisions, revision_ids
from storage.votes import record_votes

log = logging.getLogger(__name__)
SOURCE_ZONE = zoneinfo.ZoneInfo("Asia/Seoul")
VOTE_DAYS = 7  # days of the HF list polled for their votes (they keep growing for about a week)
HF_PAGE = 100  # entries asked per page of the HF list (its maximum)
HF_MAX_PAGES = 20  # 2,000 papers: far beyond any real day; a runaway pager stops here
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
USER_AGENT = "paperboy (daily papers digest bot)"
SourceKind = Literal["folder", "template", "hf_json"]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Source:
    """One configured source: a folder, a URL template or the HF daily-papers list."""

    kind: SourceKind
    location: str

    @property
    def name(self) -> str:
        """How the source is shown in logs and /stats (URLs redacted)."""
        return redact_url(self.location) if is_url(self.location) else self.location


def source_kind(value: str) -> SourceKind:
    """Folder for a path; HF JSON for `api/daily_papers` or a `.json` template; else template."""
    if not is_url(value):
        return "folder"
    if "api/daily_papers" in value or value.split("?", 1)[0].endswith(".json"):
        return "hf_json"
    return "template"


def parse_sources(values: Sequence[str]) -> list[Source]:
    """Sources from setting values, in order."""
    return [Source(source_kind(value), value) for value in values]


def sample_folder() -> str:
    """The bundled sample digests (offline default of the console, tests and benchmarks)."""
    return str(Path(str(files("bot") / "samples")))


def configured_sources(settings: Settings, *, live: bool) -> list[Source]:
    """`DIGEST_SOURCES`, else the live ones (`paperboy run`: the HF list first, then the
    daily_papers_ko archive for the days it has) or the samples (offline)."""
    if settings.digest_sources:
        return parse_sources(settings.digest_sources)
    if live:
        return parse_sources([LIVE_HF_JSON_TEMPLATE, LIVE_MARKDOWN_TEMPLATE])
    return parse_sources([sample_folder()])


def poll_dates(now: dt.datetime, kind: SourceKind = "template") -> list[dt.date]:
    """The days to ask for, oldest first: the HF list's today (UTC) and the `VOTE_DAYS`
    before it; for a Markdown template, yesterday and today in Asia/Seoul."""
    if kind == "hf_json":
        today = now.astimezone(dt.UTC).date()
        return [today - dt.timedelta(days=back) for back in range(VOTE_DAYS, -1, -1)]
    today = now.astimezone(SOURCE_ZONE).date()
    return [today - dt.timedelta(days=1), today]


def page_url(url: str, page: int) -> str:
    """Page `page` (from 0) of an HF list URL, `HF_PAGE` entries a page unless it says."""
    parts = [] if "limit=" in url else [f"limit={HF_PAGE}"]
    if page:
        parts.append(f"p={page}")
    if not parts:
        return url
    return url + ("&" if "?" in url else "?") + "&".join(parts)


def _entries(text: str) -> int | None:
    """How many entries a page of the HF list holds (None: not a JSON list)."""
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return len(value) if isinstance(value, list) else None


@dataclass(frozen=True, slots=True)
class Fetched:
    """One conditional GET: `ok` (text), `not_modified`, `missing` (404) or `error`."""

    status: Literal["ok", "not_modified", "missing", "error"]
    text: str = ""
    etag: str | None = None
    last_modified: str | None = None
    error: str | None = None
    code: int | None = None


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Retries with exponential backoff for transient HTTP failures."""

    attempts: int = 3
    backoff: float = 2.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return self.backoff * 2.0 ** (attempt - 1)


def _transient(code: int) -> bool:
    """Statuses worth retrying: rate limited or a server error."""
    return code == 429 or code >= 500


async def _get_once(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> Fetched | tuple[str, bool]:
    """One GET: a result, or (reason, retryable)."""
    try:
        response = await client.get(url, headers=headers)
    except httpx.TimeoutException:
        return "timed out", True
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}", True
    code = response.status_code
    if code == 304:
        return Fetched("not_modified", code=code)
    if code == 404:
        return Fetched("missing", code=code)
    if code >= 400:
        return f"HTTP {code}", _transient(code)
    if len(response.content) > MAX_BYTES:
        return f"larger than {MAX_BYTES} bytes", False
    try:
        text = response.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "not UTF-8 text", False
    etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
    return Fetched("ok", text, etag, modified, code=code)


async def fetch_conditional(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None,
    last_modified: str | None,
    policy: HttpPolicy,
    sleep: Sleep,
) -> Fetched:
    """GET `url` with validators, retrying transient failures; errors never hold the URL's
    secrets (the caller logs the redacted URL)."""
    headers = {"User-Agent": USER_AGENT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    reason = "no attempt"
    for attempt in range(1, policy.attempts + 1):
        outcome = await _get_once(client, url, headers)
        if isinstance(outcome, Fetched):
            return outcome
        reason, retryable = outcome
        if not retryable or attempt == policy.attempts:
            break
        log.debug("source %s: %s, retry %d", redact_url(url), reason, attempt)
        await sleep(policy.delay(attempt))
    return Fetched("error", error=f"{reason} (after {attempt} attempts)")


@dataclass(slots=True)
class PollReport:
    """What one poll of every source did."""

    fetched: int = 0
    stored: int = 0
    unchanged: int = 0
    missing: int = 0
    failed: int = 0
    votes: int = 0  # papers whose votes moved
    days: set[dt.date] = field(default_factory=set)
    new_papers: int = 0
    held: int = 0  # revisions held back: they would lose most of their day's papers

    def count(self, result: StoreResult) -> None:
        """Count one stored digest."""
        if result.status == "unchanged":
            self.unchanged += 1
        elif result.status == "held":
            self.held += 1
        else:
            self.stored += 1
            self.new_papers += result.new_papers


class Poller:
    """Polls every source once per `poll()`; state between polls lives in `source_polls`."""

    def __init__(
        self,
        sources: Sequence[Source],
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], dt.datetime],
        client: httpx.AsyncClient | None = None,
        policy: HttpPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.sources = list(sources)
        self.sessions = sessions
        self.clock = clock
        self.client = client
        self.policy = policy or HttpPolicy()
        self.sleep = sleep

    async def __aenter__(self) -> Poller:
        """Open an HTTP client unless one was given."""
        if self.client is None:
            self.client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=True)
            self._own_client = True
        return self

    async def __aexit__(self, *_exc: object) -> None:
        """Close the client this poller opened."""
        if getattr(self, "_own_client", False) and self.client is not None:
            await self.client.aclose()
            self.client = None

    async def poll(self) -> PollReport:
        """Poll every source once; a failing source never stops the others."""
        report = PollReport()
        for source in self.sources:
            failed = report.failed
            try:
                if source.kind == "folder":
                    await self._poll_folder(source, report)
                else:
                    await self._poll_template(source, report)
            except Exception:  # one broken source must not stop the schedule
                report.failed += 1
                log.exception("source %s: poll crashed", source.name)
            metrics.SOURCE_POLLS.labels(source.kind).inc()
            if report.failed > failed:
                metrics.SOURCE_POLL_ERRORS.labels(source.kind).inc(report.failed - failed)
        return report

    # folders

    async def _poll_folder(self, source: Source, report: PollReport) -> None:
        """Ingest files new or changed since the last poll's mtime watermark."""
        now = self.clock()
        async with self.sessions() as session:
            poll = await get_poll(session, source=source.name)
        mark = int(poll.etag) if poll is not None and poll.etag else -1
        found = await asyncio.to_thread(_changed_files, source.location, mark)
        if found is None:
            await self._record(source.name, now, "error", error="folder not found")
            report.failed += 1
            log.warning("source %s: folder not found", source.name)
            return
        changed, newest = found
        digests = [d for d in await asyncio.to_thread(_parse_files, changed) if d.papers]
        report.fetched += len(changed)
        await self._store(digests, report, now)
        await self._record(source.name, now, "ok", etag=str(max(newest, mark)))

    # URL templates and the HF API

    async def _poll_template(self, source: Source, report: PollReport) -> None:
        """Fetch the source's URL for each of its poll days."""
        for day in poll_dates(self.clock(), source.kind):
            await self._poll_url(source, day, report)

    async def _fetch(self, source: Source, url: str, poll: SourcePoll | None) -> Fetched:
        """One conditional GET; the HF list page by page (validators on the first page only)."""
        assert self.client is not None, "use `async with Poller(...)`"
        fetched = await fetch_conditional(
            self.client,
            page_url(url, 0) if source.kind == "hf_json" else url,
            etag=poll.etag if poll else None,
            last_modified=poll.last_modified if poll else None,
            policy=self.policy,
            sleep=self.sleep,
        )
        if source.kind != "hf_json" or fetched.status != "ok":
            return fetched
        pages, page = [fetched.text], 1
        limit = HF_PAGE if "limit=" not in url else None
        while limit and _entries(pages[-1]) == limit and page < HF_MAX_PAGES:
            more = await fetch_conditional(
                self.client,
                page_url(url, page),
                etag=None,
                last_modified=None,
                policy=self.policy,
                sleep=self.sleep,
            )
            if more.status != "ok":  # a list we cannot read whole is not stored as if complete
                return more if more.status == "error" else Fetched("error", error="page missing")
            pages.append(more.text)
            page += 1
        if len(pages) == 1:
            return fetched
        merged = [entry for text in pages for entry in json.loads(text)]
        return dataclasses.replace(fetched, text=json.dumps(merged, ensure_ascii=False))

    async def _poll_url(self, source: Source, day: dt.date, report: PollReport) -> None:
        """Conditional GET of one day's URL; store and observe what changed."""
        assert self.client is not None, "use `async with Poller(...)`"
        url = source.location.format(date=day)
        shown = redact_url(url)
        async with self.sessions() as session:
            poll = await get_poll(session, source=shown)
        fetched = await self._fetch(source, url, poll)
        now = self.clock()
        if fetched.status == "error":
            report.failed += 1
            log.warning("source %s: poll failed: %s", shown, fetched.error)
            await self._record(shown, now, "error", error=fetched.error)
            return
        if fetched.status in ("missing", "not_modified"):
            report.missing += fetched.status == "missing"
            await self._record(shown, now, str(fetched.code))
            return
        report.fetched += 1
        digest = _parse_text(fetched.text, shown, day, source.kind)
        if digest is not None and digest.papers and source.kind == "hf_json":
            await self._store_list(digest, report, now)
        else:
            await self._store([digest] if digest is not None and digest.papers else [], report, now)
        status = "200" if digest is not None else "unparsable"
        await self._record(
            shown, now, status, etag=fetched.etag, last_modified=fetched.last_modified
        )

    # storing

    async def _store(self, digests: Sequence[Digest], report: PollReport, now: dt.datetime) -> None:
        """Store digests in one transaction and observe each touched day."""
        if not digests:
            return
        async with self.sessions.begin() as session:
            pairs = [(digest, digest.source) for digest in digests]
            changed: set[dt.date] = set()
            results = await store_digests(session, digests=pairs, now=now)
            for digest, result in zip(digests, results, strict=True):
                report.count(result)
                if result.status == "held":
                    _warn_held(digest, result)
                elif result.status != "unchanged":
                    changed.add(digest.date)
            for day in sorted(changed):
                await observe_day(session, date=day, now=now)
                report.days.add(day)

    async def _store_list(self, digest: Digest, report: PollReport, now: dt.datetime) -> None:
        """Record the HF list's votes; store it as a new revision only when its papers changed."""
        async with self.sessions.begin() as session:
            current = await latest_revisions(session, date=digest.date)
            stored = [info for info in current if info.format == digest.format]
            ids = await revision_ids(session, digest_id=stored[0].id) if stored else []
            if set(ids) == {paper.arxiv_id for paper in digest.papers}:
                report.unchanged += 1
            elif await _still_held(session, digest):
                report.held += 1  # its votes move, its raw text with them: one row is enough
            else:
                [result] = await store_digests(session, digests=[(digest, digest.source)], now=now)
                report.count(result)
                if result.status == "held":
                    _warn_held(digest, result)
                else:
                    await observe_day(session, date=digest.date, now=now)
                    report.days.add(digest.date)
            votes = {p.arxiv_id: p.votes for p in digest.papers if p.votes is not None}
            report.votes += await record_votes(session, votes=votes, now=now)

    async def _record(
        self,
        name: str,
        now: dt.datetime,
        status: str,
        *,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> None:
        """Store the outcome of one poll."""
        async with self.sessions.begin() as session:
            await record_poll(
                session,
                source=name,
                now=now,
                status=status,
                error=error,
                etag=etag,
                last_modified=last_modified,
            )


def _warn_held(digest: Digest, result: StoreResult) -> None:
    """One warning line for a revision held back instead of replacing its day."""
    log.warning(
        "source %s: %s %s has %d papers where the current revision has %s: stored as "
        "revision %d, held back (ingest it with --force to make it current)",
        digest.source,
        digest.date,
        digest.format,
        result.papers,
        result.current_papers,
        result.revision,
    )


async def _still_held(session: AsyncSession, digest: Digest) -> bool:
    """Whether the day's newest revision of this format is held with as many papers: the
    same cut list again, whose raw text differs only by its votes."""
    revisions = await digest_revisions(session, date=digest.date)
    mine = [info for info in revisions if info.format == digest.format]
    newest = mine[-1] if mine else None
    return newest is not None and not newest.is_latest and newest.paper_count == len(digest.papers)


def _parse_text(text: str, shown: str, day: dt.date, kind: SourceKind) -> Digest | None:
    """Parse fetched text (HF JSON gets the day it was asked for); None when unparsable."""
    try:
        if kind == "hf_json":
            digest = parse_hf_json(text, source=shown, date=day)
        else:
            digest = parse_digest(text, source=shown)
    except DigestError as exc:
        log.warning("source %s: unparsable digest: line %d: %s", shown, exc.line, exc.message)
        return None
    return None if _damaged(digest) else digest


def _damaged(digest: Digest) -> bool:
    """Whether a digest is mostly damage (logged): it is not stored."""
    if digest.mostly_damage:
        log.warning(
            "source %s: skipped: mostly damage (%d errors, %d papers)",
            digest.source,
            digest.error_count,
            len(digest.papers),
        )
    return digest.mostly_damage


def _changed_files(folder: str, mark: int) -> tuple[list[str], int] | None:
    """Digest files under `folder` modified at or after `mark` (ns), and the newest mtime."""
    root = Path(folder)
    if not root.is_dir():
        return None
    changed: list[str] = []
    newest = mark
    for path in sorted(root.rglob("*")):
        if not _is_digest_file(path):
            continue
        stamp = os.stat(path).st_mtime_ns
        newest = max(newest, stamp)
        if stamp >= mark:
            changed.append(str(path))
    return changed, newest


def _is_digest_file(path: Path) -> bool:
    """A digest file: `.md` or `.json`, not hidden, not a README/NOTICE/LICENSE."""
    name = path.name.upper()
    skipped = name.startswith((".", "README", "NOTICE", "LICENSE"))
    return path.suffix in (".md", ".json") and not skipped and path.is_file()


def _parse_files(paths: Sequence[str]) -> list[Digest]:
    """Parse files (unreadable or unparsable ones are logged and skipped)."""
    digests: list[Digest] = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                text = handle.read(MAX_BYTES).decode("utf-8-sig")
            digest = parse_digest(text, source=path)
            if not _damaged(digest):
                digests.append(digest)
        except (OSError, UnicodeDecodeError, DigestError) as exc:
            log.warning("source %s: skipped: %s", path, type(exc).__name__)
    return digests
