"""The cache of query expansions (bot.content.expansion): a model's English phrases for a
Korean search query, per model and prompt version, so each query is asked about once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Integer, String
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, UTCDateTime


class QueryExpansion(Base):
    """One query's phrases (an empty list when the model's answer had none usable)."""

    __tablename__ = "query_expansions"

    query: Mapped[str] = mapped_column(String(200), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    prompt_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    phrases: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


async def cached(
    session: AsyncSession, *, query: str, model: str, prompt_version: int
) -> list[str] | None:
    """The stored phrases of `query`, or None when it was never expanded."""
    row = await session.get(QueryExpansion, (query, model, prompt_version))
    return list(row.phrases) if row is not None else None


async def store(
    session: AsyncSession, *, query: str, model: str, prompt_version: int, phrases: list[str]
) -> None:
    """Keep `query`'s phrases; another worker's answer stored first is kept instead."""
    try:
        async with session.begin_nested():
            session.add(
                QueryExpansion(
                    query=query,
                    model=model,
                    prompt_version=prompt_version,
                    phrases=phrases,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
    except IntegrityError:
        pass  # another worker stored it first (the savepoint keeps the transaction usable)
