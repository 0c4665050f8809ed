"""A dispatch pass's batch "for you" picks are what each chat's own ranking would pick."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence

import numpy as np
import pytest

from bot.digest.models import Paper
from bot.recommend import MIN_SAVED, picks, serve
from bot.recommend.compute import Features, build_features
from bot.recommend.picks import MIN_SCORE, PICKS, PassPicks, library_scores
from bot.recommend.serve import genericness, reader_agreement
from storage.saved import PaperDocument

DAY = dt.date(2025, 1, 24)
WORDS = [f"w{n}" for n in range(40)]
UNKNOWN = "2412.99999"  # a saved or listed paper the features do not know


def _archive(size: int, rng: random.Random) -> list[PaperDocument]:
    """Documents over a small vocabulary, so that papers are near one another in varied ways."""
    return [
        PaperDocument(
            arxiv_id=f"2501.{n:05d}",
            title_tokens=" ".join(rng.sample(WORDS, 3)),
            body_tokens=" ".join(rng.choices(WORDS, k=12)),
            author_tokens=f"a{rng.randrange(10)}",
            votes=rng.randrange(50),
            day=DAY - dt.timedelta(days=(size - n) // 10),
        )
        for n in range(size)
    ]


def _paper(arxiv_id: str) -> Paper:
    """A minimal paper."""
    return Paper(arxiv_id=arxiv_id, title=arxiv_id, link=f"https://arxiv.org/abs/{arxiv_id}")


def ranked_alone(
    features: Features,
    library: Sequence[str],
    candidates: Sequence[Paper],
    day_papers: Sequence[Paper],
) -> list[str] | None:
    """The reference: one chat ranked on its own (its saved papers' cosines to its candidates,
    its library's agreement with them and the genericness of the day's papers, scored by the
    picks' scorer, best `PICKS` at or above `MIN_SCORE`, saved papers left out); None when
    under `MIN_SAVED` of its papers have features."""
    rows = features.rows_of(library)
    if len(rows) < MIN_SAVED:
        return None
    unique = {p.arxiv_id: p for p in candidates if p.arxiv_id not in set(library)}
    known = [arxiv_id for arxiv_id in unique if arxiv_id in features.rows]
    if not known:
        return []
    product = features.matrix[rows] @ features.matrix[features.rows_of(known)].T
    day_rows = features.rows_of(dict.fromkeys(p.arxiv_id for p in day_papers))
    generic = dict(zip(day_rows, genericness(features, day_rows), strict=True))
    known_generic = np.array([generic[features.rows[i]] for i in known], dtype=np.float32)
    agreement = reader_agreement(features, rows, features.rows_of(known))
    cosines = np.asarray(product.toarray(), dtype=np.float32).T
    scores = library_scores(cosines, known_generic, agreement)
    order = np.argsort(-scores, kind="stable")[:PICKS]
    return [known[i] for i in order if scores[i] >= MIN_SCORE]


@pytest.mark.parametrize("chunked", [False, True])
def test_batch_picks_equal_each_chat_ranked_alone(
    monkeypatch: pytest.MonkeyPatch, chunked: bool
) -> None:
    """Two batches of chats on two days (libraries of every size, saves among the day's papers,
    unknown and repeated ids, shuffled candidates) get exactly the single-chat ranker's picks."""
    if chunked:  # the scorer, the dense columns and the pairs of saves a few at a time
        monkeypatch.setattr(picks, "SCORE_CHUNK", 50)
        monkeypatch.setattr(picks, "DENSE_CHUNK", 500)
        monkeypatch.setattr(serve, "PAIRS", 7)
    rng = random.Random(16)
    features = build_features(_archive(150, rng))
    ids = list(features.rows)
    days = {
        DAY: [_paper(i) for i in [*ids[-30:], UNKNOWN, ids[-3]]],
        DAY - dt.timedelta(days=1): [_paper(i) for i in ids[-60:-30]],
    }
    ranked = saved_picked = 0
    batches = PassPicks(features)
    for batch in range(2):
        libraries = {
            chat: [*rng.sample(ids, rng.randrange(1, 10)), *([UNKNOWN] if chat % 5 == 0 else [])]
            for chat in range(batch * 40, batch * 40 + 40)
        }
        batches.start_batch(libraries)
        for date, papers in days.items():
            for chat, library in libraries.items():
                candidates = [p for p in papers if rng.random() < 0.8]
                if chat % 7 == 0:
                    rng.shuffle(candidates)
                picker = batches.picker(chat, date, papers)
                expected = ranked_alone(features, library, candidates, papers)
                got = None if picker is None else [p.arxiv_id for p in picker(candidates)]
                assert got == expected, (batch, date, chat)
                ranked += bool(got)
                saved_picked += any(p.arxiv_id in library for p in candidates) and bool(got)
    assert ranked > 100
    assert saved_picked > 10  # saved papers among the candidates were left out
    assert batches.picker(10_000, DAY, days[DAY]) is None  # not in the batch


def test_a_day_without_features_picks_nothing() -> None:
    """A day none of whose papers has features gives every chat an empty section."""
    features = build_features(_archive(40, random.Random(1)))
    batches = PassPicks(features)
    batches.start_batch({1: list(features.rows)[:5]})
    papers = [_paper(UNKNOWN)]
    picker = batches.picker(1, DAY, papers)
    assert picker is not None
    assert picker(papers) == []
