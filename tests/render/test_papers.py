"""Digest, /paper, result-line and inline renderings of real and hand-made papers."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

from bot.digest import Digest, Paper, SummarySection, parse_markdown
from bot.render import (
    Lang,
    excerpt,
    render_digest,
    render_inline_article,
    render_paper,
    render_paper_line,
    shorten_authors,
    utf16_len,
)
from tests.render.telegram_html import assert_sendable, parse_telegram_html

DAY = dt.date(2024, 1, 3)
LANGS: tuple[Lang, ...] = ("ko", "en")
# The real paper blocks over 4,096 characters (the last: over 4,096 UTF-8 bytes) in the corpus we
# hold; the README's other long blocks are in months kept back from us.
LONG_BLOCKS = [
    ("2024/10/29.md", "2410.21276"),
    ("2024/12/24.md", "2412.16720"),
    ("2025/01/27.md", "2501.14249"),
    ("2025/01/23.md", "2501.12948"),
]


def make_paper(**changes: object) -> Paper:
    """A small paper with a titled first section; fields overridden by `changes`."""
    fields: dict[str, object] = {
        "arxiv_id": "2401.01234",
        "title": 'A <think> & $\\times$ `code` *star* [IDK] "quoted" title',
        "link": "https://arxiv.org/abs/2401.01234",
        "votes": 48,
        "authors": ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Łukasz Kaiser"),
        "summary": (
            SummarySection(title="What's New", bullets=("새로운 <EOS> 방법 & 결과",)),
            SummarySection(title="Technical Details", bullets=("second section",)),
        ),
    }
    fields.update(changes)
    return Paper.model_validate(fields)


def read_digest(folder: Path, name: str) -> Digest:
    """Parse one real digest file."""
    return parse_markdown((folder / name).read_text(encoding="utf-8"), source=name)


def test_digest_layout() -> None:
    """Header, rank, linked escaped title, votes, short authors and the first section only."""
    [message] = render_digest([make_paper()], date=DAY, lang="ko")
    text = parse_telegram_html(message)
    assert message.startswith("📰 <b>Daily Papers · 2024-01-03</b>\n\n<b>1.</b> ")
    assert '<a href="https://arxiv.org/abs/2401.01234">A &lt;think&gt; &amp; ' in message
    assert "👍 48 · Ada Lovelace, Alan Turing, Grace Hopper 외 1명" in text
    assert "<b>What's New</b>\n• 새로운 &lt;EOS&gt; 방법 &amp; 결과" in message
    assert "second section" not in text
    assert '"quoted"' in text


def test_digest_markers_ranks_star_and_unknown_votes() -> None:
    """Late/update markers, ranks from `start`, ★ for followed authors, "?" for unknown votes."""
    papers = [make_paper(), make_paper(arxiv_id="2401.00002", votes=None, authors=("Bob",))]
    [message] = render_digest(
        papers,
        date=DAY,
        lang="en",
        header="<i>3 of 20</i>",
        start=4,
        followed_authors=frozenset({"  grace   HOPPER "}),
        late=True,
        update=True,
    )
    text = parse_telegram_html(message)
    assert text.startswith("📰 Daily Papers · 2024-01-03 · ⏰ late · 🔄 update\n3 of 20\n\n")
    assert "4. ★ A <think>" in text
    assert "5. A <think>" in text
    assert "👍 ? · Bob" in text
    assert "and 1 more" in text


def test_digest_abstract_fallback_and_untitled_sections() -> None:
    """No summary: the abstract's start marked as English; an untitled section shows bullets."""
    abstract = "word " * 200
    papers = [
        make_paper(summary=(), abstract=abstract),
        make_paper(summary=(SummarySection(bullets=("one", "two")),)),
        make_paper(summary=(), abstract=None),
    ]
    [message] = render_digest(papers, date=DAY, lang="ko")
    text = parse_telegram_html(message)
    label, preview = text.split("\n")[4:6]
    assert label == "🇬🇧 영문 요약"
    assert preview.endswith("…")
    assert utf16_len(preview) <= 300
    assert "\n• one\n• two\n\n" in text


def test_korean_chat_gets_korean_summary_else_marked_english() -> None:
    """A Korean chat sees the Korean bullets, and for a paper without them the marked HF text."""
    english = make_paper(
        arxiv_id="2401.00002",
        summary=(),
        ai_summary="A <b>one-line</b> TL;DR.",
        abstract="First sentence here. " * 30,
    )
    [message] = render_digest([make_paper(), english], date=DAY, lang="ko")
    text = parse_telegram_html(message)
    assert "• 새로운 <EOS> 방법 & 결과" in text
    assert "🇬🇧 영문 요약\nA <b>one-line</b> TL;DR.\nFirst sentence here." in text
    assert "A &lt;b&gt;one-line&lt;/b&gt; TL;DR." in message
    assert "<i>🇬🇧 영문 요약</i>" in message


