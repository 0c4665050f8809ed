"""A reader's ranking of a day's papers, from the papers they saved (arxiv-sanity's serve).

Two rankers over the same features (bot.recommend.compute):
- `svm_scores`: arxiv-sanity-lite's baseline: a linear SVM with the saved papers as positives
  and the rest of the archive (up to the day) as negatives, fitted per reader.
- `foryou_scores`: what paperboy serves: each paper's similarity to its nearest saved papers
  (the mean of the `nearest` best cosines), plus a small prior for votes. A reader with three
  interests and three saves each is served by whichever interest a paper is near, where one
  hyperplane through eleven points is pulled between them; and it costs one sparse product
  per reader instead of a fit, so a dispatch pass can afford it for every chat.
Parameters are chosen on the evaluation's dev readers (bench/recommend_eval.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.svm import LinearSVC

from bot.recommend.compute import Features

SVM_NEGATIVES = 5_000  # the newest papers up to the day serve as the SVM's negatives


@dataclass(frozen=True, slots=True)
class ForYouParams:
    """The served ranker's knobs (defaults: the dev split's choice)."""

    nearest: int = 3
    vote_weight: float = 0.0
    boost_weight: float = 0.2


DEFAULT_PARAMS = ForYouParams()


def vote_prior(votes: np.ndarray) -> np.ndarray:
    """Votes on a 0..1 scale within the day (log-scaled: 5 → 50 counts like 50 → 500)."""
    scaled = np.log1p(np.maximum(votes, 0))
    top = float(scaled.max()) if scaled.size else 0.0
    return scaled / top if top > 0 else np.zeros_like(scaled)


def nearest_similarity(similarities: np.ndarray, nearest: int) -> np.ndarray:
    """Per candidate (row): the mean of its `nearest` highest similarities to saved papers."""
    if similarities.shape[1] == 0:
        return np.zeros(similarities.shape[0], dtype=np.float32)
    k = min(nearest, similarities.shape[1])
    best = -np.partition(-similarities, k - 1, axis=1)[:, :k]
    return np.asarray(best.mean(axis=1), dtype=np.float32)


def similarities(
    features: Features, library: Sequence[int], candidates: Sequence[int]
) -> np.ndarray:
    """Cosines between candidate rows and library rows (dense: candidates × library)."""
    product = features.matrix[list(candidates)] @ features.matrix[list(library)].T
    return np.asarray(product.toarray(), dtype=np.float32)


def foryou_scores(
    features: Features,
    library: Sequence[int],
    candidates: Sequence[int],
    *,
    params: ForYouParams = DEFAULT_PARAMS,
    boosts: np.ndarray | None = None,
    sims: np.ndarray | None = None,
) -> np.ndarray:
    """paperboy's scores for `candidates` (rows) given a library (rows); `boosts` (0..1 per
    candidate) marks followed authors and keywords; `sims` may be given precomputed."""
    near = nearest_similarity(
        similarities(features, library, candidates) if sims is None else sims, params.nearest
    )
    score = near + params.vote_weight * vote_prior(features.votes[list(candidates)])
    if boosts is not None:
        score = score + params.boost_weight * boosts
    return np.asarray(score, dtype=np.float32)


def svm_scores(
    features: Features,
    library: Sequence[int],
    candidates: Sequence[int],
    *,
    c: float = 0.01,
    negatives: int = SVM_NEGATIVES,
) -> np.ndarray:
    """arxiv-sanity-lite's scores: LinearSVC(class_weight=balanced, C) decision values.

    Trained on the saved papers and the newest `negatives` archive papers up to the newest
    candidate (the candidates included, as arxiv-sanity trains on everything it ranks).
    """
    last = max(candidates)
    pool = list(range(max(0, last + 1 - negatives), last + 1))
    rows = sorted(set(pool) | set(library) | set(candidates))
    saved = set(library)
    labels = np.array([1 if row in saved else 0 for row in rows])
    if labels.min() == labels.max():
        return np.zeros(len(candidates), dtype=np.float32)
    model = LinearSVC(class_weight="balanced", C=c, max_iter=10_000, tol=1e-6)
    model.fit(features.matrix[rows], labels)
    return np.asarray(model.decision_function(features.matrix[list(candidates)]), np.float32)


def votes_scores(features: Features, candidates: Sequence[int]) -> np.ndarray:
    """The votes-only ranking (what the digest does today)."""
    return np.asarray(features.votes[list(candidates)], dtype=np.float32)


def top(ids: Sequence[str], scores: np.ndarray, limit: int) -> list[tuple[str, float]]:
    """The `limit` best (id, score), best first; ties keep the given order."""
    order = np.argsort(-scores, kind="stable")[: max(limit, 0)]
    return [(ids[i], float(scores[i])) for i in order]
