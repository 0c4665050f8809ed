"""The served "for you" ranker (bot.recommend.serve) and the features under it (compute)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import sparse

from bot.recommend import serve
from bot.recommend.compute import (
    KOREAN_WEIGHT,
    STRONGEST,
    build_features,
    feature_weights,
    strongest_terms,
)
from bot.recommend.serve import (
    DEFAULT_PARAMS,
    ForYouParams,
    agreement_scores,
    foryou_scores,
    genericness,
    library_state,
    reader_agreement,
    score_from_cosines,
    similarities,
)
from storage.saved import PaperDocument

DAY = dt.date(2025, 1, 24)


def _doc(n: int, title: str, body: str = "", *, day: dt.date = DAY) -> PaperDocument:
    """A document with analysed tokens as the search index holds them."""
    return PaperDocument(f"2501.{n:05d}", title, body, f"a{n}", n, day)


def test_a_paper_near_every_save_beats_one_very_near_a_few() -> None:
    """A one-topic library: broad support wins where the plain mean of cosines does not."""
    everywhere = np.full(8, 0.3, dtype=np.float32)
    few = np.array([0.95, 0.95, 0.95, 0.05, 0.05, 0.05, 0.05, 0.05], dtype=np.float32)
    cosines = np.stack([everywhere, few])
    assert cosines.mean(axis=1).argmax() == 1  # Rocchio (the SVM) picks the few-match paper
    scores = score_from_cosines(cosines, np.zeros(2, dtype=np.float32))
    assert scores[0] > scores[1]


def test_a_paper_some_saves_agree_on_beats_one_stray_match() -> None:
    """Cold start (three small interests, stray saves): two or three saves agreeing count,
    one save alone does not."""
    interest = np.array([0.5, 0.5, 0.5, *[0.02] * 8], dtype=np.float32)
    stray = np.array([0.9, *[0.02] * 10], dtype=np.float32)
    lukewarm = np.full(11, 0.07, dtype=np.float32)
    cosines = np.stack([interest, stray, lukewarm])
    scores = score_from_cosines(cosines, np.full(3, 0.05, dtype=np.float32))
    assert scores.argmax() == 0
    assert scores[1] < scores[0]
    assert scores[2] < scores[0]


def test_generic_papers_are_held_back() -> None:
    """The same cosines score lower for a paper close to the whole archive."""
    cosines = np.tile(np.array([0.4, 0.3, 0.2, 0.1], dtype=np.float32), (2, 1))
    scores = score_from_cosines(cosines, np.array([0.0, 0.2], dtype=np.float32))
    assert scores[0] > scores[1]


def test_scores_are_row_wise() -> None:
    """A row's score depends on its row only: many readers' rows can go in one call."""
    rng = np.random.default_rng(3)
    cosines = rng.random((30, 7), dtype=np.float32)
    generic = rng.random(30, dtype=np.float32) / 10
    together = score_from_cosines(cosines, generic)
    alone = [score_from_cosines(cosines[i : i + 1], generic[i : i + 1])[0] for i in range(30)]
    assert together == pytest.approx(np.array(alone), abs=1e-6)


@pytest.mark.parametrize("size", [1, 2, 3, 20])
def test_any_library_size(size: int) -> None:
    """Libraries of any size (one saved paper included) give finite scores; none is empty."""
    cosines = np.random.default_rng(size).random((5, size), dtype=np.float32)
    scores = score_from_cosines(cosines, np.zeros(5, dtype=np.float32))
    assert scores.shape == (5,)
    assert np.isfinite(scores).all()
    empty = score_from_cosines(np.zeros((5, 0), dtype=np.float32), np.zeros(5, np.float32))
    assert (empty == 0).all()


def _archive() -> list[PaperDocument]:
    """Video papers, speech papers and papers about language models (the common kind)."""
    docs = [_doc(n, f"video generation model {n}", "video diffusion frames") for n in range(10)]
    docs += [_doc(10 + n, f"speech recognition {n}", "audio speech asr") for n in range(10)]
    docs += [_doc(20 + n, f"language model {n}", "language model llm") for n in range(20)]
    return docs


def test_foryou_scores_rank_the_library_topic_first() -> None:
    """foryou_scores = score_from_cosines of the cosines, the day's genericness and the
    library's agreement with each candidate."""
    features = build_features(_archive())
    library, candidates = [0, 1, 2, 3], [5, 15, 25, 35]
    scores = foryou_scores(features, library, candidates)
    assert int(np.argmax(scores)) == 0  # the video paper
    agreement = reader_agreement(features, library, candidates)
    expected = score_from_cosines(
        similarities(features, library, candidates),
        genericness(features, candidates),
        agreement=agreement,
    )
    assert scores == pytest.approx(expected)
    assert foryou_scores(features, [], candidates).tolist() == [0.0] * 4


