"""/settings end to end: the inline menu edited in place, typed arguments, forged buttons."""

from __future__ import annotations

import pytest

from handlers.settings import parse_days, parse_items, parse_number, parse_time, parse_zone
from storage import chats
from tests.chat.conftest import ChatDriver, Reply, texts

GROUP = -100_321
ADMIN, MEMBER = 3001, 3002


async def _row(chat: ChatDriver, chat_id: int = 1001) -> chats.Chat:
    """The chat's stored row (it must exist)."""
    async with chat.services.sessions() as session:
        row = await chats.get_chat(session, chat_id=chat_id)
    assert row is not None
    return row


def _button(reply: Reply, text: str) -> str:
    """The callback data of the button labelled `text`."""
    data = next(b.callback_data for b in reply.buttons if b.text == text)
    assert data is not None
    return data


def _edit(events: list[Reply]) -> Reply:
    """The one edit among the events of a press."""
    (edit,) = [event for event in events if event.kind == "edit"]
    return edit


def _answer(events: list[Reply]) -> Reply:
    """The callback answer among the events of a press."""
    (answer,) = [event for event in events if event.kind == "answer"]
    return answer


@pytest.mark.parametrize(
    ("text", "expected"),
    [("7", "07:00"), ("7:30", "07:30"), ("0730", "07:30"), ("23:59", "23:59"), ("24:00", None)],
)
def test_parse_time(text: str, expected: str | None) -> None:
    """Times of day in several spellings become HH:MM; impossible ones are refused."""
    assert parse_time(text) == expected


def test_parse_values() -> None:
    """Zones are matched case-insensitively; numbers and lists are bounded."""
    assert parse_zone("europe/BERLIN") == "Europe/Berlin"
    assert parse_zone("Mars/Olympus") is None
    assert parse_number("５", low=0, high=9) is None  # full-width digits are not ASCII digits
    assert parse_number("10", low=0, high=9) is None
    assert parse_items("강화학습,  diffusion  model") == ["강화학습", "diffusion model"]
    assert parse_items("a,,b") is None


async def test_menu_buttons_change_settings_in_place(chat: ChatDriver) -> None:
    """Time, zone, top N, votes and language buttons each edit the menu with a confirmation."""
    menu = (await chat.send("/settings"))[0]
    assert "Delivery: 09:00 (Asia/Seoul)" in menu.text
    for button in menu.buttons:
        assert len((button.callback_data or "").encode()) <= 64
    times = _edit(await chat.press(menu, _button(menu, "🕘 Time")))
    assert "HH:MM" in times.text
    done = await chat.press(times, _button(times, "07:00"))
    assert "Delivery time set to 07:00" in _edit(done).text
    assert _answer(done).text.startswith("✅")
    zones = _edit(await chat.press(menu, "st:z"))
    _edit(await chat.press(zones, _button(zones, "Europe/London")))
    _edit(await chat.press(menu, "st:n:5"))
    _edit(await chat.press(menu, "st:v:20"))
    row = await _row(chat)
    assert (row.delivery_time, row.timezone, row.top_n, row.min_votes) == (
        "07:00",
        "Europe/London",
        5,
        20,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("weekdays", "12345"),
        ("평일", "12345"),
        ("매일", "1234567"),
        ("Every  day", "1234567"),
        ("Mon-Fri", "12345"),
        ("월-금", "12345"),
        ("월수금", "135"),
        ("1 3 5", "135"),
        ("sat, sun", "67"),
        ("Friday-Monday", "1567"),
        ("월요일", "1"),
        ("8", None),
        ("someday", None),
        ("mon-", None),
        ("", None),
    ],
)
def test_parse_days(text: str, expected: str | None) -> None:
    """Days by preset, name, Korean name, digit or range become ISO weekday digits."""
    assert parse_days(text) == expected


async def test_days_menu_sets_the_delivery_days(chat: ChatDriver) -> None:
    """📅 Days offers every day / weekdays / weekends; the menu shows the choice."""
    menu = (await chat.send("/settings"))[0]
    assert "Delivery: 09:00 (Asia/Seoul), every day" in menu.text
    days = _edit(await chat.press(menu, _button(menu, "📅 Days")))
    chosen = _edit(await chat.press(days, _button(days, "weekdays")))
    assert "Delivery: 09:00 (Asia/Seoul), weekdays" in chosen.text
    assert (await _row(chat)).weekdays == "12345"
    typed = (await chat.send("/settings days mon wed fri"))[0]
    assert "Mon, Wed, Fri" in typed.text


