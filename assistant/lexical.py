"""Words for the keyword index and the answerer: tokens, stop words, stems.

Both sides of the keyword index go through :func:`stems`, so a question's "attended" meets a
release's "attendance" and a Russian "встречи" meets "встреча". The stemmer is chosen per
word by its script (Cyrillic: Russian Snowball; otherwise English Porter2), which needs no
language detection on a short question and treats documents and questions alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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

_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]")
_KAZAKH_LETTER = re.compile(r"[әғқңөұүһі]")
"""Letters of the Kazakh alphabet that Russian does not have: a word with one is Kazakh."""


@lru_cache(maxsize=1)
def _word() -> Any:
    """A word: letters and digits with the combining marks inside them. The ``regex``
    package's ``\\w`` is Unicode's word class (letters, marks, digits, connectors, the zero
    width joiners); the standard library's ``\\w`` leaves out the vowel signs (Mc/Mn) of
    Sinhala and Tamil, which cut "අග්‍රාමාත්‍ය" into six pieces of one or two letters."""
    import regex

    return regex.compile(r"\w+")


def words(text: str) -> list[str]:
    """The words of ``text``, lower-cased, in order (no stemming)."""
    return list(_word().findall(text.lower()))


# Kazakh endings, after the grammars' tables (plural, possessive, case, the commonest verb
# forms), with their vowel-harmony and voicing variants. Kazakh is agglutinative and no
# Snowball stemmer exists for it: :func:`kazakh_stem` takes these off the end of a word one at
# a time, longest first, "адамдарының" -> "адамдары" -> "адамдар" -> "адам".
_KAZAKH_ENDINGS = tuple(sorted({
    # plural
    "лар", "лер", "дар", "дер", "тар", "тер",
    # possessive (my, your, his/her/their, our, your-polite)
    "ым", "ім", "ың", "ің", "ыңыз", "іңіз", "ңыз", "ңіз", "ы", "і", "сы", "сі",
    "мыз", "міз", "ымыз", "іміз",
    # genitive, dative, accusative, locative, ablative, instrumental
    "ның", "нің", "дың", "дің", "тың", "тің",
    "ға", "ге", "қа", "ке", "на", "не",
    "ны", "ні", "ды", "ді", "ты", "ті", "н",
    "да", "де", "та", "те", "нда", "нде",
    "дан", "ден", "тан", "тен", "нан", "нен",
    "мен", "бен", "пен", "менен", "бенен", "пенен",
    # "of/in the" (-дағы), as/like (-ша, -дай)
    "дағы", "дегі", "тағы", "тегі", "ндағы", "ндегі", "ша", "ше", "дай", "дей", "тай", "тей",
    # verbs: participles, converbs, the verbal noun, the present and the past
    "ған", "ген", "қан", "кен", "атын", "етін", "йтын", "йтін",
    "ып", "іп", "у", "уы", "уі", "ады", "еді", "йды", "йді",
}, key=len, reverse=True))
_VOWELS = frozenset("аәеёиоөуұүыіэюя")
_KAZAKH_VOICED = str.maketrans({"б": "п", "г": "к", "ғ": "қ"})


def kazakh_stem(word: str, *, min_stem: int = 3) -> str:
    """``word`` (lower-case) without its Kazakh endings: the longest ending that leaves at
    least ``min_stem`` letters is taken off, again until none fits; a final voiced consonant
    is written unvoiced as in the bare word ("кітабы" -> "кітаб" -> "кітап")."""
    stem = word
    while True:
        for ending in _KAZAKH_ENDINGS:
            rest = len(stem) - len(ending)
            if (stem.endswith(ending) and rest >= min_stem
                    # a lone consonant ("н") is an ending only after a vowel ("баласын"); "м"
                    # and "ң" (my, your) are left out altogether: the "м" of "адам" is the
                    # word's own, and press releases seldom say "my"
                    and (len(ending) > 1 or ending in _VOWELS or stem[rest - 1] in _VOWELS)):
                stem = stem[:rest]
                break
        else:
            break
    if stem != word:
        stem = stem[:-1] + stem[-1].translate(_KAZAKH_VOICED)
    return stem


KAZAKH_STEM_LETTERS = 6
"""Letters of a Kazakh stem the index keeps: past the endings :func:`kazakh_stem` knows,
derivations ("денсаулық", "денсаулығы") meet too. KazQAD's tune half chose 6 over 7, 8 and
none (docs/quality/kazakh-keywords.md)."""
KAZAKH_MIN_STEM = 3
KAZAKH_SHARE = 0.10
"""A text is Kazakh when over this share of its lower-case Cyrillic words has a letter only
Kazakh has or is a Kazakh function word (KazQAD's passages: 46 % at the 5th percentile;
XQuAD's Russian ones: none). 0.02 and 0.10 rank KazQAD alike; 0.10 leaves a Russian text
room for a few Kazakh words."""

# Kazakh function words: question words, pronouns, conjunctions, postpositions, particles.
# Neither stop-word package on PyPI (stopwordsiso, stop-words) has Kazakh, and qaznltk's list
# (a sentiment library's) holds content words a reporter asks about ("жаңа", "жоғары").
KAZAKH_STOPWORDS = frozenset({
    "не", "неше", "нешінші", "қанша", "қандай", "қай", "қайда", "қайдан", "қашан", "кім", "кімнің",
    "кімге", "кімді", "кіммен", "қалай", "неге", "неліктен", "немен", "несі", "нені", "ненің",
    "деген", "дегеніміз", "деп", "дейді", "ма", "ме", "ба", "бе", "па", "пе", "ғой", "ғана", "да",
    "де", "та", "те", "және", "мен", "бен", "пен", "әрі", "немесе", "бірақ", "ал", "яғни", "үшін",
    "туралы", "бойынша", "арқылы", "сияқты", "кейін", "дейін", "бері", "сайын", "қарай", "арасында",
    "кезінде", "бұл", "осы", "сол", "ол", "олар", "оның", "олардың", "оны", "оған", "біз", "біздің",
    "сіз", "сіздің", "мұнда", "онда", "сонда", "бар", "жоқ", "емес", "еді", "екен", "болып",
    "болды", "болады", "болған", "бір", "әр", "барлық",
})


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_RUSSIAN

    return frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_RUSSIAN) | KAZAKH_STOPWORDS


@lru_cache(maxsize=2)
def _stemmer(language: str) -> Any:
    import Stemmer

    return Stemmer.Stemmer(language)


@lru_cache(maxsize=1)
def _kazakh_markers() -> frozenset[str]:
    """Kazakh function words with no Kazakh-only letter that Russian does not use ("деген",
    "немен"): they tell a short Kazakh question such as "Агроценоз деген не?" apart."""
    from bm25s.stopwords import STOPWORDS_RUSSIAN

    # "бар" is a Russian noun too ("a bar").
    return frozenset(w for w in KAZAKH_STOPWORDS if len(w) > 2 and not _KAZAKH_LETTER.search(w)
                     ) - frozenset(STOPWORDS_RUSSIAN) - {"бар"}


def _kazakh_words(found: Sequence[str]) -> bool:
    """:func:`is_kazakh` of a text's words as written (not lower-cased)."""
    # [counted, Kazakh] of the lower-case words (and the text's first word, whatever its case:
    # "Биотикалық факторлар:"), and of the other capitalised ones, which count only when the
    # text has no lower-case word (a title: "Ғұндардың Баспанасы").
    lower, capital = [0, 0], [0, 0]
    markers = None
    first = True
    for w in found:
        if not _CYRILLIC.search(low := w.lower()):
            first = False
            continue
        tally = capital if w[0].isupper() and not first else lower
        first = False
        tally[0] += 1
        if _KAZAKH_LETTER.search(low) or low in (markers := markers or _kazakh_markers()):
            tally[1] += 1
    counted, kazakh = lower if lower[0] else capital
    return kazakh > 0 and kazakh > KAZAKH_SHARE * counted


def is_kazakh(text: str) -> bool:
    """Whether ``text`` reads as Kazakh rather than Russian: over :data:`KAZAKH_SHARE` of
    its Cyrillic words have a letter only Kazakh has, or are a Kazakh function word Russian
    has not. Capitalised words but the first count only in a text of nothing else (a
    title): a Russian release names "Қарағанды" and "Тоқаев" in their Kazakh spelling."""
    return _kazakh_words(_word().findall(text))


def stems(text: str, *, drop_stopwords: bool = False, lang: str | None = None) -> list[str]:
    """The stems of the words of ``text``, lower-cased, in order: Latin words by English
    Porter2, Cyrillic ones by :func:`kazakh_stem` in a Kazakh text and by the Russian
    Snowball stemmer in another (but for words with a Kazakh letter, Kazakh names mostly),
    other scripts' words as they are (Sinhala, Tamil: no stemmer measured). A text is Kazakh
    when ``lang`` (its document's language) says "kk", Russian when it says "ru", else as
    :func:`is_kazakh` reads it: a question has no label, and a short title may not tell
    ("Липидтер" has no Kazakh-only letter), so an indexed text passes its document's."""
    written = _word().findall(text)
    # Before the stop words go: "Финка дегеніміз не?" is Kazakh by its function word alone.
    kazakh_text = lang == "kk" or (lang != "ru" and _kazakh_words(written))
    found = [w.lower() for w in written]
    if drop_stopwords:
        found = [w for w in found if w not in stopwords()]
    english = _stemmer("english")
    russian = _stemmer("russian")
    out = []
    for w in found:
        if not _CYRILLIC.search(w):
            out.append(english.stemWord(w))
        elif kazakh_text or _KAZAKH_LETTER.search(w):
            out.append(kazakh_stem(w, min_stem=KAZAKH_MIN_STEM)[:KAZAKH_STEM_LETTERS])
        else:
            out.append(russian.stemWord(w))
    return out


def content_stems(text: str) -> set[str]:
    """The distinct stems of the content words of ``text`` (stop words dropped)."""
    return set(stems(text, drop_stopwords=True))


def index_text(text: str, lang: str | None = None) -> str:
    """What the FTS5 index stores for ``text`` (of a document in ``lang``, when known): its
    stems, space-separated."""
    return " ".join(stems(text, lang=lang))


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
