"""The event loop: uvloop where it is installed (not on Windows), else asyncio's own.

uvloop's loop, written in Cython on libuv, spends less CPU per socket read, write and callback
than asyncio's: about 7% more updates/s at saturation in bench/commands.py.
"""

from __future__ import annotations

import asyncio


def use_uvloop() -> bool:
    """Make asyncio.run and new event loops use uvloop; False when it is not installed."""
    try:
        import uvloop
    except ImportError:
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True
