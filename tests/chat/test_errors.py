"""The error handler, the per-user command rate limit and token redaction in logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes

from bot.logs import REDACTED, RedactTokens, setup_logging
from handlers.common import CommandRateLimit
from handlers.errors import UserError, plain_text
from tests.chat.conftest import TOKEN, ChatDriver, Reply


async def _boom(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A handler that fails with a message containing the token."""
    raise RuntimeError(f"exploded calling https://api.telegram.org/bot{TOKEN}/sendMessage")


async def _user_error(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A handler that raises a domain error after answering the button."""
    assert update.callback_query is not None
    await update.callback_query.answer()
    raise UserError("settings.bad_top", max=50)


def _install(chat: ChatDriver) -> None:
    """Add the failing test handlers to the running Application."""
    chat.application.add_handler(CommandHandler("boom", _boom), group=-1)
    chat.application.add_handler(CallbackQueryHandler(_boom, pattern="^boom$"), group=-1)
    chat.application.add_handler(CallbackQueryHandler(_user_error, pattern="^late$"), group=-1)


async def test_unexpected_errors_are_apologised_for_and_logged_without_token(
    chat: ChatDriver, caplog: pytest.LogCaptureFixture
) -> None:
    """A crash gets a generic reply in the user's language; the log never shows the token."""
    _install(chat)
    redactor = RedactTokens([TOKEN])
    caplog.handler.addFilter(redactor)
    with caplog.at_level(logging.ERROR, logger="handlers.errors"):
        english = await chat.send("/boom")
        korean = await chat.send("/boom", user=1002, language_code="ko")
    assert "something went wrong" in english[0].text
    assert "문제가 생겼어요" in korean[0].text
    assert "RuntimeError" in caplog.text
    assert TOKEN not in caplog.text


async def test_errors_in_button_presses_are_answered(chat: ChatDriver) -> None:
    """A crash in a callback gets an alert; a UserError after answering goes to the chat."""
    _install(chat)
    menu = (await chat.send("/settings"))[0]
    crashed = await chat.press(menu, "boom")
    assert [event.kind for event in crashed] == ["answer"]
    assert crashed[0].show_alert
    late = await chat.press(menu, "late")
    assert [event.kind for event in late] == ["answer", "message"]
    assert "1 to 50" in late[1].text


async def test_command_flood_gets_one_warning_then_silence(
    chat: ChatDriver, chat_rate: CommandRateLimit
) -> None:
    """More than 20 commands in 10 s: one gentle warning, then dropped until the window clears."""
    answered: list[Reply] = []
    for _ in range(20):
        answered += await chat.send("/help")
    assert len(answered) == 20
    warning = await chat.send("/help")
    assert "slow down" in warning[0].text
    assert await chat.send("/help") == []
    assert await chat.send("/help", user=1009) != []  # other users are not affected
    chat.clock.advance(10.5)
    assert len(await chat.send("/help")) == 1
    assert chat_rate.warned == set()


def test_rate_limit_forgets_idle_users() -> None:
    """The table of users stays bounded: idle users are dropped once it is large."""
    limit = CommandRateLimit(limit=1, window=1.0, max_users=2)
    assert limit.allow(1, 0.0)
    assert limit.allow(2, 0.0)
    assert limit.allow(1, 0.5) is None
    assert limit.allow(1, 0.6) is False
    assert limit.allow(3, 5.0)
    assert set(limit.seen) == {3}


def test_plain_text_for_callback_answers() -> None:
    """Callback answers are plain text within 200 characters."""
    assert plain_text("<b>a &amp; b</b>") == "a & b"
    assert len(plain_text("x" * 500)) == 200


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Restore the root logger's handlers and level after a test configures logging."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "apscheduler")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


@pytest.mark.usefixtures("root_logging")
async def test_httpx_request_lines_are_redacted(
    chat: ChatDriver, capsys: pytest.CaptureFixture[str]
) -> None:
    """httpx logs every request URL (with the token); the installed filter redacts it."""
    setup_logging("DEBUG", secrets=[TOKEN])
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{chat.emulator.base_url}{TOKEN}/getMe")
    assert response.status_code == 200
    logging.getLogger("paperboy.test").warning("token %s and bot%s", TOKEN, "987654:secretish")
    err = capsys.readouterr().err
    assert "HTTP Request: POST" in err
    assert REDACTED in err
    assert TOKEN not in err
    assert "secretish" not in err


def test_redaction_covers_token_shapes_and_tracebacks() -> None:
    """Known secrets, `bot<digits>:<secret>` and bare tokens are redacted, tracebacks too."""
    redactor = RedactTokens(["s3cr3t"])
    assert (
        redactor.redact("url /bot123:AbC-_x/getMe and s3cr3t")
        == f"url /{REDACTED}/getMe and {REDACTED}"
    )
    assert redactor.redact("7777777:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") == REDACTED
    try:
        raise ValueError(f"bad {TOKEN}")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    redactor.filter(record)
    assert record.exc_text is not None
    assert TOKEN not in record.exc_text
