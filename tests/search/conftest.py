"""Search test fixtures shared by the modules that build a corpus archive (`corpus_url`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine


@pytest.fixture
async def engine(corpus_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the module's corpus archive (each module defines `corpus_url`)."""
    engine = create_engine(corpus_url)
    yield engine
    await engine.dispose()
