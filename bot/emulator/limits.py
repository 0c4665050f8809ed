"""Telegram-like flood limits and the delivery counters benchmarks read.

Limits (all sliding, all O(1) amortised per message):
- overall: at most `overall` messages in any 1 s window (Telegram: ~30/s);
- per chat: a token bucket refilled at 1 message/s holding `chat_burst` tokens, so a short burst of
  up to `chat_burst` messages passes before the 1/s pace applies (Telegram tolerates small bursts);
- per group, supergroup or channel (negative ids): at most `group_per_minute` in any 60 s window.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

GLOBAL, CHAT, GROUP = "overall", "chat", "group"


@dataclass(slots=True)
class Stats:
    """Counters of what the emulator accepted and refused."""

    accepted: int = 0
    too_many_requests: int = 0
    violations: Counter[str] = field(default_factory=Counter)
    sent_at: dict[int, list[float]] = field(default_factory=dict)
    texts: Counter[tuple[int, str]] = field(default_factory=Counter)

    def record(self, chat_id: int, text: str, at: float) -> None:
        """One message accepted."""
        self.accepted += 1
        self.sent_at.setdefault(chat_id, []).append(at)
        self.texts[(chat_id, text)] += 1

    def duplicates(self) -> list[tuple[int, str, int]]:
        """(chat_id, text, count) for every text the bot sent more than once to one chat."""
        return [(chat, text, n) for (chat, text), n in self.texts.items() if n > 1]

    def max_in_window(self, chat_id: int, window: float) -> int:
        """The most messages accepted for `chat_id` within any `window` seconds."""
        times = self.sent_at.get(chat_id, [])
        best = start = 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best

    def groups_over(self, per_minute: int = 20) -> dict[int, int]:
        """Groups/channels that received more than `per_minute` in some 60 s window."""
        found = {chat: self.max_in_window(chat, 60.0) for chat in self.sent_at if chat < 0}
        return {chat: n for chat, n in found.items() if n > per_minute}

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary for the control API."""
        return {
            "accepted": self.accepted,
            "too_many_requests": self.too_many_requests,
            "violations": dict(self.violations),
            "sent_at": {str(chat): times for chat, times in self.sent_at.items()},
            "duplicates": [
                {"chat_id": chat, "text": text, "count": n} for chat, text, n in self.duplicates()
            ],
        }


@dataclass(slots=True)
class _Bucket:
    """A per-chat token bucket."""

    tokens: float
    updated: float


class RateLimiter:
    """Decides whether a message may go now; `clock` is injectable so tests need no sleeping."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        overall: int = 30,
        chat_burst: int = 3,
        group_per_minute: int = 20,
    ) -> None:
        self.clock = clock
        self.overall = overall
        self.chat_burst = chat_burst
        self.group_per_minute = group_per_minute
        self._recent: deque[float] = deque()
        self._buckets: dict[int, _Bucket] = {}
        self._groups: dict[int, deque[float]] = {}

    def check(self, chat_id: int) -> tuple[str, int] | None:
        """None if a message to `chat_id` may go now, else (limit broken, retry_after seconds)."""
        now = self.clock()
        _expire(self._recent, now - 1.0)
        if len(self._recent) >= self.overall:
            return GLOBAL, _seconds(self._recent[0] + 1.0 - now)
        bucket = self._bucket(chat_id, now)
        if bucket.tokens < 1.0:
            return CHAT, _seconds(1.0 - bucket.tokens)
        if chat_id < 0:
            window = self._groups.setdefault(chat_id, deque())
            _expire(window, now - 60.0)
            if len(window) >= self.group_per_minute:
                return GROUP, _seconds(window[0] + 60.0 - now)
        return None

    def record(self, chat_id: int) -> None:
        """Count a message that went out (call right after a successful `check`)."""
        now = self.clock()
        self._recent.append(now)
        self._bucket(chat_id, now).tokens -= 1.0
        if chat_id < 0:
            self._groups.setdefault(chat_id, deque()).append(now)

    def _bucket(self, chat_id: int, now: float) -> _Bucket:
        """The chat's bucket, refilled for the time elapsed."""
        bucket = self._buckets.get(chat_id)
        if bucket is None:
            bucket = self._buckets[chat_id] = _Bucket(float(self.chat_burst), now)
        bucket.tokens = min(float(self.chat_burst), bucket.tokens + (now - bucket.updated))
        bucket.updated = now
        return bucket


def _expire(window: deque[float], before: float) -> None:
    """Drop timestamps at or before `before`."""
    while window and window[0] <= before:
        window.popleft()


def _seconds(wait: float) -> int:
    """Telegram's retry_after: whole seconds, at least 1."""
    return max(1, math.ceil(wait))
