"""The archive's tables as typed SQLAlchemy 2 models (portable: SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite has no 64-bit autoincrement BIGINT; plain INTEGER is its 64-bit rowid.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored as UTC and always read back tz-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        """Refuse naive datetimes and store UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a tz-aware UTC timestamp")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        """Attach UTC to naive values read from SQLite."""
        if value is None:
            return None
        result: dt.datetime = value
        return result.replace(tzinfo=dt.UTC) if result.tzinfo is None else result


class Base(DeclarativeBase):
    """Declarative base of every paperboy table."""


class StoredDigest(Base):
    """One stored revision of a day's digest in one format."""

    __tablename__ = "digests"
    __table_args__ = (
        UniqueConstraint("date", "format", "revision", name="uq_digests_date_format_revision"),
        Index("ix_digests_date_format_hash", "date", "format", "content_hash"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    date: Mapped[dt.date] = mapped_column(Date)
    format: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    raw_text: Mapped[str] = mapped_column(Text)
    paper_count: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)
    ingested_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    is_latest: Mapped[bool] = mapped_column(Boolean, index=True)


class StoredPaper(Base):
    """One arXiv paper with its latest metadata."""

    __tablename__ = "papers"

    arxiv_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(Text)
    media_url: Mapped[str | None] = mapped_column(Text)
    media_kind: Mapped[str | None] = mapped_column(String(16))
    abstract: Mapped[str | None] = mapped_column(Text)
    authors_truncated: Mapped[bool] = mapped_column(Boolean)
    latest_votes: Mapped[int | None] = mapped_column(Integer)
    first_seen: Mapped[dt.date] = mapped_column(Date)
    last_seen: Mapped[dt.date] = mapped_column(Date, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # What the HF daily-papers list adds (migration 0008); None where no list had it.
    ai_summary: Mapped[str | None] = mapped_column(Text)
    ai_keywords: Mapped[list[str] | None] = mapped_column(JSON)
    github_repo: Mapped[str | None] = mapped_column(Text)
    github_stars: Mapped[int | None] = mapped_column(Integer)
    project_page: Mapped[str | None] = mapped_column(Text)
    num_comments: Mapped[int | None] = mapped_column(Integer)
    submitter: Mapped[str | None] = mapped_column(Text)
    organization: Mapped[str | None] = mapped_column(Text)


class DigestEntry(Base):
    """A paper as one digest revision showed it: position, votes, title and summary that day."""

    __tablename__ = "digest_entries"

    digest_id: Mapped[int] = mapped_column(BigId, ForeignKey("digests.id"), primary_key=True)
    arxiv_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("papers.arxiv_id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    votes: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    raw_block: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer)


class Author(Base):
    """An author by display name, with the folded form used for look-ups."""

    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(Text, unique=True)
    normalized: Mapped[str] = mapped_column(Text, index=True)
    # How many papers list this spelling: kept by storage.digest_store as author lists are
    # written, so an author look-up ranks a prefix's matches without counting their papers.
    paper_count: Mapped[int] = mapped_column(Integer, server_default="0")


class PaperAuthor(Base):
    """The latest author list of a paper, in order."""

    __tablename__ = "paper_authors"
    # An author's papers from the index alone (migration 0017).
    __table_args__ = (Index("ix_paper_authors_author_paper", "author_id", "arxiv_id"),)

    arxiv_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("papers.arxiv_id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(BigId, ForeignKey("authors.id"))


class VoteObservation(Base):
    """A paper's vote count as a source showed it at one moment (only changes are kept)."""

    __tablename__ = "vote_history"

    arxiv_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("papers.arxiv_id"), primary_key=True
    )
    observed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True, index=True)
    votes: Mapped[int] = mapped_column(Integer)


class GeneratedSummary(Base):
    """A Korean summary paperboy asked a model for: the cache and the claim, per prompt version.

    `state`: `claimed` (a worker is asking; `lease_until` lets another take over after a crash),
    `done` (`sections` validated by the Markdown parser), `failed` (rejected twice; `error`).
    """

    __tablename__ = "summaries"

    arxiv_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("papers.arxiv_id"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    prompt_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    sections: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    block: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
