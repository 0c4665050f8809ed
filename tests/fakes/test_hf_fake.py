"""The fake HF daily-papers API over real loopback HTTP: days, paging, growth, faults, ETags."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.digest.hf_json import parse_hf_json
from bot.fakes.hf import FakeHF, read_entries

SAMPLES = Path(__file__).resolve().parents[2] / "bot" / "samples" / "hf_api_b"
SAMPLE_DAY = dt.date(2025, 1, 10)
DAY = dt.date(2025, 3, 3)  # a Monday


@pytest.fixture
async def fake() -> AsyncIterator[FakeHF]:
    """A fake serving the bundled sample list, plus a hand-made day of five papers."""
    hf = FakeHF(SAMPLES)
    for n in range(5):
        hf.add_paper(DAY, f"2503.0000{n}", f"Paper {n}", upvotes=n, authors=[f"Author {n}"])
    async with hf.running(port=0):
        yield hf


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that talks to loopback only (no proxies from the environment)."""
    async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
        yield http


def day_url(fake: FakeHF, date: dt.date) -> str:
    """The URL the `DIGEST_SOURCES` template gives for `date`."""
    return fake.url_template.format(date=date)


async def test_a_sample_day_parses_like_its_file(fake: FakeHF, client: httpx.AsyncClient) -> None:
    """The envelope of Python-literal strings comes back as a JSON list our parser reads alike."""
    response = await client.get(day_url(fake, SAMPLE_DAY))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    served = parse_hf_json(response.text, source="x", date=SAMPLE_DAY)
    sample = (SAMPLES / "2025-01-10.json").read_text(encoding="utf-8")
    original = parse_hf_json(sample, source="2025-01-10.json")
    assert served.errors == ()
    assert [(p.arxiv_id, p.title, p.votes, p.authors) for p in served.papers] == [
        (p.arxiv_id, p.title, p.votes, p.authors) for p in original.papers
    ]
    assert isinstance(response.json()[0], dict)


async def test_every_corpus_file_shape_is_served(
    corpus_dir: Path, client: httpx.AsyncClient
) -> None:
    """Lists of objects, of literal strings and the envelope all serve every entry as objects."""
    async with FakeHF(corpus_dir / "hf_api_b").running(port=0) as fake:
        assert len(fake.days) == 8
        for date, day in fake.days.items():
            query: dict[str, str | int] = {"date": date.isoformat(), "limit": 100}
            response = await client.get(f"{fake.base_url}/api/daily_papers", params=query)
            assert len(response.json()) == len(day.entries) > 0, date
    assert read_entries("1") == []


async def test_paging_and_periods(fake: FakeHF, client: httpx.AsyncClient) -> None:
    """`limit` and `p` page a day; `week` and `month` gather their days; no period is the newest."""
    api = f"{fake.base_url}/api/daily_papers"
    pages = [
        [e["paper"]["id"] for e in (await client.get(api, params=q)).json()]
        for q in ({"date": "2025-03-03", "limit": "2", "p": str(p)} for p in range(3))
    ]
    assert pages == [["2503.00000", "2503.00001"], ["2503.00002", "2503.00003"], ["2503.00004"]]
    week = (await client.get(api, params={"week": "2025-W10"})).json()
    assert len(week) == 5
    month = (await client.get(api, params={"month": "2025-01", "limit": 100})).json()
    assert len(month) == 9
    assert len((await client.get(api)).json()) == 5
    for bad in ({"date": "2025-3-3"}, {"limit": 0}, {"limit": 101}, {"p": -1}, {"week": "W1"}):
        assert (await client.get(api, params=bad)).status_code == 400, bad
    both = await client.get(api, params={"date": "2025-03-03", "month": "2025-03"})
    assert both.status_code == 400


async def test_the_list_grows_and_votes_rise(fake: FakeHF, client: httpx.AsyncClient) -> None:
    """`release` shows the first n entries, more later; `bump_votes` raises one paper's count."""
    url = day_url(fake, DAY)
    fake.release(DAY, 2)
    assert [e["paper"]["id"] for e in (await client.get(url)).json()] == [
        "2503.00000",
        "2503.00001",
    ]
    fake.release(DAY, 4)
    fake.bump_votes(DAY, "2503.00001", by=10)
    grown = (await client.get(url)).json()
    assert len(grown) == 4
    assert grown[1]["paper"]["upvotes"] == 11
    fake.release(DAY)
    assert len((await client.get(url)).json()) == 5
    with pytest.raises(KeyError):
        fake.bump_votes(DAY, "9999.99999")


async def test_etag_answers_304_until_the_list_changes(
    fake: FakeHF, client: httpx.AsyncClient
) -> None:
    """A matching If-None-Match gets 304 with no body; a vote bump changes the ETag."""
    url = day_url(fake, DAY)
    first = await client.get(url)
    etag = first.headers["etag"]
    again = await client.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", etag)
    assert (await client.get(url, headers={"If-None-Match": f"W/{etag}"})).status_code == 304
    fake.bump_votes(DAY, "2503.00000")
    changed = await client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert fake.count(date=DAY, status=304) == 2


async def test_queued_faults_answer_in_order(fake: FakeHF, client: httpx.AsyncClient) -> None:
    """429 (with Retry-After), 500, a truncated body and a partial page, then normal service."""
    url = day_url(fake, DAY)
    fake.fail(429, retry_after=7)
    fake.fail(500)
    fake.malformed()
    fake.partial(keep=2)
    throttled = await client.get(url)
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "7")
    assert (await client.get(url)).status_code == 500
    broken = await client.get(url)
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.text)
    partial = parse_hf_json((await client.get(url)).text, source="x", date=DAY)
    assert [p.arxiv_id for p in partial.papers] == ["2503.00000", "2503.00001"]
    assert len((await client.get(url)).json()) == 5
    assert fake.count(date=DAY) == 5
    assert fake.count(status=429) == fake.count(status=500) == 1


async def test_control_endpoints_drive_the_same_state(
    fake: FakeHF, client: httpx.AsyncClient
) -> None:
    """`/_control/…` releases, bumps, adds days, queues faults and reports counts."""
    control = f"{fake.base_url}/_control"
    entry = {"paper": {"id": "2503.09999", "title": "Added", "upvotes": 1, "authors": []}}
    day = {"date": "2025-03-04", "entries": [entry, entry], "shown": 1}
    assert (await client.post(f"{control}/day", json=day)).json()["ok"] is True
    assert len(fake.entries(dt.date(2025, 3, 4))) == 1
    await client.post(f"{control}/release", json={"date": "2025-03-03", "n": 1})
    await client.post(f"{control}/bump", json={"date": "2025-03-03", "by": 3})
    assert [e["paper"]["upvotes"] for e in fake.entries(DAY)] == [3]
    await client.post(f"{control}/fault", json={"kind": "status", "status": 503})
    assert (await client.get(day_url(fake, DAY))).status_code == 503
    stats = (await client.get(f"{control}/stats")).json()["result"]
    assert stats["by_status"] == {"503": 1}
    assert stats["days"]["2025-03-03"] == 1
    refused = await client.post(f"{control}/fault", json={"kind": "nonsense"})
    assert refused.status_code == 400
