"""The Markdown parser on real digests (verbatim fixtures), one test per format variant."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.digest import Digest, DigestError, Paper, SummarySection, parse_markdown


def _load(fixtures_dir: Path, day: str) -> Digest:
    """Parse the fixture digest of one day given as YYYY/MM/DD."""
    path = fixtures_dir / "daily_papers_ko" / f"{day}.md"
    return parse_markdown(path.read_text(encoding="utf-8"), source=str(path))


def _paper(digest: Digest, arxiv_id: str) -> Paper:
    """Return the paper with this id from a digest."""
    return next(paper for paper in digest.papers if paper.arxiv_id == arxiv_id)


def _bullets(paper: Paper) -> list[str]:
    """All summary bullets of a paper, in order."""
    return [bullet for section in paper.summary for bullet in section.bullets]


def test_2024_01_03_first_paper(fixtures_dir: Path) -> None:
    """The 2024-01-03 seed-era digest yields id, votes, deduplicated authors and bullets."""
    digest = _load(fixtures_dir, "2024/01/03")
    assert digest.date == dt.date(2024, 1, 3)
    assert digest.format == "markdown"
    assert not digest.errors
    paper = digest.papers[0]
    assert paper.arxiv_id == "2401.00908"
    assert paper.title.startswith("DocLLM: A layout-aware generative language model")
    assert paper.link == "https://arxiv.org/abs/2401.00908"
    assert paper.votes == 48
    assert paper.authors.count("Mathieu Sibue") == 1
    assert paper.authors[:4] == ("Dongsheng Wang", "Natraj Raman", "Mathieu Sibue", "Zhiqiang Ma")
    assert len(paper.authors) == 9
    assert not paper.authors_truncated
    assert paper.media_kind == "image"
    assert paper.media_url is not None
    assert paper.media_url.endswith("QLjS9pkeHviuaNyoBvkvu.png")
    assert len(paper.summary) == 1
    assert paper.summary[0].title is None
    assert paper.summary[0].bullets[0].startswith("본 논문에서는 텍스트 및 공간적 모달리티")
    assert len(paper.summary[0].bullets) == 6
    assert paper.line == 3
    assert paper.raw.startswith("### [DocLLM")
    assert paper.raw.endswith("\n\n")


def test_raw_and_line_point_into_the_source(fixtures_dir: Path) -> None:
    """Each paper's raw block is a verbatim slice starting at its 1-based `line`."""
    digest = _load(fixtures_dir, "2024/10/18")
    lines = digest.raw.split("\n")
    position = 0
    for paper in digest.papers:
        assert lines[paper.line - 1] == paper.raw.split("\n", 1)[0]
        position = digest.raw.index(paper.raw, position)
    assert digest.papers[-1].raw.endswith("\n")


def test_2023_11_20_bare_format_and_sub_bullets(fixtures_dir: Path) -> None:
    """No image/vote/authors, no blank line before `### `, and `  - (1)` sub-bullets parse."""
    digest = _load(fixtures_dir, "2023/11/20")
    assert len(digest.papers) == 11
    first, second = digest.papers[:2]
    assert (first.arxiv_id, first.line, second.line) == ("2311.10122", 3, 12)
    assert first.votes is None
    assert first.authors == ()
    assert first.media_url is None
    assert len(_bullets(first)) == 7
    assert not first.raw.rstrip().endswith(")")  # the next heading is not in the block
    unified = _paper(digest, "2311.10125")
    bullets = _bullets(unified)
    assert [bullet[:3] for bullet in bullets[4:8]] == ["(1)", "(2)", "(3)", "(4)"]
    assert len(unified.summary) == 1


def test_2023_11_21_image_and_bare_video_tag(fixtures_dir: Path) -> None:
    """An image right under the title and a bare `<video src='…'>` line give media, no votes."""
    digest = _load(fixtures_dir, "2023/11/21")
    image = _paper(digest, "2311.10770")
    assert image.media_kind == "image"
    assert image.media_url == (
        "https://cdn-uploads.huggingface.co/production/uploads/"
        "60f1abe7544c2adfd699860c/J4Fjt08cj7la_ElXbOyoR.png"
    )
    assert image.authors == ("Peter Belcak", "Roger Wattenhofer")
    video = _paper(digest, "2311.10982")
    assert video.media_kind == "video"
    assert video.media_url is not None
    assert video.media_url.endswith("D-WQoAl7gR1AwRZ0RXNkW.mp4")
    assert all(paper.votes is None for paper in digest.papers)


