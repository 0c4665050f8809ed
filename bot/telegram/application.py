"""PTB's Application with bounded per-chat state: what it keeps for every chat it ever saw.

PTB keeps `chat_data` (and `user_data`) for every chat (user) that sent an update, for the life
of the process, and marks each id for the persistence to write, whether or not there is a
persistence: two sets that only a persistence ever empties. Without one (this bot keeps its
settings in the database) that is ~0.6 KB per chat and user, forever; 300 look-ups/s from new
users grew the bot by 3.7 MB in 20 s (bench/memory.py). Here chat and user data are kept for
the `RECENT_CHATS` most recently seen (what the handlers keep there is a cache and a few search
tokens: a chat forgotten reads its language again, and its old page buttons say "expired"),
and ids are marked for a persistence only when there is one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from types import MappingProxyType
from typing import Any, TypeVar

from telegram.ext import Application, Job

RECENT_CHATS = 2048
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RecentData(dict[K, V]):
    """A dict that makes a new value (`factory()`) for a missing key, as `defaultdict` does,
    and keeps only the `size` most recently looked-up keys."""

    def __init__(self, factory: Callable[[], V], size: int = RECENT_CHATS) -> None:
        super().__init__()
        self.factory = factory
        self.size = size

    def __getitem__(self, key: K) -> V:
        """The value of `key` (new when missing), now the most recently used."""
        if key in self:
            value = self.pop(key)
            super().__setitem__(key, value)
            return value
        return self.__missing__(key)

    def __missing__(self, key: K) -> V:
        """A new value for `key`; the least recently used keys beyond `size` are forgotten."""
        value = self[key] = self.factory()
        while len(self) > self.size:
            del self[next(iter(self))]
        return value


class BotApplication(Application[Any, Any, Any, Any, Any, Any]):
    """The Application with chat and user data for recent chats only, and no persistence
    bookkeeping without a persistence (built with `ApplicationBuilder.application_class`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._recent_chats = RecentData[int, Any](self.context_types.chat_data)
        self._recent_users = RecentData[int, Any](self.context_types.user_data)
        self._chat_data = self._recent_chats  # type: ignore[assignment]
        self._user_data = self._recent_users  # type: ignore[assignment]
        self.chat_data = MappingProxyType(self._recent_chats)
        self.user_data = MappingProxyType(self._recent_users)

    @property
    def recent_chats(self) -> int:
        """How many chats (and users) keep their data."""
        return self._recent_chats.size

    @recent_chats.setter
    def recent_chats(self, size: int) -> None:
        self._recent_chats.size = self._recent_users.size = size

    def _mark_for_persistence_update(
        self, *, update: object | None = None, job: Job[Any] | None = None
    ) -> None:
        """Remember the chats and users to write, when there is a persistence to write them."""
        if self.persistence is not None:
            super()._mark_for_persistence_update(update=update, job=job)
