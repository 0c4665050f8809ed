"""The digest's "✨ For you" section as rendered (pure)."""

from __future__ import annotations

import datetime as dt

from bot.digest.models import Paper
from bot.edition.buttons import digest_papers
from bot.render import render_digest


def _paper(n: int) -> Paper:
    """A minimal paper."""
    return Paper(
        arxiv_id=f"2501.0000{n}",
        title=f"Paper <{n}>",
        link=f"https://arxiv.org/abs/2501.0000{n}",
        authors=["A. Author"],
        votes=n,
    )


def test_section_follows_the_digest_and_numbers_on() -> None:
    """Picks come after the selection under the title, ranked on, so ⭐ buttons cover them."""
    (text,) = render_digest(
        [_paper(1), _paper(2)], date=dt.date(2025, 1, 24), lang="en", for_you=[_paper(3)]
    )
    head, picks = text.split("✨ For you")
    assert "Paper &lt;1&gt;" in head
    assert "<b>3.</b>" in picks
    assert [rank for rank, _ in digest_papers(text)] == ["1", "2", "3"]
    korean = "\n".join(
        render_digest([_paper(1)], date=dt.date(2025, 1, 24), lang="ko", for_you=[_paper(2)])
    )
    assert "✨ 맞춤 추천" in korean
    assert "✨" not in "\n".join(render_digest([_paper(1)], date=dt.date(2025, 1, 24), lang="en"))
