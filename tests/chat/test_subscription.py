"""/subscribe and /unsubscribe end to end (private, group, channel), and the chats repository."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from storage import chats
from storage.db import create_engine, session_factory
from tests.chat.conftest import ChatDriver

GROUP = -100_777
CHANNEL = -100_888
ADMIN, MEMBER = 2001, 2002
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


async def _row(chat: ChatDriver, chat_id: int) -> chats.Chat | None:
    """The chat's stored row."""
    async with chat.services.sessions() as session:
        return await chats.get_chat(session, chat_id=chat_id)


async def test_private_subscribe_and_unsubscribe(chat: ChatDriver) -> None:
    """Subscribing twice says so; unsubscribing twice says so; the database follows."""
    assert "Subscribed" in (await chat.send("/subscribe"))[0].text
    assert "09:00 (Asia/Seoul)" in (await chat.send("/subscribe"))[0].text
    row = await _row(chat, 1001)
    assert row is not None
    assert row.subscribed
    assert row.type == "private"
    assert row.subscribed_at == chat.clock.now
    assert "Unsubscribed" in (await chat.send("/unsubscribe"))[0].text
    assert "not subscribed" in (await chat.send("/unsubscribe"))[0].text
    row = await _row(chat, 1001)
    assert row is not None
    assert not row.subscribed


async def test_scheduled_digests_speak_the_private_users_language(chat: ChatDriver) -> None:
    """On "automatic", a private chat's digest is in its user's Telegram language, not in
    DEFAULT_LANGUAGE (ko here); a group on "automatic" keeps the default."""
    from bot.edition.compose import chat_lang

    await chat.send("/subscribe", language_code="en-US")
    row = await _row(chat, 1001)
    assert row is not None
    assert (row.language, row.user_language) == (None, "en-US")
    assert chat_lang(row, "ko") == "en"
    await chat.send("/settings lang ko", language_code="en-US")
    row = await _row(chat, 1001)
    assert row is not None
    assert chat_lang(row, "en") == "ko"  # an explicit setting wins
    group = chats.Chat(type="group", language=None, user_language="en")
    assert chat_lang(group, "ko") == "ko"


async def test_subscribe_replies_in_korean(chat: ChatDriver) -> None:
    """A Korean user gets the Korean confirmation."""
    assert "구독했어요" in (await chat.send("/subscribe", language_code="ko"))[0].text


async def test_group_members_cannot_subscribe_but_admins_can(chat: ChatDriver) -> None:
    """In a group only administrators change the subscription."""
    chat.emulator.add_chat(GROUP, type="supergroup", title="ML Club", administrators=[ADMIN])
    refused = await chat.send("/subscribe", user=MEMBER, chat=GROUP)
    assert "administrators" in refused[0].text
    assert await _row(chat, GROUP) is None
    accepted = await chat.send("/subscribe@paperboy_emulated_bot", user=ADMIN, chat=GROUP)
    assert "Subscribed" in accepted[0].text
    row = await _row(chat, GROUP)
    assert row is not None
    assert (row.type, row.title, row.subscribed) == ("supergroup", "ML Club", True)
    assert "administrators" in (await chat.send("/unsubscribe", user=MEMBER, chat=GROUP))[0].text


async def test_anonymous_group_admin_counts_as_admin(chat: ChatDriver) -> None:
    """A message sent as the group itself (anonymous admin) may subscribe."""
    chat.emulator.add_chat(GROUP, type="supergroup", administrators=[ADMIN])
    replies = await chat.send_as_group("/subscribe", chat=GROUP)
    assert "Subscribed" in replies[0].text


async def test_channel_posts_subscribe_the_channel(chat: ChatDriver) -> None:
    """A /subscribe posted in a channel subscribes it (only admins can post)."""
    replies = await chat.post("/subscribe", chat=CHANNEL)
    assert "구독했어요" in replies[0].text  # no user language in a channel: the default (ko)
    row = await _row(chat, CHANNEL)
    assert row is not None
    assert (row.type, row.subscribed) == ("channel", True)
    assert "해지" in (await chat.post("/unsubscribe", chat=CHANNEL))[0].text


async def test_group_migration_moves_the_subscription(chat: ChatDriver) -> None:
    """When a group becomes a supergroup, its subscription and settings follow."""
    old, new = -4242, -100_4242
    chat.emulator.add_chat(old, type="group", administrators=[ADMIN])
    await chat.send("/subscribe", user=ADMIN, chat=old)
    await chat.send("/settings top 5", user=ADMIN, chat=old)
    await chat.migrate(old, new, user=ADMIN)
    moved, gone = await _row(chat, new), await _row(chat, old)
    assert moved is not None
    assert gone is not None
    assert (moved.subscribed, moved.top_n) == (True, 5)
    assert (gone.subscribed, gone.migrated_to) == (False, new)


async def test_huge_and_odd_arguments_are_ignored(chat: ChatDriver) -> None:
    """/subscribe with 10 KB of HTML and emoji still subscribes, once."""
    replies = await chat.send("/subscribe " + "<b>🙂&" * 1500)
    assert len(replies) == 1
    assert "Subscribed" in replies[0].text


async def test_repository_lifecycle(database_url: str) -> None:
    """subscribe, settings, deactivate, resubscribe and migrate keep the rows consistent."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            defaults: dict[str, Any] = {
                "delivery_time": "09:00",
                "timezone": "Asia/Seoul",
                "now": T0,
            }
            _, new = await chats.subscribe(
                session, chat_id=1, type="private", title="A", **defaults
            )
            _, again = await chats.subscribe(
                session, chat_id=1, type="private", title="A", **defaults
            )
            assert (new, again) == (True, False)
            await chats.subscribe(session, chat_id=-5, type="group", title="G", **defaults)
            await chats.update_settings(session, chat_id=-5, include_keywords=["rl"], top_n=3)
            assert [c.chat_id for c in await chats.subscribed_chats(session)] == [-5, 1]
            assert await chats.deactivate(session, chat_id=1, reason="Forbidden: blocked")
            assert not await chats.deactivate(session, chat_id=1, reason="again")
            assert [c.chat_id for c in await chats.subscribed_chats(session)] == [-5]
            _, back = await chats.subscribe(
                session, chat_id=1, type="private", title="A", **defaults
            )
            assert back
            moved = await chats.migrate_chat(session, old_id=-5, new_id=-1005)
            assert moved is not None
            assert (moved.include_keywords, moved.top_n, moved.subscribed) == (["rl"], 3, True)
            assert await chats.migrate_chat(session, old_id=-77, new_id=-1077) is None
            assert [c.chat_id for c in await chats.subscribed_chats(session)] == [-1005, 1]
            assert await chats.unsubscribe(session, chat_id=1)
            with pytest.raises(ValueError, match="not a chat setting"):
                await chats.update_settings(session, chat_id=1, subscribed=True)
            with pytest.raises(LookupError):
                await chats.update_settings(session, chat_id=999, top_n=1)
            with pytest.raises(ValueError, match="chat type"):
                await chats.upsert_chat(session, chat_id=2, type="bogus", title=None, **defaults)
    finally:
        await engine.dispose()
