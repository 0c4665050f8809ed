"""The test-side Telegram HTML checker refuses what Telegram refuses."""

from __future__ import annotations

import pytest

from tests.render.telegram_html import InvalidHtml, parse_telegram_html


@pytest.mark.parametrize(
    "text",
    [
        "a < b",
        "a & b",
        "a > b",
        "<b>open",
        "<b><i>x</b></i>",
        "</b>x",
        "<h1>x</h1>",
        '<a href="x">y</a><a>z</a>',
        '<a href="a<b">y</a>',
        '<a href="x" href="y">z</a>',
        "&nbsp;",
        "<b> </b>",
        "\ud800",
    ],
)
def test_rejects_invalid(text: str) -> None:
    """Bare markup characters, unknown or misnested tags and empty messages are refused."""
    with pytest.raises(InvalidHtml):
        parse_telegram_html(text)


def test_accepts_and_decodes() -> None:
    """Allowed tags and entities parse to their visible text."""
    text = '<b>a &amp; <a href="https://x?a=1&amp;b=&quot;2&quot;">b</a></b> &lt;&gt;&#x27;&#39;'
    assert parse_telegram_html(text) == "a & b <>''"
