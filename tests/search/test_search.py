"""Search unit and integration tests: analysis, query language, hostile input, authors, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import search
from storage.analysis import analyze, parse_query, term_tokens
from storage.author_search import search_authors
from storage.search import search_papers
from storage.search_index import index_papers, rebuild_index
from storage.search_query import query_terms
from tests.search.archive import digest_session

DIGEST = """## Daily Papers (2024-10-21)

### [Mitigating Hallucinations in Multimodal Models](https://arxiv.org/abs/2410.11111)

Vote: 40

Authors: Łukasz Kaiser, Yann LeCun, Gemini Team

- 이 논문은 멀티모달 모델의 환각(Hallucination)을 줄입니다. 모달리티의 정렬을 개선합니다.

### [Scaling Reinforcement Learning for Text-to-Video Generation](https://arxiv.org/abs/2410.22222)

Vote: 10

Authors: Tim Rocktäschel, Ann Lee

- 강화 학습(Reinforcement Learning)으로 text-to-video 모델의 논문 품질을 높입니다.

### [A Survey of LLMs Quantization](https://arxiv.org/abs/2311.33333)

Vote: 5

Authors: Bo Li

- 대형 언어 모델의 양자화 기법을 정리합니다.
"""

HOSTILE = [
    '"',
    '""""',
    "*",
    "NEAR(",
    "NEAR(a b",
    "a AND OR NOT b",
    "') OR 1=1; DROP TABLE papers; --",
    "<script>alert(1)</script>",
    "title_tokens: x",
    "{title_tokens} : x",
    "^x",
    "-",
    "--",
    "-x",
    "author:",
    'author:"',
    "year:99999",
    "date:2024-13..2024-99",
    "from:abc to:",
    "x" * 2000,
    "강화 " * 700,
    "🤖🔥 emoji 😀",
    "\x00\x01\u202e",
    "arxiv.org/abs/9999.99999",
    "a" * 50 + ":" + "b" * 50,
    "'",
    "(",
    ")",
    "\\",
    "%_%",
]


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session on a fresh database holding the three-paper digest."""
    async with digest_session(database_url, DIGEST) as session:
        yield session


async def _ids(session: AsyncSession, query: str) -> list[str]:
    """The arXiv ids `query` finds, best first."""
    return [hit.arxiv_id for hit in await search_papers(session, query=query)]


def test_analysis_matches_korean_across_particles_and_spacing() -> None:
    """Particles are stripped from queries and spacing does not change the bigrams matched."""
    assert term_tokens("모달리티의") == [["모달", "달리", "리티"]]
    spaced, joined = analyze("강화 학습"), analyze("강화학습")
    assert set(joined) <= set(spaced)
    assert term_tokens("논문") == [["논문"]]


def test_analysis_folds_english() -> None:
    """Case, diacritics, plurals and hyphenated compounds fold to the same tokens; after the
    text come a compound's pair: the token before it, its joined token."""
    assert analyze("LLMs Łukasz Text-to-Video") == [
        "llm",
        "lukasz",
        "text",
        "to",
        "video",
        "lukasz",
        "texttovideo",
    ]
    assert term_tokens("text-to-video") == [["text", "to", "video"], ["texttovideo"]]


def test_parse_query_language() -> None:
    """Words, phrases, exclusions, author, year and date ranges and ids are recognised."""
    parsed = parse_query(
        'rl "text to video" -gan author:"Y. LeCun" date:2024-02..2024-03 2401.00001'
    )
    assert parsed.words == ["rl"]
    assert parsed.phrases == ["text to video"]
    assert parsed.excluded == ["gan"]
    assert parsed.authors == ["Y. LeCun"]
    assert (parsed.dates.start, parsed.dates.end) == ("2024-02-01", "2024-03-31")
    assert parsed.arxiv_ids == ["2401.00001"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("모달리티의", "2410.11111"),
        ("환각", "2410.11111"),
        ("강화학습", "2410.22222"),
        ("강화 학습", "2410.22222"),
        ("reinforcement learning", "2410.22222"),
        ("text to video", "2410.22222"),
        ("texttovideo", "2410.22222"),
        ("HALLUCINATION", "2410.11111"),
        ("llm", "2311.33333"),
        ("https://arxiv.org/abs/2311.33333v2", "2311.33333"),
        ("huggingface.co/papers/2410.22222", "2410.22222"),
        ("rocktaschel", "2410.22222"),
        ("Y. LeCun", "2410.11111"),
    ],
)
async def test_search_finds_expected_paper_first(
    session: AsyncSession, query: str, expected: str
) -> None:
    """Each query kind puts the paper it names or describes first."""
    assert (await _ids(session, query))[:1] == [expected]


