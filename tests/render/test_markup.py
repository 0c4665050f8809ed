"""Escaping, UTF-16 lengths and tag-safe splitting of Telegram HTML."""

from __future__ import annotations

import pytest

from bot.render import escape, split_html, utf16_len, visible_length
from tests.render.telegram_html import assert_sendable, parse_telegram_html

# Real titles and bullets (daily_papers_ko, CC BY-NC-ND 4.0), one per character class.
REAL_TEXTS = [
    "I&S-ViT: An Inclusive & Stable Method for Pushing the Limit of Post-Training ViTs"
    " Quantization",
    "M$^{2}$UGen: Multi-modal Music Understanding and Generation with the Power of Large Language"
    " Models",
    'From Text to Motion: Grounding GPT-4 in a Humanoid Robot "Alter3"',
    "Interfacing Foundation Models' Embeddings",
    "TinyGSM: achieving >80% on GSM8k with small language models",
    "Beyond A*: Better Planning with Transformers via Search Dynamics Bootstrapping",
    "MicroDreamer: Zero-shot 3D Generation in $\\sim$20 Seconds by Score-based Iterative"
    " Reconstruction",
    "Evaluating the role of `Constitutions' for learning from AI feedback",
    "I Don't Know: Explicit Modeling of Uncertainty with an [IDK] Token",
    "LLM의 마지막 <EOS> 토큰 임베딩",
    "<think> tokens & $\\times$ <search>",
    "벡터 𝒗와 𝐱의 내적 👍",
]


@pytest.mark.parametrize("text", REAL_TEXTS)
def test_escape_round_trips_real_texts(text: str) -> None:
    """Escaped real titles are valid HTML whose visible text is the title itself."""
    escaped = escape(text)
    assert parse_telegram_html(escaped) == text
    assert parse_telegram_html(f'<a href="{escape("https://x/?q=" + text)}">{escaped}</a>') == text


def test_escape_every_markup_character() -> None:
    """The four characters Telegram's parser cares about become entities; others stay."""
    assert escape('<a href="x">&\'`*$\\[]') == "&lt;a href=&quot;x&quot;&gt;&amp;'`*$\\[]"


def test_escape_replaces_lone_surrogates() -> None:
    """A lone surrogate (unsendable as UTF-8) becomes U+FFFD."""
    assert escape("a\udc80b") == "a\ufffdb"


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("", 0),
        ("abc", 3),
        ("한국어", 3),
        ("👍", 2),
        ("𝒗𝐱", 4),
        ("e\u0301", 2),
        ("🇰🇷", 4),
        ("👨\u200d👩\u200d👧", 8),
        ("\u00e9", 1),
    ],
)
def test_utf16_len(text: str, units: int) -> None:
    """Characters outside the BMP count 2, combining marks and joiners count on their own."""
    assert utf16_len(text) == units


def test_visible_length_ignores_tags_and_decodes_entities() -> None:
    """Tags count 0, an entity counts as the character it stands for."""
    assert visible_length('<b>a&amp;b</b> <a href="https://x&amp;y">👍&lt;</a>') == 7


def test_split_short_text_is_unchanged() -> None:
    """Text within the limit comes back as one piece, untouched."""
    assert split_html("<b>hello</b> world", 20) == ["<b>hello</b> world"]


def test_split_prefers_line_breaks_and_reopens_tags() -> None:
    """A cut inside nested tags closes them and reopens them in the next piece."""
    lines = "\n".join(f"line {n:02} &amp; more" for n in range(10))
    markup = f'<b><a href="https://x/?a=1&amp;b=2">{lines}</a></b>'
    pieces = split_html(markup, 60)
    texts = assert_sendable(pieces, 60)
    assert all(piece.startswith('<b><a href="https://x/?a=1&amp;b=2">') for piece in pieces)
    assert all(piece.endswith("</a></b>") for piece in pieces)
    assert "\n".join(texts) == parse_telegram_html(markup)


def test_split_falls_back_to_spaces_then_hard() -> None:
    """Without line breaks a cut lands on a space; a long word is cut hard."""
    words = " ".join(["word"] * 40)
    assert all(" " not in (p[0], p[-1]) for p in assert_sendable(split_html(words, 50), 50))
    solid = "<i>" + "x" * 130 + "</i>"
    assert assert_sendable(split_html(solid, 50), 50) == ["x" * 50, "x" * 50, "x" * 30]


def test_split_never_cuts_an_entity_or_a_surrogate_pair() -> None:
    """Entities and non-BMP characters stay whole; each piece is within the UTF-16 limit."""
    markup = "&amp;👍" * 40
    pieces = split_html(markup, 25)
    texts = assert_sendable(pieces, 25)
    assert "".join(texts) == "&👍" * 40


def test_split_keeps_combining_marks_with_their_base() -> None:
    """A hard cut is moved back so a combining accent is not orphaned."""
    markup = "e\u0301" * 30
    pieces = split_html(markup, 9)
    assert_sendable(pieces, 9)
    assert all(not piece.startswith("\u0301") for piece in pieces)


def test_split_drops_whitespace_only_pieces() -> None:
    """Runs of blank lines never produce an empty message."""
    markup = "a" * 10 + "\n" * 30 + "<b>" + " " * 30 + "</b>" + "b" * 10
    assert assert_sendable(split_html(markup, 12), 12) == ["a" * 10, "b" * 10]


def test_split_is_linear_enough() -> None:
    """Splitting 100k characters into messages takes well under a second."""
    markup = "<b>" + "가나다 라마 👍\n" * 10_000 + "</b>"
    pieces = split_html(markup)
    assert len(pieces) > 20
    assert_sendable(pieces)
