"""The check every sentence a language model writes must pass before anyone sees it.

A model answers from numbered passages (:class:`~assistant.documents.Passage`) and cites them
as ``[n]``. :func:`check_answer` cleans its output (:func:`clean_generated`: NFKC, control and
format characters such as terminal escapes and bidi overrides removed, so what is checked is
what is shown), splits it into sentences (:func:`split_generated`) and keeps a sentence only
when

1. it cites at least one passage, and only passages that were given;
2. every number, amount, percentage, date (day, month, year) and capitalised name in it
   occurs in the passage(s) it cites (their text, title or date);
3. the cited passages support its content: enough of its content-word stems are in the best
   supporting sentence of each cited passage and that sentence's neighbours (word support),
   or, when an embedder is given, the sentence is close to a passage sentence and shares some
   of its words.

Each kept sentence's citations are renumbered ``[1]``, ``[2]``... in order of first
appearance, one number per quoted passage sentence; a citation's quote is verbatim document
text (``passage.sentence_text((start, end))``). Everything else is returned as
:class:`~assistant.documents.DroppedSentence` with its reason in plain words.

Numbers are compared as values: "1,200" == "1200" == "1 200", "1.2 million" == "1,200,000"
(a scale word multiplies), "45 percent" == "45%", "1,5" (a decimal comma, Russian) == "1.5";
numbers written in English words are read on both sides ("three hundred and forty" == "340",
"twenty-five", "a million"), except "one", "a" and "an" alone (a model's "one of the" is no
claim); ordinals ("third") and Russian or Kazakh number words are not read.
Dates are read as their parts: a day and a year are numbers, a month's name (English, Russian
or Kazakh, :mod:`assistant.dates`) must name a month the passage names (in any language or as
digits of a date) or its publication month. Names: a word whose first letter is a capital in
any script ("Ólafur", "Путин", "Αθήνα") that is not the first of the sentence (unless a
capitalised word follows: "Vladimir Putin"; then the passage's word in lower case also vouches
for it), not a stop word and not a month; it must match a capitalised word of the passage or
its title, in another form allowed ("Russian" ~ "Russia", "Zelensky" ~ "Zelenskyy", "Путина" ~
"Путин").

A sentence in another script than its passages (a Russian, Chinese, Arabic, Greek, Tamil or
Sinhala answer from English releases: the product answers in the question's language; the
script is the one most of its letters are written in, by their Unicode names) cannot be
word-checked: its numbers and dates are still checked, its names in the other script are not,
and its support must come from the embedder when that embedder covers both scripts
(``embedder.languages`` is None, or holds a language written in each); without one it is
dropped. Within one language an embedder counts only when its languages cover that script.
Only the script is compared, not the language (English and French are one script): enough to
tell the product's answer languages apart, with no detector.

Why this module is long: it is the one place that decides whether a generated sentence may be
shown, and each kind of fact it reads (figures in digits and in words, dates, names in any
script, negations, support) needs its own reader; split apart, the rules that must agree
(what counts as a name, a number, a word of support) would drift.

What the check cannot catch, by design: a number or name changed into another one the cited
passage also holds (it checks presence, not role: "fined $5,000" for a passage's "$5,000 in
costs"); a name alone at the start of a sentence (read as a capitalised opener), or before
another name when the passage has the word in lower case ("Office Drinkery"); a claim reworded
so that its words are the passage's but its meaning is not. A negation the model adds is
caught: "did not sue" needs the quoted sentence to deny something, or a sentence in its
support window to deny the same words ("..., and no injuries were reported" by a neighbour's
"No injuries were reported"); it is not caught when the quoted sentence already denies
something else (the check does not tell what a denial is about). A negation the model leaves
out ("sued" for "did not sue") is not caught either.

The thresholds below were chosen with ``benchmarks/check_mutations.py``, which builds correct,
lightly paraphrased answers from real releases and mutates them; it prints the figures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import regex

from .dates import month_number
from .documents import Citation, DroppedSentence, Passage
from .lexical import content_stems, script_of, script_trusted, stopwords

if TYPE_CHECKING:
    import numpy as np

    from .embedders.protocols import Embedder

__all__ = [
    "CheckedAnswer",
    "CheckedSentence",
    "check_answer",
    "clean_generated",
    "split_generated",
]

# ------------------------------------------------------------------------------- thresholds

WORD_SUPPORT_MIN = 0.5
"""Share of a sentence's content-word stems that the best supporting passage sentence and its
neighbours must hold. Chosen with ``benchmarks/check_mutations.py --sweep`` (1,000 mutations,
seed 7): at 0.3 / 0.4 / 0.5 / 0.6 / 0.7 / 0.8, of 143 sentences of another release (citation
kept) 2 / 1 / 1 / 0 / 0 / 0 got through and of 143 cited to another given passage 1 / 0 / 0 /
0 / 0 / 0, while of 1,000 correct (lightly paraphrased) sentences 0 / 0 / 0 / 2 / 10 / 45
were wrongly dropped. At 0.5 seeds 11 and 23 let 1 and 0 sentences of another release
through and dropped no correct one. 0.5 is the highest value that dropped no correct
sentence: a model rewords more than the benchmark does, so the threshold stays below the
point where false drops start."""

CITATION_SUPPORT_MIN = 0.2
"""When a sentence cites several passages, each must hold at least this share of its stems:
a citation that adds nothing is a wrong citation, and one passage must not vouch for another.
Set by hand, not measured: a sentence joining two releases takes at least a fifth of its
words from each in the tests' examples."""

