"""A title's camel-case names (storage.analysis.title_extras): `LongRoPE` is found by a query
for RoPE, `PhysAvatar` by one for avatars."""

from __future__ import annotations

import pytest

from storage import search
from storage.analysis import camel_parts, title_extras
from tests.search.archive import digest_session


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("LongRoPE", ["Long", "RoPE"]),
        ("PhysAvatar", ["Phys", "Avatar"]),
        ("SEEAvatar", ["SEE", "Avatar"]),  # a word after capitals
        ("ChartQA", ["Chart", "QA"]),
        ("DeepSeekMath", ["Deep", "Seek", "Math"]),
        ("BERTScore", ["BERT", "Score"]),
        # Not names of parts: a piece under 3 letters, a piece of mixed capitals, digits.
        ("RoPE", []),
        ("LoRA", []),
        ("GAvatar", []),
        ("LLaMA", []),
        ("YOLOv9", []),
        ("GPT4o", []),
        ("mPLUG", []),
        ("Transformer", []),
    ],
)
def test_camel_case_names_split_into_their_parts(word: str, parts: list[str]) -> None:
    assert camel_parts(word) == parts


def test_title_extras_hold_the_names_parts() -> None:
    """Stemmed (`phys` → `phy`, as in any text) and folded; a title without a name adds none."""
    assert title_extras("LongRoPE and PhysAvatars: LLMs Meet ChartQA") == (
        "long rope phy avatar chart qa"
    )
    assert title_extras("Scaling Laws for Neural Language Models") == ""


DIGEST = """## Daily Papers (2025-03-03)

### [LongRoPE: Extending Context Windows](https://arxiv.org/abs/2503.00001)

Vote: 5

Authors: A. Writer

- 문맥 창을 늘립니다.

### [PhysAvatar: Learning the Physics of Dressed Humans](https://arxiv.org/abs/2503.00002)

Vote: 5

Authors: B. Writer

- 옷 입은 사람을 복원합니다.

### [Fast Video Diffusion](https://arxiv.org/abs/2503.00004)

Vote: 50

Authors: D. Writer

- PhysAvatar와 LongRoPE보다 빠른 비디오 생성 방법입니다.
"""


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("rope", ["2503.00001"]),
        ("avatar", ["2503.00002"]),
        ("LongRoPE", ["2503.00001", "2503.00004"]),  # the name itself, anywhere
    ],
)
async def test_a_title_name_is_found_by_its_parts(
    database_url: str, query: str, found: list[str]
) -> None:
    """A name's part finds the paper whose title it is, not the paper that only mentions the
    name in its summary (a baseline); the whole name still finds both. On both backends."""
    async with digest_session(database_url, DIGEST, source="n.md") as session:
        hits = await search.search_papers(session, query=query)
    assert sorted(hit.arxiv_id for hit in hits if not hit.partial) == found
