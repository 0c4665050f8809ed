"""Author-name folding."""

import pytest

from storage.names import normalize_name


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Tim Rocktäschel", "tim rocktaschel"),
        ("Łukasz Kaiser", "lukasz kaiser"),
        ("Søren  Hauberg", "soren hauberg"),
        ("Weiß", "weiss"),
        ("Æsa Đorđević", "aesa dordevic"),
        ("Jean-Pierre  O'Neil", "jean pierre o neil"),
        ("01. AI", "01 ai"),
        ("ＤｅｅｐＳｅｅｋ", "deepseek"),
        ("김철수", "김철수"),
    ],
)
def test_normalize_name(name: str, folded: str) -> None:
    """Diacritics, special letters, punctuation and width fold to one searchable form."""
    assert normalize_name(name) == folded


def test_queries_fold_like_names() -> None:
    """A plain-ASCII query equals the folded name it should find."""
    assert normalize_name("Rocktaschel") == normalize_name("Rocktäschel") == "rocktaschel"
    assert normalize_name("Lukasz") == normalize_name("Łukasz") == "lukasz"