def test_english_chat_never_gets_korean_bullets() -> None:
    """An English chat sees the HF summary and abstract, else just title and meta, never Hangul."""
    papers = [
        make_paper(ai_summary="Fast <tokens>.", abstract="An abstract. " * 40),
        make_paper(arxiv_id="2401.00002", abstract="Only an abstract."),
        make_paper(arxiv_id="2401.00003"),
    ]
    [message] = render_digest(papers, date=DAY, lang="en")
    text = parse_telegram_html(message)
    assert not any("\uac00" <= char <= "\ud7a3" for char in text)
    assert "Fast <tokens>.\nAn abstract. An abstract." in text
    assert "English summary" not in text
    assert "\nOnly an abstract.\n\n" in text
    assert text.endswith("Grace Hopper and 1 more")
    article = render_inline_article(papers[2], lang="en")
    assert "방법" not in article.text + article.description


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Short \n one. ", "Short one."),
        ("First sentence is long enough. " * 12, "First sentence is long enough. " * 9 + "…"),
        ("One sentence. " + "x" * 400, "One sentence. " + "x" * 285 + "…"),
        ("word " * 100, "word " * 58 + "word…"),
    ],
)
def test_abstract_excerpt_cuts_at_a_sentence_or_word(text: str, expected: str) -> None:
    """The excerpt ends at a sentence in its second half, else at a word, within 300 units."""
    assert excerpt(text) == expected
    assert utf16_len(excerpt(text)) <= 300


def test_digest_splits_on_paper_boundaries() -> None:
    """Forty long papers give several messages, each ending at a paper and within the limit."""
    bullets = tuple(f"{n}: " + "가나다라 👍 " * 40 for n in range(3))
    papers = [
        make_paper(arxiv_id=f"2401.{n:05}", summary=(SummarySection(bullets=bullets),))
        for n in range(40)
    ]
    messages = render_digest(papers, date=DAY, lang="ko")
    texts = assert_sendable(messages)
    assert len(messages) > 3
    assert sum(text.count("2: ") for text in texts) == 40
    assert all(text.rstrip().endswith("👍") for text in texts)
    assert [text.startswith("📰") for text in texts] == [True] + [False] * (len(texts) - 1)


def test_single_huge_paper_is_split_inside() -> None:
    """A paper longer than the limit is cut between bullets with tags reopened."""
    bullets = tuple("<b>" + "x&y " * 400 for _ in range(6))
    paper = make_paper(summary=(SummarySection(title="T" * 10, bullets=bullets),))
    messages = render_digest([make_paper(), paper, make_paper()], date=DAY, lang="ko")
    texts = assert_sendable(messages)
    assert len(texts) >= 3
    assert sum(text.count("<b>x&y") for text in texts) == 6


@pytest.mark.parametrize(("name", "arxiv_id"), LONG_BLOCKS[:3])
def test_real_long_blocks_from_fixtures(fixtures_dir: Path, name: str, arxiv_id: str) -> None:
    """The real over-long paper blocks render within the limit in every rendering."""
    check_long_block(read_digest(fixtures_dir / "daily_papers_ko", name), arxiv_id)


@pytest.mark.parametrize(("name", "arxiv_id"), LONG_BLOCKS[3:])
def test_real_long_blocks_from_corpus(corpus_dir: Path, name: str, arxiv_id: str) -> None:
    """The long blocks only the shared corpus holds render within the limit too."""
    check_long_block(read_digest(corpus_dir / "daily_papers_ko", name), arxiv_id)


def check_long_block(digest: Digest, arxiv_id: str) -> None:
    """Render one real long paper every way and check each message is sendable."""
    [paper] = [paper for paper in digest.papers if paper.arxiv_id == arxiv_id]
    assert len(paper.raw.encode()) > 4096
    for lang in LANGS:
        assert_sendable(render_digest(digest.papers, date=digest.date, lang=lang))
        assert_sendable(render_paper(paper, days=[(digest.date, paper.votes)], lang=lang))
        assert_sendable([render_paper_line(paper, rank=1, lang=lang)])
        assert_sendable([render_inline_article(paper, lang=lang).text])
    full = render_paper(
        paper.model_copy(update={"authors": paper.authors * 10}), days=[], lang="ko"
    )
    assert_sendable(full)


def test_every_corpus_digest_renders(corpus_dir: Path) -> None:
    """Every real digest renders to sendable messages quickly (tens of microseconds a paper)."""
    digests = [
        parse_markdown(path.read_text(encoding="utf-8"), source=path.name)
        for path in sorted((corpus_dir / "daily_papers_ko").rglob("*.md"))
    ]
    started = time.perf_counter()
    rendered = [render_digest(d.papers, date=d.date, lang="ko") for d in digests]
    per_paper = (time.perf_counter() - started) / sum(len(d.papers) for d in digests)
    for messages in rendered:
        assert_sendable(messages)
    assert per_paper < 0.001


