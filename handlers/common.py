"""What every handler shares: the reply language, arguments, admin checks, the rate limit."""

from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes, filters

from bot.i18n import Lang, resolve_language, translate
from bot.services import Services, get_services
from storage import chats

log = logging.getLogger(__name__)
LANGUAGE_KEY = "chat_language"  # chat_data cache of the chat's language setting (None = auto)
MAX_ARGUMENT = 500  # characters of arguments any handler looks at; the rest is noise
ADMIN_STATUSES = frozenset({ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER})
# Commands come from users and from channel posts; edited messages never re-run a command.
COMMAND_UPDATES = filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST


async def chat_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Lang:
    """The chat's language setting, else the user's Telegram language, else the default."""
    services = get_services(context)
    user = update.effective_user
    return resolve_language(
        await _language_setting(update, context),
        user.language_code if user else None,
        services.settings.default_language,
    )


async def _language_setting(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The chat's stored language (cached in chat_data; settings refresh the cache)."""
    chat = update.effective_chat
    if chat is None:
        return None
    cache = context.chat_data
    if cache is not None and LANGUAGE_KEY in cache:
        return cache[LANGUAGE_KEY]  # type: ignore[no-any-return]
    async with get_services(context).sessions() as session:
        row = await chats.get_chat(session, chat_id=chat.id)
    language = row.language if row else None
    remember_language(context, language)
    return language


def remember_language(context: ContextTypes.DEFAULT_TYPE, language: str | None) -> None:
    """Update the chat's cached language setting after it changed."""
    if context.chat_data is not None:
        context.chat_data[LANGUAGE_KEY] = language


def arguments(context: ContextTypes.DEFAULT_TYPE, *, limit: int = MAX_ARGUMENT) -> str:
    """The command's arguments as one whitespace-normalised string, cut to `limit` characters."""
    return " ".join(" ".join(context.args or ()).split())[:limit]


def shorten(text: str, limit: int = 40) -> str:
    """`text` cut to `limit` characters for echoing back to the user."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def is_chat_admin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the sender may change this chat's subscription and settings."""
    chat, message = update.effective_chat, update.effective_message
    if chat is None or chat.type == ChatType.PRIVATE:
        return True
    if update.channel_post is not None:
        return True  # only a channel's administrators can post in it
    if update.callback_query is None and message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id  # an anonymous admin posts as the group itself
    user = update.effective_user
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        log.warning("could not check the admin status in chat %s", chat.id)
        return False
    return member.status in ADMIN_STATUSES


@dataclass(slots=True)
class CommandRateLimit:
    """Per-user command budget: `limit` commands per `window` seconds, one warning, then quiet."""

    limit: int = 20
    window: float = 10.0
    max_users: int = 10_000  # forget idle users beyond this many, so memory stays bounded
    seen: dict[int, collections.deque[float]] = field(default_factory=dict)
    warned: set[int] = field(default_factory=set)

    def allow(self, user_id: int, now: float) -> bool | None:
        """True: go on; None: over the budget, warn once; False: over it, drop silently."""
        times = self.seen.get(user_id)
        if times is None:
            self._forget_idle(now)
            times = self.seen.setdefault(user_id, collections.deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self.warned.discard(user_id)
            return True
        if user_id in self.warned:
            return False
        self.warned.add(user_id)
        return None

    def _forget_idle(self, now: float) -> None:
        """Drop users whose window has passed once the table grows large."""
        if len(self.seen) < self.max_users:
            return
        for user_id in [uid for uid, times in self.seen.items() if times[-1] <= now - self.window]:
            del self.seen[user_id]
            self.warned.discard(user_id)

    async def check(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A first-group handler: let the update through, or warn once and stop it."""
        if not isinstance(update, Update) or not _is_command(update):
            return
        assert update.effective_user is not None
        now = get_services(context).clock().timestamp()
        verdict = self.allow(update.effective_user.id, now)
        if verdict:
            return
        if verdict is None:
            await _slow_down(update, context)
        raise ApplicationHandlerStop


def _is_command(update: Update) -> bool:
    """A user's command or button press (what the rate limit counts)."""
    if update.effective_user is None:
        return False
    if update.callback_query is not None:
        return True
    message = update.message
    return message is not None and (message.text or "").startswith("/")


async def _slow_down(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The one gentle warning to a user over the command budget."""
    text = translate(await chat_language(update, context), "common.slow_down")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except TelegramError:
        log.warning("could not send the slow-down notice", exc_info=True)


def chat_title(update: Update) -> str | None:
    """The chat's title (or the user's name in private chats), for the chats table."""
    chat = update.effective_chat
    if chat is None:
        return None
    return chat.title or chat.full_name or chat.username


def chat_kind(update: Update) -> str:
    """The chat's type as stored: private, group, supergroup or channel."""
    assert update.effective_chat is not None
    return str(update.effective_chat.type)


async def ensure_chat(session: AsyncSession, update: Update, services: Services) -> chats.Chat:
    """This update's chat row, created with the configured defaults when new."""
    assert update.effective_chat is not None
    return await chats.upsert_chat(
        session,
        chat_id=update.effective_chat.id,
        type=chat_kind(update),
        title=chat_title(update),
        delivery_time=services.settings.default_delivery_time.strftime("%H:%M"),
        timezone=services.settings.default_timezone,
        now=services.clock(),
        user_language=user_language_code(update),
    )


def user_language_code(update: Update) -> str | None:
    """The Telegram language code of the user who sent `update`, if any."""
    return update.effective_user.language_code if update.effective_user else None
