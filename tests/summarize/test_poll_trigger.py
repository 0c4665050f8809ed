"""A poll that stores a day starts that day's summaries in the background."""

from __future__ import annotations

import json
from pathlib import Path

from bot.clock import DeliveryRuntime
from bot.content.sources import Source
from bot.delivery.dispatch import SchedulePolicy
from bot.services import Services
from tests.summarize.conftest import DAY, Archive, papers


def hf_day(folder: Path, count: int) -> None:
    """Write an HF daily-papers JSON file of `count` papers for DAY into `folder`."""
    entries = [
        {
            "paper": {
                "id": paper.arxiv_id,
                "title": paper.title,
                "summary": paper.abstract,
                "upvotes": paper.votes,
                "authors": [{"name": name} for name in paper.authors],
            },
            "title": paper.title,
        }
        for paper in papers(count)
    ]
    (folder / f"{DAY.isoformat()}.json").write_text(json.dumps(entries), encoding="utf-8")


async def test_poll_starts_summaries(archive: Archive, tmp_path: Path) -> None:
    """The poll returns at once; the stored day's papers are then summarized once each, and
    then given search keywords once each (bot.content.keywords)."""
    hf_day(tmp_path, 3)
    settings = archive.settings()
    runtime = DeliveryRuntime(
        Services(settings, archive.sessions),
        [Source("folder", str(tmp_path))],
        SchedulePolicy.from_settings(settings),
    )
    report = await runtime.poll()
    assert report.days == {DAY}
    assert runtime.summaries is not None
    await runtime.summaries.join()
    await runtime.poll()  # unchanged files: nothing new is asked for
    await runtime.summaries.join()
    assert {row.state for row in (await archive.rows()).values()} == {"done"}
    keyword_calls = sum(n for key, n in archive.fake.calls.items() if key.startswith("keywords:"))
    assert (archive.fake.total_calls - keyword_calls, keyword_calls) == (3, 3)
    await runtime.shutdown()