def test_2023_11_22_watch_video_and_div_video(fixtures_dir: Path) -> None:
    """`[Watch Video](url)` plus `<div><video controls src=…>` give one video URL."""
    paper = _load(fixtures_dir, "2023/11/22").papers[0]
    assert paper.arxiv_id == "2311.12052"
    assert paper.title.endswith("with Motions & Facial Expressions Transfer")
    assert paper.media_kind == "video"
    assert paper.media_url == (
        "https://cdn-uploads.huggingface.co/production/uploads/"
        "60f1abe7544c2adfd699860c/QPqDXcHNhksZaqkYOjZNQ.mp4"
    )
    assert not any("video" in bullet for bullet in _bullets(paper))


def test_2023_12_04_watch_video_without_parentheses(fixtures_dir: Path) -> None:
    """`[Watch Video]https://…mp4` without parentheses still yields the video URL."""
    paper = _paper(_load(fixtures_dir, "2023/12/04"), "2312.00589")
    assert paper.media_kind == "video"
    assert paper.media_url == (
        "https://cdn-uploads.huggingface.co/production/uploads/"
        "60f1abe7544c2adfd699860c/i0OtI7IVL_ANfE1YOKxxt.mp4"
    )


def test_vote_dash_is_unknown_and_zero_is_zero(fixtures_dir: Path) -> None:
    """`Vote: -` becomes None while a real `Vote: 0` stays 0."""
    unknown = _paper(_load(fixtures_dir, "2023/12/12"), "2312.06353")
    assert unknown.votes is None
    assert "Vote: -" in unknown.raw
    zero = _paper(_load(fixtures_dir, "2024/10/18"), "2410.11843")
    assert zero.votes == 0


def test_truncation_token_at_the_end(fixtures_dir: Path) -> None:
    """A trailing `+` is not an author and marks the list truncated."""
    paper = _paper(_load(fixtures_dir, "2023/12/26"), "2312.14862")
    assert paper.authors_truncated
    assert "+" not in paper.authors
    assert paper.authors[-2:] == ("Lei Sun", "Liduo Liu")


def test_truncation_token_in_the_middle(fixtures_dir: Path) -> None:
    """A `+` in the middle of the list is dropped and the names around it are kept."""
    paper = _paper(_load(fixtures_dir, "2024/03/01"), "2402.19173")
    assert paper.authors_truncated
    assert paper.authors[15:19] == (
        "Federico Cassano",
        "Nouamane Tazi",
        "Jiawei Liu",
        "Megan Risdal",
    )


def test_organisations_and_diacritics_stay_whole(fixtures_dir: Path) -> None:
    """`01. AI`, `Gemini Team` and names with diacritics are single authors."""
    assert "01. AI" in _paper(_load(fixtures_dir, "2024/03/08"), "2403.04652").authors
    gemini = _paper(_load(fixtures_dir, "2023/12/20"), "2312.11805")
    assert gemini.authors[0] == "Gemini Team"
    names = {name for paper in _load(fixtures_dir, "2023/12/15").papers for name in paper.authors}
    assert any("Rocktäschel" in name for name in names)
    names = {name for paper in _load(fixtures_dir, "2024/10/29").papers for name in paper.authors}
    assert any(name.startswith("Łukasz") for name in names)


def test_huge_author_lists(fixtures_dir: Path) -> None:
    """The 663-name line of 2025-01-27 and the 262 names of 2024-12-24 parse fully."""
    last_exam = _paper(_load(fixtures_dir, "2025/01/27"), "2501.14249")
    assert len(last_exam.authors) == 663
    assert len(last_exam.raw) > 10_000
    assert len(_paper(_load(fixtures_dir, "2024/12/24"), "2412.16720").authors) == 262


def test_numbered_bullets_are_plain_bullets(fixtures_dir: Path) -> None:
    """`- 2) …` bullets keep their numbering as plain text in the untitled section."""
    paper = _paper(_load(fixtures_dir, "2023/12/08"), "2312.04543")
    assert paper.summary[0].title is None
    assert _bullets(paper)[3].startswith("2) 세부적인 의미론적 분할")


def test_structured_bold_bullets(fixtures_dir: Path) -> None:
    """`- **What's New**: …` bullets become titled sections (2024-10-01)."""
    paper = _load(fixtures_dir, "2024/10/01").papers[0]
    titles = [section.title for section in paper.summary]
    assert titles == ["What's New", "Technical Details", "Performance Highlights"]
    assert paper.summary[0].bullets[0].startswith("이 논문에서는 새로운 딥러닝 모델")
    assert paper.authors_truncated


def test_structured_bold_italic_bullets_and_list_literal_authors(fixtures_dir: Path) -> None:
    """`- ***What's New***: …` bullets and `Authors: ['A', 'B']` parse (2024-10-18)."""
    digest = _load(fixtures_dir, "2024/10/18")
    paper = _paper(digest, "2410.13060")
    assert [section.title for section in paper.summary] == [
        "What's New",
        "Technical Details",
        "Performance Highlights",
    ]
    assert paper.authors[:2] == ("Brandon Reagen", "Nandan Kumar Jha")
    assert all(not name.startswith(("[", "'")) for p in digest.papers for name in p.authors)


