"""Digest parsers and models: text in, `Digest` out; no I/O, no clock."""

from bot.digest.models import Digest, DigestError, MediaKind, Paper, ParseIssue, SummarySection

__all__ = ["Digest", "DigestError", "MediaKind", "Paper", "ParseIssue", "SummarySection"]
