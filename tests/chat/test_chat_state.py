"""Per-chat state in the process stays bounded: chat data for recent chats only, and no ids
kept for a persistence the bot does not have."""

from __future__ import annotations

from bot.telegram.application import BotApplication, RecentData
from tests.chat.conftest import ChatDriver, texts


def test_recent_data_forgets_the_least_recently_used() -> None:
    """A missing key gets a new value; beyond `size`, the key looked up longest ago goes."""
    data: RecentData[int, dict[str, int]] = RecentData(dict, size=2)
    data[1]["seen"] = 1
    assert data[2] == {}
    assert data[1] == {"seen": 1}  # 1 is now the most recently used
    assert data[3] == {}
    assert list(data) == [1, 3]
    assert data[1] == {"seen": 1}


async def test_chat_data_is_kept_for_recent_chats_only(chat: ChatDriver) -> None:
    """Each chat's data (its cached language, its search tokens) is kept for the most recently
    seen chats; a chat forgotten is answered as before. Nothing waits for a persistence."""
    application = chat.application
    assert isinstance(application, BotApplication)
    application.recent_chats = 2
    for user in (2001, 2002, 2003):
        assert "diffusion" in texts(await chat.send("/search diffusion", user=user)).lower()
    assert set(application.chat_data) == {2002, 2003}
    assert "diffusion" in texts(await chat.send("/search diffusion", user=2001)).lower()
    assert set(application.chat_data) == {2003, 2001}
    # PTB marks every chat and user for its persistence; only a persistence empties those sets.
    assert application.persistence is None
    assert not application._chat_ids_to_be_updated_in_persistence
    assert not application._user_ids_to_be_updated_in_persistence