def test_other_section_keys(fixtures_dir: Path) -> None:
    """Keys beyond the usual three (`Benchmark Goals…`, `Conclusion`) become their own sections."""
    extra = _paper(_load(fixtures_dir, "2024/10/09"), "2410.03399")
    assert [section.title for section in extra.summary][3:] == [
        "Benchmark Goals and Approaches",
        "Preprocessing and Evaluation",
    ]
    conclusion = _paper(_load(fixtures_dir, "2024/12/11"), "2412.07187")
    assert conclusion.summary[-1].title == "Conclusion"


def test_english_only_summary(fixtures_dir: Path) -> None:
    """A summary written in English only parses like the Korean ones."""
    paper = _paper(_load(fixtures_dir, "2024/10/08"), "2410.02884")
    assert _bullets(paper)[0].startswith("LLaMA-Berry is a new framework")


def test_relative_avatar_becomes_absolute(fixtures_dir: Path) -> None:
    """`![](/avatars/….svg)` becomes an absolute huggingface.co URL."""
    paper = _paper(_load(fixtures_dir, "2024/10/16"), "2410.10816")
    assert paper.media_url == (
        "https://huggingface.co/avatars/2de1b1539a86452c2c89570eeb02f5ab.svg"
    )
    assert paper.media_kind == "image"


def test_titles_keep_markdown_and_brackets(fixtures_dir: Path) -> None:
    """Titles with `[IDK]`, `$\\times$`, `\\textsc{…}` and `&` are kept as written."""
    idk = _paper(_load(fixtures_dir, "2024/12/12"), "2412.06676")
    assert idk.title == "I Don't Know: Explicit Modeling of Uncertainty with an [IDK] Token"
    times = _paper(_load(fixtures_dir, "2024/10/16"), "2410.09342")
    assert times.title.startswith("LLM$\\times$MapReduce: ")
    textsc = _load(fixtures_dir, "2024/05/27").papers
    assert any(paper.title.endswith("\\textsc{AIEV-Instruct}") for paper in textsc)
    eos = _paper(_load(fixtures_dir, "2024/05/28"), "2405.17428")
    assert any("<EOS>" in bullet for bullet in _bullets(eos))


def test_same_id_on_two_days_keeps_each_title(fixtures_dir: Path) -> None:
    """2410.09342 appears on two days with different titles; each day keeps its own."""
    first = _paper(_load(fixtures_dir, "2024/10/16"), "2410.09342")
    second = _paper(_load(fixtures_dir, "2024/10/18"), "2410.09342")
    assert first.title != second.title
    assert second.title.startswith("LLMtimesMapReduce")


@pytest.mark.parametrize(
    ("day", "count", "second_batch_line"), [("2024/10/18", 9, 89), ("2025/01/02", 3, 29)]
)
def test_two_headings_make_one_digest(
    fixtures_dir: Path, day: str, count: int, second_batch_line: int
) -> None:
    """A second `## Daily Papers` batch joins the same digest, in file order."""
    digest = _load(fixtures_dir, day)
    assert len(digest.papers) == count
    assert not digest.errors
    assert [paper.line for paper in digest.papers] == sorted(p.line for p in digest.papers)
    assert any(paper.line == second_batch_line for paper in digest.papers)
    assert all("## Daily Papers" not in paper.raw for paper in digest.papers)


def _digest(body: str) -> Digest:
    """Parse a small digest made of one heading and the given body."""
    return parse_markdown("## Daily Papers (2025-03-04)\n\n" + body, source="inline.md")


HEADING = "### [A Paper](https://arxiv.org/abs/2503.01234)\n\n"


def test_duplicate_id_keeps_the_later_block() -> None:
    """The same id twice in one file keeps the later block only."""
    later = "### [Second Title](https://arxiv.org/abs/2503.01234v2)\n\nVote: 7\n"
    digest = _digest(
        HEADING + "Vote: 1\n\n### [Other](https://arxiv.org/abs/2503.00001)\n\n" + later
    )
    assert [paper.arxiv_id for paper in digest.papers] == ["2503.00001", "2503.01234"]
    assert digest.papers[1].title == "Second Title"
    assert digest.papers[1].votes == 7


def test_curly_and_korean_keys_and_numbered_lines() -> None:
    """Curly `What’s New`, Korean keys, `1) …` and `1. **…**` lines parse (held-back variants)."""
    body = (
        "- **What’s New**: 새 방법.\n"
        "- **한계점**: 데이터가 적다.\n"
        "1) 첫째 요점\n"
        "1. **굵은 글씨** 설명\n"
        "- **Bold** without a colon\n"
    )
    paper = _digest(HEADING + body).papers[0]
    assert paper.summary == (
        SummarySection(title="What's New", bullets=("새 방법.",)),
        SummarySection(title="한계점", bullets=("데이터가 적다.",)),
        SummarySection(
            title=None,
            bullets=("1) 첫째 요점", "1. **굵은 글씨** 설명", "**Bold** without a colon"),
        ),
    )


