"""The daily_papers_ko seed's Markdown format, written from papers (the reverse of the parser).

`render_seed_digest` writes what `bot.digest.markdown.parse_markdown` reads back to the same
papers: titles, links, media, votes, authors and summary sections. The parser takes text
verbatim (it unescapes nothing), so a backslash would come back as part of a title; instead
each field is written in the form the parser reads exactly:
- line breaks inside a field become spaces (a new line could start a heading or a field);
- titles go between `### [` and `](https://arxiv.org/abs/ID)` as they are: the parser looks
  for the last `](https://arxiv.org/abs/`, so `[`, `]` and `)` in a title are safe;
- authors are a comma list, or a Python list literal (`['A, Jr.', 'B']`, as the seed wrote in
  October 2024) when a name holds a comma or a line break or could read as a `+` truncation;
- titled summary sections are `- **Key**: bullet` lines (the 2024-06 seed style), one per
  bullet; an untitled bullet that would read as such a key is written as a plain line;
- media URLs have the characters that end a Markdown link target (` `, `)`, `>`, `"`)
  percent-encoded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from bot.digest.models import Paper, SummarySection

_ABS = "https://arxiv.org/abs/"
_TRUNCATION_TOKENS = frozenset(("+", "…", "..."))
_URL_ENDS = frozenset(")>\"'")  # characters that end a link target or a `src="…"` value
_KEY_MARKS = ("**", "__")
_KEY_LIMIT = 80  # the parser reads at most this many characters as a section key


def render_seed_digest(date: dt.date, papers: Sequence[Paper]) -> str:
    """The day's digest as seed Markdown: the heading, then one block per paper."""
    blocks = [f"## Daily Papers ({date.isoformat()})\n\n"]
    blocks.extend(render_seed_paper(paper) for paper in papers)
    return "".join(blocks)


def render_seed_paper(paper: Paper) -> str:
    """One paper's block, ending with a blank line as the seed's do."""
    lines = [f"### [{_one_line(paper.title)}]({_ABS}{paper.arxiv_id})", ""]
    if paper.media_url:
        lines.extend([*_media_lines(paper.media_url, video=paper.media_kind == "video"), ""])
    lines.extend([f"Vote: {'-' if paper.votes is None else paper.votes}", ""])
    if paper.authors or paper.authors_truncated:
        lines.extend([f"Authors: {_authors(paper.authors, paper.authors_truncated)}", ""])
    bullets = list(_summary_lines(paper.summary))
    if bullets:
        lines.extend([*bullets, ""])
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    """`text` on one line: line breaks become spaces, outer whitespace goes (as when parsed)."""
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ").strip()


def _media_lines(url: str, *, video: bool) -> list[str]:
    """An image line, or the seed's video link plus its player (the parser reads the first)."""
    safe = "".join(
        quote(ch, safe="") if ch in _URL_ENDS or ch.isspace() else ch for ch in _one_line(url)
    )
    if not video:
        return [f"![]({safe})"]
    player = f'<div><video controls src="{safe}" muted="false"></video></div>'
    return [f"[Watch Video]({safe})", player]


def _authors(names: Sequence[str], truncated: bool) -> str:
    """The `Authors:` value: a comma list when every name reads back as itself, else a literal."""
    cleaned = [name.strip() for name in names if name.strip()]
    plain = all(_plain_name(name) for name in cleaned) and not (
        cleaned and cleaned[0].startswith("[")
    )
    if plain:
        return ", ".join([*cleaned, *(["+"] if truncated else [])])
    # repr() writes Python string literals, which the parser decodes with ast.literal_eval.
    return "[" + ", ".join(repr(name) for name in [*cleaned, *(["+"] if truncated else [])]) + "]"


def _plain_name(name: str) -> bool:
    """Whether a name survives a comma list: no comma, no line break, not a truncation token."""
    return "," not in name and name == _one_line(name) and name not in _TRUNCATION_TOKENS


def _summary_lines(sections: Iterable[SummarySection]) -> Iterable[str]:
    """Bullet lines of the summary: `- **Key**: text` for titled sections, `- text` otherwise."""
    for section in sections:
        title = _one_line(section.title or "")
        for bullet in section.bullets:
            text = _one_line(bullet)
            if title:
                yield f"- {_key(title)}: {text}".rstrip()
            elif text:  # an empty untitled bullet has no line that reads back as one
                yield _untitled(text)


def _key(title: str) -> str:
    """A section key in bold, with a mark the title does not contain (`**`, else `__`)."""
    mark = next((mark for mark in _KEY_MARKS if mark[0] not in title), _KEY_MARKS[0])
    return f"{mark}{title[:_KEY_LIMIT]}{mark}"


def _untitled(text: str) -> str:
    """An untitled bullet's line; one starting with `*` or `_` could read as a `**Key**:`.

    A plain line (no `- `) is read verbatim into the untitled section, so it is used for those
    unless the text starts `* `, which would make the plain line a bullet itself.
    """
    if text[0] in "*_" and not text.startswith("* "):
        return text
    return f"- {text}"