def test_genericness_is_the_recent_archive_and_never_later_papers() -> None:
    """A language-model paper (the archive's common kind) is more generic than a speech paper;
    papers after the newest given row do not count, nor a paper's cosine to itself."""
    features = build_features(_archive())
    speech, common = genericness(features, [15, 35])
    assert common > speech > 0
    others = np.asarray(features.matrix[:5].mean(axis=0)).ravel()  # rows 0-4: not itself
    expected = features.matrix[5] @ others
    assert genericness(features, [5])[0] == pytest.approx(float(expected[0]))
    assert genericness(features, [5], window=1)[0] == 0.0  # itself only: nothing to be like
    cosine = (features.matrix @ features.matrix.T).toarray()
    older, inside = genericness(features, [3, 5], window=2)  # the window: rows 4 and 5
    assert older == pytest.approx((cosine[3, 4] + cosine[3, 5]) / 2)
    assert inside == pytest.approx(cosine[5, 4])
    assert genericness(features, []).shape == (0,)


def test_korean_features_weigh_half() -> None:
    """Hangul (bigram) features count at KOREAN_WEIGHT, every other feature at 1; two papers
    sharing only a Korean word are less alike than two sharing only an English one."""
    assert feature_weights(["video", "비디", "@kim", "llm"]).tolist() == [
        1.0,
        KOREAN_WEIGHT,
        1.0,
        1.0,
    ]
    filler = [_doc(100 + n, f"filler {n} paper", "other words here") for n in range(20)]
    docs = [
        _doc(0, "alpha beta", "비디 디오"),
        _doc(1, "gamma delta", "비디 디오"),
        _doc(2, "alpha epsilon", "video clip"),
        _doc(3, "zeta eta", "video clip"),
        *filler,
    ]
    features = build_features(docs)
    cosines = similarities(features, [0, 2], [1, 3])
    assert cosines[0, 0] < cosines[1, 1]  # Korean pair < English pair
    assert DEFAULT_PARAMS.broad_weight > DEFAULT_PARAMS.narrow_weight > 0


def _kernels(rows: np.ndarray) -> np.ndarray:
    """The reference kernel of one library: each save's cosines to the others, none to
    itself, each row scaled to sum 1 (a row of zeros stays zeros)."""
    cosines = rows @ rows.T
    np.fill_diagonal(cosines, 0.0)
    total = cosines.sum(axis=1, keepdims=True)
    kernels: np.ndarray = np.divide(cosines, total, out=np.zeros_like(cosines), where=total > 0)
    return kernels


def test_a_library_profile_weighs_what_its_saves_agree_on() -> None:
    """A candidate holding the term every save holds scores, one holding only a term of one
    save (and filler) does not: a term no other save holds counts nothing; at power 0 the
    scores are the mean cosines (Rocchio); the profile is rescaled to the mean row's length."""
    docs = [_doc(n, f"shared topic{n}", f"noise{n} other") for n in range(4)]
    docs += [_doc(4, "shared filler0", "more words"), _doc(5, "topic0 filler1", "more words")]
    docs += [_doc(10 + n, f"filler{n} topic{n % 4}", "more filler") for n in range(20)]
    features = build_features(docs)
    library, candidates = [0, 1, 2, 3], [4, 5]
    cosines = similarities(features, library, candidates)
    rocchio = reader_agreement(features, library, candidates, ForYouParams(agreement=0.0))
    assert rocchio == pytest.approx(cosines.mean(axis=1), abs=1e-6)
    agreed = reader_agreement(features, library, candidates)
    assert agreed[0] > 0 == agreed[1]
    saved = features.matrix[library]
    dense = saved.toarray().astype(np.float64)
    mean = np.linalg.norm(dense.mean(axis=0))
    profile = (dense * (_kernels(dense) @ (dense > 0))).mean(axis=0)
    scales, kernels = library_state(saved, 4, 1.0)
    assert kernels[0] == pytest.approx(_kernels(dense), abs=1e-6)
    assert np.linalg.norm(profile) * scales[0] == pytest.approx(mean, rel=1e-5)