EMBED_SIMILARITY_MIN = 0.75
"""With an embedder, a sentence whose word support falls short is still kept when its cosine
similarity to a cited passage sentence reaches this (and its word support reaches
:data:`EMBED_WORD_FLOOR`): a paraphrase in other words. Measured with
``benchmarks/check_mutations.py --embedder --similarities`` (all-MiniLM-L6-v2, 1,000 of each):
a sentence of another release scores median 0.20, 99th percentile 0.55 against the best
sentence of the passage it wrongly cites, a correct one cited to another passage the same;
the benchmark's correct paraphrases score median 0.97. 0.75 keeps a wide margin above the
wrong ones (none of the 2,000 reaches it) for paraphrases heavier than the benchmark's."""

EMBED_WORD_FLOOR = 0.3
"""The word support a sentence must still have for the embedder to keep it: similarity alone
says "same topic", not "same claim"."""

CROSS_LANGUAGE_SIMILARITY_MIN = 0.6
"""Similarity a sentence in another language than its passage needs (no words to compare).
NOT measured: no multilingual model is installed here. A multilingual model scores a
translation lower than a same-language paraphrase; 0.6 is a conservative guess, above the
99th percentile of wrong same-language sentences (0.55) measured above."""

WINDOW = 1
"""Neighbouring passage sentences, either side of the best one, that count for word support: a
model's sentence often joins two adjacent sentences of a release."""

# ----------------------------------------------------------------------------- the results


@dataclass(frozen=True, slots=True)
class CheckedSentence:
    """One kept sentence: its text without citation markers and the (renumbered) citations it
    carries."""

    text: str
    citations: tuple[int, ...]
    support: float


@dataclass(frozen=True, slots=True)
class CheckedAnswer:
    text: str
    """The kept sentences joined, each followed by its renumbered ``[n]`` markers."""
    citations: tuple[Citation, ...]
    """Numbered 1.. in order of first appearance; each quotes one passage sentence."""
    dropped: tuple[DroppedSentence, ...]
    kept: tuple[CheckedSentence, ...]


# ------------------------------------------------------------------------------ splitting

