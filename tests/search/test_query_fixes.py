"""Query fixes: words as typed in titles, the loose fallback, particles, authors, filters."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest import parse_digest
from storage import search
from storage.analysis import (
    PREFIX,
    analyze,
    analyze_phrase,
    analyze_text,
    parse_query,
    strip_glued_particle,
    term_tokens,
)
from storage.author_search import search_authors, spelling_ids
from storage.db import create_engine, session_factory
from storage.digest_store import store_digest
from storage.search import search_papers
from storage.search_query import fts5_expression, tsquery_expression
from storage.search_ranking import title_boost
from tests.search.archive import digest_session

DIGEST = """## Daily Papers (2025-01-27)

### [Qwen2.5-1M Technical Report](https://arxiv.org/abs/2501.15383)

Vote: 50

Authors: An Yang, Bo Li

- 100만 토큰의 긴 문맥을 지원하는 언어 모델을 공개합니다.

### [rStar-Math: Small LLMs Can Master Math Reasoning](https://arxiv.org/abs/2501.04519)

Vote: 40

Authors: Xinyu Guan, Björn Ommer

- rStar-Math는 Qwen2.5-Math-7B의 수학 성능을 58.8%에서 90.0%로 높입니다.

### [MoE-Mamba: Efficient Selective State Space Models](https://arxiv.org/abs/2401.04081)

Vote: 30

Authors: Bjorn Ommer, Yann LeCun, Nicolas Ballas

- Mamba를 전문가 혼합과 결합하고 DPO를 적용합니다.

### [Vision Mamba for Images](https://arxiv.org/abs/2402.00001)

Vote: 20

Authors: Alexander M. Rush

- 비전 Mamba 모델을 제안하고 GPT-3.5-turbo와 비교합니다. DPO 학습도 다룹니다.

### [Efficient Video Diffusion Transformers](https://arxiv.org/abs/2402.00002)

Vote: 10

Authors: Alexander M Rush, Yann LeCun

- 효율적인 비디오 생성을 위한 확산 트랜스포머를 제안합니다.

### [Joint Embedding World Models](https://arxiv.org/abs/2402.00003)

Vote: 5

Authors: Yann LeCun, Nicolas Ballas

- 세계 모델을 임베딩 예측으로 학습합니다.
"""

FILLERS = 600  # authors whose names begin with `li`, stored before Bo Li (more than a LIMIT 500)


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A fresh archive: many `Lina …` authors first, then the digest above."""
    engine = create_engine(database_url)
    async with session_factory(engine)() as session:
        await session.execute(
            text("INSERT INTO authors (name, normalized) VALUES (:name, :normalized)"),
            [
                {"name": f"Lina Filler{n:03d}", "normalized": f"lina filler{n:03d}"}
                for n in range(FILLERS)
            ],
        )
        await store_digest(session, digest=parse_digest(DIGEST, source="t.md"), source="t.md")
        await session.commit()
        yield session
    await engine.dispose()


async def _ids(session: AsyncSession, query: str) -> list[str]:
    """The arXiv ids `query` finds, best first."""
    return [hit.arxiv_id for hit in await search_papers(session, query=query, limit=50)]


# --- Words typed as they are written -----------------------------------------------------------

WORD = st.text(alphabet="abcXYZé019.-", min_size=1, max_size=14)
KOREAN_WORD = st.text(alphabet="강화학습모델의를은a1.-", min_size=1, max_size=10)


def _occurs(tokens: list[str], document: list[str]) -> bool:
    """Whether query `tokens` match `document` contiguously (a `*` token matches a prefix)."""
    size = len(tokens)
    return any(
        all(
            found.startswith(token[:-1]) if token.endswith(PREFIX) else found == token
            for token, found in zip(tokens, document[start : start + size], strict=True)
        )
        for start in range(len(document) - size + 1)
    )


