"""Korean summaries paperboy writes itself: the prompt, the checks on the answer, and the runs.

A model's answer is text like any digest's, so it enters the archive through our Markdown
parser: paperboy builds the paper block itself (heading, `Vote:`, `Authors:`) around the model's
bullets and keeps the summary only if the parser reads back exactly that paper, with no issue.
Before that, answers that would mislead a reader or break a message are rejected: empty, not
Korean, one giant bullet, HTML, links, headings, or about another paper. A rejected answer gets
one more try; a second rejection leaves the paper with its English text (`failed`, final for
this model and prompt version). An endpoint that stays down after the client's retries fails the
row for a cool-down, after which a later run tries again.

Each paper is claimed in the database before it is asked for (storage.summaries), so however many
polls, restarts or workers run at once, a paper is asked for once; `summary_concurrency` calls
are in flight at most, and `summary_max_per_day` new summaries are created per UTC day.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import re
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import metrics
from bot.config import Settings
from bot.content.keywords import KeywordWriter
from bot.content.llm import DEFAULT_RETRIES, DEFAULT_TIMEOUT, ChatClient, EndpointError
from bot.digest.markdown import parse_markdown
from bot.digest.models import SummarySection
from bot.services import utc_now
from storage.search_index import reindex_papers
from storage.summaries import (
    REJECTED,
    ClaimOutcome,
    SummaryCandidate,
    claim_summary,
    complete_summary,
    fail_summary,
    papers_by_id,
    papers_to_summarize,
)

log = logging.getLogger(__name__)
Progress = Callable[[int, int, str], None]  # (done, total, arXiv id), like the ingest's

PROMPT_VERSION = 1  # bump when SYSTEM_PROMPT or the user message changes: the cache is per version
MAX_TOKENS = 1200  # three bullets are ~600 tokens of Korean; the cap bounds a runaway answer
LEASE = dt.timedelta(minutes=10)  # longer than two attempts × 3 tries × the 60 s timeout
RETRY_LATER = dt.timedelta(minutes=30)  # an unreachable endpoint is tried again after this
# Bounds from the seed's 2024-2025 summaries (2,383 papers): Hangul is ≥ 46% of the letters in
# 99.9% of them (English terms are kept in parentheses), the longest bullet is 554 characters.
MIN_HANGUL = 0.4
MIN_BULLETS, MAX_BULLETS = 2, 8
MAX_BULLET = 700
MAX_TOTAL = 2400

SYSTEM_PROMPT = """\
You write the Korean summary of one AI research paper for a daily digest read by Korean \
researchers and engineers.

Answer with exactly three Markdown bullets and nothing else, in this form:
- ***What's New***: what the paper proposes or finds (1-3 sentences)
- ***Technical Details***: how it works: method, architecture, data, training (2-4 sentences)
- ***Performance Highlights***: results, benchmarks and figures reported (1-3 sentences)

Rules:
- Write in Korean, in the polite 합니다 style. Keep names, models, datasets and technical terms \
in English, in parentheses after a Korean term where that helps, e.g. \
혼합 전문가(Mixture of Experts; MoE).
- Use only what the title, abstract, summary and keywords below say; never invent figures.
- No headings, links, images, HTML, code blocks, and no text before or after the bullets.

Example of the style (for a different paper):
- ***What's New***: 이 논문은 긴 문맥을 효율적으로 처리하는 선형 어텐션(Linear Attention) 기반 \
언어 모델을 제안합니다.
- ***Technical Details***: 블록 단위로 어텐션을 계산하고 일부 층에만 소프트맥스 어텐션\
(Softmax Attention)을 섞어 메모리 사용량을 줄였습니다.
- ***Performance Highlights***: 100만 토큰 문맥에서도 기존 모델과 비슷한 정확도를 유지하면서 \
추론 속도가 크게 향상되었습니다."""


def user_prompt(paper: SummaryCandidate) -> str:
    """The user message: the paper's id, title, authors, keywords, HF summary and abstract."""
    authors = ", ".join(paper.authors[:8]) + (" et al." if len(paper.authors) > 8 else "")
    lines = [f"arXiv: {paper.arxiv_id}", f"Title: {' '.join(paper.title.split())}"]
    if authors:
        lines.append(f"Authors: {authors}")
    if paper.ai_keywords:
        lines.append(f"Keywords: {', '.join(paper.ai_keywords)}")
    if paper.ai_summary:
        lines.append(f"HF summary: {' '.join(paper.ai_summary.split())}")
    lines.append(f"Abstract: {' '.join((paper.abstract or '(none)').split())}")
    return "\n".join(lines)


