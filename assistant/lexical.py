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
