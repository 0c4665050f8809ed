"""A dispatch pass's "✨ For you": which chats get the section, their libraries a batch at a
time, and the recommender (scikit-learn), loaded only once a due chat has enough saved papers.

Who gets it: a chat with `for_you` on (the default; /settings turns it off) whose library holds
at least `MIN_SAVED` papers the archive knows. A private chat's library is its user's saves,
wherever they pressed ⭐; a group's is what its members saved in that group
(`storage.saved.library_of_chats`): a group learns from its own ⭐ presses, never from a
member's private library. The archive's features come from a cache that outlives the pass
(the runtime's, shared with /foryou), so a pass builds them at most once, and only when the
archive changed since; a batch's libraries cost one query, and its picks a few array operations
per due day (bot.recommend.picks).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.digest.models import Paper
from bot.edition.compose import ForYouPicker
from bot.recommend import MIN_SAVED
from storage.chats import Chat
from storage.saved import SavedPaper, library_of_chats

if TYPE_CHECKING:  # scikit-learn loads only when some chat is served
    from bot.recommend.compute import FeatureCache
    from bot.recommend.picks import PassPicks

FeatureSource = Callable[[], "FeatureCache"]
WARM_BATCH = 1000  # chats whose libraries are loaded at a time by `warm_for_you`


async def anyone_served(session: AsyncSession) -> bool:
    """Whether some chat a pass would serve has saved `MIN_SAVED` papers (a private chat's
    user anywhere, or a group's members in it): the runtime then warms up at start."""
    served = (Chat.subscribed.is_(True), Chat.active.is_(True), Chat.for_you.is_(True))
    for owner in (SavedPaper.user_id, SavedPaper.chat_id):
        query = (
            select(owner)
            .join(Chat, Chat.chat_id == owner)
            .where(*served)
            .group_by(owner)
            .having(func.count() >= MIN_SAVED)
            .limit(1)
        )
        if (await session.execute(query)).first() is not None:
            return True
    return False


async def warm_for_you(session: AsyncSession, cache: FeatureCache) -> int:
    """Bring the cache's features up to the archive, then compute the kernels of every library
    a pass would serve (subscribed chats with "for you" on), so the next dispatch pass only
    looks them up (bot.clock calls it after a poll that stored papers). The array work runs
    in a thread: the bot keeps answering. Returns how many libraries are served."""
    from bot.recommend.picks import warm_libraries

    features = await cache.get(session)
    query = (
        select(Chat.chat_id)
        .where(Chat.subscribed.is_(True), Chat.active.is_(True), Chat.for_you.is_(True))
        .order_by(Chat.chat_id)
    )
    chat_ids = list((await session.scalars(query)).all())
    served = 0
    for start in range(0, len(chat_ids), WARM_BATCH):
        found = await library_of_chats(session, chat_ids=chat_ids[start : start + WARM_BATCH])
        libraries = [ids for ids in found.values() if len(ids) >= MIN_SAVED]
        served += await asyncio.to_thread(warm_libraries, features, libraries)
    return served


class ForYouPass:
    """The "for you" side of one dispatch pass."""

    def __init__(self, session: AsyncSession, features: FeatureSource | None = None) -> None:
        self.session, self.features = session, features
        self._chat_ids: list[int] = []
        self._served: set[int] | None = None  # the batch's chats with libraries big enough
        self._picks: PassPicks | None = None

    def batch(self, chats: Sequence[Chat]) -> None:
        """A new batch of chats, those with a digest due in this pass (bot.delivery.dispatch:
        their libraries are loaded, and all of them scored, when the first asks for picks)."""
        self._chat_ids = [chat.chat_id for chat in chats if chat.for_you]
        self._served = None

    async def picker(
        self, chat: Chat, date: dt.date, papers: Sequence[Paper]
    ) -> ForYouPicker | None:
        """The chat's picker for the day's digest (None: no "for you" section)."""
        if not chat.for_you:
            return None
        if self._served is None:
            found = await library_of_chats(self.session, chat_ids=self._chat_ids)
            libraries = {key: ids for key, ids in found.items() if len(ids) >= MIN_SAVED}
            self._served = set(libraries)
            if libraries:
                (await self._pass()).start_batch(libraries)
        if chat.chat_id not in self._served:
            return None
        return (await self._pass()).picker(chat.chat_id, date, papers)

    async def _pass(self) -> PassPicks:
        """The pass's picks over the archive's features (loaded on first need)."""
        if self._picks is None:
            from bot.recommend.compute import FeatureCache
            from bot.recommend.picks import PassPicks

            cache = self.features() if self.features is not None else FeatureCache()
            self._picks = PassPicks(await cache.get(self.session))
        return self._picks
