"""Search keywords a model wrote for papers (bot.content.keywords): one row per paper, model and
prompt version, so a paper is asked about once; its search document indexes the newest row's.

Keyword-only, takes the session, never commits: the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import JSON, ForeignKey, Integer, String, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, DigestEntry, StoredDigest, StoredPaper, UTCDateTime

MAX_KEYWORDS = 16  # 10 English and 6 Korean lines, as the prompt asks
_CHUNK = 500


class PaperKeywords(Base):
    """One paper's keywords from one model and prompt (empty when its answer had none usable)."""

    __tablename__ = "paper_keywords"

    arxiv_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("papers.arxiv_id"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    prompt_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


async def papers_without_keywords(
    session: AsyncSession,
    *,
    model: str,
    prompt_version: int,
    dates: Sequence[dt.date] | None = None,
    limit: int | None = None,
) -> list[str]:
    """Ids of the papers (of digests of `dates`, else all) with no keywords from this model and
    prompt version, the most recently seen first."""
    done = exists().where(
        (PaperKeywords.arxiv_id == StoredPaper.arxiv_id)
        & (PaperKeywords.model == model)
        & (PaperKeywords.prompt_version == prompt_version)
    )
    query = select(StoredPaper.arxiv_id).where(~done)
    if dates is not None:
        of_days = (
            select(DigestEntry.arxiv_id)
            .join(StoredDigest, StoredDigest.id == DigestEntry.digest_id)
            .where(StoredDigest.date.in_(list(dates)))
        )
        query = query.where(StoredPaper.arxiv_id.in_(of_days))
    query = query.order_by(StoredPaper.last_seen.desc(), StoredPaper.arxiv_id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list((await session.scalars(query)).all())


async def store_keywords(
    session: AsyncSession, *, arxiv_id: str, model: str, prompt_version: int, keywords: list[str]
) -> bool:
    """Keep a paper's keywords; False when another worker stored them first (theirs are kept)."""
    try:
        async with session.begin_nested():
            session.add(
                PaperKeywords(
                    arxiv_id=arxiv_id,
                    model=model,
                    prompt_version=prompt_version,
                    keywords=keywords[:MAX_KEYWORDS],
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
    except IntegrityError:
        return False  # the savepoint keeps the transaction usable
    return True


async def newest_keywords(
    session: AsyncSession, *, arxiv_ids: Sequence[str]
) -> dict[str, list[str]]:
    """Each paper's keywords from its newest row (papers without any are left out)."""
    found: dict[str, tuple[dt.datetime, list[str]]] = {}
    ids = list(dict.fromkeys(arxiv_ids))
    for start in range(0, len(ids), _CHUNK):
        query = select(PaperKeywords.arxiv_id, PaperKeywords.keywords, PaperKeywords.created_at)
        rows = await session.execute(
            query.where(PaperKeywords.arxiv_id.in_(ids[start : start + _CHUNK]))
        )
        for row in rows:
            seen = found.get(row.arxiv_id)
            if seen is None or row.created_at > seen[0]:
                found[row.arxiv_id] = (row.created_at, list(row.keywords or ()))
    return {arxiv_id: keywords for arxiv_id, (_, keywords) in found.items()}


async def keyword_coverage(session: AsyncSession) -> tuple[int, int]:
    """(papers with keywords from any model, papers in the archive), for /stats."""
    papers = await session.scalar(select(func.count()).select_from(StoredPaper))
    covered = await session.scalar(select(func.count(func.distinct(PaperKeywords.arxiv_id))))
    return covered or 0, papers or 0
