"""Telegram HTML parse mode: what parses, what is refused and with which words."""

from __future__ import annotations

import pytest

from bot.emulator.html import EntityParseError, parse_html_entities, utf16_len


def test_nested_tags_give_entities_in_utf16_offsets() -> None:
    """Nested tags become entities ordered by offset, outer first, counted in UTF-16 units."""
    text, entities = parse_html_entities("😀 <b>bold <i>both</i></b> <u>u</u>")
    assert text == "😀 bold both u"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 9},
        {"type": "italic", "offset": 8, "length": 4},
        {"type": "underline", "offset": 13, "length": 1},
    ]


def test_every_supported_tag_parses() -> None:
    """All tags Telegram supports are accepted, with their attributes."""
    markup = (
        "<strong>a</strong><em>b</em><ins>c</ins><s>d</s><strike>e</strike><del>f</del>"
        '<span class="tg-spoiler">g</span><tg-spoiler>h</tg-spoiler><a href="https://x.org">i</a>'
        '<code>j</code><pre><code class="language-python">k</code></pre>'
        '<blockquote>l</blockquote><blockquote expandable>m</blockquote><tg-emoji emoji-id="5">n'
        "</tg-emoji>"
    )
    text, entities = parse_html_entities(markup)
    assert text == "abcdefghijklmn"
    kinds = [e["type"] for e in entities]
    assert kinds == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "strikethrough",
        "strikethrough",
        "spoiler",
        "spoiler",
        "text_link",
        "code",
        "pre",
        "blockquote",
        "expandable_blockquote",
        "custom_emoji",
    ]
    assert entities[10]["language"] == "python"


def test_escaped_entities_decode() -> None:
    """&lt; &gt; &amp; &quot; and numeric entities decode, also inside attributes."""
    text, entities = parse_html_entities(
        '&lt;a&gt; &amp; &quot;&#65;&#x1F600;<a href="/?a=1&amp;b">l</a>'
    )
    assert text == '<a> & "A😀l'
    assert entities[0]["url"] == "/?a=1&b"


def test_bare_greater_than_is_text() -> None:
    """An unescaped `>` is plain text, as in Telegram."""
    assert parse_html_entities("a > b") == ("a > b", [])


@pytest.mark.parametrize(
    ("markup", "message"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("é<br/>", 'Unsupported start tag "br/" at byte offset 2'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</b", "Unclosed end tag at byte offset 4"),
        ('<a href="x>y</a>', "Unclosed start tag at byte offset 0"),
        ("<a =x>y</a>", 'Empty attribute name in the tag "a" at byte offset 0'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("AT&T", 'Character "&" at byte offset 2 must be escaped as "&amp;"'),
        ("a & b", 'Character "&" at byte offset 2 must be escaped as "&amp;"'),
        ("&nbsp;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
        ("&#0;", 'Character "&" at byte offset 0 must be escaped as "&amp;"'),
    ],
)
def test_invalid_markup_is_refused_with_telegrams_words(markup: str, message: str) -> None:
    """Unknown tags, bad nesting and unescaped `<`/`&` raise with tdlib's description."""
    with pytest.raises(EntityParseError) as caught:
        parse_html_entities(markup)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_empty_tags_and_links_without_href_vanish() -> None:
    """Empty entities and links without a target are dropped, as Telegram does."""
    assert parse_html_entities("<b></b><a>x</a>") == ("x", [])


def test_user_links_become_text_mentions() -> None:
    """tg://user?id= links are text_mention entities."""
    _, entities = parse_html_entities('<a href="tg://user?id=42">me</a>')
    assert entities == [{"type": "text_mention", "offset": 0, "length": 2, "user": {"id": 42}}]


def test_utf16_len_counts_astral_characters_twice() -> None:
    """Emoji outside the BMP count two units; Hangul and ASCII count one."""
    assert utf16_len("😀") == 2
    assert utf16_len("한국어 abc") == 7
    assert utf16_len("") == 0


def test_tag_names_are_case_insensitive() -> None:
    """<B>…</b> is bold, as in Telegram."""
    assert parse_html_entities("<B>x</b>") == ("x", [{"type": "bold", "offset": 0, "length": 1}])
