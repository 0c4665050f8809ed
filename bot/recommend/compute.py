"""Features of the archive's papers, computed once per archive change (arxiv-sanity's compute).

A paper's document is the search index's analysed tokens (storage.search_index: title, Korean
summary, abstract, the HF one-liner and keywords, Korean as Hangul bigrams), so Korean and
English both count and nothing is analysed twice. Rows are L2-normalised tf-idf, authors as their
own `@` features. Measured on the offline evaluation's dev readers (bench.recommend_eval), for
both rankers (the served one and the SVM baseline), against the first version (sublinear tf, title
twice, Hangul at full weight):
- raw term counts, not sublinear: a term a paper repeats is what the paper is about;
- the title three times: the title is the paper's topic in a dozen words;
- Hangul bigram features at half weight: the Korean summary says what the abstract says, analysed
  as overlapping two-syllable pieces (also across word ends), so it is most of a document's
  tokens (a median 93% of the body in the corpus) and drowned the English terms and the title;
  at half weight it still links papers that have only a Korean summary.
(The evaluation's topics are title patterns, which favours the title; three times, not more, is
deliberate.)
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from sqlalchemy.ext.asyncio import AsyncSession

from storage.saved import ArchiveVersion, PaperDocument, archive_version, paper_documents

MIN_DF = 2  # a token in one paper only never links two papers
MAX_DF = 0.5  # a token in half the archive says nothing about a reader
TITLE_REPEATS = 3  # a title token counts like three body tokens
KOREAN_WEIGHT = 0.5  # a Hangul (bigram) feature's weight against an English term's
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Papers the features cover, newest first: a digest's papers and what readers save from digests
# are recent, and the whole of a 100k archive cost ~60 s and >1 GB per fit (measured with
# bench.foryou), for a bot meant to idle under 150 MB. Older saved papers do not count.
FEATURE_WINDOW = 5_000
# What the saves of a library agree on is read off each paper's strongest terms
# (bot.recommend.serve.agreement_scores): on the evaluation's dev readers as good as every term
# (focused 0.974 both, cold start 0.733 against 0.726, at g 0.8, broad 4; 32 terms: 0.974 /
# 0.740, 128: 0.974 / 0.730), at a quarter of the cost (a pass's picks for 10,000 chats with
# 20 saves each: 0.44 s instead of 1.66 s with the libraries' scales known, 1.07 s vs 5.0 s not).
STRONGEST = 64


def document_tokens(doc: PaperDocument) -> list[str]:
    """A paper's feature tokens: the title `TITLE_REPEATS` times, body, authors prefixed `@`."""
    title = doc.title_tokens.split()
    authors = ["@" + token for token in doc.author_tokens.split()]
    return [*(title * TITLE_REPEATS), *doc.body_tokens.split(), *authors]


def feature_weights(vocabulary: Sequence[str]) -> np.ndarray:
    """Each feature's weight: `KOREAN_WEIGHT` for Hangul features, 1 for the rest."""
    return np.array(
        [KOREAN_WEIGHT if _HANGUL.search(token) else 1.0 for token in vocabulary],
        dtype=np.float32,
    )


def _identity(tokens: list[str]) -> list[str]:
    """The analyser of pre-tokenised documents."""
    return tokens


@dataclass(frozen=True, slots=True)
class Features:
    """The archive's papers as L2-normalised tf-idf rows, with votes and days."""

    ids: list[str]
    rows: dict[str, int]
    matrix: sparse.csr_matrix
    votes: np.ndarray
    days: list[dt.date]
    vectorizer: TfidfVectorizer
    strongest: sparse.csr_matrix  # `matrix` with each row's `STRONGEST` largest values only
    # Per library (its rows' bytes): `serve.library_state` (its scale and kernels), which
    # depends on the library and these features only, kept for the passes until the archive
    # changes (a library of 20 saves: 1.6 kB).
    libraries: dict[bytes, tuple[float, np.ndarray]] = field(default_factory=dict)

    def rows_of(self, arxiv_ids: Iterable[str]) -> list[int]:
        """The matrix rows of those ids that are in the archive, in order."""
        return [self.rows[i] for i in arxiv_ids if i in self.rows]


def build_features(docs: Sequence[PaperDocument]) -> Features:
    """Fit tf-idf on the archive's documents (an archive under 20 papers keeps every token),
    weigh the features (`feature_weights`), L2-normalise the rows."""
    min_df = MIN_DF if len(docs) >= 20 else 1
    vectorizer = TfidfVectorizer(
        analyzer=_identity,
        min_df=min_df,
        max_df=MAX_DF if len(docs) >= 20 else 1.0,
        norm=None,  # after the feature weights
        dtype=np.float32,
    )
    # A generator: one paper's token list at a time (all of a 100k archive's at once: ~4 GB).
    tokens = (document_tokens(doc) for doc in docs) if docs else iter([["empty"]])
    counts = sparse.csr_matrix(vectorizer.fit_transform(tokens), dtype=np.float32)
    weighted = counts @ sparse.diags(feature_weights(vectorizer.get_feature_names_out()))
    matrix = sparse.csr_matrix(normalize(weighted, norm="l2", copy=False), dtype=np.float32)
    ids = [doc.arxiv_id for doc in docs]
    return Features(
        strongest=strongest_terms(matrix, STRONGEST),
        ids=ids,
        rows={arxiv_id: row for row, arxiv_id in enumerate(ids)},
        matrix=matrix,
        votes=np.array([doc.votes or 0 for doc in docs], dtype=np.float32),
        days=[doc.day for doc in docs],
        vectorizer=vectorizer,
    )


def strongest_terms(matrix: sparse.csr_matrix, count: int) -> sparse.csr_matrix:
    """`matrix` with only each row's `count` largest values (of values tied at the cut, the
    first stored)."""
    keep = np.ones(matrix.nnz, dtype=bool)
    lengths = np.diff(matrix.indptr)
    for row in np.flatnonzero(lengths > count):  # a partition per long row: no global sort
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        values = matrix.data[start:end]
        cut = np.partition(values, values.size - count)[values.size - count]
        kept = values > cut
        tied = np.flatnonzero(values == cut)[: count - int(kept.sum())]
        kept[tied] = True
        keep[start:end] = kept
    rows = np.repeat(np.arange(matrix.shape[0]), lengths)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows[keep], minlength=matrix.shape[0]))])
    return sparse.csr_matrix(
        (matrix.data[keep], matrix.indices[keep], indptr), shape=matrix.shape, dtype=np.float32
    )


@dataclass(slots=True)
class FeatureCache:
    """The features of the archive as last seen; rebuilt when the archive changed."""

    version: ArchiveVersion | None = None
    features: Features | None = None
    builds: int = field(default=0)
    window: int | None = FEATURE_WINDOW  # None: the whole archive (offline evaluation)

    building: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def get(self, session: AsyncSession) -> Features:
        """The current archive's features (one cheap version query when nothing changed).

        One build at a time: a dispatch pass asking while the warm-up after a poll builds
        (bot.clock) waits for that build instead of starting its own."""
        async with self.building:
            version = await archive_version(session)
            if self.features is None or version != self.version:
                # A thread: a big archive's fit takes a while; the bot keeps answering.
                docs = await paper_documents(session, newest=self.window)
                self.features = await asyncio.to_thread(build_features, docs)
                self.version = version
                self.builds += 1
            return self.features
