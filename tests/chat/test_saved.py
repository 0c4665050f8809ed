"""End-to-end tests of ⭐ saving, /saved and /bibtex through the emulator, in ko and en."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.edition.buttons import CALLBACK_LIMIT
from storage import saved
from storage.models import StoredPaper
from tests.chat.conftest import USER, ChatDriver, Reply, texts

PAPER = "2401.00908"
GROUP = -100_777


def _save_button(reply: Reply) -> str:
    """The callback data of the first ⭐ button under a message."""
    return next(
        b.callback_data for b in reply.buttons if b.text.startswith("⭐") and b.callback_data
    )


def _answers(replies: list[Reply]) -> list[Reply]:
    """The callback answers among the bot's reactions."""
    return [reply for reply in replies if reply.kind == "answer"]


async def test_star_on_paper_saves_then_removes(chat: ChatDriver) -> None:
    """⭐ under /paper saves the paper for the presser; pressing again removes it."""
    replies = await chat.send(f"/paper {PAPER}")
    data = _save_button(replies[-1])
    assert data == f"sv:{PAPER}"
    first = _answers(await chat.press(replies[-1], data))
    assert "Saved (1" in first[0].text
    assert "DocLLM" in texts(await chat.send("/saved"))
    second = _answers(await chat.press(replies[-1], data))
    assert "Removed" in second[0].text
    assert "not saved any paper" in texts(await chat.send("/saved"))


async def test_saved_in_korean(chat: ChatDriver) -> None:
    """A Korean user gets Korean answers and the Korean /saved list."""
    replies = await chat.send(f"/paper {PAPER}", language_code="ko")
    answer = _answers(await chat.press(replies[-1], _save_button(replies[-1])))
    assert "저장했습니다" in answer[0].text
    listing = texts(await chat.send("/saved", language_code="ko"))
    assert "저장한 논문" in listing
    assert "DocLLM" in listing


async def test_every_button_fits_telegram_and_digests_carry_stars(chat: ChatDriver) -> None:
    """/today and /search show ⭐ buttons whose data fits 64 bytes (the emulator checks it)."""
    digest = await chat.send("/today")
    assert any(
        b.callback_data and b.callback_data.startswith("sv:") for r in digest for b in r.buttons
    )
    found = await chat.send("/search diffusion")
    datas = [b.callback_data for r in found for b in r.buttons if b.callback_data]
    assert any(data.startswith("sv:") for data in datas)
    assert all(len(data.encode()) <= CALLBACK_LIMIT for data in datas)


async def test_saves_are_per_user_in_groups(chat: ChatDriver) -> None:
    """In a group, two members pressing the same ⭐ each get their own library."""
    replies = await chat.send(f"/paper {PAPER}", chat=GROUP)
    data = _save_button(replies[-1])
    await chat.press(replies[-1], data, user=USER)
    await chat.press(replies[-1], data, user=USER + 1)
    await chat.press(replies[-1], data, user=USER + 1)  # the second member changes their mind
    async with chat.services.sessions() as session:
        assert await saved.saved_ids(session, user_id=USER) == [PAPER]
        assert await saved.saved_ids(session, user_id=USER + 1) == []
        assert (await saved.library_of_chats(session, chat_ids=[GROUP]))[GROUP] == [PAPER]


@pytest.mark.parametrize(
    "data", ["sv:", "sv:9999.99999", "sv:<b>", "sx:0:nope", "sp:x", "sv:" + "1" * 70]
)
async def test_forged_or_stale_presses_get_a_clear_answer(chat: ChatDriver, data: str) -> None:
    """Unknown ids, malformed or overlong data: an alert, never a crash or a save."""
    replies = await chat.send(f"/paper {PAPER}")
    answers = _answers(await chat.press(replies[-1], data))
    assert answers
    assert answers[0].text
    async with chat.services.sessions() as session:
        assert await saved.count_saved(session, user_id=USER) == 0