@settings(max_examples=400, deadline=None)
@given(word=st.one_of(WORD, KOREAN_WORD), before=WORD, after=WORD)
def test_a_word_matches_the_text_it_was_copied_from(word: str, before: str, after: str) -> None:
    """The first alternative of a word appears contiguously in the word's own phrase tokens,
    also inside a longer text (`Qwen2.5-1M` is indexed `qwen2 5 1m`, then its pair `qwen2 51m`
    after the text)."""
    alternatives = term_tokens(word)
    assert bool(alternatives) == bool(analyze(word))
    if alternatives:
        assert _occurs(alternatives[0], analyze_phrase(word)), (alternatives, analyze(word))
        assert _occurs(alternatives[0], analyze_phrase(f"{before} {word} {after}"))


@settings(max_examples=400, deadline=None)
@given(word=WORD, before=WORD, after=WORD)
def test_every_alternative_matches_a_spelling(word: str, before: str, after: str) -> None:
    """Each alternative is a phrase the index holds for one spelling: the first for the word
    as typed, the last for its compounds written joined (no phrase runs into a joined token)."""
    alternatives = term_tokens(word)
    if alternatives:
        joined = re.sub(r"\b-\b", "", word)  # a compound's hyphens (`a--b` is no compound)
        assert _occurs(alternatives[0], analyze_phrase(f"{before} {word} {after}"))
        assert _occurs(alternatives[-1], analyze_phrase(f"{before} {joined} {after}"))
        assert len(alternatives) <= 2


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Qwen2.5-1M", [["qwen2", "5", "1m"], ["qwen2", "51m"]]),
        ("Qwen2.5-Math", [["qwen2", "5", "math"], ["qwen2", "5math"]]),
        ("GPT-4o", [["gpt", "4o"], ["gpt4o"]]),
        ("text-to-video", [["text", "to", "video"], ["texttovideo"]]),
        ("LLaMA-3.1-8B", [["llama", "3", "1", "8b"], ["llama3", "18b"]]),
        ("rewardguided", [["rewardguided"]]),
    ],
)
def test_hyphenated_word_alternatives(word: str, expected: list[list[str]]) -> None:
    """A hyphenated word is its parts, or the word without hyphens; never a joined token
    inside the parts' phrase (the index keeps those apart)."""
    assert term_tokens(word) == expected


@pytest.mark.parametrize(
    ("word", "document"),
    [
        ("Qwen2.5-1M", "Qwen2.5-1M Technical Report"),
        ("Qwen2.5-Math", "Qwen2.5-Math-7B의 성능"),
        ("GPT-3.5-turbo", "GPT-3.5-turbo와 비교"),
        ("Llama-3.1-8B", "Llama-3.1-8B-Instruct"),
        ("text-to-video", "text to video"),
        ("text-to-video", "TextToVideo models"),
        ("texttovideo", "Text-to-Video Generation"),
        ("Qwen2.5-1M", "Qwen2.5 1M"),
        ("GPT-4o", "GPT4o mini"),
        ("Reward-Guided", "Process Reward-Guided Tree Search"),
    ],
)
def test_some_alternative_matches_the_usual_spellings(word: str, document: str) -> None:
    """Copied, continued (`-7B`) and spaced spellings of a hyphenated word all match."""
    assert any(_occurs(tokens, analyze(document)) for tokens in term_tokens(word))


def test_prefix_tokens_in_query_expressions() -> None:
    """A prefix token becomes FTS5 `"a b"* + "c"` and tsquery `'b':*`, and counts in titles."""
    positive = [[["video", "generat*", "model"]]]
    assert fts5_expression(positive, []) == '("video generat"* + "model")'
    assert tsquery_expression(positive, []) == "(('video' <-> 'generat':* <-> 'model'))"
    assert title_boost(positive, "video generative model") == 3.0
    assert title_boost(positive, "video model") == 1.0


