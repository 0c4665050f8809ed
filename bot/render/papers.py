"""Digest, paper, result-line and inline-article messages in Telegram HTML (pure)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from bot.digest.models import Paper, SummarySection
from bot.render.labels import Labels, Lang
from bot.render.markup import MESSAGE_LIMIT, escape, split_html, utf16_len, visible_length

ABSTRACT_PREVIEW = 300  # UTF-16 units of an abstract shown in place of (or beside) a summary
FULL_AUTHORS = 30  # /paper lists every author up to this many
LINE_TITLE = 150  # a result line's title is clipped here to stay one line on a phone
INLINE_TITLE = 256
INLINE_DESCRIPTION = 200
_SEPARATOR = "\n\n"


class InlineArticle(NamedTuple):
    """An inline-mode result: plain title, plain description, and the message it sends."""

    title: str
    description: str
    text: str


def one_line(text: str) -> str:
    """Collapse every run of whitespace (newlines included) into one space."""
    return " ".join(text.split())


def _prefix_within(text: str, limit: int) -> str:
    """The longest prefix of `text` that is at most `limit` UTF-16 units long."""
    used = 0
    for index, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:index]
    return text


def clip(text: str, limit: int) -> str:
    """Plain `text` cut to at most `limit` UTF-16 units, at a word if one is near, with "…"."""
    if utf16_len(text) <= limit:
        return text
    head = _prefix_within(text, limit - 1)
    space = head.rfind(" ")
    if space >= len(head) * 0.7:
        head = head[:space]
    return head.rstrip() + "…"


def _unique_names(authors: Iterable[str]) -> list[str]:
    """Author names with whitespace tidied, empties and exact repeats dropped, order kept."""
    names = (one_line(name) for name in authors)
    return list(dict.fromkeys(name for name in names if name))


def shorten_authors(authors: Sequence[str], *, truncated: bool, lang: Lang, keep: int = 3) -> str:
    """ "A, B, C 외 12명" / "A, B, C and 12 more" (plain text; the caller escapes it)."""
    labels = Labels.for_lang(lang)
    names = _unique_names(authors)
    shown = ", ".join(names[:keep])
    if truncated:  # the source cut the list with "+" and never said how many were left out
        rest = labels.others
    elif len(names) > keep:
        rest = labels.more_authors.format(count=len(names) - keep)
    else:
        return shown
    return f"{shown} {rest}" if shown else rest


@dataclass(frozen=True, slots=True)
class Packing:
    """Blocks packed into messages so far: the full ones, and the last one still open to more
    blocks (its blocks and visible width). Packing goes on from a copy: a digest's shared part
    is packed once and each chat's own blocks after it."""

    full: tuple[str, ...] = ()
    open: tuple[str, ...] = ()
    used: int = 0

    def add(self, blocks: Iterable[str], *, limit: int = MESSAGE_LIMIT) -> Packing:
        """These blocks packed on, each into the open message while it fits; a block too long
        alone is split inside."""
        full, current, used = list(self.full), list(self.open), self.used
        gap = utf16_len(_SEPARATOR)
        for block in blocks:
            width = visible_length(block)
            if current and used + gap + width <= limit:
                current.append(block)
                used += gap + width
                continue
            if current:
                full.append(_SEPARATOR.join(current))
            pieces = split_html(block, limit) if width > limit else [block]
            full.extend(pieces[:-1])
            current, used = [pieces[-1]], visible_length(pieces[-1])
        return Packing(tuple(full), tuple(current), used)

    def messages(self) -> list[str]:
        """The packed messages."""
        return [*self.full, *([_SEPARATOR.join(self.open)] if self.open else [])]


