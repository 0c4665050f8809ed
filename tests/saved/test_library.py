"""`library_of_chats`: what a dispatch pass's "for you" learns from, for a batch of chats."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from storage import saved
from storage.db import create_engine, session_factory
from storage.models import StoredPaper

NOW = dt.datetime(2025, 1, 24, 9, 0, tzinfo=dt.UTC)
GROUP, OTHER_GROUP = -100_001, -100_002


async def test_private_chats_get_their_users_saves_and_groups_what_was_saved_there(
    seeded_database_url: str,
) -> None:
    """Newest first (ties by id), each paper once, at most `limit`; a group never sees a
    member's private saves; a private chat sees its user's saves in groups too."""
    engine = create_engine(seeded_database_url)
    try:
        async with session_factory(engine).begin() as session:
            query = select(StoredPaper.arxiv_id).order_by(StoredPaper.arxiv_id).limit(6)
            a, b, c, d, e, f = (await session.scalars(query)).all()
            presses = [  # (user, paper, chat, minutes after NOW)
                (7, a, 7, 0),
                (7, b, GROUP, 1),
                (7, c, 7, 2),
                (7, d, 7, 2),  # the same moment as c: by id
                (8, b, GROUP, 3),  # a second member saves b in the group: once in its library
                (8, e, GROUP, 4),
                (8, f, OTHER_GROUP, 5),
                (9, a, 9, 6),
                (11, f, 7, 7),  # pressed in chat 7 by someone else: counts for chat 7 too
            ]
            for user, paper, chat, minutes in presses:
                at = NOW + dt.timedelta(minutes=minutes)
                await saved.save(session, user_id=user, arxiv_id=paper, chat_id=chat, now=at)
            found = await saved.library_of_chats(session, chat_ids=[7, 8, GROUP, 10, GROUP])
            assert found == {7: [f, c, d, b, a], 8: [f, e, b], GROUP: [e, b], 10: []}
            limited = await saved.library_of_chats(session, chat_ids=[7, GROUP], limit=2)
            assert limited == {7: [f, c], GROUP: [e, b]}
            assert await saved.library_of_chats(session, chat_ids=[]) == {}
    finally:
        await engine.dispose()