# ---- the checks (pure)


class Rejected(Exception):
    """The model's answer cannot be shown as this paper's summary."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ValidSummary:
    """An answer that passed every check: its sections and the paper block it was read from."""

    sections: tuple[SummarySection, ...]
    block: str


_FENCE = re.compile(r"^\s*(```|~~~)")
# A chatty first line ("Here is the summary:", "다음은 요약입니다:") is dropped, not rejected.
_PREAMBLE = re.compile(
    r"^(here\b|here's|sure\b|certainly\b|okay\b|summary\b|다음은|아래는|요약)", re.IGNORECASE
)
_TAG = re.compile(r"</?\s*[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_LINK = re.compile(r"!?\[[^\]\n]*\]\s*\(|<https?://|\]\s*\[")
_SCRIPT_URL = re.compile(r"(?:java|vb)script\s*:", re.IGNORECASE)
_KEY = re.compile(r"^\*{1,3}[^*\n]{1,80}\*{1,3}\s*:")
_TERM = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*")
# Words too common in abstracts to tell one paper from another.
_COMMON = frozenset(
    [
        "about",
        "above",
        "across",
        "after",
        "also",
        "among",
        "approach",
        "approaches",
        "based",
        "been",
        "being",
        "benchmark",
        "benchmarks",
        "between",
        "both",
        "data",
        "dataset",
        "datasets",
        "demonstrate",
        "different",
        "each",
        "existing",
        "first",
        "from",
        "have",
        "however",
        "into",
        "large",
        "learning",
        "level",
        "method",
        "methods",
        "model",
        "models",
        "more",
        "most",
        "multiple",
        "novel",
        "other",
        "over",
        "paper",
        "performance",
        "propose",
        "proposed",
        "results",
        "show",
        "shows",
        "such",
        "task",
        "tasks",
        "than",
        "that",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "through",
        "training",
        "using",
        "various",
        "well",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "with",
        "within",
        "without",
        "work",
    ]
)


def clean_answer(text: str) -> str:
    """Strip harmless wrappers: code fences, a chatty first line, blank lines, `* ` bullets."""
    lines = [line.strip() for line in text.strip().splitlines() if not _FENCE.match(line)]
    lines = [line for line in lines if line]
    while lines and not lines[0].startswith(("- ", "* ")) and _PREAMBLE.match(lines[0]):
        lines.pop(0)
    return "\n".join("- " + line[2:] if line.startswith("* ") else line for line in lines)


def hangul_share(text: str) -> float:
    """Hangul's share of the letters in `text` (0 when it has no letters)."""
    letters = [ch for ch in text if ch.isalpha()]
    hangul = sum(1 for ch in letters if "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e")
    return hangul / len(letters) if letters else 0.0


def terms(*texts: str | None) -> frozenset[str]:
    """The Latin-script words of 4+ letters in `texts`, lower-cased, common ones left out."""
    words = (m.lower() for t in texts if t for m in _TERM.findall(t) if len(m) >= 4)
    return frozenset(word for word in words if word not in _COMMON)


