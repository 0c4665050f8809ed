"""End to end through `paperboy run`: a paper new in the HF list reaches a chat, summarized."""

from __future__ import annotations

from bench.freshness import measure


async def test_a_new_paper_arrives_summarized_within_the_budget() -> None:
    """With a 3 s settle and poll, the chat gets the papers with generated Korean bullets."""
    result = await measure(settle=0.05, poll=0.05, within=120)
    assert result.summarized
    assert result.within_budget