def test_a_phrase_in_a_title_runs_across_a_compound() -> None:
    """The title boost finds *process reward* in `Process Reward-Guided Tree Search`, the
    compound typed joined (`rewardguided`), and a phrase ending in it joined."""
    title = analyze_text("Process Reward-Guided Tree Search")
    assert title_boost([[["process", "reward"]]], title) == 3.0
    assert title_boost([[["guided", "tree"]]], title) == 3.0
    assert title_boost([[["rewardguided"]]], title) == 3.0
    assert title_boost([[["process", "rewardguided"]]], title) == 3.0
    assert title_boost([[["sparse", "autoencoder"]]], analyze_text("Sparse Auto-Encoders")) == 3.0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Qwen2.5-1M", "2501.15383"),
        ("Qwen2.5-Math", "2501.04519"),
        ("GPT-3.5-turbo", "2402.00001"),
    ],
)
async def test_hyphenated_words_find_the_paper_that_writes_them(
    session: AsyncSession, query: str, expected: str
) -> None:
    """A version-like word copied from a title or summary finds that paper first."""
    assert (await _ids(session, query))[:1] == [expected]


# --- Phrases across hyphenated compounds -------------------------------------------------------

COMPOUNDS = """## Daily Papers (2025-02-03)

### [Process Reward-Guided Tree Search for Better Complex Reasoning](https://arxiv.org/abs/2503.20757)

Vote: 20

Authors: Yizhi Li

- 트리 탐색으로 복잡한 추론을 개선합니다.

### [Learning from Process Supervision with Sparse Rewards](https://arxiv.org/abs/2503.00001)

Vote: 20

Authors: Ann Lee

- 단계별 감독으로 추론을 학습합니다.

### [Mitigating Object Hallucination in Large Vision-Language Models](https://arxiv.org/abs/2503.00002)

Vote: 10

Authors: Bo Li

- 객체 환각을 줄입니다.

### [Large Models of Vision and Language](https://arxiv.org/abs/2503.00003)

Vote: 10

Authors: Bo Li

- 시각과 언어의 대형 모델을 다룹니다.

### [Steering Reasoning with Sparse Auto-Encoders](https://arxiv.org/abs/2503.00004)

Vote: 5

Authors: Ann Lee

- 희소 오토인코더로 추론을 조정합니다.
"""


@pytest.fixture
async def compounds(database_url: str) -> AsyncIterator[AsyncSession]:
    """A fresh archive holding the papers above."""
    async with digest_session(database_url, COMPOUNDS, source="c.md") as session:
        yield session


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"process reward"', ["2503.20757"]),
        ('"large vision language model"', ["2503.00002"]),
        ('"vision-language model"', ["2503.00002"]),
        ('"sparse autoencoder"', ["2503.00004"]),
    ],
)
async def test_a_phrase_runs_across_a_compound(
    compounds: AsyncSession, query: str, expected: list[str]
) -> None:
    """A phrase starting before a compound matches its parts (the joined token used to sit
    between `process` and `reward`), one ending in it joined still matches; papers with the
    words apart do not."""
    assert await _ids(compounds, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("과정 보상 모델", "2503.20757"),
        ("large vision language model", "2503.00002"),
        ("rewardguided", "2503.20757"),
        ("Reward-Guided", "2503.20757"),
        ("visionlanguage", "2503.00002"),
        ("Vision-Language", "2503.00002"),
    ],
)
async def test_compounds_typed_any_way_find_their_paper_first(
    compounds: AsyncSession, query: str, expected: str
) -> None:
    """A translated phrase (`과정 보상 모델` → *process reward*), and the compound typed
    joined or as written, find the paper first."""
    assert (await _ids(compounds, query))[:1] == [expected]


# --- A translation's words in a title, in any order --------------------------------------------

WORD_ORDER = """## Daily Papers (2025-02-04)

### [FollowIR: Teaching Retrieval Models to Follow Instructions](https://arxiv.org/abs/2503.10001)

Vote: 10

Authors: Ann Lee

- 검색 모델이 사용자의 요구를 반영하도록 학습합니다.

### [Scaling Instruction Data for Chat Models](https://arxiv.org/abs/2503.10002)

Vote: 50

Authors: Bo Li

- 대화 모델이 사용자를 follow 하도록 데이터를 늘립니다.

### [Generating Diverse Human Motions from Text](https://arxiv.org/abs/2503.10003)

Vote: 10

Authors: Ann Lee

- 텍스트로부터 사람의 움직임을 만듭니다.

### [Motion Blur Removal with Diffusion](https://arxiv.org/abs/2503.10004)

Vote: 50

Authors: Bo Li

- 확산 모델로 흐림을 제거합니다.

### [Efficient Video Tokenizers](https://arxiv.org/abs/2503.10005)

Vote: 5

Authors: Bo Li

- 영상 토크나이저를 가볍게 만듭니다. 로봇의 동작 생성에도 씁니다.
"""