def distinctive_terms(papers: Sequence[SummaryCandidate]) -> dict[str, frozenset[str]]:
    """Each paper's terms that no other paper of the batch has."""
    own = {
        p.arxiv_id: terms(p.title, p.abstract, p.ai_summary, " ".join(p.ai_keywords))
        for p in papers
    }
    counts = Counter(term for found in own.values() for term in found)
    return {key: frozenset(t for t in found if counts[t] == 1) for key, found in own.items()}


def foreign_paper(
    answer: str, *, arxiv_id: str, distinctive: Mapping[str, frozenset[str]]
) -> str | None:
    """The other paper an answer seems to be about, or None.

    Kept simple: an answer naming none of this paper's distinctive terms but two or more of
    another paper's is that other paper's summary (a mixed-up request, a cached answer). An
    answer without English terms cannot be judged this way and passes.
    """
    used = terms(answer)
    if used & distinctive.get(arxiv_id, frozenset()):
        return None
    for other, theirs in distinctive.items():
        if other != arxiv_id and len(used & theirs) >= 2:
            return other
    return None


def _check_text(text: str, paper: SummaryCandidate) -> list[str]:
    """The answer's bullets, or Rejected naming the first problem."""
    if not text:
        raise Rejected("empty answer")
    if _SCRIPT_URL.search(text):
        raise Rejected("a script URL")
    source = f"{paper.title} {paper.abstract or ''}"
    tags = {tag for tag in _TAG.findall(text) if tag not in source}  # e.g. a `<think>` paper
    if tags:
        raise Rejected(f"HTML tag {sorted(tags)[0][:40]}")
    if _LINK.search(text):
        raise Rejected("a Markdown link or image")
    lines = text.split("\n")
    if any(line.startswith("#") for line in lines):
        raise Rejected("a heading")
    if not all(line.startswith("- ") and line[2:].strip() for line in lines):
        raise Rejected("not a list of bullets")
    bullets = [line[2:].strip() for line in lines]
    longest = max(len(bullet) for bullet in bullets)
    if longest > MAX_BULLET or sum(map(len, bullets)) > MAX_TOTAL:
        raise Rejected(f"too long (a bullet of {longest} characters)")
    if not MIN_BULLETS <= len(bullets) <= MAX_BULLETS:
        raise Rejected(f"{len(bullets)} bullets")
    share = hangul_share(" ".join(_KEY.sub("", bullet) for bullet in bullets))
    if share < MIN_HANGUL:
        raise Rejected(f"not Korean (Hangul {share:.0%} of letters)")
    return bullets


def paper_block(paper: SummaryCandidate, bullets: Sequence[str]) -> str:
    """The paper in the seed's Markdown format, with these bullets as its summary."""
    title = " ".join(paper.title.split())
    votes = "-" if paper.votes is None else str(paper.votes)
    authors = ", ".join(" ".join(name.replace(",", " ").split()) for name in paper.authors)
    body = "\n".join(f"- {bullet}" for bullet in bullets)
    heading = f"### [{title}](https://arxiv.org/abs/{paper.arxiv_id})"
    return f"{heading}\n\nVote: {votes}\n\nAuthors: {authors}\n\n{body}\n"


def validate_answer(
    answer: str, *, paper: SummaryCandidate, distinctive: Mapping[str, frozenset[str]]
) -> ValidSummary:
    """Check a model's answer and read it back through the Markdown parser; raise Rejected."""
    bullets = _check_text(clean_answer(answer), paper)
    other = foreign_paper(" ".join(bullets), arxiv_id=paper.arxiv_id, distinctive=distinctive)
    if other is not None:
        raise Rejected(f"about another paper ({other})")
    block = paper_block(paper, bullets)
    digest = parse_markdown(f"## Daily Papers ({paper.date.isoformat()})\n\n{block}", source="llm")
    if digest.errors:
        raise Rejected(f"parse issue: {digest.errors[0].message}")
    if len(digest.papers) != 1 or digest.papers[0].arxiv_id != paper.arxiv_id:
        raise Rejected("did not read back as this one paper")
    sections = digest.papers[0].summary
    if sum(len(section.bullets) for section in sections) != len(bullets):
        raise Rejected("did not read back as the same bullets")
    return ValidSummary(sections=sections, block=block)


