"""Words for the keyword index and the answerer: tokens, stop words, stems.

Both sides of the keyword index go through :func:`stems`, so a question's "attended" meets a
release's "attendance" and a Russian "встречи" meets "встреча". The stemmer is chosen per
word by its script (Cyrillic: Russian Snowball; otherwise English Porter2), which needs no
language detection on a short question and treats documents and questions alike.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_LATIN = (
    "en", "de", "fr", "es", "it", "pt", "nl", "sv", "da", "no", "nb", "fi", "pl", "cs", "sk", "sl",
    "hr", "ro", "hu", "tr", "id", "ms", "vi", "et", "lv", "lt", "sq", "ca", "eu", "gl", "af", "sw",
    "tl",
)
SCRIPT_OF_LANGUAGE = {
    **dict.fromkeys(_LATIN, "LATIN"),
    **dict.fromkeys(["ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn"], "CYRILLIC"),
    "el": "GREEK", "he": "HEBREW", "yi": "HEBREW", "hy": "ARMENIAN", "ka": "GEORGIAN",
    **dict.fromkeys(["ar", "fa", "ur", "ps", "ug", "sd"], "ARABIC"),
    **dict.fromkeys(["hi", "mr", "ne", "sa"], "DEVANAGARI"),
    "bn": "BENGALI", "as": "BENGALI", "si": "SINHALA", "ta": "TAMIL", "te": "TELUGU",
    "kn": "KANNADA", "ml": "MALAYALAM", "gu": "GUJARATI", "pa": "GURMUKHI", "th": "THAI",
    "lo": "LAO", "km": "KHMER", "my": "MYANMAR", "am": "ETHIOPIC",
    "zh": "CJK", "ja": "CJK", "ko": "HANGUL",
}
"""The script each language (ISO 639-1, as model cards name them) is written in; a language
not listed here gates nothing (:func:`script_trusted`)."""

_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]")


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_RUSSIAN

    return frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_RUSSIAN)


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(language)


def stems(text: str, *, drop_stopwords: bool = False) -> list[str]:
    """The stems of the words of ``text``, lower-cased, in order."""
    words = _WORD.findall(text.lower())
    if drop_stopwords:
        words = [w for w in words if w not in stopwords()]
    english = _stemmer("english")
    russian = _stemmer("russian")
    return [(russian if _CYRILLIC.search(w) else english).stemWord(w) for w in words]


def content_stems(text: str) -> set[str]:
    """The distinct stems of the content words of ``text`` (stop words dropped)."""
    return set(stems(text, drop_stopwords=True))


def index_text(text: str) -> str:
    """What the FTS5 index stores for ``text``: its stems, space-separated."""
    return " ".join(stems(text))


@lru_cache(maxsize=1)
def month_stems() -> frozenset[str]:
    """Stems of month names (English, Russian, Kazakh: :data:`assistant.dates.MONTH_NAMES`):
    words that name a date, which the period filter handles, rather than what a release is
    about."""
    from .dates import MONTH_NAMES

    return frozenset(stems(" ".join(form for months in MONTH_NAMES.values()
                                    for forms in months for form in forms)))


def script_of(text: str) -> str | None:
    """The script most letters of ``text`` are written in, by their Unicode names (LATIN,
    CYRILLIC, GREEK, CJK for Chinese characters and Japanese kana, SINHALA, TAMIL, ...); None
    when it has no letter."""
    import unicodedata

    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            script = ("CJK" if name.startswith(("CJK", "HIRAGANA", "KATAKANA", "IDEOGRAPHIC",
                                                "HALFWIDTH")) else name.split(" ")[0])
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda s: counts[s]) if counts else None


def script_trusted(languages: frozenset[str] | None, script: str | None) -> bool:
    """Whether a model trained on ``languages`` (None: multilingual or unknown) can be trusted
    with text in ``script``: an English model's vectors of Cyrillic text are noise, although
    their cosines look confident. A language we cannot place trusts every script."""
    if not languages or script is None:
        return True
    scripts = {SCRIPT_OF_LANGUAGE.get(code) for code in languages}
    return None in scripts or script in scripts