def test_odd_titles_and_authors() -> None:
    """Titles with `<think>`, `$200k`, backticks, `*` and `>`, and quoted list authors parse."""
    title = "`<think>` costs $200k: *why* A > B [v2]"
    text = (
        f"### [{title}](https://arxiv.org/abs/2503.05678)\n\n"
        "Authors: ['Ann O\\'Neil', \"Bo D'Arcy\", 'Ann O\\'Neil', '+']\n\n- <search> 토큰\n"
    )
    paper = _digest(text).papers[0]
    assert paper.title == title
    assert paper.authors == ("Ann O'Neil", "Bo D'Arcy")
    assert paper.authors_truncated
    assert paper.votes is None
    assert _bullets(paper) == ["<search> 토큰"]


def test_heading_without_arxiv_link() -> None:
    """A heading without an arXiv link is an issue; a Hugging Face papers link is recovered."""
    text = (
        "### [No Link Here](https://example.org/paper)\n\n- lost\n\n"
        "### [Recovered](https://huggingface.co/papers/2503.09999)\n\n- kept\n\n" + HEADING
    )
    digest = _digest(text)
    assert [paper.arxiv_id for paper in digest.papers] == ["2503.09999", "2503.01234"]
    assert digest.papers[0].link == "https://arxiv.org/abs/2503.09999"
    assert [issue.line for issue in digest.errors] == [3, 7]


def test_no_heading_is_a_digest_error() -> None:
    """Text without a `## Daily Papers (date)` heading cannot be read at all."""
    with pytest.raises(DigestError):
        parse_markdown(HEADING + "- text\n", source="x.md")
    with pytest.raises(DigestError):
        parse_markdown("", source="x.md")


def test_crlf_and_bom_are_tolerated() -> None:
    """Windows line ends and a byte-order mark do not change the papers."""
    text = "## Daily Papers (2025-03-04)\n\n" + HEADING + "Vote: 3\n\nAuthors: A, B\n\n- x\n"
    plain = parse_markdown(text, source="a.md").papers[0]
    crlf = parse_markdown("\ufeff" + text.replace("\n", "\r\n"), source="a.md").papers[0]
    assert (crlf.votes, crlf.authors, _bullets(crlf)) == (plain.votes, plain.authors, ["x"])


def test_cut_short_bullets_and_media_lines() -> None:
    """Bullets and media lines cut short (`- *`, `- **K`, `![](`, `[Watch Video]`) do not crash."""
    body = "- *\n- **\n- **K\n- **K**\n![](\n[Watch Video]\n<video src='\nVote:\nAuthors:\n"
    paper = _digest(HEADING + body).papers[0]
    assert paper.media_url is None
    assert paper.votes is None
    assert paper.authors == ()
    assert _bullets(paper) == ["*", "**", "**K", "**K**"]


@pytest.mark.parametrize("spacing", ["\t", "\u00a0", "", "  "])
def test_heading_spacing_variants_still_start_a_paper(fixtures_dir: Path, spacing: str) -> None:
    """`###<tab>[`, `###<nbsp>[` and `###[` are paper headings: no paper is lost or merged."""
    path = fixtures_dir / "daily_papers_ko" / "2024/01/03.md"
    text = path.read_text(encoding="utf-8")
    first = text.index("### [")
    damaged = text.replace("### [LLaMA Beyond", f"###{spacing}[LLaMA Beyond")
    damaged = damaged[:first] + f"###{spacing}" + damaged[first + 4 :]
    original = parse_markdown(text, source="a.md")
    digest = parse_markdown(damaged, source="a.md")
    assert not digest.errors
    assert [p.arxiv_id for p in digest.papers] == [p.arxiv_id for p in original.papers]
    for before, after in zip(original.papers, digest.papers, strict=True):
        assert (after.votes, after.authors, after.summary) == (
            before.votes,
            before.authors,
            before.summary,
        )


def test_unrecognised_heading_does_not_lend_its_fields_to_the_paper_above() -> None:
    """A block with two `Vote:`/`Authors:` lines keeps its first ones and reports the others."""
    text = (
        HEADING + "Vote: 3\n\nAuthors: A, B\n\n- x\n\n"
        "#### [Damaged](https://arxiv.org/abs/2503.05678)\n\nVote: 9\n\nAuthors: C\n\n- y\n"
    )
    digest = _digest(text)
    [paper] = digest.papers
    assert (paper.votes, paper.authors) == (3, ("A", "B"))
    assert [issue.line for issue in digest.errors] == [13, 15]
    assert all("second" in issue.message for issue in digest.errors)
