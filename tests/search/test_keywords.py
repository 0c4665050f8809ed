"""Paper keywords (bot.content.keywords): the prompt and the answer's parser, the writer against
the fake endpoint over real HTTP with its rows and reindex in a real database, /search finding
what only the keywords name, the background run after summaries, and `paperboy keywords`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.content.keywords import (
    MAX_TEXT,
    KeywordReport,
    KeywordWriter,
    parse_keywords,
    user_prompt,
)
from bot.content.summarizer import BackgroundSummaries
from bot.digest import parse_digest
from bot.fakes.llm import FakeLLM, prompt_key
from storage import keywords as stored
from storage.db import create_engine, session_factory
from storage.digest_store import store_digest
from storage.search import search_papers
from tests.summarize.test_cli import paperboy

MAX_KEYWORDS = stored.MAX_KEYWORDS


def test_the_answer_gives_one_keyword_a_line_in_both_languages() -> None:
    """List marks and quotes go; markup, prose and repeats are skipped; Korean is kept."""
    answer = "\n".join(
        [
            "- superconductivity",
            "1. LK-99",
            '"room-temperature superconductor"',
            "Here are the keywords for this paper, one per line as you asked:",
            "<b>materials science</b>",
            "LK-99",
            "초전도체",
            "상온 초전도 (room temperature)",
            "",
        ]
    )
    assert parse_keywords(answer) == [
        "superconductivity",
        "LK-99",
        "room-temperature superconductor",
        "초전도체",
        "상온 초전도 (room temperature)",
    ]
    names = "1.58-bit quantization\n2. A* search\nHierSpeech++\n(IA)3\nPass@1\nN:M sparsity"
    assert parse_keywords(names) == [
        "1.58-bit quantization",
        "A* search",
        "HierSpeech++",
        "(IA)3",
        "Pass@1",
        "N:M sparsity",
    ]
    assert parse_keywords("Keywords:\nfoo; bar") == []
    assert parse_keywords("I'm sorry, but I cannot help with that.") == []
    assert len(parse_keywords("\n".join(f"keyword {n}" for n in range(40)))) == MAX_KEYWORDS


def test_the_user_message_holds_title_keywords_summary_and_a_clipped_abstract() -> None:
    """Lines only for what the paper has; long texts are cut at a word near `MAX_TEXT`."""
    message = user_prompt(
        title="A  Paper\non Things",
        summary="요약 " * 400,
        abstract="word " * 400,
        keywords=("alpha", "beta"),
    )
    lines = message.splitlines()
    assert lines[0] == "Title: A Paper on Things"
    assert lines[1] == "Keywords: alpha, beta"
    assert lines[2].startswith("Korean summary: 요약 요약")
    assert lines[2].endswith(" …")
    assert len(lines[2]) <= len("Korean summary: ") + MAX_TEXT + 2
    assert lines[3].startswith("Abstract: word")
    assert user_prompt(title="T") == "Title: T"


LK99 = """## Daily Papers (2025-01-22)

### [Replication Attempts of LK-99: No Room-Temperature Superconductivity](https://arxiv.org/abs/2501.90101)

Vote: 12

Authors: Ada Kim

- 여러 연구실의 재현 실험 결과를 모아 주장된 현상이 관찰되지 않았음을 보고합니다.

### [Counting Sheep with Transformers](https://arxiv.org/abs/2501.90102)

Vote: 3

Authors: Bo Lee

- 양의 수를 세는 모델을 제안합니다.
"""
DAY = dt.date(2025, 1, 22)
ANSWER = "superconductivity\nLK-99\n초전도체\n상온 초전도"


async def _store(database_url: str, text: str = LK99) -> None:
    """The LK-99 digest in the archive (its summary never says superconductor)."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        await store_digest(session, digest=parse_digest(text, source="k.md"), source="k.md")
        await session.commit()
    await engine.dispose()


def _answers() -> dict[str, str]:
    """The fake's recorded answer for the LK-99 paper's user message."""
    message = user_prompt(
        title="Replication Attempts of LK-99: No Room-Temperature Superconductivity",
        summary="여러 연구실의 재현 실험 결과를 모아 주장된 현상이 관찰되지 않았음을 보고합니다.",
    )
    return {prompt_key(message): ANSWER}


async def _ids(database_url: str, query: str) -> list[str]:
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        hits = await search_papers(session, query=query, limit=10)
    await engine.dispose()
    return [hit.arxiv_id for hit in hits]


async def _write(database_url: str, fake: FakeLLM, **options: Any) -> KeywordReport:
    """One writer run on the archive against the fake (no retries)."""
    settings = load_settings(summary_api_base_url=fake.base_url, _env_file=None)
    engine = create_engine(database_url)
    try:
        sessions = session_factory(engine)
        async with KeywordWriter(settings, sessions=sessions, max_retries=0) as writer:
            return await writer.write(**options)
    finally:
        await engine.dispose()


