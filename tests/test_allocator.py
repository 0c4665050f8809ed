"""The allocator's knobs: harmless calls on glibc, no-ops elsewhere."""

from __future__ import annotations

import platform

from bot.allocator import limit_arenas, release_memory


def test_limit_arenas_and_release_memory_apply_on_glibc_only() -> None:
    """On glibc both calls take effect; on any other C library they report doing nothing."""
    glibc = platform.libc_ver()[0] == "glibc"
    assert limit_arenas() is glibc
    assert isinstance(release_memory(), bool)
