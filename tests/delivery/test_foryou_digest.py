"""The digest's "✨ For you" section, queued by dispatch and delivered through the emulator."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.delivery.dispatch import DispatchReport, dispatch
from bot.delivery.foryou import FeatureSource
from bot.recommend.compute import FeatureCache
from storage import saved
from tests.delivery.daykit import Day, digest_text, open_day, sample_blocks, seoul, title_of

D24 = dt.date(2025, 1, 24)
VIDEO = ("Improving Video Generation", "Temporal Preference Optimization", "Video-MMMU")


@pytest.fixture
async def day(database_url: str, tmp_path: Path) -> AsyncIterator[Day]:
    """The scheduled-day kit with the whole 2025-01-24 sample digest polled."""
    async with open_day(database_url, tmp_path) as kit:
        kit.write(D24, digest_text(D24, sample_blocks()))
        await kit.poll()
        yield kit


def _id_of(title: str) -> str:
    """The arXiv id of the sample paper whose title starts with `title`."""
    block = next(b for b in sample_blocks() if title_of(b).startswith(title))
    found = re.search(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", block)
    assert found is not None
    return found[1]


async def _save(day: Day, user: int, titles: tuple[str, ...], *, chat: int | None = None) -> None:
    """Save the papers of those titles for `user` (pressed in `chat`, default their own)."""
    async with day.sessions.begin() as session:
        for title in titles:
            await saved.save(
                session,
                user_id=user,
                arxiv_id=_id_of(title),
                chat_id=chat if chat is not None else user,
                now=day.clock(),
            )


async def _dispatch(day: Day, features: FeatureSource) -> DispatchReport:
    """One committed dispatch pass at the clock's time, "for you" features from `features`."""
    async with day.sessions.begin() as session:
        return await dispatch(
            session, now=day.clock(), settings=day.settings, policy=day.policy, features=features
        )


def _section(text: str, marker: str) -> str:
    """What follows the "for you" title ('' when there is none)."""
    return text.split(marker, 1)[1] if marker in text else ""


async def test_for_you_section_in_en_and_ko(day: Day) -> None:
    """Chats with 3 saves get up to 3 of the rest of the day, near their saves, after the top N."""
    await day.subscribe(401, top_n=2, language="en")
    await day.subscribe(402, top_n=2, language="ko")
    await day.subscribe(403, top_n=2, language="en", for_you=False)  # turned off
    await day.subscribe(404, top_n=2, language="en")  # two saves: too few
    for user in (401, 402, 403):
        await _save(day, user, VIDEO)
    await _save(day, 404, VIDEO[:2])
    day.clock.at(seoul(24, 9, 0))
    cache = FeatureCache()
    report = await _dispatch(day, lambda: cache)
    assert (report.digests, cache.builds) == (4, 1)  # features once for the pass
    await day.deliver()
    english = "\n".join(day.emulator.texts(401))
    picks = _section(english, "✨ For you")
    assert picks
    assert "SRMT" in english.split("✨ For you")[0]  # the top 2 by votes come first
    assert "SRMT" not in picks  # never repeated
    assert not any(title in picks for title in VIDEO)  # saved papers are not recommended
    assert "3. " in picks
    assert any(title in picks for title in ("EchoVideo", "DiffuEraser"))  # near the saves
    assert "✨ 맞춤 추천" in "\n".join(day.emulator.texts(402))
    assert "✨" not in "\n".join(day.emulator.texts(403))
    assert "✨" not in "\n".join(day.emulator.texts(404))


async def test_a_group_learns_from_what_was_saved_there(day: Day) -> None:
    """A group's section comes from saves made in the group, not its members' private ones."""
    await day.subscribe(-405, top_n=2, language="en")
    await day.subscribe(-406, top_n=2, language="en")
    await _save(day, 501, VIDEO[:2], chat=-405)
    await _save(day, 502, VIDEO[2:], chat=-405)  # two members: three saves in the group
    await _save(day, 503, VIDEO)  # a member's private saves do not count for group -406
    day.clock.at(seoul(24, 9, 0))
    await day.dispatch()
    await day.deliver()
    assert "✨ For you" in "\n".join(day.emulator.texts(-405))
    assert "✨ For you" not in "\n".join(day.emulator.texts(-406))