@pytest.mark.parametrize(
    ("query", "expected"), [("지시 따르기", ["2503.10001"]), ("동작 생성", ["2503.10003"])]
)
async def test_a_korean_topic_finds_a_title_that_turns_its_english_round(
    database_url: str, query: str, expected: list[str]
) -> None:
    """`지시 따르기` (*instruction following*) finds `… to Follow Instructions`, `동작 생성`
    (*motion generation*) `Generating … Motions`, first: a title holding one of the words,
    the other only in the summary, or a word of another family (`Motion Blur`) is not a
    match of the whole query (the loose fallback finds it, below, more votes or not), and
    a summary naming the topic in passing does not come first."""
    async with digest_session(database_url, WORD_ORDER, source="w.md") as session:
        assert (await _ids(session, query))[:1] == expected


# --- Particles glued to English words ----------------------------------------------------------


def test_strip_glued_particle() -> None:
    """A particle after Latin letters or digits goes; Korean words keep theirs for bigrams."""
    assert strip_glued_particle("Mamba를") == "Mamba"
    assert strip_glued_particle("GPT-4o와") == "GPT-4o"
    assert strip_glued_particle("diffusion을") == "diffusion"
    assert strip_glued_particle("모달리티의") == "모달리티의"
    assert strip_glued_particle("Mamba모델") == "Mamba모델"
    assert term_tokens("DPO를") == [["dpo"]]
    assert parse_query("Mamba를 -DPO를").words == ["Mamba"]
    assert parse_query("Mamba를 -DPO를").excluded == ["DPO"]


@pytest.mark.parametrize(("with_particle", "bare"), [("Mamba를", "Mamba"), ("DPO를", "DPO")])
async def test_a_particle_on_an_english_word_changes_nothing(
    session: AsyncSession, with_particle: str, bare: str
) -> None:
    """`Mamba를` finds every Mamba paper, not only those that happen to write `Mamba를`."""
    found = await _ids(session, with_particle)
    assert len(found) >= 2
    assert found == await _ids(session, bare)


# --- The loose fallback ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "효율적인 비디오 생성 확산 트랜스포머 distilation",
        "distilation 효율적인 비디오 생성 확산 트랜스포머",
        "efficent vidoe diffusion transformers",  # two typos: no single word left out helps
    ],
)
async def test_words_matching_nothing_are_dropped_wherever_they_are(
    session: AsyncSession, query: str
) -> None:
    """A misspelt word in 6th place, or two of them, no longer empty the results."""
    assert (await _ids(session, query))[:1] == ["2402.00002"]


async def test_a_word_matching_nothing_ranks_as_if_not_typed(session: AsyncSession) -> None:
    """Dropping a dead word keeps the scores of the words left."""
    typed = await search_papers(session, query="비디오 확산 zzqqxx")
    bare = await search_papers(session, query="비디오 확산")
    assert [(hit.arxiv_id, hit.score) for hit in typed] == [
        (hit.arxiv_id, hit.score) for hit in bare
    ]


