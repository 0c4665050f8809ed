"""The message catalogues: same keys and placeholders in ko and en, valid HTML, escaping."""

from __future__ import annotations

import pytest

from bot.emulator.html import parse_html_entities
from bot.i18n import (
    Key,
    Markup,
    catalogue,
    placeholders,
    resolve_language,
    translate,
)


def test_ko_and_en_have_the_same_keys_and_placeholders() -> None:
    """Every key exists in both languages with the same `{placeholders}`."""
    ko, en = catalogue("ko"), catalogue("en")
    assert ko.keys() == en.keys()
    for key in ko:
        assert placeholders(ko[key]) == placeholders(en[key]), key


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_message_is_valid_telegram_html(lang: str) -> None:
    """Each template, filled with hostile parameters, parses as Telegram HTML."""
    for key, template in catalogue(lang).items():
        params = {name: "<b>&\"'🙂" for name in placeholders(template)}
        parse_html_entities(translate(lang, key, **params))


def test_parameters_are_escaped_unless_marked() -> None:
    """Plain strings are escaped, `Markup` is inserted as is, `Key` is translated, numbers kept."""
    assert "&lt;i&gt;" in translate("en", "start.welcome", name="<i>")
    assert "<i>x</i>" in translate("en", "start.welcome", name=Markup("<i>x</i>"))
    assert "한국어" in translate("ko", "settings.done_lang", language=Key("settings.lang_ko"))
    assert "5" in translate("en", "settings.done_top", top_n=5)


def test_unknown_key_is_a_bug() -> None:
    """A missing key raises instead of sending an empty message."""
    with pytest.raises(KeyError):
        translate("en", "nope.missing")


@pytest.mark.parametrize(
    ("chat", "user", "default", "expected"),
    [
        ("en", "ko", "ko", "en"),
        (None, "ko-KR", "en", "ko"),
        (None, "en_US", "ko", "en"),
        (None, "de", "ko", "ko"),
        (None, None, "en", "en"),
        ("fr", None, "xx", "ko"),
    ],
)
def test_resolve_language(chat: str | None, user: str | None, default: str, expected: str) -> None:
    """Chat setting, else the user's Telegram language, else the default (else Korean)."""
    assert resolve_language(chat, user, default) == expected