# ---- the runs


@dataclass(slots=True)
class SummaryReport:
    """What one run did: papers looked at, and what became of them."""

    papers: int = 0
    summarized: int = 0
    cached: int = 0  # a summary for this model and prompt version already existed
    failed: int = 0
    skipped: int = 0  # failed in an earlier run, or being summarized by another worker
    capped: int = 0  # left for tomorrow: SUMMARY_MAX_PER_DAY was reached
    errors: list[dict[str, str]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def as_json(self) -> dict[str, Any]:
        """The report as the CLI's JSON object."""
        return {
            "papers": self.papers,
            "summarized": self.summarized,
            "cached": self.cached,
            "failed": self.failed,
            "skipped": self.skipped,
            "capped": self.capped,
            "errors": self.errors,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


@dataclass(slots=True)
class _Attempt:
    """The outcome of asking for one paper (up to two answers)."""

    kind: Literal["done", "rejected", "unavailable"] = "rejected"
    summary: ValidSummary | None = None
    error: str = ""
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


def worker_name() -> str:
    """This process's claim name: host, pid and a random suffix (one per Summarizer)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Summarizer:
    """Summarizes papers through the configured endpoint; use as `async with`."""

    def __init__(
        self,
        settings: Settings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], dt.datetime] = utc_now,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_RETRIES,
        progress: Progress | None = None,
    ) -> None:
        self.settings = settings
        self.model = settings.summary_model
        self.client = ChatClient(settings, timeout=timeout, max_retries=max_retries)
        self.sessions = sessions
        self.clock = clock
        self.worker = worker_name()
        self.progress = progress
        self._slots = asyncio.Semaphore(settings.summary_concurrency)
        self._ahead = asyncio.Semaphore(2 * settings.summary_concurrency)  # claimed, unfinished
        # This process's claims and stores take turns: on SQLite, connections waiting for each
        # other's write lock poll in sleeps of up to 100 ms, which cost more than the writes.
        self._writes = asyncio.Lock()

    async def __aenter__(self) -> Summarizer:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()

    async def summarize_days(
        self, dates: Iterable[dt.date], *, missing_only: bool = True
    ) -> SummaryReport:
        """Summarize the papers of `dates` (with `missing_only`, those without a Korean one)."""
        async with self.sessions() as session:
            papers = await papers_to_summarize(
                session,
                dates=sorted(set(dates)),
                model=self.model,
                prompt_version=PROMPT_VERSION,
                missing_only=missing_only,
            )
        return await self._run(papers)

    async def summarize_ids(self, ids: Sequence[str]) -> SummaryReport:
        """Summarize these archived papers (unknown ids are reported as errors)."""
        async with self.sessions() as session:
            papers = await papers_by_id(
                session, arxiv_ids=ids, model=self.model, prompt_version=PROMPT_VERSION
            )
        report = await self._run(papers)
        known = {paper.arxiv_id for paper in papers}
        report.errors.extend(
            {"arxiv_id": i, "message": "not in the archive"} for i in ids if i not in known
        )
        return report

    async def _run(self, papers: Sequence[SummaryCandidate]) -> SummaryReport:
        """Claim papers in order, a little ahead of the calls, which run at most
        `summary_concurrency` at a time.

        Claiming ahead keeps the next calls ready while earlier answers are being stored (on
        SQLite those writes take turns). The lookahead is bounded, so a claimed paper waits
        about one call for its slot: far less than its lease.
        """
        report = SummaryReport(papers=len(papers))
        distinctive = distinctive_terms(papers)
        todo = [paper for paper in papers if paper.state != "done"]
        report.cached = len(papers) - len(todo)
        finished = [report.cached]
        self._tick(finished, report, "")
        tasks: dict[str, asyncio.Task[None]] = {}
        try:
            for paper in todo:
                await self._ahead.acquire()
                try:
                    outcome = await self._claim(paper)
                except Exception as exc:
                    outcome = None
                    _count_error(report, paper, exc)
                if outcome == "claimed":
                    job = self._one(paper, distinctive, report, finished)
                    tasks[paper.arxiv_id] = asyncio.create_task(job)
                    continue
                self._ahead.release()
                if outcome is not None:
                    _count_unclaimed(report, outcome)
                finished[0] += 1
                self._tick(finished, report, paper.arxiv_id)
            results = await asyncio.gather(*tasks.values(), return_exceptions=True)
        finally:
            for task in tasks.values():
                task.cancel()  # only when the run itself is cancelled: the others are done
        for (arxiv_id, _task), result in zip(tasks.items(), results, strict=True):
            if isinstance(result, Exception):
                # A database error while storing: the row stays claimed until its lease ends.
                _count_error(report, next(p for p in todo if p.arxiv_id == arxiv_id), result)
        return report

    def _tick(self, finished: list[int], report: SummaryReport, arxiv_id: str) -> None:
        """Report progress after one more paper."""
        if self.progress is not None:
            self.progress(finished[0], report.papers, arxiv_id)

    async def _one(
        self,
        paper: SummaryCandidate,
        distinctive: Mapping[str, frozenset[str]],
        report: SummaryReport,
        finished: list[int],
    ) -> None:
        """Ask for and store the summary of a claimed paper."""
        try:
            async with self._slots:
                attempt = await self._ask(paper, distinctive)
            await self._store(paper, attempt, report)
        finally:
            self._ahead.release()
            finished[0] += 1
            self._tick(finished, report, paper.arxiv_id)

    async def _claim(self, paper: SummaryCandidate) -> ClaimOutcome:
        """Claim the paper's row in a short transaction of its own."""
        async with self._writes, self.sessions.begin() as session:
            return await claim_summary(
                session,
                arxiv_id=paper.arxiv_id,
                model=self.model,
                prompt_version=PROMPT_VERSION,
                worker=self.worker,
                now=self.clock(),
                lease=LEASE,
                daily_cap=self.settings.summary_max_per_day,
            )

    async def _ask(
        self, paper: SummaryCandidate, distinctive: Mapping[str, frozenset[str]]
    ) -> _Attempt:
        """Ask for the paper's summary; a rejected answer gets one more try."""
        attempt = _Attempt()
        for _ in range(2):
            attempt.calls += 1
            metrics.SUMMARIZER_CALLS.inc()
            try:
                answer = await self.client.complete(
                    system=SYSTEM_PROMPT, user=user_prompt(paper), max_tokens=MAX_TOKENS
                )
            except EndpointError as exc:
                metrics.SUMMARIZER_FAILURES.labels("endpoint").inc()
                attempt.kind, attempt.error = "unavailable", f"endpoint: {exc}"
                return attempt
            attempt.prompt_tokens += answer.prompt_tokens
            attempt.completion_tokens += answer.completion_tokens
            metrics.SUMMARIZER_TOKENS.labels("prompt").inc(answer.prompt_tokens)
            metrics.SUMMARIZER_TOKENS.labels("completion").inc(answer.completion_tokens)
            try:
                attempt.summary = validate_answer(answer.text, paper=paper, distinctive=distinctive)
            except Rejected as exc:
                metrics.SUMMARIZER_FAILURES.labels("rejected").inc()
                attempt.error = REJECTED + exc.reason
                log.info("summary of %s rejected: %s", paper.arxiv_id, exc.reason)
                continue
            attempt.kind = "done"
            return attempt
        return attempt

    async def _store(
        self, paper: SummaryCandidate, attempt: _Attempt, report: SummaryReport
    ) -> None:
        """Store the outcome on the claimed row and count it."""
        report.prompt_tokens += attempt.prompt_tokens
        report.completion_tokens += attempt.completion_tokens
        now = self.clock()
        common: dict[str, Any] = {
            "arxiv_id": paper.arxiv_id,
            "model": self.model,
            "prompt_version": PROMPT_VERSION,
            "worker": self.worker,
            "attempts": attempt.calls,
            "prompt_tokens": attempt.prompt_tokens,
            "completion_tokens": attempt.completion_tokens,
            "now": now,
        }
        async with self._writes, self.sessions.begin() as session:
            if attempt.summary is not None:
                summary = attempt.summary
                kept = await complete_summary(
                    session, sections=summary.sections, block=summary.block, **common
                )
                if kept:  # searchable in Korean at once, in the same transaction
                    await reindex_papers(session, arxiv_ids=[paper.arxiv_id])
            else:
                retry_at = now + RETRY_LATER if attempt.kind == "unavailable" else None
                kept = await fail_summary(session, error=attempt.error, retry_at=retry_at, **common)
        if not kept:
            log.warning("summary of %s: the claim was taken over meanwhile", paper.arxiv_id)
            report.skipped += 1
        elif attempt.summary is not None:
            report.summarized += 1
        else:
            report.failed += 1
            report.errors.append({"arxiv_id": paper.arxiv_id, "message": attempt.error})


def _count_error(report: SummaryReport, paper: SummaryCandidate, error: Exception) -> None:
    """Count a paper whose claim or store failed in the database (logged)."""
    log.error("summary of %s: %s", paper.arxiv_id, error, exc_info=error)
    report.failed += 1
    report.errors.append({"arxiv_id": paper.arxiv_id, "message": repr(error)})


def _count_unclaimed(report: SummaryReport, outcome: ClaimOutcome) -> None:
    """Count a paper that was not claimed."""
    if outcome == "done":
        report.cached += 1
    elif outcome == "capped":
        report.capped += 1
    else:
        report.skipped += 1


class BackgroundSummaries:
    """Summaries of freshly stored days, then their papers' search keywords
    (bot.content.keywords), run in the background one run at a time.

    A poll only calls `request`, which never waits: days asked for while a run is going are
    summarized by the next run, started as soon as this one ends. Errors are logged.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.clock = clock
        self._pending: set[dt.date] = set()
        self._task: asyncio.Task[None] | None = None

    def request(self, days: Iterable[dt.date]) -> None:
        """Summarize `days` soon (no-op when no summarizer is configured)."""
        if self.settings.summary_api_base_url is None:
            return
        self._pending.update(days)
        if self._pending and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._drain(), name="paperboy-summaries")

    async def _drain(self) -> None:
        """Run until no day is pending."""
        while self._pending:
            days, self._pending = sorted(self._pending), set()
            try:
                async with Summarizer(
                    self.settings, sessions=self.sessions, clock=self.clock
                ) as summarizer:
                    report = await summarizer.summarize_days(days)
            except Exception:
                log.exception("summaries of %s failed", ", ".join(map(str, days)))
                continue
            if report.summarized or report.failed:
                log.info(
                    "summaries of %s: %d written, %d failed, %d cached, %d capped",
                    ", ".join(map(str, days)),
                    report.summarized,
                    report.failed,
                    report.cached,
                    report.capped,
                )
            if self.settings.search_keywords:
                await self._keywords(days)

    async def _keywords(self, days: list[dt.date]) -> None:
        """Search keywords for the papers of `days`, after their summaries (which they read)."""
        try:
            async with KeywordWriter(self.settings, sessions=self.sessions) as writer:
                report = await writer.write(dates=days)
        except Exception:
            log.exception("keywords of %s failed", ", ".join(map(str, days)))
            return
        if report.papers:
            log.info(
                "keywords of %s: %d written, %d with none, %d failed",
                ", ".join(map(str, days)),
                report.written,
                report.empty,
                report.failed,
            )

    async def join(self) -> None:
        """Wait until no run is going (tests and the console; a poll never waits)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def aclose(self) -> None:
        """Stop a run in progress (its claimed rows are taken over once their lease ends)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
