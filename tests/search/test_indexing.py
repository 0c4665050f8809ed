"""Indexing at ingest: fast analysis and precomputed tokens give exactly the DB path's rows."""

from __future__ import annotations

import asyncio
from itertools import chain
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.content.ingest import expand
from storage.analysis import (
    _RUN,
    analyze,
    analyze_phrase,
    analyze_text,
    fold,
    hangul_bigrams,
    stem,
)
from storage.db import session_factory
from storage.models import Author, DigestEntry, StoredPaper
from storage.search_index import document_texts, rebuild_index, summary_text
from tests.search.archive import load_archive

DOCUMENT_ROWS = (
    "SELECT arxiv_id, title_tokens, author_tokens, body_tokens, votes, day "
    "FROM search_documents ORDER BY arxiv_id"
)
# Hangul, Latin with accents, digits, a one-syllable word, and the separators analysis cares about.
ALPHABET = "강화학습모델의수가 ABCxyzéŁß019-_ ;\n.,'\"()·–"
LATIN = "ABCxyzéŁß019-_ ;\n.,'\"()·–"


def reference_tokens(text_: str) -> list[str]:
    """The straightforward per-run analysis the fast one replaced (kept as the oracle): a
    compound's parts in place, and after the text's last token its pair (the token before it,
    its joined token)."""
    tokens: list[str] = []
    pairs: list[str] = []
    folded = fold(text_)
    last_end, last_syllable = -2, ""
    for match in _RUN.finditer(folded):
        run = match.group()
        if "\uac00" <= run[0] <= "\ud7a3":
            if last_syllable and last_end == match.start() - 1 and folded[last_end] == " ":
                tokens.append(last_syllable + run[0])
            last_end, last_syllable = match.end(), run[-1]
            tokens.extend(hangul_bigrams(run))
        else:
            last_syllable = ""
            parts = [part for part in run.split("-") if part]
            if len(parts) > 1:
                pairs.extend([*tokens[-1:], stem("".join(parts))])
            tokens.extend(stem(part) for part in parts)
    return tokens + pairs


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=80))
def test_fast_analysis_matches_reference(value: str) -> None:
    """`analyze_text` yields the reference tokens, in order, for any mix of scripts and spaces."""
    assert analyze_text(value).split() == reference_tokens(value)
    assert analyze(value) == reference_tokens(value)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, max_size=30), max_size=5))
def test_tokens_of_joined_texts_are_joined_tokens(parts: list[str]) -> None:
    """Texts joined by a newline or ` ; ` have their own phrase tokens in turn (a document
    field's tokens are each text's, its compounds' pairs after it: `_joined`)."""
    own = list(chain(*map(analyze_phrase, parts)))
    for separator in ("\n", " ; "):
        assert analyze_phrase(separator.join(parts)) == own


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=LATIN, max_size=80))
def test_hyphens_do_not_change_phrases(value: str) -> None:
    """A text's phrase tokens are those of its spelling with spaces for hyphens, so a phrase
    runs across a compound's parts (`process reward` in `Process Reward-Guided`)."""
    assert analyze_phrase(value) == analyze_phrase(value.replace("-", " "))
    assert analyze(value)[: len(analyze_phrase(value))] == analyze_phrase(value)


@pytest.fixture(scope="module")
def corpus_url(corpus_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The whole corpus (Markdown and HF JSON) ingested once, the way `paperboy ingest` does."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('indexing')}/corpus.sqlite3"
    asyncio.run(load_archive(url, expand([str(corpus_dir)])))
    return url


async def test_ingest_rows_equal_rebuilt_rows(engine: AsyncEngine) -> None:
    """Rows written at ingest (precomputed tokens) equal those rebuilt from the archive alone."""
    sessions = session_factory(engine)
    async with sessions() as session:
        at_ingest = (await session.execute(text(DOCUMENT_ROWS))).all()
        papers = (await session.execute(select(StoredPaper.arxiv_id))).scalars().all()
    async with sessions.begin() as session:
        await rebuild_index(session)
    async with sessions() as session:
        rebuilt = (await session.execute(text(DOCUMENT_ROWS))).all()
    assert len(at_ingest) == len(papers) > 2500
    assert at_ingest == rebuilt


async def test_corpus_texts_analyse_like_reference(engine: AsyncEngine) -> None:
    """Every title, summary, abstract and folded author name of the corpus analyses as before."""
    async with session_factory(engine)() as session:
        texts = list((await session.execute(select(DigestEntry.title))).scalars())
        summaries = (await session.execute(select(DigestEntry.summary))).scalars()
        texts += [summary_text(summary) for summary in summaries]
        abstracts = (await session.execute(select(StoredPaper.abstract))).scalars()
        texts += [abstract or "" for abstract in abstracts]
        texts += (await session.execute(select(Author.normalized))).scalars()
    assert len(texts) > 10_000
    assert [analyze_text(t) for t in texts] == [" ".join(reference_tokens(t)) for t in texts]


async def test_document_texts_are_what_the_documents_analyse(engine: AsyncEngine) -> None:
    """Every paper's unanalysed text (the published baseline's input, bench.recommend_eval)
    holds exactly its search document's texts: its phrase tokens are the document's, and the
    document's tokens (title names' parts aside) are among the text's."""
    async with session_factory(engine)() as session:
        rows = {row.arxiv_id: row for row in await session.execute(text(DOCUMENT_ROWS))}
        texts = await document_texts(session, arxiv_ids=[*rows, "2401.99999"])
        query = select(StoredPaper.arxiv_id, StoredPaper.title)
        titles = {row.arxiv_id: row.title for row in await session.execute(query)}
    assert set(texts) == set(rows)
    for arxiv_id, row in rows.items():
        document = {*row.body_tokens.split(), *row.author_tokens.split()}
        document |= set(analyze_text(titles[arxiv_id]).split())
        own = analyze_text(texts[arxiv_id]).split()
        assert document <= set(own), arxiv_id
        assert set(analyze_phrase(texts[arxiv_id])) <= document | set(row.title_tokens.split())