_MARKER = re.compile(r"\[\s*(\d{1,3}(?:\s*[,;–-]\s*\d{1,3})*)\s*\]")
_MARKER_RUN = re.compile(rf"(?:\s*{_MARKER.pattern})+")
_LEADING_MARKERS = re.compile(rf"^\s*(?:{_MARKER.pattern}\s*)+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_BULLET = re.compile(r"^\s*(?:[-*+•–]|\d{1,2}[.)])\s+")
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)\*(?=\S)|(?<=\S)\*(?!\w)|`")
_LINK = re.compile(r"\[([^\]\d][^\]]*)\]\((?:[^)\s]+)\)")
_SOURCES_HEADING = re.compile(
    r"^\s*(?:#{1,6}\s*)?\**(?:sources?|references?|citations?|источники|ссылки|дереккөздер)"
    r"\**\s*:?\**\s*$", re.IGNORECASE)
_REFERENCE_LINE = re.compile(rf"^\s*(?:[-*•]\s*)?{_MARKER.pattern}\s*:")
_LABEL = re.compile(r"^(?:answer|ответ|жауап)\s*:\s*", re.IGNORECASE)
_SOURCES_PREFIX = re.compile(r"^\s*(?:sources?|references?|источники)\s*:", re.IGNORECASE)


def _strip_formatting(line: str) -> str:
    """A line without Markdown (heading marks, a bullet, emphasis, links: their words kept)
    and without an "Answer:" label."""
    line = _HEADING.sub("", line)
    line = _BULLET.sub("", line)
    line = _LINK.sub(r"\1", line)
    return _LABEL.sub("", _EMPHASIS.sub("", line).strip())


_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def _nfkc(text: str) -> str:
    """NFKC, but "№" stays a sign (NFKC makes it "No", a negation)."""
    return "№".join(unicodedata.normalize("NFKC", part) for part in text.split("№"))


def clean_generated(text: str) -> str:
    """``text`` as it will be shown: NFKC-normalised (full-width "３４０" is "340"), terminal
    escape sequences ("\\x1b[2J") and every other control (Unicode Cc, but a line break or a
    tab) and format character (Cf: bidi overrides such as U+202E, zero-width spaces) removed,
    so what is checked is what is shown."""
    text = _nfkc(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _ESCAPE.sub("", text)
    return "".join(ch for ch in text if ch in "\n\t"
                   or unicodedata.category(ch) not in ("Cc", "Cf"))


def split_generated(text: str) -> list[str]:
    """The sentences of a model's output, each with its ``[n]`` markers, formatting removed.

    A marker that follows the full stop ("... in 2019. [1]") or opens the next line belongs to
    the sentence before it. A trailing list of sources ("Sources:" and what follows, or lines
    like "[1]: title") comes back as one item starting with its first line, for the check to
    drop with its reason. The text is cleaned first (:func:`clean_generated`).
    """
    from .chunking import split_sentences

    lines = clean_generated(text).split("\n")
    body: list[str] = []
    references: list[str] = []
    after_heading = False
    for line in lines:
        if references or _SOURCES_HEADING.match(line) or _REFERENCE_LINE.match(line):
            # Everything from a sources heading or a reference definition on is the list.
            if line.strip():
                references.append(line.strip())
        elif (body and body[-1] and line.strip() and not after_heading and not _HEADING.match(line)
              and not _BULLET.match(line) and not re.search(r"[.!?:;\]\"”»)]$", body[-1])):
            # A sentence wrapped onto the next line goes on there (a heading has no end mark
            # and goes on nowhere).
            body[-1] = f"{body[-1]} {_strip_formatting(line)}"
        else:
            body.append(_strip_formatting(line))
            after_heading = bool(_HEADING.match(line))
    sentences: list[str] = []
    # Lines are split apart first: a bullet or a heading never runs on into the next line.
    for line in body:
        if not line:
            continue
        for a, b in split_sentences(line):
            piece = line[a:b]
            lead = _LEADING_MARKERS.match(piece)
            if lead and sentences:
                # "[1] Next sentence": pysbd cut after the full stop, before the marker.
                sentences[-1] = f"{sentences[-1]} {lead.group(0).strip()}"
                piece = piece[lead.end():].strip()
            if piece:
                sentences.append(piece)
    if references:
        sentences.append("\n".join(references))
    return sentences


def _cited(sentence: str) -> list[int]:
    """The passage numbers a sentence cites, in order, once each: "[1, 2]", "[1][3]", "[2-4]"."""
    numbers: list[int] = []
    for m in _MARKER.finditer(sentence):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            ends = re.split(r"\s*[–-]\s*", part)
            low, high = int(ends[0]), int(ends[-1])
            span = range(low, high + 1) if 0 < high - low < 10 else (low, high)
            numbers.extend(n for n in span if n not in numbers)
    return numbers


def _without_markers(sentence: str) -> str:
    """The sentence's words: markers removed, no space left before punctuation."""
    text = _MARKER_RUN.sub("", sentence)
    text = re.sub(r"\s+([.,;:!?)])", r"\1", text)
    return " ".join(text.split())


# -------------------------------------------------------------------------- facts in text

_SCALES = {"thousand": 1e3, "тыс": 1e3, "million": 1e6, "mln": 1e6, "млн": 1e6, "m": 1e6,
           "billion": 1e9, "bn": 1e9, "млрд": 1e9, "b": 1e9, "trillion": 1e12, "трлн": 1e12}
_NUMERIC_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"
                           r"|(?<![\d.])(\d{1,2})[./](\d{1,2})[./](\d{2,4})(?![\d.]*\d)")
_FIGURE = re.compile(
    r"(?<![\d,.])(\d{1,3}(?:(?:,|[ \u00a0\u202f])\d{3}(?!\d))+(?:\.\d+)?|\d+(?:[.,]\d+)?)"
    r"(?:\s?(thousand|million|billion|trillion|mln|bn|тыс|млн|млрд|трлн)\b|(M|B)\b)?",
    re.IGNORECASE)
_NUMBER_WORDS = dict(zip(
    ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
     "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
     "nineteen", "twenty"), range(21), strict=True))
_NUMBER_WORDS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                      "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12})
# Words that deny: a sentence holding one needs a supporting sentence that holds one too.
_NEGATION = re.compile(r"(?<!\w)(?:not|no|never|none|nobody|nothing|neither|nor|without|cannot"
                       r"|не|нет|ни|никогда|никто|ничего|без)(?!\w)|\w+n[’']t(?!\w)",
                       re.IGNORECASE)
# A word that starts with a letter; a name is one whose first letter is a capital (any
# script's: "Ólafur", "Şahin", "Путин", "Αθήνα"), see :func:`_capitalised`.
# The ``regex`` package's \w: the standard library's leaves out Sinhala's and Tamil's vowel
# signs and cuts their words into pieces (lexical.words says more).
_WORD_START = regex.compile(r"(?<![\w'’-])[^\W\d_][\w'’-]*")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]", re.IGNORECASE)
_WORDS = regex.compile(r"[^\W\d_][\w'’-]*")
# Number words a sentence may write a figure in ("three hundred and forty", "twenty-five"):
# units, tens, and the multipliers. "one", "a" and "an" alone are no figure ("one of the").
_UNITS = {w: v for w, v in _NUMBER_WORDS.items() if 0 < v < 100 and w != "dozen"}
_MULTIPLIERS = {"hundred": 100, "thousand": 1_000, "million": 1_000_000,
                "billion": 1_000_000_000, "trillion": 1_000_000_000_000}
_NUMBER_WORD_RUN = re.compile(
    r"(?<![\w-])(?:(?:an?|"
    + "|".join(sorted([*_UNITS, *_MULTIPLIERS], key=len, reverse=True))
    + r")(?:(?:\s+and\s+|\s*-\s*|\s+)(?=[a-z])|(?![\w-])))+", re.IGNORECASE)


def _capitalised(text: str) -> list[regex.Match[str]]:
    """The words of ``text`` whose first letter is a capital, in any script."""
    return [m for m in _WORD_START.finditer(text) if m.group(0)[0].isupper()]


@lru_cache(maxsize=4096)
def _script(text: str) -> str:
    """The script most of the letters of ``text`` are written in (:func:`script_of`);
    LATIN when it has none."""
    return script_of(text) or "LATIN"


def _word_numbers(text: str) -> list[tuple[str, float]]:
    """Numbers written in words as (as written, value): "three hundred and forty" -> 340,
    "twenty-five" -> 25, "a million" -> 1,000,000, "two three" -> 2 and 3. "one", "a" and
    "an" alone are not read ("one of the", "a day"), nor a multiplier alone ("hundreds")."""
    found: list[tuple[str, float]] = []
    for run in _NUMBER_WORD_RUN.finditer(text):
        groups: list[list[re.Match[str]]] = [[]]
        current = 0  # the value of the group's last hundreds, to tell "twenty-five" from "two three"
        for token in re.finditer(r"[a-z]+", run.group(0), re.IGNORECASE):
            word = token.group(0).lower()
            group = groups[-1]
            last = group[-1].group(0).lower() if group else ""
            if word == "and":
                continue
            if word in ("a", "an") or (last in ("a", "an") and word in _UNITS):
                groups.append([token])  # "a" starts a figure only before a multiplier
                current = 1 if word in ("a", "an") else _UNITS[word]
                continue
            if word in _UNITS:
                value = _UNITS[word]
                if current % 100 and (value >= 10 or current % 10):
                    groups.append([])  # "two three", "twenty thirty": two figures
                    current = 0
                current += value
            elif not group:
                continue  # a multiplier alone multiplies nothing
            else:
                current = 0 if word != "hundred" else (current or 1) * 100
            groups[-1].append(token)
        if re.search(r"\b(?:half|quarter|third)\s+$", text[:run.start()], re.IGNORECASE):
            groups = [g for g in groups if g][1:]  # "half a million": not a million
        for group in groups:
            while group and group[-1].group(0).lower() in ("a", "an"):
                group.pop()
            if not group or all(t.group(0).lower() in ("one", "a", "an") for t in group):
                continue
            found.append((run.group(0)[group[0].start():group[-1].end()],
                          _word_value([t.group(0).lower() for t in group])))
    return found


def _word_value(words: Sequence[str]) -> float:
    """The value of one figure's number words: ["three", "hundred", "forty"] -> 340."""
    total = current = 0
    for word in words:
        if word in ("a", "an"):
            current = 1
        elif word in _UNITS:
            current += _UNITS[word]
        elif word == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _MULTIPLIERS[word]
            current = 0
    return float(total + current)


def _figure_value(figure: str) -> float:
    """"1,200" -> 1200, "1 200" -> 1200, "1,5" -> 1.5 (a decimal comma: not three digits)."""
    figure = re.sub(r"[ \u00a0\u202f]", "", figure)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", figure):
        figure = figure.replace(",", "")
    return float(figure.replace(",", "."))


def _numbers(text: str) -> list[tuple[str, float]]:
    """Every number in ``text`` as (as written, value), in digits or in words
    (:func:`_word_numbers`); a date's parts count one by one."""
    found: list[tuple[str, float]] = []
    for m in _NUMERIC_DATE.finditer(text):
        found.extend((part, float(part)) for part in m.groups() if part)
    text = _NUMERIC_DATE.sub(" ", text)
    for m in _FIGURE.finditer(text):
        value = _figure_value(m.group(1))
        scale = (m.group(2) or m.group(3) or "").lower()
        found.append((m.group(0).strip(), value * _SCALES[scale] if scale else value))
    found.extend(_word_numbers(_FIGURE.sub(" ", text)))
    return found


def _months(text: str) -> set[int]:
    """Months named in ``text``: an English name counts capitalised only ("may" is a verb)."""
    months: set[int] = set()
    for word in _WORDS.findall(text):
        number = month_number(word)
        if number and (word[0].isupper() or _CYRILLIC.match(word[0])):
            months.add(number)
    return months


def _name_key(word: str) -> str:
    """A name's comparable form: lower case, a possessive ("Kazakhstan's") cut off."""
    return word.lower().replace("’", "'").split("'")[0]


def _same_name(a: str, b: str) -> bool:
    """Whether two name keys are one name in another form: equal, or the same but for the
    shorter one's last letter and at most two more letters ("russia"/"russian",
    "ukraine"/"ukrainian", "путин"/"путина", "zelensky"/"zelenskyy"), but not
    "president"/"presidential"; keys of three letters or fewer must be equal ("li", "sco")."""
    if a == b:
        return True
    k = min(len(a), len(b)) - 1
    return k >= 3 and abs(len(a) - len(b)) <= 2 and a[:k] == b[:k]


def _names(sentence: str) -> list[str]:
    """Capitalised words that are neither stop words nor months: the first word of the
    sentence only when the next is capitalised too ("Vladimir Putin said"); alone it is
    more likely capitalised because it opens the sentence ("Prosecutors said")."""
    names: list[str] = []
    matches = _capitalised(sentence)
    for i, m in enumerate(matches):
        word = m.group(0).rstrip("'’-")
        if len(word) < 2 or word.lower() in stopwords() or month_number(word) is not None:
            continue
        if not sentence[:m.start()].strip(" \"'“”«»("):
            follows = matches[i + 1] if i + 1 < len(matches) else None
            if follows is None or sentence[m.end():follows.start()].strip():
                continue
        names.append(word)
    return names


@dataclass(frozen=True, slots=True)
class _Source:
    """What one passage offers the check, computed once per answer."""

    passage: Passage
    spans: tuple[tuple[int, int], ...]
    span_stems: tuple[frozenset[str], ...]
    values: frozenset[float]
    months: frozenset[int]
    name_keys: frozenset[str]
    words: frozenset[str]
    denies: tuple[bool, ...]
    """For each sentence: whether it holds a negation."""
    script: str

    @classmethod
    def of(cls, passage: Passage) -> _Source:
        spans = passage.sentences
        if not spans:
            from .chunking import split_sentences

            spans = tuple((passage.start + a, passage.start + b)
                          for a, b in split_sentences(passage.text))
        # Facts may come from the title and date the prompt shows beside the passage text.
        date = passage.date
        # Read as the sentence is (NFKC, :func:`clean_generated`); quotes stay verbatim.
        facts = _nfkc(f"{passage.title}\n{passage.text}")
        texts = [_nfkc(passage.sentence_text(s)) for s in spans]
        values = {value for _, value in _numbers(facts)}
        values.update(_NUMBER_WORDS[w] for w in re.findall(r"\w+", facts.lower())
                      if w in _NUMBER_WORDS)
        months = _months(facts)
        for m in _NUMERIC_DATE.finditer(facts):
            month = m.group(2) or m.group(5)
            months.add(int(month))
        if date is not None:
            values.update((float(date.day), float(date.year)))
            months.add(date.month)
        return cls(
            passage=passage, spans=spans,
            span_stems=tuple(frozenset(_support_stems(t)) for t in texts),
            values=frozenset(values), months=frozenset(months),
            # Names are compared with the passage's capitalised words only: "Head" is no
            # name because the passage says "headed".
            name_keys=frozenset(_name_key(m.group(0)) for m in _capitalised(facts)),
            words=frozenset(w.lower() for w in _WORDS.findall(facts)),
            denies=tuple(bool(_NEGATION.search(t)) for t in texts),
            script=_script(passage.text))


# A model writes "45 percent" for "45%": both sides read the symbol as its word.
_SYMBOLS = {"%": " percent ", "$": " dollars ", "€": " euros ", "£": " pounds "}


def _support_stems(text: str) -> set[str]:
    """Content-word stems that can show support: numbers and one-letter words are left to
    the fact check."""
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    return {s for s in content_stems(text) if len(s) > 1 and not s.isdigit()}


# ---------------------------------------------------------------------------------- the check


@dataclass(frozen=True, slots=True)
class _Verdict:
    reason: str | None
    support: float = 0.0
    quotes: tuple[tuple[Passage, tuple[int, int]], ...] = ()


def _markers(numbers: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _given(numbers: Sequence[int]) -> str:
    """"[1]–[5]" when the passages are numbered without gaps, else "[1], [3]"."""
    ordered = sorted(numbers)
    if len(ordered) == 1:
        return f"only [{ordered[0]}] was"
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"only [{ordered[0]}]–[{ordered[-1]}] were"
    return "only " + ", ".join(f"[{n}]" for n in ordered) + " were"


def _check_facts(words: str, sources: list[_Source], where: str) -> str | None:
    """Why a number, month or name of ``words`` is not in the cited passages, or None."""
    values = set().union(*(s.values for s in sources))
    for written, value in _numbers(words):
        if not any(abs(value - v) <= 1e-9 * max(1.0, abs(v)) for v in values):
            return f"the number {written} is not in {where}"
    months = set().union(*(s.months for s in sources))
    for month in _months(words) - months:
        name = next(w for w in _WORDS.findall(words) if month_number(w) == month)
        return f"the month {name} is not in {where}"
    scripts = {s.script for s in sources}
    keys = set().union(*(s.name_keys for s in sources))
    lower = set().union(*(s.words for s in sources))
    opening = _WORDS.search(words)
    for name in _names(words):
        if _script(name) not in scripts:
            continue  # a name in another script than the passage: cannot be compared
        if opening and opening.group(0) == name and name.lower() in lower:
            continue  # "Former Minneapolis officer ...": the passage's "former", capitalised
        key = _name_key(name)
        if key in keys or any(_same_name(key, other) for other in keys):
            continue
        return f"the name {name} is not in {where}"
    return None


def _cosines(embedder: Embedder, words: str, sources: list[_Source],
             cache: dict[str, np.ndarray] | None = None) -> list[list[float]]:
    """Cosine similarity of the sentence with each sentence of each cited passage. ``cache``
    keeps the vectors of one answer's passage sentences: its sentences cite the same few."""
    import numpy as np

    cache = {} if cache is None else cache
    texts = [words] + [s.passage.sentence_text(span) for s in sources for span in s.spans]
    missing = list(dict.fromkeys(t for t in texts if t not in cache))
    if missing:
        cache.update(zip(missing, embedder.embed(missing), strict=True))
    vectors = np.stack([cache[t] for t in texts])
    scores = (vectors[1:] @ vectors[0]).tolist()
    out: list[list[float]] = []
    for source in sources:
        out.append([float(x) for x in scores[:len(source.spans)]])
        scores = scores[len(source.spans):]
    return out


def _negated_stems(words: str) -> frozenset[str]:
    """The content stems each negation of ``words`` denies: those after it up to the end of
    its clause (a comma, a semicolon...; "no injuries were reported" -> injuri, report). Empty
    when a negation denies no content word ("it did not.")."""
    stems: set[str] = set()
    for m in _NEGATION.finditer(words):
        clause = re.split(r"[,;:.!?()]|\s[–—-]\s", words[m.end():], maxsplit=1)[0]
        denied = _support_stems(clause)
        if not denied:
            return frozenset()
        stems |= denied
    return frozenset(stems)


def _check_support(words: str, cited: Sequence[int], sources: list[_Source],
                   embedder: Embedder | None, cache: dict[str, np.ndarray]) -> _Verdict:
    """Word support (and similarity) of ``words`` by the cited passages, and each one's quote."""
    wanted = _support_stems(words)
    scripts = {_script(words)} | {s.script for s in sources}
    cross = len(scripts) > 1
    # An embedder counts only for the scripts its languages are written in: an English model
    # finds any two Cyrillic sentences alike.
    if embedder is not None and not all(script_trusted(embedder.languages, script) for script in scripts):
        embedder = None
    cosines = _cosines(embedder, words, sources, cache) if embedder is not None else None
    quotes: list[tuple[Passage, tuple[int, int]]] = []
    covered: set[str] = set()
    best_cosine = 0.0
    denial = False
    # A neighbour in the support window may carry the denial when it holds the negated words:
    # "... from Ostrov, and no injuries were reported" by "No injuries were reported."
    negated = _negated_stems(words)
    for i, source in enumerate(sources):
        if not source.spans:
            return _Verdict(f"[{cited[i]}] has no sentence to quote")
        overlap = [len(wanted & stems_) for stems_ in source.span_stems]
        sims = cosines[i] if cosines is not None else [0.0] * len(overlap)
        # The quote: the sentence sharing most words; among those, one that denies as the
        # sentence does, then the most similar (similarity chooses alone across languages,
        # where no words are shared).
        denies = bool(_NEGATION.search(words))
        best = max(range(len(overlap)),
                   key=lambda j: (overlap[j], source.denies[j] == denies, sims[j], -j))
        if cross and cosines is not None:
            best = max(range(len(sims)), key=lambda j: (sims[j], -j))
        window: set[str] = set()
        for j in range(max(0, best - WINDOW), min(len(overlap), best + WINDOW + 1)):
            window |= source.span_stems[j]
            if negated and source.denies[j] and negated <= source.span_stems[j]:
                denial = True
        share = len(wanted & window) / len(wanted) if wanted else 0.0
        if len(sources) > 1 and not cross and share < CITATION_SUPPORT_MIN:
            return _Verdict(f"[{cited[i]}] does not support it (support {share:.2f})")
        covered |= wanted & window
        # The quoted sentence denies, or a neighbour denies the same words (above): a
        # neighbour's "No injuries were reported" does not vouch for "teams did not evacuate".
        denial = denial or source.denies[best]
        best_cosine = max(best_cosine, sims[best])
        quotes.append((source.passage, source.spans[best]))
    where = _markers(cited)
    negation = _NEGATION.search(words)
    if negation and not denial:
        # Stop words do not count for support, so "did not sue" would pass for "sued".
        return _Verdict(f"the negation “{negation.group(0)}” is not in {where}")
    if cross:
        if embedder is None:
            return _Verdict("cannot check a sentence in another language than its source "
                            "without a multilingual model")
        if best_cosine < CROSS_LANGUAGE_SIMILARITY_MIN:
            return _Verdict(f"{where} does not support it (similarity {best_cosine:.2f})")
        return _Verdict(None, best_cosine, tuple(quotes))
    support = len(covered) / len(wanted) if wanted else 0.0
    if support >= WORD_SUPPORT_MIN:
        return _Verdict(None, support, tuple(quotes))
    if (cosines is not None and best_cosine >= EMBED_SIMILARITY_MIN
            and support >= EMBED_WORD_FLOOR):
        return _Verdict(None, best_cosine, tuple(quotes))
    if cosines is not None:
        return _Verdict(f"{where} does not support it (support {support:.2f}, "
                        f"similarity {best_cosine:.2f})")
    return _Verdict(f"{where} does not support it (support {support:.2f})")


def _check_sentence(sentence: str, sources: dict[int, _Source], embedder: Embedder | None,
                    cache: dict[str, np.ndarray]) -> _Verdict:
    if _SOURCES_PREFIX.match(sentence) or _SOURCES_HEADING.match(sentence.split("\n")[0]) \
            or _REFERENCE_LINE.match(sentence):
        return _Verdict("a list of sources, not a sentence of the answer")
    cited = _cited(sentence)
    words = _without_markers(sentence)
    if not cited:
        return _Verdict("no citation")
    if not _WORDS.search(words):
        return _Verdict("no words, only citation markers")
    unknown = [n for n in cited if n not in sources]
    if unknown:
        given = _given(list(sources)) if sources else "no passages were"
        return _Verdict(f"cites {_markers(unknown)}, but {given} given")
    cited_sources = [sources[n] for n in cited]
    reason = _check_facts(words, cited_sources, _markers(cited))
    if reason:
        return _Verdict(reason)
    return _check_support(words, cited, cited_sources, embedder, cache)


def check_answer(text: str, passages: Sequence[Passage], *,
                 embedder: Embedder | None = None) -> CheckedAnswer:
    """Check every sentence of a model's ``text`` against the ``passages`` it was given.

    Kept sentences come back with citations renumbered from 1 in order of first appearance,
    one per quoted passage sentence; dropped ones with the reason.
    """
    sources = {p.n: _Source.of(p) for p in passages}
    citations: list[Citation] = []
    numbers: dict[tuple[int, int, int], int] = {}
    kept: list[CheckedSentence] = []
    dropped: list[DroppedSentence] = []
    cache: dict[str, np.ndarray] = {}
    for sentence in split_generated(text):
        verdict = _check_sentence(sentence, sources, embedder, cache)
        if verdict.reason is not None:
            dropped.append(DroppedSentence(sentence=sentence, reason=verdict.reason))
            continue
        ns: list[int] = []
        for passage, (start, end) in verdict.quotes:
            key = (passage.n, start, end)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                citations.append(Citation(
                    n=numbers[key], doc_id=passage.doc_id, title=passage.title,
                    date=passage.date, url=passage.url,
                    quote=passage.sentence_text((start, end)), start=start, end=end,
                    score=verdict.support, page=passage.page))
            if numbers[key] not in ns:
                ns.append(numbers[key])
        kept.append(CheckedSentence(text=_without_markers(sentence), citations=tuple(ns),
                                    support=verdict.support))
    answer = " ".join(f"{k.text} {_markers(k.citations)}" for k in kept)
    return CheckedAnswer(text=answer, citations=tuple(citations), dropped=tuple(dropped),
                         kept=tuple(kept))
