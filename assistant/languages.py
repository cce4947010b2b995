"""Languages by name: what a reader calls their own language, which language a question is
in, and what an embedding model covers, said in a few words."""

from __future__ import annotations

import re
from collections.abc import Sequence

ENDONYMS = {
    "en": "English", "ru": "русский", "kk": "қазақша", "si": "සිංහල", "ta": "தமிழ்",
    "uk": "українська", "ky": "кыргызча", "uz": "oʻzbekcha", "de": "Deutsch", "fr": "français",
    "es": "español", "zh": "中文", "ar": "العربية", "hi": "हिन्दी", "tr": "Türkçe",
}
"""Each language's name in itself, as a card offers the other versions of a release ("also
in: қазақша, русский"): a reader looks for their own language's name, not its English one."""

_KAZAKH_LETTERS = re.compile("[әғқңөұүһі]")
"""Letters of Kazakh's Cyrillic alphabet that Russian does not have."""


def language_of_text(text: str) -> str | None:
    """A question's language by its letters: Kazakh Cyrillic has letters Russian lacks;
    Sinhala and Tamil have scripts of their own; Latin is taken for English (the only
    Latin-script language the archives hold). None when there are no letters."""
    from .lexical import script_of

    script = script_of(text)
    if script == "CYRILLIC":
        return "kk" if _KAZAKH_LETTERS.search(text.lower()) else "ru"
    return {"LATIN": "en", "SINHALA": "si", "TAMIL": "ta"}.get(script or "")


def question_language(question: str, offered: set[str | None]) -> str | None:
    """Which of the ``offered`` languages a question is in: :func:`language_of_text`'s, when
    offered, else the one offered language of its script. None: none of them."""
    from .lexical import SCRIPT_OF_LANGUAGE, script_of

    guess = language_of_text(question)
    if guess in offered:
        return guess
    script = script_of(question)
    fitting = sorted(lang for lang in offered if lang and SCRIPT_OF_LANGUAGE.get(lang) == script)
    if len(fitting) <= 1:
        return fitting[0] if fitting else None
    detected = detect_language(question)
    return detected if detected in fitting else fitting[0]


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text`` by py3langid; None for text too short to tell."""
    sample = text[:5000]
    if sum(ch.isalpha() for ch in sample) < 20:
        return None
    import py3langid

    code, _score = py3langid.classify(sample)
    return str(code)


def describe_model_languages(codes: Sequence[str]) -> str:
    """What a model covers, in a few words: "language: English", or "94 languages: en, kk,
    ru, si, ta, af, ..." with the ones this product's users publish in first."""
    if not codes:
        return "languages unknown"
    if len(codes) == 1:
        return f"language: {ENDONYMS.get(codes[0], codes[0])}"
    first = [c for c in ("en", "kk", "ru", "si", "ta") if c in codes]
    rest = [c for c in codes if c not in first]
    shown = ", ".join(first + rest[:5]) + (", ..." if len(rest) > 5 else "")
    return f"{len(codes)} languages: {shown}"
