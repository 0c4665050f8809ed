"""Query expansion (bot.content.expansion): the answer's parser, the expander against the fake
endpoint over real HTTP with its cache in a real database, and /search through the emulator."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import load_settings
from bot.content.expansion import (
    MAX_PHRASES,
    PAUSE,
    PROMPT_VERSION,
    QueryExpander,
    cache_key,
    parse_expansion,
    wants_expansion,
)
from bot.digest import parse_digest
from bot.fakes.llm import FakeLLM
from storage import expansions
from storage.db import create_engine, session_factory
from storage.digest_store import store_digest
from tests.chat.conftest import USER, ChatDriver, running_bot, texts


def test_the_answer_gives_one_phrase_a_line_and_skips_what_is_not_one() -> None:
    """List marks and quotes go; Korean, markup, prose and repeats are skipped, in order."""
    answer = "\n".join(
        [
            "1. test-time compute",
            "- Test-Time Scaling",
            '"best-of-N sampling"',
            "* LLM-as-a-judge",
            "테스트 시간 연산",
            "<b>inference scaling</b>",
            "Here are some phrases that papers on this topic often use in titles:",
            "test-time compute",
            "",
            "α-CLIP",
            "3D Gaussian splatting",
        ]
    )
    assert parse_expansion(answer) == [
        "test-time compute",
        "Test-Time Scaling",
        "best-of-N sampling",
        "LLM-as-a-judge",
        "α-CLIP",
        "3D Gaussian splatting",
    ]
    assert parse_expansion("1.58-bit LLMs\n2) 1.5B models") == ["1.58-bit LLMs", "1.5B models"]
    assert parse_expansion("I'm sorry, but I can't help with that request today.") == []
    assert parse_expansion("") == []
    many = "\n".join(f"phrase {n}" for n in range(30))
    assert len(parse_expansion(many)) == MAX_PHRASES


def test_only_korean_queries_are_expanded_and_keys_are_normalised() -> None:
    """English queries mean their own words; a query's key ignores case and spacing."""
    assert wants_expansion("온디바이스 LLM")
    assert not wants_expansion("on-device LLM")
    assert not wants_expansion("author:lecun 2501.00001")
    assert cache_key("  온디바이스   LLM ") == "온디바이스 llm"
    assert len(cache_key("가" * 500)) == 200


ANSWER = "on-device inference\nmobile devices\nedge devices\nMobileLLM"


async def _expander(database_url: str, fake: FakeLLM, **options: object) -> QueryExpander:
    settings = load_settings(summary_api_base_url=fake.base_url, _env_file=None)
    expander = QueryExpander.from_settings(settings, session_factory(create_engine(database_url)))
    assert expander is not None
    for name, value in options.items():
        setattr(expander, f"_{name}", value)
    return expander


async def test_a_query_is_asked_about_once_and_cached_across_restarts(database_url: str) -> None:
    """The phrases come from the endpoint once; later searches, and a restarted bot (a new
    expander on the same database), read the cache: the endpoint sees one request."""
    async with FakeLLM(expansions={"온디바이스 llm": ANSWER}).running() as fake:
        expander = await _expander(database_url, fake)
        first = await expander.expand("온디바이스  LLM")
        again = await expander.expand("온디바이스 llm")
        await expander.aclose()
        restarted = await _expander(database_url, fake)
        after_restart = await restarted.expand("온디바이스 LLM")
        english = await restarted.expand("on-device LLM")
        await restarted.aclose()
        assert list(first) == ["on-device inference", "mobile devices", "edge devices", "MobileLLM"]
        assert list(again) == list(first) == list(after_restart)
        assert list(english) == []
        assert fake.total_calls == 1
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        stored = await expansions.cached(
            session, query="온디바이스 llm", model="gpt-4o-mini", prompt_version=PROMPT_VERSION
        )
    await engine.dispose()
    assert stored == list(first)


