"""Property tests: any paper renders to valid Telegram HTML messages within the limit."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.digest import Paper, SummarySection
from bot.edition.compose import RenderCache
from bot.render import (
    Lang,
    escape,
    pack_blocks,
    render_digest,
    render_inline_article,
    render_paper,
    render_paper_line,
    split_html,
    utf16_len,
)
from bot.render.papers import Packing
from tests.render.telegram_html import InvalidHtml, assert_sendable, parse_telegram_html

TRICKY = list("<>&\"'`*$\\[] \n\t") + ["👍", "𝒗", "e\u0301", "👨\u200d👩\u200d👧", "한", "&amp;"]
CHARS = st.one_of(st.characters(exclude_categories=["Cs"]), st.sampled_from(TRICKY))
LANGS: list[Lang] = ["ko", "en"]
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)


def texts(max_size: int) -> st.SearchStrategy[str]:
    """Unicode text heavy in markup characters, emoji and whitespace."""
    return st.lists(CHARS, max_size=max_size).map("".join)


def long_texts() -> st.SearchStrategy[str]:
    """Mostly short text, sometimes a field far longer than a message."""
    return st.one_of(texts(80), st.builds(lambda s, n: s * n, texts(40), st.integers(1, 200)))


sections = st.builds(
    SummarySection,
    title=st.none() | texts(60),
    bullets=st.lists(long_texts(), max_size=4).map(tuple),
)
papers = st.builds(
    Paper,
    arxiv_id=st.from_regex(r"\d{4}\.\d{5}", fullmatch=True),
    title=long_texts(),
    link=st.just("https://arxiv.org/abs/x"),
    votes=st.none() | st.integers(0, 10_000),
    authors=st.lists(texts(30), max_size=60).map(tuple),
    authors_truncated=st.booleans(),
    summary=st.lists(sections, max_size=4).map(tuple),
    abstract=st.none() | long_texts(),
    ai_summary=st.none() | long_texts(),
    github_repo=st.none() | texts(40).map(lambda s: "https://github.com/" + s),
    project_page=st.none() | texts(40),
    submitter=st.none() | texts(30),
    organization=st.none() | texts(30),
    num_comments=st.none() | st.integers(0, 10_000),
)


def squeeze(text: str) -> str:
    """Text without any whitespace (cuts only ever drop whitespace)."""
    return "".join(char for char in text if not char.isspace())


@SETTINGS
@given(st.lists(papers, max_size=6), st.sampled_from(LANGS), st.booleans())
def test_any_digest_is_sendable(found: list[Paper], lang: Lang, late: bool) -> None:
    """Every message is valid HTML within the limit and every paper appears exactly once."""
    messages = render_digest(found, date=dt.date(2024, 1, 3), lang=lang, late=late)
    assert_sendable(messages)
    joined = "".join(messages)
    assert all(joined.count(f"<b>{rank}.</b>") == 1 for rank in range(1, len(found) + 1))
    assert joined.count("📰") == messages[0].count("📰") >= 1


@SETTINGS
@given(papers, st.sampled_from(LANGS))
def test_any_paper_detail_is_sendable_and_complete(paper: Paper, lang: Lang) -> None:
    """/paper output is sendable and loses nothing of the title but whitespace."""
    days = [(dt.date(2024, 1, 3), paper.votes)]
    texts_ = assert_sendable(render_paper(paper, days=days, lang=lang))
    assert squeeze(paper.title) in squeeze("".join(texts_))


@SETTINGS
@given(papers, st.none() | st.integers(1, 10_000), st.sampled_from(LANGS))
def test_any_line_and_inline_article(paper: Paper, rank: int | None, lang: Lang) -> None:
    """Result lines are one valid line; inline articles respect their bounds."""
    [line] = assert_sendable([render_paper_line(paper, rank=rank, lang=lang)])
    assert "\n" not in line
    title, description, text = render_inline_article(paper, lang=lang)
    assert utf16_len(title) <= 256
    assert utf16_len(description) <= 200
    assert_sendable([text])


def markup_trees(depth: int = 3) -> st.SearchStrategy[str]:
    """Well-formed nested Telegram HTML built from escaped random text."""
    leaf = texts(120).map(escape)

    def wrap(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        tag = st.sampled_from(["b", "i", "u", "s", "code", "blockquote", "a"])
        return st.builds(_element, tag, st.lists(children, max_size=4))

    return st.recursive(leaf, wrap, max_leaves=12)


def _element(tag: str, children: list[str]) -> str:
    """One element around its children."""
    opening = f'<a href="{escape("https://x/?q=<&>")}">' if tag == "a" else f"<{tag}>"
    return f"{opening}{''.join(children)}</{tag}>"


@SETTINGS
@given(markup_trees(), st.integers(8, 300))
def test_split_any_markup(markup: str, limit: int) -> None:
    """Any well-formed markup splits into valid pieces that keep all non-space text."""
    pieces = split_html(markup, limit)
    whole = squeeze(_visible(markup))
    if whole:
        assert squeeze("".join(assert_sendable(pieces, limit))) == whole
    else:
        assert all(not squeeze(_visible(piece)) for piece in pieces)


def _visible(markup: str) -> str:
    """Visible text of well-formed markup, blank allowed (the checker refuses blank messages)."""
    try:
        return parse_telegram_html(markup)
    except InvalidHtml:
        return ""


@SETTINGS
@given(st.lists(markup_trees(), max_size=8), st.integers(0, 8), st.integers(8, 300))
def test_packing_goes_on_where_it_stopped(blocks: list[str], cut: int, limit: int) -> None:
    """Blocks packed in two goes make the same messages as packed at once."""
    packed = Packing().add(blocks[:cut], limit=limit)
    assert packed.add(blocks[cut:], limit=limit).messages() == pack_blocks(blocks, limit=limit)


def _numbered(found: list[Paper], first: int) -> list[Paper]:
    """The papers with distinct ids (a pass's cache knows a paper of a day by its id)."""
    return [p.model_copy(update={"arxiv_id": f"2401.{n:05d}"}) for n, p in enumerate(found, first)]


@SETTINGS
@given(
    st.lists(papers, min_size=1, max_size=4),
    st.lists(st.lists(papers, max_size=3), max_size=3),
    st.sampled_from(LANGS),
    st.booleans(),
)
def test_a_pass_renders_each_chats_picks_as_rendered_alone(
    chosen: list[Paper], picks: list[list[Paper]], lang: Lang, late: bool
) -> None:
    """The cache packs a selection once and each chat's "for you" picks on after it: every
    chat's messages are those `render_digest` makes for it alone."""
    cache, day = RenderCache(), dt.date(2024, 1, 3)
    chosen = _numbered(chosen, 0)
    followed = frozenset(chosen[0].authors[:1])
    for n, found in enumerate([*picks, []]):
        for_you = _numbered(found, 100 * (n + 1))
        cached = cache.render(
            chosen, date=day, lang=lang, followed=followed, late=late, update=False, for_you=for_you
        )
        alone = render_digest(
            chosen, date=day, lang=lang, followed_authors=followed, late=late, for_you=for_you
        )
        assert cached == alone