async def test_search_finds_what_only_the_keywords_name_and_a_paper_is_asked_once(
    database_url: str,
) -> None:
    """`초전도체` and `superconductivity` find the LK-99 paper only once its keywords are
    written; a second run asks nothing; the next ingest of the paper keeps them indexed."""
    await _store(database_url)
    assert "2501.90101" not in await _ids(database_url, "초전도체")
    async with FakeLLM(keywords=_answers()).running() as fake:
        report = await _write(database_url, fake)
        again = await _write(database_url, fake)
        assert fake.total_calls == 2  # one per paper, once
    assert (report.papers, report.written, report.failed) == (2, 2, 0)
    assert again.papers == 0
    assert (await _ids(database_url, "초전도체"))[0] == "2501.90101"
    assert (await _ids(database_url, "superconductivity"))[0] == "2501.90101"
    await _store(database_url, LK99.replace("Vote: 12", "Vote: 40"))  # a newer revision
    assert (await _ids(database_url, "초전도체"))[0] == "2501.90101"
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        found = await stored.newest_keywords(session, arxiv_ids=["2501.90101", "2501.90102"])
    await engine.dispose()
    assert found["2501.90101"] == ANSWER.splitlines()
    assert found["2501.90102"] == ["Counting", "Sheep", "Transformers"]  # the fake's default


@pytest.mark.parametrize("mode", ["500", "timeout"])
async def test_a_failing_endpoint_ends_the_run_and_the_next_run_asks_again(
    database_url: str, mode: str
) -> None:
    """A paper whose request fails is stored as nothing; the next run writes it."""
    await _store(database_url)
    async with FakeLLM(keywords=_answers(), hang=0.5).running() as fake:
        fake.plan(mode)
        settings = load_settings(
            summary_api_base_url=fake.base_url, summary_concurrency=1, _env_file=None
        )
        engine = create_engine(database_url)
        async with KeywordWriter(
            settings, sessions=session_factory(engine), timeout=0.2, max_retries=0
        ) as writer:
            failed = await writer.write()
            later = await writer.write()
        await engine.dispose()
    assert (failed.papers, failed.failed, failed.written) == (2, 1, 0)
    assert len(failed.errors) == 1  # the first paper's failure; the other left for later
    assert (later.papers, later.written) == (2, 2)


async def test_an_unusable_answer_is_remembered_as_none(database_url: str) -> None:
    """A refusal gives no keywords and is not asked again (it would be refused again)."""
    await _store(database_url)
    async with FakeLLM().running() as fake:
        fake.plan("refusal", "refusal")
        first = await _write(database_url, fake)
        second = await _write(database_url, fake)
        assert fake.total_calls == 2
    assert first.empty == 2
    assert second.papers == 0


async def test_keywords_of_days_only_and_a_second_store_keeps_the_first(database_url: str) -> None:
    """`dates` limits the run to those days' papers; two workers storing one paper's keywords
    keep the first, the second is no error."""
    await _store(database_url)
    async with FakeLLM().running() as fake:
        none = await _write(database_url, fake, dates=[DAY - dt.timedelta(days=1)])
        limited = await _write(database_url, fake, dates=[DAY], limit=1)
    assert none.papers == 0
    assert limited.papers == 1
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    for words in (["first"], ["second"]):
        async with sessions() as session, session.begin():
            await stored.store_keywords(
                session, arxiv_id="2501.90102", model="m", prompt_version=9, keywords=words
            )
    async with sessions() as session:
        found = await stored.newest_keywords(session, arxiv_ids=["2501.90102"])
    await engine.dispose()
    assert found["2501.90102"] == ["first"]  # the newest row: after the writer's, before "second"


async def test_new_days_get_keywords_after_their_summaries(database_url: str) -> None:
    """The background run that summarizes a stored day then writes its papers' keywords."""
    await _store(database_url)
    async with FakeLLM(keywords=_answers()).running() as fake:
        settings = load_settings(summary_api_base_url=fake.base_url, _env_file=None)
        engine = create_engine(database_url)
        background = BackgroundSummaries(settings, sessions=session_factory(engine))
        background.request([DAY])
        await background.join()
        await background.aclose()
        await engine.dispose()
        assert fake.calls["keywords:Counting Sheep with Transformers"] == 1
    assert (await _ids(database_url, "초전도체"))[0] == "2501.90101"


async def test_the_keywords_command_writes_them_and_reports(
    database_url: str, tmp_path: Path
) -> None:
    """`paperboy keywords --json` in a real process: the counts as its last line, nothing left
    for a second run; without an endpoint one line says what to set, exit code 2."""
    await _store(database_url)
    async with FakeLLM(keywords=_answers()).running() as fake:
        env = {"DATABASE_URL": database_url, "SUMMARY_API_BASE_URL": fake.base_url}
        code, out, err = await paperboy("keywords", "--json", env=env, cwd=tmp_path)
        assert code == 0, err
        assert json.loads(out.splitlines()[-1]) == {
            "papers": 2,
            "written": 2,
            "empty": 0,
            "failed": 0,
            "errors": [],
        }
        code, out, _ = await paperboy("keywords", "--limit", "5", env=env, cwd=tmp_path)
        assert (code, out.strip()) == (
            0,
            "0 papers: 0 given keywords, 0 answered with none, 0 failed",
        )
    env = {"DATABASE_URL": database_url, "SUMMARY_API_BASE_URL": ""}
    code, out, err = await paperboy("keywords", env=env, cwd=tmp_path)
    assert (code, out) == (2, "")
    assert "SUMMARY_API_BASE_URL is not set" in err
    assert "write keywords" in err