async def test_language_button_switches_the_chat_language(chat: ChatDriver) -> None:
    """Choosing 한국어 answers in Korean from then on; Automatic follows the user again."""
    menu = (await chat.send("/settings"))[0]
    edited = _edit(await chat.press(menu, "st:l:ko"))
    assert "언어를 한국어(으)로 바꿨어요" in edited.text
    assert "안녕하세요" in (await chat.send("/start"))[0].text
    _edit(await chat.press(menu, "st:l:auto"))
    assert "Hello" in (await chat.send("/start"))[0].text
    assert (await _row(chat)).language is None


async def test_same_value_twice_is_answered_without_error(chat: ChatDriver) -> None:
    """Pressing the value already shown answers the press and leaves the message as it is."""
    menu = (await chat.send("/settings"))[0]
    await chat.press(menu, "st:n:5")
    again = await chat.press(menu, "st:n:5")
    assert [event.kind for event in again] == ["answer"]


@pytest.mark.parametrize(
    ("argument", "column", "expected"),
    [
        ("time 7:30", "delivery_time", "07:30"),
        ("tz america/new_york", "timezone", "America/New_York"),
        ("top 7", "top_n", 7),
        ("votes 15", "min_votes", 15),
        ("lang ko", "language", "ko"),
        ("include 강화학습, diffusion", "include_keywords", ["강화학습", "diffusion"]),
        ("exclude 🙂 crypto", "exclude_keywords", ["🙂 crypto"]),
        ("author Yann LeCun", "followed_authors", ["Yann LeCun"]),
        ("days mon-fri", "weekdays", "12345"),
        ("days 월수금", "weekdays", "135"),
        ("요일 주말", "weekdays", "67"),
    ],
)
async def test_typed_settings(
    chat: ChatDriver, argument: str, column: str, expected: object
) -> None:
    """`/settings <name> <value>` changes the setting and confirms it above the menu."""
    replies = await chat.send(f"/settings {argument}")
    assert len(replies) == 1
    assert "✅" in replies[0].text
    assert replies[0].buttons
    assert getattr(await _row(chat), column) == expected


@pytest.mark.parametrize(
    ("argument", "hint"),
    [
        ("time 25:00", "HH:MM"),
        ("time", "/settings time 07:30"),
        ("tz Mars/Olympus", "IANA"),
        ("top 0", "1 to 50"),
        ("top 9999999999", "1 to 50"),
        ("votes -1", "0 to 10000"),
        ("lang fr", "auto"),
        ("colour blue", "I do not know the setting"),
        ("days someday", "mon-fri"),
        ("days mon-", "weekdays"),
        ("include " + "x" * 10_000, "1 to 60 characters"),
        ("<b>bold</b> 1", "&lt;b&gt;"),
    ],
)
async def test_bad_settings_get_a_helpful_reply(chat: ChatDriver, argument: str, hint: str) -> None:
    """Every malformed value gets one reply saying what would work; nothing changes."""
    replies = await chat.send(f"/settings {argument}")
    assert len(replies) == 1
    assert hint in replies[0].text or hint in replies[0].text.replace("<", "&lt;").replace(
        ">", "&gt;"
    )
    row = await _row(chat)
    assert (row.delivery_time, row.top_n, row.min_votes) == ("09:00", 10, 0)


async def test_html_keywords_are_stored_verbatim_and_shown_escaped(chat: ChatDriver) -> None:
    """A keyword with HTML is kept as typed and displayed as text (the emulator checks the HTML)."""
    replies = await chat.send("/settings include <script>&amp;")
    assert "<script>&amp;" in replies[0].text
    assert (await _row(chat)).include_keywords == ["<script>&amp;"]


async def test_duplicates_and_full_lists_are_refused(chat: ChatDriver) -> None:
    """Adding a keyword twice (any case) or past 20 entries explains why not."""
    await chat.send("/settings include Diffusion")
    assert "Already" in (await chat.send("/settings include diffusion"))[0].text
    await chat.send("/settings include " + ", ".join(f"k{i}" for i in range(19)))
    assert "full" in (await chat.send("/settings include one-more"))[0].text
    assert len((await _row(chat)).include_keywords) == 20


