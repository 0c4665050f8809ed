"""A send scheduler that keeps every Telegram limit at once, so the engine is rarely told 429.

Pure: no I/O, no sleeping; time comes from an injected monotonic clock (seconds as float).

Limits kept together (all configurable, see `Limits`):
- overall: at most `global_rate` messages per second, paced evenly (one slot every 1/rate s);
- per chat: at least `chat_interval` seconds between two messages to the same chat;
- per group, supergroup or channel (negative chat id): at most `group_count` messages in any
  `group_window` seconds (Telegram: 20 per minute).

The engine asks `ready_at(chat)` ("when may I send to this chat next?"), waits until then, and
calls `reserve(chat)` to take the next overall slot; `reserve` returns the moment to send.

RetryAfter policy: Telegram's 429 names no scope. A `RetryAfter` for one chat pauses only that
chat (`pause_chat`). When `global_trigger` distinct chats receive one within `global_span`
seconds, the overall limit was evidently hit, and every send pauses (`pause_all`) for the
longest retry seen. Callers that know a retry is global may call `pause_all` directly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]
_SLOT_MARGIN = 1.0001


@dataclass(frozen=True, slots=True)
class Limits:
    """Telegram's limits as rates; `paid_broadcast` raises the overall rate to 1,000/s."""

    global_rate: float = 30.0
    chat_interval: float = 1.0
    group_count: int = 20
    group_window: float = 60.0
    global_trigger: int = 3
    global_span: float = 1.0
    window_margin: float = 0.02

    @classmethod
    def paid_broadcast(cls) -> Limits:
        """Limits with Telegram's paid broadcast (up to 1,000 messages/s overall)."""
        return cls(global_rate=1000.0)

    @classmethod
    def unlimited(cls) -> Limits:
        """No limits at all (benchmarks against an emulator that enforces none)."""
        return cls(global_rate=0.0, chat_interval=0.0, group_count=0, group_window=0.0)


def is_group(chat_id: int) -> bool:
    """Groups, supergroups and channels have negative ids; users positive ones."""
    return chat_id < 0


@dataclass(slots=True)
class _ChatState:
    """When a chat was last sent to (and, for groups, its sends inside the window)."""

    last: float | None = None
    # Groups only, made on a group's first send: an empty deque is ~0.6 KB (a block of 64
    # slots), 6.5 MB for the private chats of a 10,000-chat broadcast (bench/memory.py).
    recent: deque[float] | None = None
    paused_until: float = 0.0


