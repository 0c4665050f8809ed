"""Pure message rendering in Telegram HTML: no I/O, no clock, only digest models in."""

from bot.render.labels import Labels, Lang
from bot.render.markup import (
    CAPTION_LIMIT,
    MESSAGE_LIMIT,
    escape,
    split_html,
    utf16_len,
    visible_length,
)
from bot.render.papers import (
    InlineArticle,
    clip,
    excerpt,
    one_line,
    pack_blocks,
    render_digest,
    render_inline_article,
    render_paper,
    render_paper_line,
    render_weekly,
    shorten_authors,
)

__all__ = [
    "CAPTION_LIMIT",
    "MESSAGE_LIMIT",
    "InlineArticle",
    "Labels",
    "Lang",
    "clip",
    "escape",
    "excerpt",
    "one_line",
    "pack_blocks",
    "render_digest",
    "render_inline_article",
    "render_paper",
    "render_paper_line",
    "render_weekly",
    "shorten_authors",
    "split_html",
    "utf16_len",
    "visible_length",
]