async def test_remove_buttons_and_stale_presses(chat: ChatDriver) -> None:
    """✕ removes an entry in place; pressing the same (now stale) button answers politely."""
    await chat.send("/settings include rl, diffusion")
    menu = (await chat.send("/settings author Yann LeCun"))[0]
    keywords = _edit(await chat.press(menu, "st:k"))
    remove = _button(keywords, "✕ +rl")
    edited = _edit(await chat.press(keywords, remove))
    assert "Removed from include: rl" in edited.text
    stale = await chat.press(keywords, remove)
    assert "out of date" in _answer(stale).text
    assert _answer(stale).show_alert
    authors = _edit(await chat.press(menu, "st:a"))
    _edit(await chat.press(authors, _button(authors, "✕ Yann LeCun")))
    row = await _row(chat)
    assert (row.include_keywords, row.followed_authors) == (["diffusion"], [])


@pytest.mark.parametrize(
    "data", ["st:n:999", "st:zz", "st:z:99", "st:t:0715", "st:rm:i:0:ffffff", "st:", "x" * 64]
)
async def test_forged_callbacks_get_a_polite_answer(chat: ChatDriver, data: str) -> None:
    """Callback data the menu never offered is answered with an alert and changes nothing."""
    menu = (await chat.send("/settings"))[0]
    events = await chat.press(menu, data)
    if data.startswith("st:"):
        assert "out of date" in _answer(events).text
        assert (await _row(chat)).top_n == 10


async def test_done_closes_the_menu(chat: ChatDriver) -> None:
    """✔ Done removes the keyboard and says the settings are saved."""
    menu = (await chat.send("/settings"))[0]
    closed = _edit(await chat.press(menu, "st:d"))
    assert "Settings saved" in closed.text
    assert closed.buttons == []


async def test_only_group_admins_change_settings(chat: ChatDriver) -> None:
    """Members may look at the menu but neither press nor type changes; admins may."""
    chat.emulator.add_chat(GROUP, type="supergroup", administrators=[ADMIN])
    menu = (await chat.send("/settings", user=MEMBER, chat=GROUP))[0]
    refused = await chat.press(menu, "st:n:5", user=MEMBER)
    assert "administrators" in _answer(refused).text
    typed = await chat.send("/settings top 5", user=MEMBER, chat=GROUP)
    assert "administrators" in typed[0].text
    assert _edit(await chat.press(menu, "st:n:5", user=ADMIN))
    assert (await _row(chat, GROUP)).top_n == 5


async def test_channel_settings_by_post(chat: ChatDriver) -> None:
    """A channel's admins change settings by posting `/settings …`."""
    replies = await chat.post("/settings time 06:30", chat=-100_999)
    assert "06:30" in replies[0].text
    assert (await _row(chat, -100_999)).delivery_time == "06:30"


async def test_keywords_match_like_search(chat: ChatDriver) -> None:
    """`include 강화학습` finds a summary writing `강화 학습`; `강화 학습` is then a duplicate."""
    await chat.send("/settings include 강화학습")
    text = texts(await chat.send("/digest 2025-01-27"))
    assert "RL + Transformer = A General-Purpose Problem Solver" in text
    assert "Humanity's Last Exam" not in text
    assert "Already" in (await chat.send("/settings include 강화 학습"))[0].text


async def test_followed_authors_fold_accents_and_take_the_archive_spelling(
    chat: ChatDriver,
) -> None:
    """A name typed without accents follows the archived author; an unknown one is kept, noted."""
    added = (await chat.send("/settings author antoine guedon"))[0].text
    assert "Added to authors: Antoine Guédon" in added
    assert "No archived paper" not in added
    assert "Already" in (await chat.send("/settings author ANTOINE GUÉDON"))[0].text
    await chat.send("/settings top 1")
    assert "★ SuGaR" in texts(await chat.send("/digest 2023-11-22"))
    unknown = (await chat.send("/settings author Nobody Zzqqx"))[0].text
    assert "Added to authors: Nobody Zzqqx" in unknown
    assert "No archived paper has an author named Nobody Zzqqx" in unknown
    assert (await _row(chat)).followed_authors == ["Antoine Guédon", "Nobody Zzqqx"]
