"""A dispatch pass's "✨ For you" picks: the archive's features once per pass, each day's papers
as feature rows once per pass, the similarities of a batch of chats' libraries to a day in one
sparse product, then per chat only small dense arithmetic (no fit, no SQL).

The score is `serve.foryou_scores` (the mean of the nearest saved papers' cosines), the ranker
/foryou and `paperboy recommend` serve; picks below `MIN_SCORE` are left out (a day with nothing
near a reader's library shows no section rather than three arbitrary papers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from bot.digest.models import Paper
from bot.recommend import MIN_SAVED
from bot.recommend.compute import Features
from bot.recommend.serve import DEFAULT_PARAMS, nearest_similarity

PICKS = 3  # K: papers in a digest's "for you" section
MIN_SCORE = 0.05  # below this mean cosine a paper is not "near" anything the reader saved


@dataclass(frozen=True, slots=True)
class _DayRows:
    """A day's papers that have features: their matrix rows, and each id's column."""

    columns: dict[str, int]
    matrix_t: sparse.csr_matrix  # the day's rows transposed (vocabulary × papers)


class PassPicks:
    """The "for you" state of one dispatch pass (features given, built at most once per pass)."""

    def __init__(self, features: Features, *, limit: int = PICKS) -> None:
        self.features, self.limit = features, limit
        self._days: dict[dt.date, _DayRows] = {}
        self._position: dict[int, int] = {}
        self._library: sparse.csr_matrix = features.matrix[[]]
        self._cosines: dict[dt.date, np.ndarray] = {}

    def _day(self, date: dt.date, papers: Sequence[Paper]) -> _DayRows:
        """The day's papers as feature rows (built once per pass)."""
        if date not in self._days:
            ids = [i for i in dict.fromkeys(p.arxiv_id for p in papers) if i in self.features.rows]
            rows = self.features.rows_of(ids)
            matrix_t = self.features.matrix[rows].T.tocsr()
            self._days[date] = _DayRows({i: n for n, i in enumerate(ids)}, matrix_t)
        return self._days[date]

    def start_batch(self, libraries: Mapping[int, Sequence[str]]) -> None:
        """A new batch of chats: their library papers, each once, as feature rows."""
        rows = sorted({row for ids in libraries.values() for row in self.features.rows_of(ids)})
        self._position = {row: n for n, row in enumerate(rows)}
        self._library = self.features.matrix[rows]
        self._cosines = {}

    def _day_cosines(self, date: dt.date, papers: Sequence[Paper]) -> np.ndarray:
        """The batch's library papers' cosines to the day's papers (one sparse product)."""
        if date not in self._cosines:
            product = self._library @ self._day(date, papers).matrix_t
            self._cosines[date] = np.asarray(product.toarray(), dtype=np.float32)
        return self._cosines[date]

    def picker(
        self, date: dt.date, papers: Sequence[Paper], library: Sequence[str]
    ) -> Callable[[Sequence[Paper]], list[Paper]] | None:
        """A batch chat's picker for a day (None when under `MIN_SAVED` of its saved papers are
        in the archive): the best `limit` of the candidates it is given, saved ones left out."""
        rows = self.features.rows_of(library)
        if len(rows) < MIN_SAVED:
            return None
        positions = [self._position[row] for row in rows]
        cosines, columns = self._day_cosines(date, papers), self._day(date, papers).columns
        saved = set(library)

        def pick(candidates: Sequence[Paper]) -> list[Paper]:
            """The candidates nearest the library, best first."""
            unique = {p.arxiv_id: p for p in candidates if p.arxiv_id not in saved}
            known = [(columns[i], p) for i, p in unique.items() if i in columns]
            if not known:
                return []
            sims = cosines[np.ix_(positions, [column for column, _ in known])].T
            scores = nearest_similarity(sims, DEFAULT_PARAMS.nearest)
            order = np.argsort(-scores, kind="stable")[: self.limit]
            return [known[i][1] for i in order if scores[i] >= MIN_SCORE]

        return pick