async def test_a_very_common_word_ranks_its_newest_matches_only(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `RANKED_MATCHES` (PostgreSQL: `POSTGRES_RANKED_MATCHES`) matches, only the newest
    indexed are ranked (the slow tail's cap).

    All three papers say `모델`; indexed in arXiv id order, 2311.33333 is the oldest.
    """
    assert sorted(await _ids(session, "모델")) == ["2311.33333", "2410.11111", "2410.22222"]
    monkeypatch.setattr(search, "RANKED_MATCHES", 2)
    monkeypatch.setattr(search, "POSTGRES_RANKED_MATCHES", 2)
    assert sorted(await _ids(session, "모델")) == ["2410.11111", "2410.22222"]
    assert await _ids(session, "양자화") == ["2311.33333"]  # a rarer word still finds it


async def test_postgres_searches_the_newest_window_first_and_widens_it(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL looks for a common query's newest matches among the newest documents first
    (a window sized by the lexeme statistics), with the same results as over all documents;
    a window holding too few matches is widened, then given up; plain index scans, turned
    off for that statement, are on again afterwards."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's window over the newest documents")
    url = str(session.get_bind().engine.url)
    monkeypatch.setattr(search, "POSTGRES_RANKED_MATCHES", 2)
    monkeypatch.setattr(search, "WINDOW_FACTOR", 1)
    windows: list[int] = []
    windowed = search._windowed

    async def spy(
        session_: AsyncSession, params: dict[str, Any], *, ranked: int, window: int
    ) -> Sequence[Any]:
        windows.append(window)
        return await windowed(session_, params, ranked=ranked, window=window)

    monkeypatch.setattr(search, "_windowed", spy)

    def dense(*words: str) -> None:
        """Statistics saying every token of `words` is in every document."""
        tokens = {
            t for w in words for alts in query_terms(parse_query(w))[0] for a in alts for t in a
        }
        monkeypatch.setitem(
            search._stats,
            url,
            (time.monotonic(), search.LexemeStats.of(3.0, dict.fromkeys(tokens, 1.0))),
        )

    dense("모델")
    assert sorted(await _ids(session, "모델")) == ["2410.11111", "2410.22222"]
    assert windows == [2]  # the newest two documents held both
    windows.clear()
    dense("양자화")  # an overestimate: only the oldest paper says it
    assert await _ids(session, "양자화") == ["2311.33333"]
    assert windows == [2]  # 0 found: 2 × 16 is past the 3 documents, so all were searched
    setting = await session.execute(text("SELECT current_setting('enable_indexscan')"))
    assert setting.scalar_one() == "on"


async def test_two_syllable_word_matches(session: AsyncSession) -> None:
    """A two-syllable word (trigram's blind spot) finds exactly the papers that use it."""
    assert set(await _ids(session, "논문")) == {"2410.11111", "2410.22222"}


async def test_filters_and_exclusion(session: AsyncSession) -> None:
    """Exclusions drop papers; year, date and author filters restrict the results."""
    assert "2410.11111" not in await _ids(session, "모델 -환각")
    assert await _ids(session, "모델 year:2023") == []
    assert await _ids(session, "모델 from:2024-10-21 to:2024-10-21") != []
    assert await _ids(session, "author:rocktaschel") == ["2410.22222"]
    assert await _ids(session, '"text to video" author:lecun') == []


@pytest.mark.parametrize("query", HOSTILE)
async def test_hostile_queries_return_normally(session: AsyncSession, query: str) -> None:
    """Whatever a user types, search and author look-up return a list and the tables survive."""
    assert isinstance(await search_papers(session, query=query, limit=5, offset=3), list)
    assert isinstance(await search_authors(session, query=query), list)
    assert (await session.execute(text("SELECT count(*) FROM papers"))).scalar_one() == 3


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Lukasz", "Łukasz Kaiser"),
        ("kaiser łukasz", "Łukasz Kaiser"),
        ("Y. LeCun", "Yann LeCun"),
        ("lecun yann", "Yann LeCun"),
        ("ROCKTÄSCHEL", "Tim Rocktäschel"),
        ("gemini", "Gemini Team"),
    ],
)
async def test_search_authors_is_tolerant(session: AsyncSession, query: str, name: str) -> None:
    """Case, diacritics, initials, word order and organisations all find the author first."""
    hits = await search_authors(session, query=query)
    assert hits[0].name == name
    assert hits[0].paper_count >= 1


async def test_reindex_is_idempotent(session: AsyncSession) -> None:
    """Indexing twice and rebuilding leave one document per paper and the same results."""
    before = await _ids(session, "환각")
    await index_papers(session, arxiv_ids=["2410.11111", "2410.11111", "9999.00000"])
    await rebuild_index(session)
    count = await session.execute(text("SELECT count(*) FROM search_documents"))
    assert count.scalar_one() == 3
    assert await _ids(session, "환각") == before


def test_cli_search_and_author_json(tmp_path: Path) -> None:
    """`paperboy search --json` and `paperboy author --json` print the documented shapes."""
    digest = tmp_path / "2024-10-21.md"
    digest.write_text(DIGEST, encoding="utf-8")
    env = {"DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/cli.sqlite3", "PATH": ""}

    def run(*args: str) -> str:
        script = "import sys; from bot.cli.commands import main; sys.exit(main())"
        command = [sys.executable, "-c", script, *args]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        return done.stdout

    run("ingest", str(digest), "--json")
    hits = json.loads(run("search", "강화학습", "--limit", "2", "--json").splitlines()[-1])
    assert hits[0]["arxiv_id"] == "2410.22222"
    assert set(hits[0]) == {"arxiv_id", "title", "score", "partial"}
    authors = json.loads(run("author", "lecun", "--json").splitlines()[-1])
    assert authors[0]["name"] == "Yann LeCun"
    assert authors[0]["papers"][0]["arxiv_id"] == "2410.11111"
