"""Korean search queries widened by the operator's model: English phrases for their meaning.

The archive's tables translate words (storage.search_query); what they cannot reach is meaning:
`개인화 이미지 생성` is written *subject-driven generation* or *identity-preserving* in titles,
`온디바이스` *mobile phone GPUs*. When the summarizer's endpoint is configured, a `/search`
whose text holds Korean asks it once for English phrases papers on that topic use (the
query's translation first, then narrower names), checks them (`parse_expansion`), and keeps
them in `query_expansions` per model and prompt version, so a query costs one request ever,
across restarts and workers. storage.search matches the phrases beside the query's own words.

Never in a search's way: the request has `timeout` seconds (no retries); a failure answers
with the archive's own matching and pauses asking for `PAUSE` seconds, so a dead endpoint
costs one wait, not one per search. Nothing is stored for a failure: the next search after
the pause asks again. Only the query goes to the endpoint, never who asked.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.content.llm import ChatClient, EndpointError
from storage import expansions
from storage.search import MAX_EXPANSION

log = logging.getLogger(__name__)

# Bump when the prompt changes: cached expansions of another version are asked again.
PROMPT_VERSION = 1
SYSTEM_PROMPT = """\
You expand search queries for a search engine over machine-learning research papers \
(arXiv titles and English abstracts, with Korean summaries).
For the user's query, which is often Korean, list the English phrases that papers about \
exactly this topic use in their titles and abstracts:
- first the query's English translation (and its other common English names);
- then up to 8 narrower or alternative names of the same topic: synonyms, abbreviations, \
and well-known method, model, task or benchmark names specific to it.
Precision first: leave out broad words that papers on other topics use too. One phrase per \
line, at most 12 lines, English only, no numbering and no explanations."""
MAX_PHRASES = MAX_EXPANSION  # the search uses no more
MAX_WORDS = 6  # a longer line is a sentence, not a phrase a title uses
MAX_QUERY = 200  # characters of a query sent (and the cache key's length)
MAX_TOKENS = 200
DEFAULT_TIMEOUT = 5.0
PAUSE = 60.0  # seconds without asking after a failure

_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_BULLET = re.compile(r"^\s*(?:[-*•·]\s*|\d+[.)]\s+)")  # "1.58-bit" is no list mark
# Letters, digits and the punctuation of technical names (`text-to-image`, `LLM-as-a-judge`,
# `α-CLIP`, `KV cache`, `3D`); anything else (markup, Korean, sentences' `:`) fails the line.
_PHRASE = re.compile(r"[^\W_](?:[\w .+&'/-]*[^\W_])?")


def wants_expansion(query: str) -> bool:
    """Whether a query is one the model is asked about: it holds Korean text."""
    return bool(_HANGUL.search(query))


def cache_key(query: str) -> str:
    """The query as sent and cached: spaces collapsed, lower case, at most `MAX_QUERY` long."""
    return " ".join(query.split()).lower()[:MAX_QUERY]


def parse_expansion(text: str) -> list[str]:
    """The usable phrases of the model's answer, in its order, each once.

    A line is one phrase: list marks and quotes are dropped; a line with Korean, markup or a
    sentence (more than `MAX_WORDS` words) is skipped, as is anything after the first
    `MAX_PHRASES` phrases. An answer of none (a refusal, prose) expands nothing.
    """
    found: dict[str, str] = {}
    for line in text.splitlines():
        phrase = _BULLET.sub("", line).strip().strip("\"'`").strip()
        if (
            not phrase
            or _HANGUL.search(phrase)
            or not _PHRASE.fullmatch(phrase)
            or len(phrase.split()) > MAX_WORDS
        ):
            continue
        found.setdefault(phrase.lower(), phrase)
        if len(found) == MAX_PHRASES:
            break
    return list(found.values())


class QueryExpander:
    """Expansions of Korean queries: from the cache, else from the model (bounded wait)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: ChatClient,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._client = client
        self._timeout = timeout
        self._clock = clock
        self._paused_until = 0.0
        self._asking: dict[str, asyncio.Task[list[str] | None]] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, sessions: async_sessionmaker[AsyncSession]
    ) -> QueryExpander | None:
        """The expander of the configured endpoint, or None when it is off."""
        if settings.summary_api_base_url is None or not settings.search_expansion:
            return None
        timeout = settings.search_expansion_timeout
        return cls(sessions, ChatClient(settings, timeout=timeout, max_retries=0), timeout=timeout)

    @property
    def model(self) -> str:
        """The model whose answers are cached."""
        return self._client.model

    async def known(self, query: str) -> Sequence[str]:
        """The phrases already cached for a Korean query, never asking the model (inline mode
        runs a search per keystroke: it cannot wait for one, nor send each prefix)."""
        cached = await self._cached(query) if wants_expansion(query) else None
        return cached or ()

    async def _cached(self, query: str) -> list[str] | None:
        """The cached answer for the query (None when it was never asked)."""
        async with self._sessions() as session:
            return await expansions.cached(
                session, query=cache_key(query), model=self.model, prompt_version=PROMPT_VERSION
            )

    async def expand(self, query: str) -> Sequence[str]:
        """English phrases for a Korean query (empty for others and when none can be had)."""
        if not wants_expansion(query):
            return ()
        key = cache_key(query)
        cached = await self._cached(query)
        if cached is not None:
            return cached
        if self._clock() < self._paused_until:
            return ()
        # Two chats searching the same new query at once share one request.
        task = self._asking.get(key)
        if task is None:
            task = asyncio.create_task(self._ask(key))
            self._asking[key] = task
            task.add_done_callback(lambda _: self._asking.pop(key, None))
        return await asyncio.shield(task) or ()

    async def _ask(self, key: str) -> list[str] | None:
        """Ask the model and store its phrases; None (and a pause) when it fails."""
        started = self._clock()
        try:
            completion = await asyncio.wait_for(
                self._client.complete(system=SYSTEM_PROMPT, user=key, max_tokens=MAX_TOKENS),
                self._timeout,
            )
        except (EndpointError, TimeoutError) as exc:
            reason = str(exc) or "timeout"
            log.warning("query expansion failed (%s); searching without it for %ss", reason, PAUSE)
            self._paused_until = self._clock() + PAUSE
            return None
        phrases = parse_expansion(completion.text)
        async with self._sessions() as session, session.begin():
            await expansions.store(
                session,
                query=key,
                model=self.model,
                prompt_version=PROMPT_VERSION,
                phrases=phrases,
            )
        log.info("query expanded into %d phrases in %.1f s", len(phrases), self._clock() - started)
        return phrases

    async def aclose(self) -> None:
        """Close the endpoint's client."""
        await self._client.aclose()
