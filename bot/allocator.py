"""The C allocator of a long-running bot process: glibc's malloc kept from hoarding freed memory.

Imports nothing of ours, so the wiring (bot/cli, bot/clock) may call it. What Python frees is
mostly small objects (pymalloc's own arenas); what it leaves to malloc (texts of a few KB, the
SQLite page caches, aiohttp's buffers) glibc keeps in per-thread arenas and inside the heap
after a broadcast or a burst of commands: measured with bench/memory.py, 20-30 MB of RSS that
no object used any more. Each aiosqlite connection is a thread, and each thread gets an arena
of its own. Two arenas and a trim now and then give that memory back. Elsewhere than glibc
(musl, macOS) both calls do nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)
M_ARENA_MAX = -8  # mallopt's parameter number in glibc's malloc.h
ARENAS = 2  # the main thread's and one shared by the database threads


def _glibc() -> ctypes.CDLL | None:
    """glibc, when it is this process's C library."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # noqa: B018 - glibc's, not in musl or macOS's libc
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def limit_arenas(arenas: int = ARENAS) -> bool:
    """Cap malloc's arenas (as MALLOC_ARENA_MAX would); call it before threads start. True
    when it applied."""
    if _LIBC is None:
        return False
    return bool(_LIBC.mallopt(M_ARENA_MAX, arenas))


def release_memory() -> bool:
    """Hand free pages of every malloc arena back to the system (`malloc_trim(0)`): after a
    dispatch pass, a broadcast, a burst of look-ups. True when some memory was released."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))
