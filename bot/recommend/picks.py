"""A dispatch pass's "✨ For you" picks: the archive's features once per pass, each day's papers
as feature columns once per pass, the cosines of feature rows to a day's papers computed for the
rows a batch needs (each row once per pass), every batch chat's score for every paper of the day
in a few array operations, then per chat only its candidates' scores sorted (no fit, no SQL).

The score is `library_scores` below (serve's `score_from_cosines`, the ranker /foryou and
`paperboy recommend` serve, with each paper's genericness computed once per day and each batch's
agreement with the day's papers in a few array operations over the day's vocabulary, from each
library's kernels and scale, kept with the features until the archive changes); picks below
`MIN_SCORE` are left out (a day with nothing nearer a reader's library than the recent archive
shows no section rather than three arbitrary papers).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from scipy import sparse

from bot.digest.models import Paper
from bot.recommend import MIN_SAVED
from bot.recommend.compute import Features
from bot.recommend.serve import (
    DEFAULT_PARAMS,
    agreement_scores,
    genericness,
    library_state,
    score_from_cosines,
)

PICKS = 3  # K: papers in a digest's "for you" section
# Scores are cosines to the saves less 0.8 × the cosine to the recent archive (bot.recommend.serve):
# below 0 a paper is no nearer the reader's saves than to any recent paper.
MIN_SCORE = 0.0
SCORE_CHUNK = 1 << 20  # cosines handed to the scorer at a time (4 MB; a batch's can be 20 MB)
DENSE_CHUNK = 1 << 20  # values of a day's papers made dense at a time (4 MB)

Picker = Callable[[Sequence[Paper]], list[Paper]]


# The scorer: the one place the picks call the served ranker (bot.recommend.serve); swap it here.
# It must be row-wise (a candidate's score depends on its own row only): a batch scores every
# paper of the day for many chats in one call, and each chat then keeps its candidates' scores.
def library_scores(
    similarities: np.ndarray, generic: np.ndarray, agreement: np.ndarray
) -> np.ndarray:
    """Per candidate (row): its score from its cosines to a library's saved papers (columns),
    its genericness (one per row, `serve.genericness`) and its agreement with the library (one
    per row, `serve.agreement_scores`)."""
    return score_from_cosines(similarities, generic, agreement=agreement)


class _Day:
    """A day's papers that have features (each id's column), and the cosines of feature rows to
    them, filled in row by row as batches need them."""

    def __init__(self, features: Features, papers: Sequence[Paper]) -> None:
        ids = [i for i in dict.fromkeys(p.arxiv_id for p in papers) if i in features.rows]
        self.columns = {arxiv_id: n for n, arxiv_id in enumerate(ids)}
        self.rows = np.array(features.rows_of(ids), dtype=np.intp)  # each column's feature row
        self.generic = genericness(features, self.rows.tolist())  # one per column, every reader
        self._matrix = features.matrix
        self._strongest = features.strongest
        self._papers: sparse.csr_matrix = features.matrix[self.rows]
        rows = features.matrix.shape[0]
        self._cosines = np.zeros((rows, len(ids)), dtype=np.float32)  # pages touched when filled
        self._done = np.zeros(rows, dtype=bool)
        self._vocabulary: tuple[sparse.csr_matrix, np.ndarray] | None = None

    def agreement(
        self, libraries: np.ndarray, scales: np.ndarray, kernels: np.ndarray
    ) -> np.ndarray:
        """Libraries (chats × size feature rows) × the day's papers: `serve.agreement_scores`
        over the day's vocabulary (the rest adds nothing to a day paper's dot product)."""
        if self._vocabulary is None:
            papers = self._strongest[self.rows]
            columns = np.unique(papers.indices)
            self._vocabulary = (
                sparse.csr_matrix(self._strongest[:, columns]),
                np.asarray(papers[:, columns].toarray(), dtype=np.float32),
            )
        restricted, papers = self._vocabulary
        rows = restricted[libraries.ravel()]
        return agreement_scores(rows, libraries.shape[1], papers, scales, kernels)

    def cosines(self, rows: np.ndarray) -> np.ndarray:
        """Feature rows × the day's papers, with at least `rows` filled in.

        Sparse rows times the day's papers as dense columns: a row's cosines are the same sums
        in the same order as a sparse product's (and do not depend on the rows beside it), at a
        tenth of its cost; the dense columns go `DENSE_CHUNK` values at a time."""
        missing = np.unique(rows[~self._done[rows]])
        if missing.size:
            library = self._matrix[missing]
            step = max(1, DENSE_CHUNK // max(1, self._matrix.shape[1]))
            for start in range(0, self._papers.shape[0], step):
                columns = self._papers[start : start + step].toarray().T  # vocabulary × papers
                self._cosines[missing, start : start + step] = library @ columns
            self._done[missing] = True
        return self._cosines


def _libraries(features: Features, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`serve.library_state` of each library (chats × size feature rows): its scale and its
    kernels, computed for the libraries these features have not seen (on a pass after the
    archive changed), then kept."""
    known = features.libraries
    keys = [library.tobytes() for library in rows]
    fresh = {key: library for key, library in zip(keys, rows, strict=True) if key not in known}
    if fresh:
        libraries = np.stack(list(fresh.values()))
        saved = features.strongest[libraries.ravel()]
        scales, kernels = library_state(saved, rows.shape[1], DEFAULT_PARAMS.agreement)
        known.update(zip(fresh, zip(scales.tolist(), kernels, strict=True), strict=True))
    scales = np.array([known[key][0] for key in keys], dtype=np.float32)
    return scales, np.stack([known[key][1] for key in keys])