def test_each_interest_agrees_on_its_own_terms_and_a_stray_save_adds_nothing() -> None:
    """A library of two small interests and a stray save: each save hears its own interest's
    saves only, the stray save no one; a paper on either interest gets the profile's full
    weight of its terms (not the share of the whole library holding them), one on the stray
    save's subject nothing."""
    docs = [_doc(n, "alpha topic", "alphaword") for n in range(3)]
    docs += [_doc(3 + n, "beta subject", "betaword") for n in range(3)]
    docs += [_doc(6, "gamma stray", "gammaword")]
    docs += [_doc(7, "alpha topic", "alphaword"), _doc(8, "beta subject", "betaword")]
    docs += [_doc(9, "gamma stray", "gammaword")]
    docs += [_doc(20 + n, f"filler{n} paper", "more filler") for n in range(20)]
    features = build_features(docs)
    library = list(range(7))
    scales, kernels = library_state(features.strongest[library], 7, 1.0)
    alpha, beta, stray = kernels[0, 0], kernels[0, 3], kernels[0, 6]
    assert alpha[[1, 2]].sum() == pytest.approx(1.0)
    assert alpha[0] == 0
    assert beta[[4, 5]].sum() == pytest.approx(1.0)
    assert stray.sum() == 0
    assert kernels[0, :, 6].sum() == 0
    agreed = reader_agreement(features, library, [7, 8, 9])
    assert agreed[0] > 0
    assert agreed[1] > 0
    assert agreed[2] == 0
    rocchio = reader_agreement(features, library, [7, 8, 9], ForYouParams(agreement=0.0))
    assert rocchio[2] > 0  # the mean of the saves holds the stray save's terms


def test_a_library_agreeing_on_nothing_has_no_profile() -> None:
    """One save, or saves sharing no feature: every kernel and scale is 0 and so is the
    agreement (the cosine supports still rank the day)."""
    features = build_features(_archive())
    for library in ([0], [0, 11]):
        scales, kernels = library_state(features.strongest[library], len(library), 1.0)
        assert scales.tolist() == [0.0]
        assert (kernels == 0).all()
        assert reader_agreement(features, library, [5, 15]).tolist() == [0.0, 0.0]
    assert foryou_scores(features, [0], [5, 15]).argmax() == 0  # the video paper


@pytest.mark.parametrize("pairs", [None, 2])
def test_agreement_of_many_libraries_is_each_library_alone(
    monkeypatch: pytest.MonkeyPatch, pairs: int | None
) -> None:
    """Libraries of one size scored together get each library's own scores (the dispatch
    pass's batches), over any columns holding the candidates' features, with the pairs of
    saves handled all at once (each library alone) or a few at a time (the batch)."""
    features = build_features(_archive())
    libraries = np.array([[0, 1, 2], [10, 11, 25], [20, 21, 22]])
    candidates = [5, 15, 35]
    rows = features.strongest[libraries.ravel()]
    with monkeypatch.context() as patch:
        if pairs is not None:
            patch.setattr(serve, "PAIRS", pairs)
        scales, kernels = library_state(rows, 3, DEFAULT_PARAMS.agreement)
        dense = features.strongest[candidates].toarray()
        together = agreement_scores(rows, 3, dense, scales, kernels)
    for n, library in enumerate(libraries):
        alone_scales, alone_kernels = library_state(features.strongest[library], 3, 1.0)
        assert scales[n] == pytest.approx(alone_scales[0])
        assert kernels[n] == pytest.approx(alone_kernels[0])
    for n, library in enumerate(libraries):
        alone = reader_agreement(features, library.tolist(), candidates)
        assert together[n] == pytest.approx(alone, abs=1e-6)
    assert int(np.argmax(together[0])) == 0  # the video library: the video paper
    assert int(np.argmax(together[1])) == 1  # speech, mostly


def test_strongest_terms_keep_each_rows_largest_values() -> None:
    """Each row keeps its `count` largest values, in place (of tied values at the cut, the first
    stored); shorter rows and empty ones stay."""
    dense = np.array(
        [[0.1, 0.5, 0.0, 0.3, 0.2], [0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.9, 0.0, 0.0, 0.4]],
        dtype=np.float32,
    )
    kept = strongest_terms(sparse.csr_matrix(dense), 2).toarray()
    expected = [[0.0, 0.5, 0.0, 0.3, 0.0], [0.0] * 5, [0.0, 0.9, 0.0, 0.0, 0.4]]
    assert kept == pytest.approx(np.array(expected, dtype=np.float32))
    tied = strongest_terms(sparse.csr_matrix(np.array([[0.3, 0.5, 0.3, 0.3]])), 2).toarray()
    assert tied == pytest.approx(np.array([[0.3, 0.5, 0.0, 0.0]], dtype=np.float32))  # 1st tied
    features = build_features(_archive())
    assert np.diff(features.strongest.indptr).max() <= STRONGEST
    assert (features.strongest != features.matrix).nnz == 0  # short documents: every term