async def test_searches_of_one_new_query_at_once_share_one_request(database_url: str) -> None:
    """Ten chats searching the same new query together cost one request."""
    async with FakeLLM(latency=0.2, expansions={"온디바이스": ANSWER}).running() as fake:
        expander = await _expander(database_url, fake)
        results = await asyncio.gather(*(expander.expand("온디바이스") for _ in range(10)))
        await expander.aclose()
        assert all(len(result) == 4 for result in results)
        assert fake.total_calls == 1


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("mode", ["500", "timeout"])
async def test_a_failing_endpoint_costs_one_wait_then_a_pause(database_url: str, mode: str) -> None:
    """An error or a timeout expands nothing and stores nothing; searches during the pause do
    not ask; after it, the endpoint is asked again and its answer is used."""
    clock = Clock()
    async with FakeLLM(hang=5.0, expansions={"온디바이스": ANSWER}).running() as fake:
        expander = await _expander(database_url, fake, timeout=0.5, clock=clock)
        fake.plan(mode)
        assert list(await expander.expand("온디바이스")) == []
        assert list(await expander.expand("온디바이스")) == []  # paused: not asked
        assert fake.total_calls == 1
        clock.now += PAUSE + 1
        assert len(await expander.expand("온디바이스")) == 4
        assert fake.total_calls == 2
        await expander.aclose()


async def test_an_unusable_answer_is_remembered_as_no_phrases(database_url: str) -> None:
    """A refusal expands nothing and is not asked again (it would be refused again)."""
    async with FakeLLM().running() as fake:
        expander = await _expander(database_url, fake)
        fake.plan("refusal")
        assert list(await expander.expand("온디바이스")) == []
        assert list(await expander.expand("온디바이스")) == []
        await expander.aclose()
        assert fake.total_calls == 1


LK99 = """## Daily Papers (2025-01-22)

### [Replication Attempts of LK-99: No Room-Temperature Superconductivity](https://arxiv.org/abs/2501.90101)

Vote: 12

Authors: Ada Kim

- 여러 연구실의 재현 실험 결과를 모아 주장된 현상이 관찰되지 않았음을 보고합니다.
"""


async def _store_lk99(database_url: str) -> None:
    """An archive holding the LK-99 paper (whose summary never says superconductor)."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        await store_digest(session, digest=parse_digest(LK99, source="k.md"), source="k.md")
        await session.commit()
    await engine.dispose()


async def test_search_finds_what_only_the_expansion_names(database_url: str) -> None:
    """`/search 초전도체` (superconductor) finds a paper whose Korean summary never says it,
    through the model's English phrases; without the endpoint it finds nothing. A second
    search reads the cache; with the endpoint down, /search still answers."""
    await _store_lk99(database_url)
    answers = {"초전도체": "superconductor\nsuperconductivity\nLK-99"}
    async with FakeLLM(expansions=answers).running() as fake:
        async with running_bot(database_url, summary_api_base_url=fake.base_url) as chat:
            found = texts(await chat.send("/search 초전도체"))
            again = texts(await chat.send("/search 초전도체"))
            fake.plan("500")
            other = texts(await chat.send("/search 상온 초전도"))
        assert "Replication Attempts of LK-99" in found
        assert again == found
        assert fake.calls["query:초전도체"] == 1
        assert other  # answered (no results, or the archive's own matches), never silence
    async with running_bot(database_url) as chat:
        plain = texts(await chat.send("/search 초전도체"))
    assert "Replication Attempts of LK-99" not in plain


async def _inline_ids(chat: ChatDriver, query: str) -> list[str]:
    """The arXiv ids inline mode offers for `@bot query`."""
    before = len(chat.emulator.inline_answers)
    await chat.processed(chat.emulator.inline_query(user_id=USER, query=query))
    (answer,) = chat.emulator.inline_answers[before:]
    return [str(result["id"]) for result in answer["results"]]


async def test_inline_mode_uses_an_expansion_search_already_asked_for(database_url: str) -> None:
    """Inline mode (a search per keystroke) never asks the model, but once /search has, its
    cached phrases widen `@bot 초전도체` too."""
    await _store_lk99(database_url)
    answers = {"초전도체": "superconductor\nLK-99"}
    async with FakeLLM(expansions=answers).running() as fake:
        async with running_bot(database_url, summary_api_base_url=fake.base_url) as chat:
            before = await _inline_ids(chat, "초전도체")
            assert fake.total_calls == 0
            await chat.send("/search 초전도체")
            after = await _inline_ids(chat, "초전도체")
        assert fake.total_calls == 1
    assert "2501.90101" not in before
    assert "2501.90101" in after


async def test_a_second_store_of_one_query_keeps_the_first(database_url: str) -> None:
    """Two workers storing the same query: the first answer stays, the second is no error."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    for phrases in (["on-device"], ["edge devices"]):
        async with sessions() as session, session.begin():
            await expansions.store(
                session, query="온디바이스", model="m", prompt_version=1, phrases=phrases
            )
    async with sessions() as session:
        stored = await expansions.cached(session, query="온디바이스", model="m", prompt_version=1)
    await engine.dispose()
    assert stored == ["on-device"]
