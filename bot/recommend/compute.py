"""Features of the archive's papers, computed once per archive change (arxiv-sanity's compute).

A paper's document is the search index's analysed tokens (storage.search_index: title, Korean
summary, abstract, the HF one-liner and keywords, Korean as Hangul bigrams), so Korean and
English both count and nothing is analysed twice. Rows are L2-normalised tf-idf (sublinear tf),
title tokens counted twice, authors as their own `@` features.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy.ext.asyncio import AsyncSession

from storage.saved import ArchiveVersion, PaperDocument, archive_version, paper_documents

MIN_DF = 2  # a token in one paper only never links two papers
MAX_DF = 0.5  # a token in half the archive says nothing about a reader
# Papers the features cover, newest first: a digest's papers and what readers save from digests
# are recent, and the whole of a 100k archive cost ~60 s and >1 GB per fit (measured with
# bench.foryou), for a bot meant to idle under 150 MB. Older saved papers do not count.
FEATURE_WINDOW = 5_000


def document_tokens(doc: PaperDocument) -> list[str]:
    """A paper's feature tokens: title twice, body, authors prefixed with `@`."""
    title = doc.title_tokens.split()
    authors = ["@" + token for token in doc.author_tokens.split()]
    return [*title, *title, *doc.body_tokens.split(), *authors]


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

    def rows_of(self, arxiv_ids: Iterable[str]) -> list[int]:
        """The matrix rows of those ids that are in the archive, in order."""
        return [self.rows[i] for i in arxiv_ids if i in self.rows]


def build_features(docs: Sequence[PaperDocument]) -> Features:
    """Fit tf-idf on the archive's documents (an archive under `MIN_DF` papers keeps all)."""
    min_df = MIN_DF if len(docs) >= 20 else 1
    vectorizer = TfidfVectorizer(
        analyzer=_identity,
        min_df=min_df,
        max_df=MAX_DF if len(docs) >= 20 else 1.0,
        sublinear_tf=True,
        dtype=np.float32,
    )
    # A generator: one paper's token list at a time (all of a 100k archive's at once: ~4 GB).
    tokens = (document_tokens(doc) for doc in docs) if docs else iter([["empty"]])
    matrix = sparse.csr_matrix(vectorizer.fit_transform(tokens), dtype=np.float32)
    ids = [doc.arxiv_id for doc in docs]
    return Features(
        ids=ids,
        rows={arxiv_id: row for row, arxiv_id in enumerate(ids)},
        matrix=matrix,
        votes=np.array([doc.votes or 0 for doc in docs], dtype=np.float32),
        days=[doc.day for doc in docs],
        vectorizer=vectorizer,
    )


@dataclass(slots=True)
class FeatureCache:
    """The features of the archive as last seen; rebuilt when the archive changed."""

    version: ArchiveVersion | None = None
    features: Features | None = None
    builds: int = field(default=0)
    window: int | None = FEATURE_WINDOW  # None: the whole archive (offline evaluation)

    async def get(self, session: AsyncSession) -> Features:
        """The current archive's features (one cheap version query when nothing changed)."""
        version = await archive_version(session)
        if self.features is None or version != self.version:
            # A thread: a big archive's fit takes a while and the bot keeps answering meanwhile.
            docs = await paper_documents(session, newest=self.window)
            self.features = await asyncio.to_thread(build_features, docs)
            self.version = version
            self.builds += 1
        return self.features