class RateScheduler:
    """Answers "when may I send to chat X next" under every limit, and books send slots."""

    def __init__(self, limits: Limits, clock: Clock) -> None:
        self.limits = limits
        self._clock = clock
        self._chats: dict[int, _ChatState] = {}
        self._next_slot = 0.0
        self._paused_until = 0.0
        self._retries: deque[tuple[float, int, float]] = deque()
        self._actual: deque[float] = deque()
        self._booked = 0  # calls given a place in the window that have not started yet

    def _state(self, chat_id: int) -> _ChatState:
        """The chat's state, created on first use."""
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = _ChatState()
        return state

    def _group_ready(self, state: _ChatState, now: float) -> float:
        """When the group window next has room."""
        limits, recent = self.limits, state.recent
        if recent is None:
            return now
        while recent and recent[0] <= now - limits.group_window:
            recent.popleft()
        if limits.group_count <= 0 or len(recent) < limits.group_count:
            return now
        return recent[-limits.group_count] + limits.group_window

    def ready_at(self, chat_id: int) -> float:
        """The earliest moment a message to `chat_id` keeps the per-chat and pause limits."""
        now = self._clock()
        state = self._chats.get(chat_id)
        moment = max(now, self._paused_until)
        if state is None:
            return moment
        if state.last is not None:
            moment = max(moment, state.last + self.limits.chat_interval)
        if is_group(chat_id):
            moment = max(moment, self._group_ready(state, now))
        return max(moment, state.paused_until)

    def delay(self, chat_id: int) -> float:
        """Seconds to wait before `chat_id` may be sent to (0 when it may go now)."""
        return max(0.0, self.ready_at(chat_id) - self._clock())

    def reserve(self, chat_id: int) -> float:
        """Book the next overall slot for `chat_id` and return the moment to send at."""
        moment = self.ready_at(chat_id)
        if self.limits.global_rate > 0:
            moment = max(moment, self._next_slot)
            # A hair over 1/rate so float rounding never fits rate+1 sends into one second.
            self._next_slot = moment + _SLOT_MARGIN / self.limits.global_rate
        state = self._state(chat_id)
        state.last = moment
        if is_group(chat_id) and self.limits.group_count > 0:
            if state.recent is None:
                state.recent = deque()
            state.recent.append(moment)
        return moment

    def window_delay(self) -> float:
        """Seconds to hold a call whose slot came due, so that the moments calls really start
        never exceed `global_rate` in any second (plus `window_margin`): event-loop lag can bunch
        calls booked evenly, and Telegram counts arrivals, not bookings. Calls booked with
        `book_call` and not started yet count as starting now."""
        count = int(self.limits.global_rate)
        if count <= 0:
            return 0.0
        now = self._clock()
        span = 1.0 + self.limits.window_margin
        while self._actual and self._actual[0] <= now - span:
            self._actual.popleft()
        room = count - self._booked  # places for calls that started already
        if room <= 0:
            return span / count  # a booked call has not started yet: look again shortly
        if len(self._actual) < room:
            return 0.0
        return self._actual[-room] + span - now

    def book_call(self) -> None:
        """Take a place in the window for a call that starts soon (right after `window_delay`
        answered 0), e.g. once its journal entry is committed: until `note_call(booked=True)`
        or `cancel_call`, it counts as starting at every moment, so the window stays exact
        however long that takes."""
        if self.limits.global_rate > 0:
            self._booked += 1

    def cancel_call(self) -> None:
        """Give back a place taken by `book_call` for a call that will not start."""
        if self.limits.global_rate > 0:
            self._booked = max(0, self._booked - 1)

    def note_call(self, *, booked: bool = False) -> None:
        """Record that a call starts now (right after `window_delay` answered 0, or after
        `book_call` when `booked`)."""
        if self.limits.global_rate > 0:
            if booked:
                self._booked = max(0, self._booked - 1)
            self._actual.append(self._clock())

    def pause_chat(self, chat_id: int, seconds: float) -> None:
        """Send nothing to `chat_id` for `seconds` (a RetryAfter for that chat)."""
        state = self._state(chat_id)
        state.paused_until = max(state.paused_until, self._clock() + seconds)

    def pause_all(self, seconds: float) -> None:
        """Send nothing at all for `seconds` (a RetryAfter known or inferred to be global)."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def retry_after(self, chat_id: int, seconds: float) -> bool:
        """Apply the RetryAfter policy; True when it was judged global and everything paused."""
        now = self._clock()
        self.pause_chat(chat_id, seconds)
        self._retries.append((now, chat_id, seconds))
        while self._retries and self._retries[0][0] < now - self.limits.global_span:
            self._retries.popleft()
        chats = {chat for _, chat, _ in self._retries}
        if len(chats) < self.limits.global_trigger:
            return False
        self.pause_all(max(wait for _, _, wait in self._retries))
        self._retries.clear()
        return True

    def forget_idle(self) -> int:
        """Drop chats whose state can no longer constrain anything; return how many."""
        now = self._clock()
        horizon = max(self.limits.chat_interval, self.limits.group_window)
        idle = [
            chat
            for chat, state in self._chats.items()
            if (state.last is None or state.last <= now - horizon) and state.paused_until <= now
        ]
        for chat in idle:
            del self._chats[chat]
        return len(idle)

    def tracked(self) -> int:
        """How many chats the scheduler currently remembers."""
        return len(self._chats)
