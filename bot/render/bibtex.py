"""BibTeX for archived papers (pure): arXiv `@misc` entries with escaped LaTeX and stable keys."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Characters LaTeX gives a meaning to, as text-mode commands (`\` first: the others add some).
_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Combining marks LaTeX has an accent command for (`ö` is `o` + U+0308 → `{\"o}`).
_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0327": "c",
    "\u0328": "k",
}
_LETTERS = {
    "ß": r"{\ss}",
    "ø": r"{\o}",
    "Ø": r"{\O}",
    "ł": r"{\l}",
    "Ł": r"{\L}",
    "æ": r"{\ae}",
    "Æ": r"{\AE}",
    "œ": r"{\oe}",
    "Œ": r"{\OE}",
    "ı": r"{\i}",
    "đ": r"{\dj}",
    "Đ": r"{\DJ}",
}
_NEW_ID = re.compile(r"(?P<yy>\d{2})(?P<mm>\d{2})\.\d{4,5}")
_OLD_ID = re.compile(r"(?P<cls>[a-z-]+(?:\.[A-Z]{2})?)/(?P<yy>\d{2})(?P<mm>\d{2})\d{3}")
_KEY_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = frozenset({"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "is"})


@dataclass(frozen=True, slots=True)
class BibPaper:
    """What an entry needs: the archive's id, title and authors (first seen: year fallback)."""

    arxiv_id: str
    title: str
    authors: tuple[str, ...]
    first_seen_year: int | None = None


def escape_latex(text: str) -> str:
    """Plain text as LaTeX: specials escaped, accented Latin letters as accent commands, other
    non-ASCII (Hangul, CJK, Greek) kept as UTF-8, which biber and modern BibTeX read."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", " ".join(text.split())):
        if char in _SPECIALS:
            out.append(_SPECIALS[char])
        elif char in _LETTERS:
            out.append(_LETTERS[char])
        elif ord(char) < 128:
            out.append(char)
        else:
            out.append(_accented(char))
    return "".join(out)


def _accented(char: str) -> str:
    """`é` → `{\\'e}`, `č` → `{\\v{c}}` when the letter is ASCII plus known accents; else as is."""
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if not marks or ord(base) >= 128 or any(mark not in _ACCENTS for mark in marks):
        return char
    letter = {"i": r"\i{}", "j": r"\j{}"}.get(base, base)
    for mark in marks:
        command = _ACCENTS[mark]
        simple = not command.isalpha() and len(letter) == 1
        letter = f"\\{command}{letter}" if simple else f"\\{command}{{{letter}}}"
    return "{" + letter + "}"


def _ascii(text: str) -> str:
    """Lower-case ASCII letters and digits of `text` (accents dropped), for keys."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(_LETTERS.get(c, c).strip("{}\\") for c in folded)
    return "".join(_KEY_WORD.findall(folded.encode("ascii", "ignore").decode()))


def year_of(paper: BibPaper) -> int | None:
    """The submission year from the arXiv id (`2401.00908` → 2024), else the year first seen."""
    match = _NEW_ID.fullmatch(paper.arxiv_id) or _OLD_ID.fullmatch(paper.arxiv_id)
    if match is None:
        return paper.first_seen_year
    yy = int(match["yy"])
    return (1900 if yy >= 91 else 2000) + yy


def primary_class(arxiv_id: str) -> str | None:
    """The category an old-style id carries (`hep-th/9901001` → hep-th); new ids carry none."""
    match = _OLD_ID.fullmatch(arxiv_id)
    return match["cls"] if match else None


def _surname(name: str) -> str:
    """The family name of `First Last` or `Last, First`."""
    name = " ".join(name.split())
    if "," in name:
        return name.split(",", 1)[0]
    return name.rsplit(" ", 1)[-1] if name else ""


def cite_key(paper: BibPaper) -> str:
    """`wang2024docllm-2401.00908`: readable, and stable and unique because it ends in the id."""
    surname = _ascii(_surname(paper.authors[0])) if paper.authors else ""
    words = [w for w in (_ascii(word) for word in paper.title.split()) if w]
    word = next((w for w in words if w not in _STOP_WORDS), "")
    year = year_of(paper)
    head = f"{surname or 'anon'}{year or ''}{word[:20]}"
    return f"{head}-{paper.arxiv_id.replace('/', '.')}"


def _author_field(authors: Sequence[str]) -> str:
    """Names joined by ` and `; a name that holds the word `and` (`Johnson and Johnson`) or a
    comma-free organisation stays one name inside braces."""
    names = [" ".join(name.split()) for name in authors if name.strip()]
    shown = []
    for name in names:
        escaped = escape_latex(name)
        if re.search(r"\band\b", name, flags=re.IGNORECASE) or "," in name:
            escaped = "{" + escaped + "}"
        shown.append(escaped)
    return " and ".join(shown)


def bibtex_entry(paper: BibPaper) -> str:
    """One `@misc` entry in the form arXiv's own export uses."""
    fields = [("title", "{" + escape_latex(paper.title or paper.arxiv_id) + "}")]
    if paper.authors:
        fields.append(("author", _author_field(paper.authors)))
    year = year_of(paper)
    if year is not None:
        fields.append(("year", str(year)))
    fields += [("eprint", paper.arxiv_id), ("archivePrefix", "arXiv")]
    category = primary_class(paper.arxiv_id)
    if category:
        fields.append(("primaryClass", category))
    fields.append(("url", f"https://arxiv.org/abs/{paper.arxiv_id}"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{cite_key(paper)},\n{body}\n}}"


def render_bibtex(papers: Iterable[BibPaper]) -> str:
    """A .bib file's text: one entry per paper (repeats dropped), in the order given."""
    unique = {paper.arxiv_id: paper for paper in papers}
    return "\n\n".join(bibtex_entry(paper) for paper in unique.values()) + "\n"