WARM_CHUNK = 1000  # libraries of one size whose kernels are computed together when warming


def warm_libraries(features: Features, libraries: Sequence[Sequence[str]]) -> int:
    """Compute and keep the kernels and scales (`_libraries`) of these libraries (saved ids,
    newest first, as `PassPicks.start_batch` takes them) that the features have not seen:
    the warm-up after a poll does it, so the day's first pass only looks them up. Returns how
    many libraries were served (at least `MIN_SAVED` papers the features know)."""
    by_size: dict[int, list[np.ndarray]] = defaultdict(list)
    for ids in libraries:
        rows = library_rows(features, ids)
        if rows is not None:
            by_size[rows.size].append(rows)
    for group in by_size.values():
        for start in range(0, len(group), WARM_CHUNK):
            _libraries(features, np.stack(group[start : start + WARM_CHUNK]))
    return sum(len(group) for group in by_size.values())


def library_rows(features: Features, ids: Sequence[str]) -> np.ndarray | None:
    """A library's feature rows (saved ids, newest first), or None when the features know
    fewer than `MIN_SAVED` of its papers (no picks)."""
    rows = features.rows_of(ids)
    return np.array(rows, dtype=np.intp) if len(rows) >= MIN_SAVED else None


def _score_chats(
    day: _Day, rows: np.ndarray, scales: np.ndarray, kernels: np.ndarray
) -> np.ndarray:
    """Chats × the day's papers: each chat's scores, given its library's rows (chats × size);
    the papers a chat saved score -inf (never picked).

    Each chat's cosines are laid out as a single chat's `cosines[library][:, day].T` is
    (papers as rows, library as columns, column-major), so the scorer sees the same layout."""
    chats, size = rows.shape
    cosines = day.cosines(rows.ravel())
    papers = cosines.shape[1]
    sims = cosines[rows.T].reshape(size, chats * papers).T  # (chat, paper) rows × library
    agreement = day.agreement(rows, scales, kernels).ravel()  # (chat, paper) rows, as `sims`
    scores = library_scores(sims, np.tile(day.generic, chats), agreement).reshape(chats, papers)
    saved = (rows[:, :, np.newaxis] == day.rows).any(axis=1)
    return np.where(saved, -np.inf, scores)  # in the scorer's precision


class PassPicks:
    """The "for you" state of one dispatch pass (features given, built at most once per pass)."""

    def __init__(self, features: Features, *, limit: int = PICKS) -> None:
        self.features, self.limit = features, limit
        self._days: dict[dt.date, _Day] = {}
        self._libraries: dict[int, np.ndarray] = {}  # a batch chat's library as feature rows
        self._scores: dict[dt.date, dict[int, np.ndarray]] = {}

    def _day(self, date: dt.date, papers: Sequence[Paper]) -> _Day:
        """The day's papers as feature columns (once per pass)."""
        if date not in self._days:
            self._days[date] = _Day(self.features, papers)
        return self._days[date]

    def start_batch(self, libraries: Mapping[int, Sequence[str]]) -> None:
        """A new batch of chats, each id with its library (saved ids, newest first); a chat with
        under `MIN_SAVED` papers the features know gets no picks."""
        self._libraries, self._scores = {}, {}
        for chat_id, ids in libraries.items():
            rows = library_rows(self.features, ids)
            if rows is not None:
                self._libraries[chat_id] = rows

    def _batch_scores(self, date: dt.date, papers: Sequence[Paper]) -> dict[int, np.ndarray]:
        """Every batch chat's score for each of the day's papers (columns), computed at once."""
        if date not in self._scores:
            self._scores[date] = self._score_batch(self._day(date, papers))
        return self._scores[date]

    def _score_batch(self, day: _Day) -> dict[int, np.ndarray]:
        """The batch's scores for a day: chats with libraries of one size share scorer calls."""
        if not day.columns:  # none of the day's papers has features: nothing to score
            return dict.fromkeys(self._libraries, np.zeros(0, np.float32))
        by_size: dict[int, list[int]] = defaultdict(list)
        for chat_id, library in self._libraries.items():
            by_size[len(library)].append(chat_id)
        scores: dict[int, np.ndarray] = {}
        for size, chats in by_size.items():
            step = max(1, SCORE_CHUNK // (size * len(day.columns)))
            for start in range(0, len(chats), step):
                part = chats[start : start + step]
                rows = np.stack([self._libraries[chat_id] for chat_id in part])
                scales, kernels = _libraries(self.features, rows)
                scored = _score_chats(day, rows, scales, kernels)
                scores.update(zip(part, scored, strict=True))
        return scores

    def picker(self, chat_id: int, date: dt.date, papers: Sequence[Paper]) -> Picker | None:
        """A batch chat's picker for a day (None when it gets no picks): the best `limit` of
        the candidates it is given, saved ones left out."""
        if chat_id not in self._libraries:
            return None
        columns = self._day(date, papers).columns
        scores = self._batch_scores(date, papers)[chat_id]
        limit = self.limit

        def pick(candidates: Sequence[Paper]) -> list[Paper]:
            """The candidates nearest the library, best first (saved ones score -inf)."""
            unique = {p.arxiv_id: p for p in candidates}
            known = [paper for arxiv_id, paper in unique.items() if arxiv_id in columns]
            if not known:
                return []
            chosen = scores[[columns[paper.arxiv_id] for paper in known]]
            order = np.argsort(-chosen, kind="stable")[:limit]
            return [known[i] for i in order if chosen[i] >= MIN_SCORE]

        return pick
