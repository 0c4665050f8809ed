"""Fault injection: scripted failures per method and chat, counted or probabilistic."""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any, Literal

from bot.emulator.state import ApiError

FaultKind = Literal["retry_after", "blocked", "migrate", "server_error", "delay", "drop"]
FAULT_KINDS: tuple[str, ...] = (
    "retry_after",
    "blocked",
    "migrate",
    "server_error",
    "delay",
    "drop",
)


@dataclass(slots=True)
class Fault:
    """One scripted failure.

    `method` (case-insensitive) and `chat_id` narrow what it matches (None: anything).
    It fires on the next `count` matching calls (None: forever), each with `probability`.
    `delay` records the call, then waits `seconds` before answering; `drop` closes the connection
    without an answer, before the call is recorded or (`after_record`) after.
    """

    kind: FaultKind
    method: str | None = None
    chat_id: int | None = None
    count: int | None = 1
    probability: float = 1.0
    retry_after: int = 5
    migrate_to_chat_id: int | None = None
    status: int = 502
    seconds: float = 1.0
    after_record: bool = False
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.method is not None:
            self.method = self.method.lower()
        if self.kind == "delay":
            self.after_record = True

    def matches(self, method: str, chat_id: int | None) -> bool:
        """Whether this fault concerns the call."""
        if self.method is not None and self.method != method:
            return False
        return self.chat_id is None or self.chat_id == chat_id

    def error(self, chat_id: int | None) -> ApiError | None:
        """The error answer of this fault (None for delay and drop)."""
        if self.kind == "retry_after":
            return ApiError(
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                {"retry_after": self.retry_after},
            )
        if self.kind == "blocked":
            return ApiError(403, "Forbidden: bot was blocked by the user")
        if self.kind == "migrate":
            target = self.migrate_to_chat_id or -1_000_000_000_000 - abs(chat_id or 1)
            return ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": target},
            )
        if self.kind == "server_error":
            return ApiError(self.status, _REASONS.get(self.status, "Internal Server Error"))
        return None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description."""
        return asdict(self)


_REASONS = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class FaultPlan:
    """The active faults and the seeded RNG behind probabilistic ones."""

    def __init__(self, seed: int | None = None) -> None:
        self.faults: list[Fault] = []
        self.rng = random.Random(seed)

    def seed(self, seed: int | None) -> None:
        """Reseed the RNG so a run is reproducible."""
        self.rng.seed(seed)

    def add(self, fault: Fault) -> Fault:
        """Activate a fault."""
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        """Remove every fault."""
        self.faults.clear()

    def pick(self, method: str, chat_id: int | None) -> Fault | None:
        """The fault firing for this call, if any (counted faults are used up)."""
        if not self.faults:
            return None
        for fault in self.faults:
            if not fault.matches(method, chat_id):
                continue
            if fault.probability < 1.0 and self.rng.random() >= fault.probability:
                continue
            fault.fired += 1
            if fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self.faults.remove(fault)
            return fault
        return None
