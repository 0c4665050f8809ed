"""BibTeX rendering: LaTeX escaping, accented and non-Latin names, stable unique keys."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from bot.digest.models import Paper
from bot.edition.buttons import CALLBACK_LIMIT, digest_papers, parse_save, save_data
from bot.render import render_digest
from bot.render.bibtex import BibPaper, bibtex_entry, cite_key, escape_latex, render_bibtex


def test_specials_are_escaped() -> None:
    """Every LaTeX special becomes its text-mode command."""
    assert escape_latex("100% of $x_1$ & {y} #1 ~ ^ \\") == (
        r"100\% of \$x\_1\$ \& \{y\} \#1 \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )


def test_accented_latin_names_and_other_scripts() -> None:
    """Accents become LaTeX commands; Hangul and CJK stay UTF-8."""
    assert escape_latex("Björn Ommer") == 'Bj{\\"o}rn Ommer'
    assert escape_latex("Łukasz Čermák") == r"{\L}ukasz {\v{C}}erm{\'a}k"
    assert escape_latex("김철수 王伟") == "김철수 王伟"


def test_entry_fields() -> None:
    """An entry has eprint, archivePrefix, the year from the id, url and a braced title."""
    entry = bibtex_entry(BibPaper("hep-th/9901001", "The & Title", ("Johnson and Johnson",)))
    assert "@misc{johnson1999title-hep-th.9901001," in entry
    assert "title = {{The \\& Title}}" in entry
    assert "author = {{Johnson and Johnson}}" in entry
    assert "primaryClass = {hep-th}" in entry
    assert "year = {1999}" in entry
    assert "eprint = {hep-th/9901001}" in entry
    assert "archivePrefix = {arXiv}" in entry


@given(st.lists(st.from_regex(r"2[0-9]{3}\.[0-9]{5}", fullmatch=True), unique=True, max_size=30))
def test_keys_are_unique_and_stable(ids: list[str]) -> None:
    """Papers with the same author and title still get distinct keys, the same on every run."""
    papers = [BibPaper(i, "Same Title", ("Kim Lee",)) for i in ids]
    keys = [cite_key(paper) for paper in papers]
    assert len(set(keys)) == len(keys)
    assert keys == [cite_key(paper) for paper in papers]
    assert render_bibtex(papers).count("@misc{") == len(ids)


def test_save_data_fits_and_parses() -> None:
    """Callback data is ≤ 64 bytes or absent; forged data parses to None."""
    assert parse_save(save_data("2401.00908")) == "2401.00908"
    assert save_data("x" * 70) is None
    assert parse_save("sv:<b>") is None
    assert parse_save("zz:2401.00908") is None
    assert len((save_data("a" * 61) or "").encode()) <= CALLBACK_LIMIT


def test_digest_messages_name_their_papers() -> None:
    """The ⭐ row of a digest message lists its papers by rank."""
    papers = [
        Paper(arxiv_id=f"2401.0000{n}", title=f"T{n}", link="https://x", votes=10 - n)
        for n in range(3)
    ]
    (message,) = render_digest(papers, date=dt.date(2024, 1, 3), lang="en")
    assert digest_papers(message) == [("1", "2401.00000"), ("2", "2401.00001"), ("3", "2401.00002")]