def pack_blocks(blocks: Iterable[str], *, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Join HTML blocks into as few messages as fit; a block too long alone is split inside."""
    return Packing().add(blocks, limit=limit).messages()


def _abs_url(paper: Paper) -> str:
    """The paper's arXiv abstract page."""
    return f"https://arxiv.org/abs/{paper.arxiv_id}"


def _link(url: str, text: str) -> str:
    """An escaped link."""
    return f'<a href="{escape(url)}">{escape(text)}</a>'


def _title_link(paper: Paper, *, limit: int | None = None) -> str:
    """The title, on one line, linked to arXiv."""
    title = one_line(paper.title) or paper.arxiv_id
    return _link(_abs_url(paper), clip(title, limit) if limit else title)


def _votes(votes: int | None) -> str:
    """ "👍 48", or "👍 ?" when the count is unknown."""
    return f"👍 {'?' if votes is None else votes}"


def _fold(name: str) -> str:
    """An author name in the form followed names are compared in."""
    return one_line(name).casefold()


def _follows(paper: Paper, followed: frozenset[str]) -> bool:
    """Whether any author of the paper is followed (names compared case- and space-blind)."""
    return bool(followed) and any(_fold(name) in followed for name in paper.authors)


def _section_lines(section: SummarySection) -> list[str]:
    """A summary section: its title in bold, then its bullets."""
    lines = [f"<b>{escape(one_line(section.title))}</b>"] if section.title else []
    lines.extend(f"• {escape(bullet.strip())}" for bullet in section.bullets if bullet.strip())
    return lines


def excerpt(text: str, limit: int = ABSTRACT_PREVIEW) -> str:
    """Plain `text` on one line, cut to at most `limit` UTF-16 units: at a sentence's end when
    one is in the second half, else as `clip` cuts, with "…"."""
    flat = one_line(text)
    if utf16_len(flat) <= limit:
        return flat
    head = _prefix_within(flat, limit - 2)
    end = max(head.rfind(mark) for mark in (". ", "? ", "! "))
    if end >= len(head) // 2:
        return head[: end + 1] + " …"
    return clip(flat, limit)


def _english_lines(paper: Paper) -> list[str]:
    """The HF one-line summary and the start of the abstract, escaped (none when it has neither)."""
    texts = [paper.ai_summary or "", excerpt(paper.abstract or "")]
    return [escape(one_line(text)) for text in texts if text.strip()]


def _preview_lines(paper: Paper, lang: Lang) -> list[str]:
    """What a digest shows of a paper in the chat's language.

    Korean chats: the Korean summary's first section, else the English text marked as English.
    English chats: the English text only, never the Korean bullets.
    """
    korean = _section_lines(paper.summary[0]) if lang != "en" and paper.summary else []
    if korean:
        return korean
    english = _english_lines(paper)
    if english and lang != "en":
        return [f"<i>{escape(Labels.for_lang(lang).english_summary)}</i>", *english]
    return english


def _meta_line(paper: Paper, lang: Lang, *, keep: int) -> str:
    """Votes and shortened authors."""
    authors = shorten_authors(
        paper.authors, truncated=paper.authors_truncated, lang=lang, keep=keep
    )
    return " · ".join([_votes(paper.votes), *([escape(authors)] if authors else [])])


def _digest_header(
    date: dt.date, labels: Labels, header: str | None, *, late: bool, update: bool
) -> str:
    """The digest's title line with its late/update markers, then the caller's extra line."""
    line = f"📰 <b>{escape(labels.digest_title)} · {date.isoformat()}</b>"
    markers = [label for flag, label in ((late, labels.late), (update, labels.update)) if flag]
    if markers:
        line += " · " + " · ".join(f"<i>{escape(marker)}</i>" for marker in markers)
    return f"{line}\n{header}" if header else line


class BlockRenderer(Protocol):
    """Renders one paper's block of a digest (`digest_block`, or a memo of it)."""

    def __call__(self, paper: Paper, rank: int, lang: Lang, *, followed: bool) -> str: ...


def digest_block(paper: Paper, rank: int, lang: Lang, *, followed: bool) -> str:
    """One paper of a digest: rank, star, linked title, votes, authors and a preview."""
    return ranked(rank, block_body(paper, lang, followed=followed))


def block_body(paper: Paper, lang: Lang, *, followed: bool) -> str:
    """A digest block after its rank (the same whatever the rank: a caller may memoize it)."""
    star = "★ " if followed else ""
    lines = [f"{star}<b>{_title_link(paper)}</b>", _meta_line(paper, lang, keep=3)]
    return "\n".join([*lines, *_preview_lines(paper, lang)])


def ranked(rank: int, body: str) -> str:
    """A digest block: its rank, then its `block_body`."""
    return f"<b>{rank}.</b> {body}"


def render_digest(
    papers: Sequence[Paper],
    *,
    date: dt.date,
    lang: Lang,
    header: str | None = None,
    start: int = 1,
    followed_authors: frozenset[str] = frozenset(),
    late: bool = False,
    update: bool = False,
    for_you: Sequence[Paper] = (),
    block: BlockRenderer | None = None,
) -> list[str]:
    """A digest as messages within Telegram's limit, split between papers where possible.

    `header` is an optional extra line of trusted HTML (e.g. a translated template) shown under
    the title in the first message; `start` is the rank of the first paper. `for_you` papers
    follow in a "✨ For you" section, ranked on from the digest's (so their ⭐ buttons, which
    are read back from the ranks, number on too). `block` renders one paper's block in place
    of `digest_block` (a caller's memo of it: the same paper at the same rank renders alike).
    """
    packed = pack_digest(
        papers,
        date=date,
        lang=lang,
        header=header,
        start=start,
        followed_authors=followed_authors,
        late=late,
        update=update,
        block=block,
    )
    return add_for_you(
        packed,
        for_you,
        lang=lang,
        start=start + len(papers),
        followed_authors=followed_authors,
        block=block,
    )


def pack_digest(
    papers: Sequence[Paper],
    *,
    date: dt.date,
    lang: Lang,
    header: str | None = None,
    start: int = 1,
    followed_authors: frozenset[str] = frozenset(),
    late: bool = False,
    update: bool = False,
    block: BlockRenderer | None = None,
) -> Packing:
    """A digest's title and papers packed (`render_digest` without its "for you" section),
    open to `add_for_you`."""
    labels = Labels.for_lang(lang)
    followed = frozenset(_fold(name) for name in followed_authors)
    render = block or digest_block
    blocks = [_digest_header(date, labels, header, late=late, update=update)]
    blocks.extend(
        render(paper, rank, lang, followed=_follows(paper, followed))
        for rank, paper in enumerate(papers, start)
    )
    return Packing().add(blocks)


def add_for_you(
    packed: Packing,
    for_you: Sequence[Paper],
    *,
    lang: Lang,
    start: int,
    followed_authors: frozenset[str] = frozenset(),
    block: BlockRenderer | None = None,
) -> list[str]:
    """A packed digest's messages with its "✨ For you" section (`for_you` ranked from `start`
    on) packed after its papers; the digest's messages alone when there are no picks."""
    if not for_you:
        return packed.messages()
    followed = frozenset(_fold(name) for name in followed_authors)
    render = block or digest_block
    picks = [
        render(paper, rank, lang, followed=_follows(paper, followed))
        for rank, paper in enumerate(for_you, start)
    ]
    # The title travels with the first pick: a split never leaves it alone at a message's end.
    first = f"{_for_you_title(lang)}{_SEPARATOR}{picks[0]}"
    return packed.add([first, *picks[1:]]).messages()


@functools.cache
def _for_you_title(lang: Lang) -> str:
    """The "✨ For you" section's title and note (each chat's section starts with them)."""
    labels = Labels.for_lang(lang)
    return f"<b>{escape(labels.for_you)}</b>\n<i>{escape(labels.for_you_note)}</i>"


def render_weekly(
    papers: Sequence[Paper],
    *,
    week: str,
    start: dt.date,
    end: dt.date,
    lang: Lang,
    followed_authors: frozenset[str] = frozenset(),
    late: bool = False,
) -> list[str]:
    """A week's top papers (`week` like `2025-W05`, from `start` to `end`) as digest messages."""
    labels = Labels.for_lang(lang)
    followed = frozenset(_fold(name) for name in followed_authors)
    line = f"📊 <b>{escape(labels.weekly_title)} · {escape(week)}</b>"
    if late:
        line += f" · <i>{escape(labels.late)}</i>"
    blocks = [f"{line}\n{start.isoformat()} – {end.isoformat()}"]
    blocks.extend(
        digest_block(paper, rank, lang, followed=_follows(paper, followed))
        for rank, paper in enumerate(papers, 1)
    )
    return pack_blocks(blocks)


def _web_url(url: str | None) -> str | None:
    """`url` when it is a plain http(s) address (a link to anything else is not shown)."""
    return url if url and url.startswith(("https://", "http://")) and " " not in url else None


def _links_line(paper: Paper, labels: Labels) -> str:
    """Links to the arXiv page, the PDF, the Hugging Face page, the code and the project page."""
    paper_id = paper.arxiv_id
    links = [
        _link(_abs_url(paper), "arXiv"),
        _link(f"https://arxiv.org/pdf/{paper_id}", "PDF"),
        _link(f"https://huggingface.co/papers/{paper_id}", labels.hf_page),
    ]
    if _web_url(paper.github_repo):
        stars = paper.github_stars
        count = "" if stars is None else " " + escape(labels.stars.format(count=stars))
        links.append(_link(paper.github_repo or "", "GitHub") + count)
    if _web_url(paper.project_page):
        links.append(_link(paper.project_page or "", labels.project_page))
    return "🔗 " + " · ".join(links)


def _community_line(paper: Paper, labels: Labels) -> str | None:
    """Comments on the HF page, who put the paper on the list and their organization, if known."""
    parts = []
    if paper.num_comments is not None:
        parts.append(labels.comments.format(count=paper.num_comments))
    if paper.submitter:
        parts.append(labels.submitted_by.format(name=one_line(paper.submitter)))
    if paper.organization:
        parts.append(f"🏢 {one_line(paper.organization)}")
    return escape(" · ".join(parts)) if parts else None


def _days_line(days: Sequence[tuple[dt.date, int | None]], labels: Labels) -> str:
    """The days the paper was featured, each with its votes that day."""
    shown = ", ".join(f"{day.isoformat()} ({_votes(votes)})" for day, votes in days)
    return f"📅 {escape(labels.featured)}: {shown}"


def _korean_blocks(paper: Paper, labels: Labels, provenance: str | None) -> list[str]:
    """The Korean summary under its heading (and where it came from), section by section."""
    heading = f"<b>{escape(labels.korean_summary)}</b>"
    if provenance:
        heading += f" · <i>{provenance}</i>"
    sections = ["\n".join(_section_lines(section)) for section in paper.summary]
    sections = [section for section in sections if section]
    if not sections:
        return [f"{heading}\n<i>{escape(labels.no_summary)}</i>"]
    return [f"{heading}\n{sections[0]}", *sections[1:]]


def _english_blocks(paper: Paper, labels: Labels) -> list[str]:
    """The HF one-line summary and the start of the abstract under their heading, if any."""
    summary = one_line(paper.ai_summary or "")
    lines = [escape(summary)] if summary else []
    if paper.abstract and paper.abstract.strip():
        lines.extend([f"<b>{escape(labels.abstract)}</b>", escape(excerpt(paper.abstract))])
    if not lines:
        return []
    return ["\n".join([f"<b>{escape(labels.english_summary)}</b>", *lines])]


def render_paper(
    paper: Paper,
    *,
    days: Sequence[tuple[dt.date, int | None]],
    lang: Lang,
    provenance: str | None = None,
) -> list[str]:
    """Everything about one paper for /paper, as messages within Telegram's limit.

    Both languages are shown, the chat's first; `provenance` is an optional line of trusted
    HTML saying where the Korean summary came from.
    """
    labels = Labels.for_lang(lang)
    head = [
        f"<b>{_title_link(paper)}</b>",
        f"{_votes(paper.votes)} · <code>{escape(paper.arxiv_id)}</code>",
    ]
    authors = shorten_authors(
        paper.authors, truncated=paper.authors_truncated, lang=lang, keep=FULL_AUTHORS
    )
    if authors:
        head.append(f"👤 {escape(authors)}")
    korean = _korean_blocks(paper, labels, provenance)
    english = _english_blocks(paper, labels)
    summaries = [*english, *korean] if lang == "en" else [*korean, *english]
    community = _community_line(paper, labels)
    tail = [
        _links_line(paper, labels),
        *([community] if community else []),
        *([_days_line(days, labels)] if days else []),
    ]
    return pack_blocks(["\n".join(head), *summaries, "\n".join(tail)])


def render_paper_line(paper: Paper, *, rank: int | None, lang: Lang) -> str:
    """One compact line for a result list: rank, linked title, votes and a few authors."""
    prefix = f"{rank}. " if rank is not None else "• "
    authors = shorten_authors(paper.authors, truncated=paper.authors_truncated, lang=lang, keep=2)
    parts = [prefix + _title_link(paper, limit=LINE_TITLE), _votes(paper.votes)]
    if authors:
        parts.append(escape(clip(authors, LINE_TITLE)))
    return " · ".join(parts)


def _inline_description(paper: Paper, lang: Lang) -> str:
    """Votes, authors and the start of the summary in the chat's language, as plain text."""
    authors = shorten_authors(paper.authors, truncated=paper.authors_truncated, lang=lang, keep=2)
    korean = paper.summary[:1] if lang != "en" else ()
    preview = one_line(" ".join(bullet for section in korean for bullet in section.bullets))
    if not preview:
        english = one_line(paper.ai_summary or paper.abstract or "")
        preview = f"🇬🇧 {english}" if english and lang != "en" else english
    lines = [" · ".join([_votes(paper.votes), *([authors] if authors else [])])]
    return clip("\n".join([*lines, *([preview] if preview else [])]), INLINE_DESCRIPTION)


def render_inline_article(paper: Paper, *, lang: Lang) -> InlineArticle:
    """The inline-mode result for a paper: title, description and one message's HTML."""
    labels = Labels.for_lang(lang)
    lines = [f"<b>{_title_link(paper)}</b>", _meta_line(paper, lang, keep=3)]
    body = "\n".join([*lines, *_preview_lines(paper, lang), "", _links_line(paper, labels)])
    pieces = split_html(body, MESSAGE_LIMIT - 2)
    text = pieces[0] + ("\n…" if len(pieces) > 1 else "")
    title = clip(one_line(paper.title) or paper.arxiv_id, INLINE_TITLE)
    return InlineArticle(title, _inline_description(paper, lang), text)
