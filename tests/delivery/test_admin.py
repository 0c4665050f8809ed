"""Admin commands end to end (the Application long-polling the emulator): /stats, /resend, files."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from storage.chats import subscribe
from storage.deliveries import add_delivery, chat_deliveries, new_delivery, readiness, record_poll
from storage.keywords import papers_without_keywords, store_keywords
from storage.models import StoredPaper
from tests.chat.conftest import ChatDriver, Reply, running_bot
from tests.delivery.daykit import digest_text, sample_blocks

ADMIN = 7001
STRANGER = 7002
DAY = dt.date(2025, 1, 24)


@pytest.fixture
async def admin(seeded_database_url: str) -> AsyncIterator[ChatDriver]:
    """The Application with ADMIN_IDS set, over the sample archive, polling the emulator."""
    async with running_bot(seeded_database_url, admin_ids=str(ADMIN)) as driver:
        yield driver


async def upload(driver: ChatDriver, user: int, data: bytes, name: str) -> list[Reply]:
    """A user sends a file in a private chat; the bot's new messages there."""

    def inject() -> int:
        return driver.emulator.upload_document(
            chat_id=user, user_id=user, data=data, file_name=name, mime_type="text/markdown"
        )

    return [r for r in await driver._run(user, inject) if r.kind == "message"]


async def test_stats_for_admins_and_a_refusal_for_others(admin: ChatDriver) -> None:
    """An admin sees subscribers, deliveries, polls and errors; anyone else is refused politely."""
    async with admin.services.sessions.begin() as session:
        await subscribe(
            session, chat_id=42, type="private", title=None, delivery_time="09:00", timezone="UTC"
        )
        await record_poll(
            session, source="https://example.org/d.md", now=admin.clock(), status="error", error="x"
        )
    text = (await admin.send("/stats", user=ADMIN))[0].text
    assert "Subscribed chats: 1" in text
    assert "pending 0" in text
    assert "https://example.org/d.md" in text
    async with admin.services.sessions.begin() as session:
        papers = await session.scalar(select(func.count()).select_from(StoredPaper))
        (arxiv_id, *_) = await papers_without_keywords(session, model="m", prompt_version=1)
        await store_keywords(
            session, arxiv_id=arxiv_id, model="m", prompt_version=1, keywords=["superconductor"]
        )
    text = (await admin.send("/stats", user=ADMIN))[0].text
    assert f"Search keywords: 1 of {papers} papers" in text
    assert "operators" in (await admin.send("/stats", user=STRANGER))[0].text
    refusal = (await admin.send("/resend 1 2025-01-24", user=STRANGER, language_code="ko"))[0]
    assert "운영자" in refusal.text


async def test_resend_resets_sent_rows_or_queues_a_fresh_one(admin: ChatDriver) -> None:
    """A sent row goes out again; a day the chat never got is composed and queued."""
    async with admin.services.sessions.begin() as session:
        for chat_id in (51, 52):
            await subscribe(
                session,
                chat_id=chat_id,
                type="private",
                title=None,
                delivery_time="09:00",
                timezone="Asia/Seoul",
            )
        row = await add_delivery(
            session,
            row=new_delivery(
                chat_id=51,
                digest_date=DAY,
                kind="digest",
                messages=["hello"],
                arxiv_ids=[],
                known_ids=[],
                now=admin.clock(),
                state="sent",
            ),
        )
    assert row is not None
    assert "Usage" in (await admin.send("/resend 51", user=ADMIN))[0].text
    assert "goes out again" in (await admin.send("/resend 51 2025-01-24", user=ADMIN))[0].text
    assert "queued" in (await admin.send("/resend 52 2025-01-24", user=ADMIN))[0].text
    assert "do not know" in (await admin.send("/resend 99 2025-01-24", user=ADMIN))[0].text
    assert "no digest" in (await admin.send("/resend 52 1999-01-01", user=ADMIN))[0].text
    async with admin.services.sessions() as session:
        again = await chat_deliveries(session, chat_id=51)
        fresh = await chat_deliveries(session, chat_id=52)
    assert [(r.state, r.message_ids) for r in again] == [("pending", [])]
    assert fresh[0].state == "pending"
    assert fresh[0].messages


async def test_admin_upload_ingests_a_digest_file(admin: ChatDriver) -> None:
    """An admin's digest file is stored and observed for delivery; a stranger's is refused."""
    day = dt.date(2025, 2, 3)
    data = digest_text(day, sample_blocks()[:3]).encode()
    reply = (await upload(admin, ADMIN, data, "2025-02-03.md"))[0].text
    assert "2025-02-03" in reply
    assert "3 papers" in reply
    async with admin.services.sessions() as session:
        seen = await readiness(session, date=day)
    assert seen is not None
    assert seen.paper_count == 3
    broken = (await upload(admin, ADMIN, b"\xff\xfe nonsense", "x.md"))[0].text
    assert "could not read" in broken
    assert "operators" in (await upload(admin, STRANGER, data, "2025-02-03.md"))[0].text
