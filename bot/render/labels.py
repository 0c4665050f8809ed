"""The few fixed words the renderer needs, in Korean and English (i18n holds the rest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Lang = Literal["ko", "en"]


@dataclass(frozen=True, slots=True)
class Labels:
    """Label strings (plain text; the renderer escapes them) for one language."""

    digest_title: str
    weekly_title: str
    late: str
    update: str
    more_authors: str  # str.format template with {count}
    others: str
    no_summary: str
    abstract: str
    links: str
    hf_page: str
    featured: str
    followed: str
    english_summary: str  # marks English text shown where a Korean summary is missing
    korean_summary: str
    stars: str  # str.format template with {count}
    project_page: str
    comments: str  # str.format template with {count}
    submitted_by: str  # str.format template with {name}
    for_you: str  # the digest's "for you" section title
    for_you_note: str  # what the section is picked from

    @classmethod
    def ko(cls) -> Labels:
        """Korean labels."""
        return cls(
            digest_title="Daily Papers",
            weekly_title="Weekly Papers",
            late="⏰ 지연 발송",
            update="🔄 업데이트",
            more_authors="외 {count}명",
            others="외 다수",
            no_summary="요약이 아직 없습니다.",
            abstract="초록",
            links="링크",
            hf_page="HF 페이지",
            featured="소개된 날",
            followed="팔로우한 저자",
            english_summary="🇬🇧 영문 요약",
            korean_summary="🇰🇷 한국어 요약",
            stars="⭐ {count}",
            project_page="프로젝트 페이지",
            comments="💬 댓글 {count}개",
            submitted_by="🙋 {name} 님이 올림",
            for_you="✨ 맞춤 추천",
            for_you_note="⭐ 저장한 논문을 바탕으로 오늘의 논문 전체에서 골랐습니다",
        )

    @classmethod
    def en(cls) -> Labels:
        """English labels."""
        return cls(
            digest_title="Daily Papers",
            weekly_title="Weekly Papers",
            late="⏰ late",
            update="🔄 update",
            more_authors="and {count} more",
            others="and others",
            no_summary="No summary yet.",
            abstract="Abstract",
            links="Links",
            hf_page="HF page",
            featured="Featured on",
            followed="followed author",
            english_summary="🇬🇧 English summary",
            korean_summary="🇰🇷 Korean summary",
            stars="⭐ {count}",
            project_page="Project page",
            comments="💬 {count} comments",
            submitted_by="🙋 submitted by {name}",
            for_you="✨ For you",
            for_you_note="picked from the whole day for the papers you saved with ⭐",
        )

    @classmethod
    def for_lang(cls, lang: str) -> Labels:
        """Labels for `lang` (English for "en", Korean otherwise)."""
        return cls.en() if lang == "en" else cls.ko()