async def test_a_poll_that_stores_a_day_rebuilds_the_features_before_dispatch(day: Day) -> None:
    """Once someone is served, a poll storing new papers rebuilds the features in the
    background, so the next dispatch pass finds them ready; a poll storing nothing does not."""
    from bot.clock import DeliveryRuntime
    from bot.content.sources import parse_sources
    from bot.services import Services

    runtime = DeliveryRuntime(
        Services(day.settings, day.sessions, day.clock),
        parse_sources([str(day.folder)]),
        day.policy,
    )
    await runtime.poll()  # nobody served yet: no features are built
    assert runtime.warming is None
    cache = runtime.feature_cache()
    async with day.sessions() as session:
        await cache.get(session)
    assert cache.builds == 1

    await _save(day, 601, VIDEO)
    await day.subscribe(601, top_n=2, language="en")
    await day.subscribe(602, top_n=2, language="en")  # no saves: nothing to warm
    blocks = sample_blocks()
    day.write(dt.date(2025, 1, 25), digest_text(dt.date(2025, 1, 25), blocks[:3]))
    report = await runtime.poll()
    assert report.stored == 1
    assert runtime.warming is not None
    await runtime.warming
    assert cache.builds == 2
    assert cache.features is not None
    kernels = dict(cache.features.libraries)  # the served library's, computed by the warm-up
    assert len(kernels) == 1

    day.clock.at(seoul(25, 9, 0))
    await _dispatch(day, runtime.feature_cache)
    assert cache.builds == 2  # the pass used the warmed features
    assert cache.features.libraries == kernels  # and the warmed kernels, not computed again
    assert all(cache.features.libraries[key] is kept for key, kept in kernels.items())
    await day.deliver()
    assert "✨ For you" in "\n".join(day.emulator.texts(601))

    warmed = runtime.warming
    await runtime.poll()  # nothing new stored: no rebuild
    assert runtime.warming is warmed
    assert cache.builds == 2
    await runtime.shutdown()


async def test_a_restarted_bot_warms_up_when_someone_is_served(day: Day) -> None:
    """The first poll of a (re)started bot warms the features and kernels up when a chat it
    would serve has saved papers; with nobody served, scikit-learn is not even loaded."""
    from bot.clock import DeliveryRuntime
    from bot.content.sources import parse_sources
    from bot.recommend import FEATURES_KEY
    from bot.services import Services

    def runtime() -> DeliveryRuntime:
        services = Services(day.settings, day.sessions, day.clock)
        return DeliveryRuntime(services, parse_sources([str(day.folder)]), day.policy)

    await day.subscribe(701, top_n=2, language="en")
    await _save(day, 702, VIDEO)  # saves, but not subscribed: not served
    nobody = runtime()
    await nobody.poll_at_start()
    assert nobody.warming is None
    assert FEATURES_KEY not in nobody.shared
    await nobody.shutdown()

    await _save(day, 701, VIDEO)
    restarted = runtime()
    await restarted.poll_at_start()
    assert restarted.warming is not None
    await restarted.warming
    cache = restarted.feature_cache()
    assert cache.builds == 1
    assert cache.features is not None
    assert len(cache.features.libraries) == 1
    await restarted.shutdown()


async def test_a_pass_scores_only_the_chats_it_delivers_to(day: Day) -> None:
    """Dispatch runs every minute: a pass scores "for you" for the chats with a digest due,
    not for every chat of their batch (a chat due at 18:00 is scored at 18:00)."""
    other = next(t for t in map(title_of, sample_blocks()) if not t.startswith(VIDEO))
    await day.subscribe(801, top_n=2, language="en")
    await day.subscribe(802, top_n=2, language="en", delivery_time="18:00")
    await _save(day, 801, VIDEO)
    await _save(day, 802, (*VIDEO, other))  # another library: kernels of its own
    cache = FeatureCache()

    async def dispatch_at(hour: int) -> int:
        day.clock.at(seoul(24, hour, 0))
        return (await _dispatch(day, lambda: cache)).digests

    assert await dispatch_at(9) == 1
    assert cache.features is not None
    assert len(cache.features.libraries) == 1  # 802's library was not scored
    assert await dispatch_at(18) == 1
    assert len(cache.features.libraries) == 2
    await day.deliver()
    for chat in (801, 802):
        assert "✨ For you" in "\n".join(day.emulator.texts(chat))