def test_render_paper_full_detail() -> None:
    """/paper shows every section with its title, the links and the featured days."""
    days = [(DAY, 48), (dt.date(2024, 1, 4), None)]
    [message] = render_paper(make_paper(), days=days, lang="en")
    text = parse_telegram_html(message)
    assert "What's New\n• 새로운 <EOS> 방법 & 결과\n\nTechnical Details\n• second section" in text
    assert "👤 Ada Lovelace, Alan Turing, Grace Hopper, Łukasz Kaiser\n" in text
    for url in (
        "https://arxiv.org/abs/2401.01234",
        "https://arxiv.org/pdf/2401.01234",
        "https://huggingface.co/papers/2401.01234",
    ):
        assert f'<a href="{url}">' in message
    assert text.endswith("Featured on: 2024-01-03 (👍 48), 2024-01-04 (👍 ?)")


def test_render_paper_without_summary_and_many_authors() -> None:
    """No summary: the whole abstract, else a note; authors past 30 are counted."""
    authors = tuple(f"Author {n}" for n in range(45))
    [message] = render_paper(
        make_paper(summary=(), abstract="An <abstract>.", authors=authors), days=[], lang="ko"
    )
    text = parse_telegram_html(message)
    assert "초록\nAn <abstract>." in text
    assert "Author 29 외 15명" in text
    assert "📅" not in text
    [bare] = render_paper(make_paper(summary=(), abstract=None), days=[], lang="en")
    assert "No summary yet." in parse_telegram_html(bare)


def test_render_paper_shows_both_languages_and_hf_details() -> None:
    """/paper shows the Korean summary with its provenance, the English text and the HF details."""
    paper = make_paper(
        ai_summary="TL;DR <img>",
        abstract="An abstract & more.",
        github_repo='https://github.com/a/b"><script>',
        github_stars=1234,
        project_page="https://example.org/p?a=1&b=2",
        num_comments=7,
        submitter="<akhaliq>",
        organization="Org & Co",
    )
    provenance = "paperboy 생성 (gpt-&lt;x&gt;)"
    [message] = render_paper(paper, days=[(DAY, 48)], lang="ko", provenance=provenance)
    text = parse_telegram_html(message)
    korean = text.index("🇰🇷 한국어 요약 · paperboy 생성 (gpt-<x>)\nWhat's New\n• 새로운")
    english = text.index("🇬🇧 영문 요약\nTL;DR <img>\n초록\nAn abstract & more.")
    assert korean < english
    assert '<a href="https://github.com/a/b&quot;&gt;&lt;script&gt;">GitHub</a> ⭐ 1234' in message
    assert '<a href="https://example.org/p?a=1&amp;b=2">프로젝트 페이지</a>' in message
    assert "💬 댓글 7개 · 🙋 <akhaliq> 님이 올림 · 🏢 Org & Co" in text
    [english_first] = render_paper(paper, days=[], lang="en")
    shown = parse_telegram_html(english_first)
    assert shown.index("🇬🇧 English summary") < shown.index("🇰🇷 Korean summary")


def test_render_paper_drops_links_that_are_not_web_addresses() -> None:
    """A repository or project page that is not an http(s) URL is not linked."""
    paper = make_paper(github_repo="javascript:alert(1)", project_page="ftp://x")
    [message] = render_paper(paper, days=[], lang="en")
    assert "javascript:" not in message
    assert "ftp://" not in message


def test_paper_line_is_one_short_line() -> None:
    """A result line has no line break and clips long titles and author lists."""
    paper = make_paper(title="Long\ntitle " * 60, authors=tuple(f"N{n}" for n in range(9)))
    line = render_paper_line(paper, rank=2, lang="en")
    text = parse_telegram_html(line)
    assert "\n" not in text
    assert text.startswith("2. Long title")
    assert "… · 👍 48 · N0, N1 and 7 more" in text
    assert render_paper_line(make_paper(votes=None), rank=None, lang="ko").startswith("• <a ")


def test_inline_article() -> None:
    """Plain title and description within bounds; the text is one sendable message."""
    bullets = ("긴 설명 " * 1000,)
    paper = make_paper(summary=(SummarySection(title="What's New", bullets=bullets),))
    title, description, text = render_inline_article(paper, lang="ko")
    assert title == paper.title
    assert utf16_len(description) <= 200
    assert description.startswith("👍 48 · Ada Lovelace")
    [visible] = assert_sendable([text])
    assert visible.endswith("\n…")


@pytest.mark.parametrize(
    ("authors", "truncated", "lang", "expected"),
    [
        (("A", "B", "C"), False, "ko", "A, B, C"),
        (("A", "B", "C", "D", "E"), False, "ko", "A, B, C 외 2명"),
        (("A", "B", "C", "D", "E"), False, "en", "A, B, C and 2 more"),
        (("A", "B"), True, "ko", "A, B 외 다수"),
        (("A", "B", "C", "D"), True, "en", "A, B, C and others"),
        (("A", "A", " B ", ""), False, "en", "A, B"),
        ((), False, "ko", ""),
    ],
)
def test_shorten_authors(
    authors: tuple[str, ...], truncated: bool, lang: Lang, expected: str
) -> None:
    """Counts the rest, says "others" for a "+" truncation, and drops repeats and blanks."""
    assert shorten_authors(authors, truncated=truncated, lang=lang, keep=3) == expected
