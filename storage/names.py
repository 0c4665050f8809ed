"""Author-name normalisation shared by storage, search and handlers (pure)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters NFKD does not decompose into a base letter plus a combining mark.
_FOLD = str.maketrans(
    {
        "ł": "l",
        "Ł": "l",
        "ø": "o",
        "Ø": "o",
        "ß": "ss",
        "ẞ": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
        "ħ": "h",
        "Ħ": "h",
        "ŀ": "l",
        "Ŀ": "l",
    }
)
_SEPARATORS = re.compile(r"[\W_]+")


@lru_cache(maxsize=1 << 16)  # an ingest folds each author name a few times
def normalize_name(name: str) -> str:
    """Fold a name to lower-case ASCII-ish words: `Łukasz  Rocktäschel` → `lukasz rocktaschel`."""
    if name.isascii():
        # Most names: NFKD, NFC and the fold table leave ASCII as it is, casefold is lower.
        return _SEPARATORS.sub(" ", name.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = stripped.casefold().translate(_FOLD)
    # NFC again so Hangul and other scripts NFKD split into jamo read normally.
    return unicodedata.normalize("NFC", _SEPARATORS.sub(" ", folded).strip())