async def test_two_words_never_together_cost_one_fallback_query(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No paper has both words: one query for either word (not one per word) finds both."""
    calls: list[object] = []
    original = search._candidates

    async def counted(*args: object, **kwargs: object) -> object:
        calls.append(kwargs.get("positive"))
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    async def never(*args: object, **kwargs: object) -> object:
        raise AssertionError("two words are not counted before the query for either")

    monkeypatch.setattr(search, "_candidates", counted)
    monkeypatch.setattr(search, "_match_counts", never)
    found = await _ids(session, "Qwen2.5-1M rStar-Math")
    assert len(calls) == 2
    assert calls[1] is not None  # the fallback's one query, for either word
    assert {"2501.15383", "2501.04519"} <= set(found)


@pytest.mark.parametrize("typo", ["zzqqxx", "뷁뛟"])
async def test_two_words_one_matching_nothing_rank_as_the_other_alone(
    session: AsyncSession, typo: str
) -> None:
    """A typo beside one real word (no count statement finds it dead first): the real
    word's papers, in its own order, marked partial."""
    typed = await search_papers(session, query=f"비디오 {typo}")
    bare = await search_papers(session, query="비디오")
    assert [hit.arxiv_id for hit in typed] == [hit.arxiv_id for hit in bare]
    assert typed
    assert all(hit.partial for hit in typed)


async def test_two_words_the_analysis_drops_find_nothing(session: AsyncSession) -> None:
    """Two words of punctuation (no token to search) find nothing, without an error."""
    assert await search_papers(session, query="!! ??") == []


# --- Authors -----------------------------------------------------------------------------------


async def test_spellings_of_one_name_are_one_author(session: AsyncSession) -> None:
    """`Björn Ommer` and `Bjorn Ommer` are one hit with both papers, the accented name shown."""
    hits = await search_authors(session, query="ommer")
    assert [(hit.name, hit.paper_count) for hit in hits] == [("Björn Ommer", 2)]
    assert len(hits[0].ids) == 2
    assert sorted(await spelling_ids(session, author_id=hits[0].ids[1])) == sorted(hits[0].ids)
    rush = await search_authors(session, query="Alexander Rush")
    assert [hit.paper_count for hit in rush] == [2]
    assert set(await _ids(session, "author:ommer")) == {"2501.04519", "2401.04081"}


async def test_a_short_name_ranks_whole_words_and_prolific_authors_first(
    session: AsyncSession,
) -> None:
    """`li` begins 600 names stored earlier; Bo Li (whole word `li`) still comes first."""
    hits = await search_authors(session, query="li", limit=8)
    assert hits[0].name == "Bo Li"


async def test_several_author_filters_mean_all_of_them(session: AsyncSession) -> None:
    """`author:lecun author:ballas` lists the papers by both, not by either."""
    assert sorted(await _ids(session, "author:lecun author:ballas")) == [
        "2401.04081",
        "2402.00003",
    ]
    assert sorted(await _ids(session, "author:lecun")) == ["2401.04081", "2402.00002", "2402.00003"]


async def test_an_author_filter_reads_only_indexes_on_sqlite(session: AsyncSession) -> None:
    """`author:` alone lists an author's papers by day and votes from two covering indexes
    (migration 0017), never from the documents' rows, whose long token columns made it the
    slowest filter at 100,000 papers."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the plan checked is SQLite's")
    statements: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, sql: str, params: object, *_: object) -> None:
        if "search_documents d" in sql:
            statements.append((sql, params))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert sorted(await _ids(session, "author:lecun")) == [
            "2401.04081",
            "2402.00002",
            "2402.00003",
        ]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    [(sql, params)] = statements
    connection = await session.connection()
    explain = f"EXPLAIN QUERY PLAN {sql}"
    plan = (await connection.exec_driver_sql(explain, params)).all()  # type: ignore[arg-type]
    reads = [str(row[-1]) for row in plan if re.match(r"(SEARCH|SCAN) (d|pa)\b", str(row[-1]))]
    assert len(reads) == 2
    assert all("COVERING INDEX" in step for step in reads), reads


async def test_spelling_ids_of_an_unknown_author(session: AsyncSession) -> None:
    """No such id: no spellings."""
    assert await spelling_ids(session, author_id=10**9) == []


# --- Filters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "unknown"),
    [
        ("author:", ["author:"]),
        ("mamba author:", ["author:"]),
        ('x author:""', ['author:""']),
        ("mamba from:2024-13", ["from:2024-13"]),
        ("from:abc to:", ["from:abc", "to:"]),
        ("year:99999", ["year:99999"]),
        ("date:2024-13..2024-99", ["date:2024-13..2024-99"]),
        ("date:..", ["date:.."]),
        ("date:2024-02..2024-03 year:2024 from:2024-03-05 to:2024-03 date:..2025", []),
        ("a:b", []),
    ],
)
def test_filters_not_understood_are_reported(query: str, unknown: list[str]) -> None:
    """An empty field or a date that is not one is listed in `unknown`, never searched for."""
    parsed = parse_query(query)
    assert parsed.unknown == unknown
    assert not any(re.search("author|from|year|date", word) for word in parsed.words)


async def test_an_empty_author_field_is_not_a_word(session: AsyncSession) -> None:
    """`author:` alone searches nothing (it used to search the word `author`)."""
    assert await _ids(session, "author:") == []
    assert parse_query("author:").words == []


LOOSE_DIGEST = """## Daily Papers (2025-02-03)

### [Mechanistic Permutability Across Layers](https://arxiv.org/abs/2502.00001)

Vote: 1

Authors: Ada Lovelace

- 여러 레이어에 걸친 sparse autoencoder 특성을 정렬합니다.

### [Autoencoders Autoencoders: Video Autoencoders at Scale](https://arxiv.org/abs/2502.00002)

Vote: 900

Authors: Alan Turing

- 비디오 Autoencoders를 확장합니다. Autoencoders는 빠릅니다.

### [Sparse Sparse Attention: Sparse Kernels](https://arxiv.org/abs/2502.00003)

Vote: 800

Authors: Grace Hopper

- Sparse attention을 위한 sparse 커널을 제안합니다.
"""


async def test_papers_with_the_whole_query_rank_above_the_loose_fallback(
    database_url: str,
) -> None:
    """Too few papers have both words, so papers with either are added, but below every paper
    that has both, however weakly (a title full of one word and many votes do not lift them)."""
    async with digest_session(database_url, LOOSE_DIGEST, source="l.md") as session:
        found = await _ids(session, "sparse autoencoder")
    assert found[0] == "2502.00001"
    assert set(found[1:]) == {"2502.00002", "2502.00003"}


async def test_search_hits_say_which_hold_only_part_of_the_query(database_url: str) -> None:
    """A loose fallback hit is marked `partial` (the chat says so); whole matches are not."""
    async with digest_session(database_url, LOOSE_DIGEST, source="l.md") as session:
        hits = await search.search_papers(session, query="sparse autoencoder")
        alone = await search.search_papers(session, query="sparse")
    assert [(hit.arxiv_id, hit.partial) for hit in hits][0] == ("2502.00001", False)
    assert [hit.partial for hit in hits[1:]] == [True, True]
    assert alone
    assert not any(hit.partial for hit in alone)


def _apart_digest(papers: int) -> str:
    """A digest of `papers` papers whose summaries hold `multi` and `image`, never together."""
    blocks = [
        f"### [Paper {n}](https://arxiv.org/abs/2504.{n:05d})\n\nVote: 1\n\nAuthors: A. Writer\n\n"
        "- image features for multi tasks.\n"
        for n in range(papers)
    ]
    return "## Daily Papers (2025-04-01)\n\n" + "\n".join(blocks)


@pytest.mark.parametrize("papers", [3, search.RARE_MATCHES])
async def test_a_word_whose_tokens_are_common_apart_counts_as_common_on_postgresql(
    database_url: str, papers: int
) -> None:
    """A word's phrase no paper has is a word matching nothing: it is dropped. PostgreSQL
    checks the phrase only when its tokens are together in fewer than `RARE_MATCHES` papers
    (checking it reads every such paper's tsvector): in more, the word counts as common."""
    async with digest_session(database_url, _apart_digest(papers), source="a.md") as session:
        counts = await search._match_counts(session, ["multi-image", "tasks"])
        postgres = session.get_bind().dialect.name == "postgresql"
    common = postgres and papers >= search.RARE_MATCHES
    assert counts == [search.RARE_MATCHES if common else 0, min(papers, search.RARE_MATCHES)]
