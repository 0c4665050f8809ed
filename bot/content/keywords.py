"""Search keywords paperboy asks the operator's model for: the topics a paper is about, in
English and Korean, indexed with its text (storage.search_index).

A Korean summary names a paper's topic the way its writer did (`주제 중심 생성`), a reader's
query another way (`개인화 이미지 생성`); the tables in storage.search_query translate words,
not meaning. The Hugging Face list gives newer papers English keywords; this gives every paper
(digests, uploads, older months) the names of its topics in both languages, once, from the model
that already writes its summaries.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.content.llm import DEFAULT_RETRIES, DEFAULT_TIMEOUT, ChatClient, EndpointError
from storage.keywords import MAX_KEYWORDS, papers_without_keywords, store_keywords
from storage.search_index import PaperText, paper_texts_of, reindex_papers

Progress = Callable[[int, int, str], None]  # (done, total, arXiv id), like the summarizer's

# Bump when the prompt or the user message changes: keywords of another version are asked again.
PROMPT_VERSION = 1
SYSTEM_PROMPT = """\
You write the search keywords of one machine-learning research paper, for a search engine \
where Korean and English speaking researchers look papers up by topic.
List what the paper is about, most central first:
- first in English: its field, its task or problem, its kind of method, and its data or \
modality, each by its usual name, then other common names and abbreviations of the same \
things (at most 10 lines);
- then in Korean: the names Korean researchers use for its main topics, as words or \
transliterations (at most 6 lines).
Only what the paper is about, not what it merely uses, compares with or mentions. One keyword \
per line, no numbering and no explanations."""
MAX_TOKENS = 300
MAX_TEXT = 600  # characters of the summary and of the abstract sent: the topic comes first
MAX_WORDS = 6  # a longer line is a sentence, not a keyword
BATCH = 200  # papers whose texts are read at once

_BULLET = re.compile(r"^\s*(?:[-*•·]\s*|\d+[.)]\s+)")  # "1.58-bit" is no list mark
# Letters (any script), digits and the punctuation of technical names (`text-to-image`, `3D`,
# `LLM-as-a-judge`, `α-CLIP`, `Pass@1`, `N:M sparsity`, `A* search`, `REINFORCE++`); markup,
# a trailing `:` (a preamble) and `;` fail the line.
_KEYWORD = re.compile(r"\(?[^\W_](?:[\w .,+&'/()@:^×*-]*(?:[^\W_]|[)+*]))?")


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    """`text` on one line, cut at a word boundary near `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + " …"


def user_prompt(
    *, title: str, summary: str = "", abstract: str | None = None, keywords: tuple[str, ...] = ()
) -> str:
    """The user message: the paper's title, the HF keywords, the Korean summary, the abstract."""
    lines = [f"Title: {' '.join(title.split())}"]
    if keywords:
        lines.append(f"Keywords: {', '.join(keywords)}")
    if summary.strip():
        lines.append(f"Korean summary: {_clip(summary)}")
    if abstract and abstract.strip():
        lines.append(f"Abstract: {_clip(abstract)}")
    return "\n".join(lines)


def parse_keywords(text: str) -> list[str]:
    """The usable keywords of the model's answer, in its order, each once.

    A line is one keyword: list marks and quotes are dropped; a line with markup or a sentence
    (more than `MAX_WORDS` words) is skipped, as is anything after `MAX_KEYWORDS` keywords. An
    answer of none (a refusal, prose) gives none.
    """
    found: dict[str, str] = {}
    for line in text.splitlines():
        keyword = _BULLET.sub("", line).strip().strip("\"'`").strip()
        if not keyword or not _KEYWORD.fullmatch(keyword) or len(keyword.split()) > MAX_WORDS:
            continue
        found.setdefault(keyword.lower(), keyword)
        if len(found) == MAX_KEYWORDS:
            break
    return list(found.values())


@dataclass
class KeywordReport:
    """What one run did: papers asked about, keywords stored, answers with none, failures."""

    papers: int = 0
    written: int = 0
    empty: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The report as the CLI's `--json` prints it."""
        return {
            "papers": self.papers,
            "written": self.written,
            "empty": self.empty,
            "failed": self.failed,
            "errors": self.errors[:20],
        }


class KeywordWriter:
    """Asks the configured endpoint for papers' keywords and indexes them; use as `async with`.

    A paper is asked about once per model and prompt version (its row is the cache); papers
    run `summary_concurrency` at a time. An endpoint that fails after the client's retries
    ends the run (the papers left are asked about by the next one), so a dead endpoint costs
    one wait per run, not one per paper.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        sessions: async_sessionmaker[AsyncSession],
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_RETRIES,
        progress: Progress | None = None,
    ) -> None:
        self.client = ChatClient(settings, timeout=timeout, max_retries=max_retries)
        self.model = settings.summary_model
        self.sessions = sessions
        self.progress = progress
        self._concurrency = settings.summary_concurrency

    async def __aenter__(self) -> KeywordWriter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.client.aclose()

    async def write(
        self, *, dates: Sequence[dt.date] | None = None, limit: int | None = None
    ) -> KeywordReport:
        """Keywords for the papers of `dates` (else every paper, newest first, at most `limit`)
        that have none from this model and prompt version."""
        async with self.sessions() as session:
            ids = await papers_without_keywords(
                session, model=self.model, prompt_version=PROMPT_VERSION, dates=dates, limit=limit
            )
        report = KeywordReport(papers=len(ids))
        # A batch's texts at a time: a backfill of a large archive never holds them all.
        for start in range(0, len(ids), BATCH):
            async with self.sessions() as session:
                papers = await paper_texts_of(session, arxiv_ids=ids[start : start + BATCH])
            if not await self._batch(papers, report):
                break
        return report

    async def _batch(self, papers: Sequence[PaperText], report: KeywordReport) -> bool:
        """Ask for these papers' keywords, `summary_concurrency` at a time, newest first; False
        when the endpoint failed (the papers left wait for a later run)."""
        queue = list(reversed(papers))  # popped newest first
        stop = asyncio.Event()

        async def worker() -> None:
            while queue and not stop.is_set():
                paper = queue.pop()
                try:
                    await self._one(paper, report)
                except EndpointError as exc:
                    report.failed += 1
                    report.errors.append(f"{paper.arxiv_id}: {exc}")
                    stop.set()  # the others finish their paper
                if self.progress is not None:
                    done = report.written + report.empty + report.failed
                    self.progress(done, report.papers, paper.arxiv_id)

        await asyncio.gather(*(worker() for _ in range(min(self._concurrency, len(papers)))))
        return not stop.is_set()

    async def _one(self, paper: PaperText, report: KeywordReport) -> None:
        """Ask for one paper's keywords, store them and refresh its search document."""
        prompt = user_prompt(
            title=paper.title,
            summary=paper.summary,
            abstract=paper.abstract,
            keywords=paper.hf_keywords,
        )
        completion = await self.client.complete(
            system=SYSTEM_PROMPT, user=prompt, max_tokens=MAX_TOKENS
        )
        keywords = parse_keywords(completion.text)
        async with self.sessions() as session, session.begin():
            stored = await store_keywords(
                session,
                arxiv_id=paper.arxiv_id,
                model=self.model,
                prompt_version=PROMPT_VERSION,
                keywords=keywords,
            )
            if stored and keywords:
                await reindex_papers(session, arxiv_ids=[paper.arxiv_id])
        if keywords:
            report.written += 1
        else:
            report.empty += 1
