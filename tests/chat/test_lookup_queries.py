"""/search and /author through the emulator: long queries, filters, one result, name spellings."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.digest import parse_digest
from handlers.lookup import MAX_QUERY, cut_query, query_text
from storage.digest_store import store_digest
from tests.chat.conftest import ChatDriver, texts

SPELLINGS = """## Daily Papers (2025-01-20)

### [Latent Diffusion Without Noise](https://arxiv.org/abs/2501.90001)

Vote: 9

Authors: Björn Ommer, Ann Lee

- 잡음 없는 확산 특징을 연구합니다.

### [Depth From Flow Matching](https://arxiv.org/abs/2501.90002)

Vote: 3

Authors: Bjorn Ommer

- 흐름 정합으로 깊이를 추정합니다.
"""


def _context(text: str) -> Any:
    """A stand-in for the handler context: only `args` is read."""
    return cast(Any, SimpleNamespace(args=text.split()))


@pytest.mark.parametrize(
    ("last", "kept"),
    [
        ("abcdefghij", True),
        ("abcdefghijk", False),
        ("transformer-based", False),
        ("abcdefghi", True),
    ],
)
def test_long_queries_are_cut_at_a_word_boundary(last: str, kept: bool) -> None:
    """Past MAX_QUERY characters the query ends with the last whole word, never half of one."""
    head = " ".join(["diffusion"] * 19)  # 189 characters
    query = query_text(_context(f"{head} {last} more words"))
    assert query == (f"{head} {last}" if kept else head)
    assert len(query) <= MAX_QUERY
    assert query_text(_context("short query")) == "short query"
    assert query_text(_context("x" * 1000)) == "x" * MAX_QUERY  # one huge word: a plain cut
    assert cut_query(f"  {head}\n{last}  more words ") == query


async def test_one_result_is_singular(chat: ChatDriver) -> None:
    """The English header says `(1 result)`, not `(1 results)`."""
    replies = await chat.send("/search DocLLM")
    assert "(1 result)" in replies[0].text
    assert "(1 results)" not in replies[0].text


@pytest.mark.parametrize(
    ("query", "filter_"),
    [
        ("author:", "author:"),
        ("diffusion from:2024-13", "from:2024-13"),
        ("model year:99999", "year:99999"),
    ],
)
async def test_filters_not_understood_are_reported(
    chat: ChatDriver, query: str, filter_: str
) -> None:
    """An empty `author:` or an impossible date is answered, not silently ignored."""
    replies = await chat.send(f"/search {query}")
    assert len(replies) == 1
    assert f"did not understand the filter “{filter_}”" in replies[0].text
    korean = await chat.send(f"/search {query}", language_code="ko")
    assert "이해하지 못했습니다" in korean[0].text


async def test_spellings_of_one_author_are_one_page(chat: ChatDriver) -> None:
    """`Björn Ommer` and `Bjorn Ommer` are one person: no choice, one page with both papers."""
    async with chat.services.sessions() as session:
        await store_digest(session, digest=parse_digest(SPELLINGS, source="s.md"), source="s.md")
        await session.commit()
    replies = await chat.send("/author ommer")
    text = texts(replies)
    assert "Which one?" not in text
    assert "Papers by Björn Ommer" in text
    assert "2 of 2" in text
    assert "Latent Diffusion Without Noise" in text
    assert "Depth From Flow Matching" in text


MANY_AUTHORS = """## Daily Papers (2025-01-21)

### [A Paper With Many Authors](https://arxiv.org/abs/2501.90003)

Vote: 4

Authors: Ada One, Ben Two, Cy Three, Dana Quill

- 저자가 많은 논문입니다.
"""


async def test_an_author_filter_shows_the_author_it_matched(chat: ChatDriver) -> None:
    """A result line shows two authors: with `author:`, the first author and the one the
    filter matched."""
    async with chat.services.sessions() as session:
        digest = parse_digest(MANY_AUTHORS, source="m.md")
        await store_digest(session, digest=digest, source="m.md")
        await session.commit()
    found = texts(await chat.send("/search author:quill"))
    assert "Ada One, Dana Quill" in found
    plain = texts(await chat.send("/search many authors"))
    assert "Ada One, Ben Two" in plain  # no filter: the paper's own order