async def _save_many(chat: ChatDriver, count: int) -> list[str]:
    """Put `count` archived papers in USER's library straight through storage."""
    async with chat.services.sessions() as session:
        ids = list(
            (
                await session.scalars(
                    StoredPaper.__table__.select()
                    .with_only_columns(StoredPaper.arxiv_id)
                    .limit(count)
                )
            ).all()
        )
        start = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
        for n, arxiv_id in enumerate(ids):
            await saved.save(
                session,
                user_id=USER,
                arxiv_id=arxiv_id,
                chat_id=USER,
                now=start + dt.timedelta(minutes=n),
            )
        await session.commit()
    return ids


async def test_saved_pages_and_remove_buttons(chat: ChatDriver) -> None:
    """/saved pages newest first; ✖ removes a paper and redraws the page in place."""
    ids = await _save_many(chat, 12)
    listing = await chat.send("/saved")
    assert "(12," in listing[0].text
    datas = [b.callback_data or "" for b in listing[0].buttons]
    assert f"sx:0:{ids[-1]}" in datas
    assert "sp:1" in datas
    page = await chat.press(listing[0], "sp:1")
    assert any(r.kind == "edit" and "9." in r.text for r in page)
    removed = await chat.press(listing[0], f"sx:0:{ids[-1]}")
    assert any(r.kind == "edit" and "(11," in r.text for r in removed)


async def test_bibtex_short_is_a_message_and_long_is_a_document(chat: ChatDriver) -> None:
    """A few entries come as a message; many come as a valid .bib document (sendDocument)."""
    short = texts(await chat.send(f"/bibtex {PAPER}"))
    assert "@misc{" in short
    assert "eprint = {2401.00908}" in short
    assert "archivePrefix" in short
    await _save_many(chat, 40)
    sent = await chat.send("/bibtex")
    documents = [e for e in chat.emulator.chat_log(USER) if e.document]
    assert documents
    assert documents[-1].document is not None
    assert documents[-1].document["file_name"] == "paperboy.bib"
    stored = chat.emulator.state.files[documents[-1].document["file_id"]]
    body = stored.data.decode()
    assert body.count("@misc{") == 40
    keys = [
        line.split("{", 1)[1].rstrip(",") for line in body.splitlines() if line.startswith("@misc")
    ]
    assert len(set(keys)) == 40
    assert "BibTeX for 40 papers" in texts(sent)


async def test_bibtex_bad_input(chat: ChatDriver) -> None:
    """Unknown ids, junk and an empty library each get a clear reply."""
    assert "Not in the archive: 2501.99999" in texts(await chat.send("/bibtex 2501.99999"))
    assert "not an arXiv id" in texts(await chat.send("/bibtex hello"))
    assert "Nothing to export" in texts(await chat.send("/bibtex"))
    assert "최대 100개" in texts(
        await chat.send("/bibtex " + " ".join(["2401.00908"] * 101), language_code="ko")
    )


async def test_a_full_library_refuses_more(
    chat: ChatDriver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the library's limit a ⭐ press says so instead of saving."""
    monkeypatch.setattr(saved, "MAX_SAVED", 3)
    await _save_many(chat, 3)
    replies = await chat.send("/paper 2401.00908")
    answers = _answers(await chat.press(replies[-1], _save_button(replies[-1])))
    assert "full" in answers[0].text


async def test_foryou_needs_three_saves_then_ranks(chat: ChatDriver) -> None:
    """/foryou asks for 3 saved papers first, then lists the latest day's picks (en and ko)."""
    assert "at least 3" in texts(await chat.send("/foryou"))
    await _save_many(chat, 5)
    picks = await chat.send("/foryou")
    assert "For you" in picks[0].text
    assert "1. " in picks[0].text
    assert any(b.text.startswith("⭐") for b in picks[0].buttons)
    assert "맞춤 추천" in texts(await chat.send("/foryou", language_code="ko"))
