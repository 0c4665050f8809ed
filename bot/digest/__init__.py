"""Digest parsers and models: text in, `Digest` out; no I/O, no clock."""

from bot.digest.detect import parse_digest
from bot.digest.hf_json import parse_hf_json
from bot.digest.markdown import parse_markdown
from bot.digest.models import Digest, DigestError, MediaKind, Paper, ParseIssue, SummarySection

__all__ = [
    "Digest",
    "DigestError",
    "MediaKind",
    "Paper",
    "ParseIssue",
    "SummarySection",
    "parse_digest",
    "parse_hf_json",
    "parse_markdown",
]
