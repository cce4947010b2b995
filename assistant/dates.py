"""Dates, in one place: the month table, dates found in text, a user's date parsed, the period
a question names.

- :data:`MONTH_NAMES`: the one table of month names (English full names and abbreviations,
  Russian in its six cases, Kazakh nominative and locative), from which :data:`MONTH` (the
  month regex every pattern here uses) and :func:`month_number` are built.
- :func:`date_candidates` / :func:`find_date`: dates written in a release's text (cleaning
  keeps a dateline; readers date a release by it).
- :func:`dateline_at` / :func:`is_dateline`: the one definition of a dateline (an optional
  place, a date, an optional bracketed place or dash), shared by the readers (a release's
  date), the sentence splitter (a dateline is a span of its own) and the answerer (a
  dateline alone is never quoted).
- :func:`parse_filter_date`: a user's ``YYYY-MM-DD`` filter (CLI, web, API), strict: a
  :class:`~assistant.errors.QueryError` on anything else.
- :func:`parse_metadata_date`: a record's date field, lenient: None when it is no date.
- :func:`read_period`: the period a question names ("in March 2022", "в 2019 году",
  "2016 жылғы қараша", "last year").

Every white-space run in the patterns is possessive (``\\s++``) or guarded by ``(?<!\\s)``,
so no pattern re-splits a long run between two quantifiers: matching stays linear in the
text's length on adversarial input (tests/test_security.py times it).

Why this module is long: it is the one definition of every date the pipeline reads (the
month table, dates in a release, its dateline, a user's date, a question's period), and the
patterns share the table and the linear-time rules above; split, they would drift apart.

dateparser is imported only inside the functions that need it, so ``import assistant.dates``
is instant. This module imports nothing from the pipeline (only :mod:`assistant.errors`).
"""

from __future__ import annotations

import bisect
import calendar
import contextlib
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .errors import QueryError

__all__ = [
    "DATE_WINDOW",
    "MONTH",
    "MONTH_NAMES",
    "RELATIVE_PERIOD",
    "DateCandidate",
    "Dateline",
    "Period",
    "date_candidates",
    "date_in_name",
    "dateline_at",
    "find_date",
    "is_dateline",
    "month_number",
    "parse_filter_date",
    "parse_metadata_date",
    "read_period",
]

# --------------------------------------------------------------------------- the month table

# Language -> twelve tuples (January first) of the forms of each month's name, lower case.
MONTH_NAMES: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (
        ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
        ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
        ("september", "sept", "sep"), ("october", "oct"), ("november", "nov"),
        ("december", "dec"),
    ),
    # Nominative, genitive, dative, instrumental (with ё and е), prepositional.
    "ru": (
        ("январь", "января", "январю", "январём", "январем", "январе"),
        ("февраль", "февраля", "февралю", "февралём", "февралем", "феврале"),
        ("март", "марта", "марту", "мартом", "марте"),
        ("апрель", "апреля", "апрелю", "апрелем", "апреле"),
        ("май", "мая", "маю", "маем", "мае"),
        ("июнь", "июня", "июню", "июнем", "июне"),
        ("июль", "июля", "июлю", "июлем", "июле"),
        ("август", "августа", "августу", "августом", "августе"),
        ("сентябрь", "сентября", "сентябрю", "сентябрём", "сентябрем", "сентябре"),
        ("октябрь", "октября", "октябрю", "октябрём", "октябрем", "октябре"),
        ("ноябрь", "ноября", "ноябрю", "ноябрём", "ноябрем", "ноябре"),
        ("декабрь", "декабря", "декабрю", "декабрём", "декабрем", "декабре"),
    ),
    # Nominative ("30 қараша 2016") and locative ("қарашада", in November).
    "kk": (
        ("қаңтар", "қаңтарда"), ("ақпан", "ақпанда"), ("наурыз", "наурызда"),
        ("сәуір", "сәуірде"), ("мамыр", "мамырда"), ("маусым", "маусымда"),
        ("шілде", "шілдеде"), ("тамыз", "тамызда"), ("қыркүйек", "қыркүйекте"),
        ("қазан", "қазанда"), ("қараша", "қарашада"), ("желтоқсан", "желтоқсанда"),
    ),
}

_MONTH_BY_NAME: dict[str, int] = {
    form: number
    for months in MONTH_NAMES.values()
    for number, forms in enumerate(months, start=1)
    for form in forms
}


def month_number(name: str) -> int | None:
    """1-12 for a month's name in any form of the table (case and a final dot ignored).

    >>> month_number("Sept."), month_number("ноября"), month_number("Қараша"), month_number("x")
    (9, 11, 11, None)
    """
    return _MONTH_BY_NAME.get(name.strip().rstrip(".").lower())


def _trie_pattern(words: list[str]) -> str:
    """One regex for a set of words as a trie ("jan(?:uary)?"): shared prefixes are tried
    once, and a longer word is preferred to its prefix."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        alternation = "|".join(branches)
        if "" in node:
            return f"(?:{alternation})?"
        return alternation if len(branches) == 1 else f"(?:{alternation})"

    return emit(trie)


# Any month's name in any language and form, with an optional abbreviation dot. Use it with
# re.IGNORECASE; the patterns around it say where a name may end.
MONTH = rf"(?:{_trie_pattern(sorted(_MONTH_BY_NAME))})\.?"
_MONTH_WORD = re.compile(MONTH, re.IGNORECASE)

# --------------------------------------------------------------------------- dates in text

_DAY = r"(?:[12]\d|3[01]|0?[1-9])"
_YEAR = r"(?:1[89]\d\d|2\d\d\d)"

# Every run of white space (or dashes) below is possessive (``\s++``): what follows it never
# starts with white space, so taking the whole run once finds the same dates, and a long run
# is never re-split. "\s*(?:ж\.)?\s+" around the year took 45 s on a year, 20,000 spaces and
# a word: the two quantifiers tried every way to share the run (quadratic in its length).
_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # 2016-11-30, 2022-06-24T17:30:00Z
    ("iso", re.compile(rf"(?<!\d)(?P<y>{_YEAR})-(?P<m>[01]\d)-(?P<d>[0-3]\d)(?!\d)")),
    # 30 November 2016, 30 ноября 2016 г., 30 қараша 2016 ж., 3rd of March 2019, 16-Oct-2018
    ("dmy", re.compile(
        rf"(?<![\w.])(?P<d>{_DAY})(?:st|nd|rd|th)?(?:\s++of)?[\s-]++(?P<m>{MONTH}),?[\s-]++"
        rf"(?P<y>{_YEAR})(?!\d)(?:\s*+(?:г\.|года\b|ж\.|жылы\b))?",
        re.IGNORECASE)),
    # October 16, 2018
    ("mdy", re.compile(
        rf"(?<!\w)(?P<m>{MONTH})\s++(?P<d>{_DAY})(?:st|nd|rd|th)?,?\s++(?P<y>{_YEAR})(?!\d)",
        re.IGNORECASE)),
    # Kazakh order: 2016 жылғы 30 қараша. The optional word takes the space before it, so
    # one run of spaces is matched by one quantifier ("\s*X?\s+" let two share it).
    ("ydm", re.compile(
        rf"(?<!\d)(?P<y>{_YEAR})(?:\s*+(?:ж\.|жылғы|жылы))?\s++(?P<d>{_DAY})\s++(?P<m>{MONTH})",
        re.IGNORECASE)),
    # 30.11.2016, 30/11/2016 (day first, as in every country of the archive but the US)
    ("num", re.compile(
        rf"(?<![\d.])(?P<d>\d{{1,2}})(?P<sep>[./])(?P<m>\d{{1,2}})(?P=sep)(?P<y>{_YEAR})(?!\d)")),
)

DATE_WINDOW = 600
"""Characters at the start of a text searched for its date: releases state it up front, and
dates further down are usually about something else."""
_NAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_.]([01]\d)[-_.]([0-3]\d)(?!\d)")


@dataclass(frozen=True, slots=True)
class DateCandidate:
    """A string that looks like a date; ``parts`` are (day, month, year) as written."""

    start: int
    end: int
    kind: str
    text: str
    day: str
    month: str
    year: str


def date_candidates(text: str) -> list[DateCandidate]:
    """Date-looking spans of ``text`` in reading order (not yet validated).

    >>> [c.text for c in date_candidates("Tuesday, October 16, 2018 and 30.11.2016")]
    ['October 16, 2018', '30.11.2016']
    """
    found: list[DateCandidate] = []
    # Spans taken by the patterns before, sorted and disjoint: an overlap is found by
    # bisection (a text of many dates made a scan of all of them per date quadratic).
    taken: list[tuple[int, int]] = []
    for kind, pattern in _DATE_PATTERNS:
        starts = [start for start, _ in taken]
        new: list[tuple[int, int]] = []
        for m in pattern.finditer(text):
            # The taken span starting last before this match ends is the one that reaches
            # furthest (disjoint spans end in the same order as they start).
            before = bisect.bisect_left(starts, m.end())
            if before and taken[before - 1][1] > m.start():
                continue
            new.append((m.start(), m.end()))
            found.append(DateCandidate(m.start(), m.end(), kind, m.group(0),
                                       m.group("d"), m.group("m"), m.group("y")))
        taken = sorted(taken + new)  # one pattern's matches never overlap each other
    return sorted(found, key=lambda c: c.start)


def _plausible(day: dt.date) -> dt.date | None:
    return day if 1900 <= day.year <= dt.date.today().year + 1 else None


def find_date(
    text: str, *, window: int = DATE_WINDOW, header_only: bool = False
) -> dt.date | None:
    """The first plausible date in the first ``window`` characters of ``text``.

    ``header_only`` keeps only a dateline (:func:`dateline_at`) that opens one of those
    lines ("Tuesday, October 16, 2018", "January 23, 2019 (SAINT PAUL) -", "Astana, 30
    November 2016"): not a date mentioned in a sentence.

    >>> find_date("Tuesday, October 16, 2018\\n\\nThe Attorney General ...")
    datetime.date(2018, 10, 16)
    >>> find_date("Астана, 2016 жылғы 30 қараша")
    datetime.date(2016, 11, 30)
    """
    head = text[:window]
    if header_only:
        line_start = 0
        while line_start < len(head):
            if (dateline := dateline_at(head, line_start)) is not None:
                return dateline.date
            line_start = head.find("\n", line_start) + 1
            if not line_start:
                break
        return None
    for candidate in date_candidates(head):
        if (day := _candidate_date(candidate)) is not None:
            return day
    return None


def _candidate_date(candidate: DateCandidate) -> dt.date | None:
    """The plausible date a candidate writes, or None (31 February, the year 1066)."""
    d, y = int(candidate.day), int(candidate.year)
    if candidate.kind in {"iso", "num"}:
        m: int | None = int(candidate.month)
        if candidate.kind == "num" and int(candidate.month) > 12 >= d:  # 10/16/2018
            d, m = int(candidate.month), d
    else:
        m = month_number(candidate.month)  # a name from the table, in any language
    day: dt.date | None = None
    if m is not None:
        with contextlib.suppress(ValueError):
            day = dt.date(y, m, d)
    return _plausible(day) if day is not None else None


def date_in_name(name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` (or ``_``/``.`` separated) date in a file name.

    >>> date_in_name("2018-11-22-abc.pdf")
    datetime.date(2018, 11, 22)
    """
    match = _NAME_DATE.search(name)
    if not match:
        return None
    try:
        return _plausible(dt.date(*(int(part) for part in match.groups())))
    except ValueError:
        return None


# --------------------------------------------------------------------------- datelines


@dataclass(frozen=True, slots=True)
class Dateline:
    """A place-and-date line at ``text[start:end]`` ("Astana, 30 November 2016", "May 6,
    2020 (SAINT PAUL) —", "Нур-Султан, 5 января 2020 г."): the date it states."""

    start: int
    end: int
    date: dt.date


# A dateline is looked for in this much of its line only, so one look costs the same on any
# text, and looking at every line start stays linear in the text's length.
_DATELINE_REACH = 160
# The place before the date: a few capitalised words ("Astana.", "Нур-Султан,", "(Kyiv,",
# "Tuesday,"), at most this long.
_PLACE_CHARS = 60
_PLACE_CONNECTORS = frozenset({"of", "de", "la", "del", "da"})
# What may follow the date inside the dateline: a time (", 12:34 PM"), a place in brackets
# ("(SAINT PAUL)", "[SAINT PAUL]"), the bracket a "(Kyiv, ..." opened, a dash (the archives
# use four kinds), colon or full stop. Every repeat is bounded: linear on any run.
_DATELINE_TAIL = re.compile(
    r"(?:,?[ \t]{1,8}\d{1,2}:\d\d(?:[ \t]{0,4}[AaPp]\.?[Mm]\.?)?)?"
    r"(?:[ \t]{0,8}(?:\([^()\n]{1,40}\)|\[[^\[\]\n]{1,40}\]))?(?:[ \t]{0,8}\))?"
    r"(?:[ \t]{0,8}(?:[—–―-]{1,2}|[:.|]))?")
# A day range before the date ("4th – 6th May, 2025") stands where a place would.
_DAY_RANGE = re.compile(r"\(?\d{1,2}(?:st|nd|rd|th)?[ \t]{0,4}[—–-][ \t]{0,4}")
_OPENING = "\"'“‘«„("


def dateline_at(text: str, start: int = 0) -> Dateline | None:
    """The dateline that opens ``text`` at ``start`` (after white space), or None.

    A dateline is an optional place (a few capitalised words ending in a comma, full stop
    or colon, or any capitalised words when the date ends the line), a date in any form
    :func:`date_candidates` knows, then optionally a place in brackets and a dash; what
    follows on its line is nothing, or a sentence starting with a capital letter. "On
    December 14, 2018, the court ..." and "Today, 7 June 2025, marks ..." are sentences,
    not datelines; so is a date followed by text in a script without capitals (it cannot
    be told from a sentence that starts with a date).

    >>> text = "Astana. November 6, 2017 The Prosecutor General met ..."
    >>> found = dateline_at(text)
    >>> text[found.start:found.end], found.date
    ('Astana. November 6, 2017', datetime.date(2017, 11, 6))
    >>> dateline_at("On December 14, 2018, the court ruled.") is None
    True
    """
    while start < len(text) and text[start].isspace():
        start += 1
    line_end = text.find("\n", start, start + _DATELINE_REACH)
    line = text[start: line_end if line_end >= 0 else start + _DATELINE_REACH]
    # Cheap refusal first: a dateline has a digit near its start, most lines have none.
    if not any(ch.isdigit() for ch in line[:_PLACE_CHARS + 12]):
        return None
    candidates = date_candidates(line)
    if not candidates or candidates[0].start > _PLACE_CHARS:
        return None
    first = candidates[0]
    tail = _DATELINE_TAIL.match(line, first.end)
    end = tail.end() if tail else first.end
    rest = line[end:].lstrip(" \t")
    alone = not rest
    if rest:
        if rest[0] in _OPENING:
            rest = rest[1:]
        if not rest or not rest[0].isupper():
            return None
    if not _place(line[:first.start], alone=alone):
        return None
    day = _candidate_date(first)
    if day is None:
        return None
    end = len(line[:end].rstrip())
    return Dateline(start, start + end, day)


def is_dateline(sentence: str) -> bool:
    """Whether ``sentence`` is a dateline and nothing else (an answer never quotes one).

    >>> is_dateline("27 November 2017"), is_dateline("27 November 2017 The council met.")
    (True, False)
    """
    found = dateline_at(sentence)
    return found is not None and not sentence[found.end:].strip()


def _place(prefix: str, *, alone: bool) -> bool:
    """Whether ``prefix`` (what precedes the date on its line) is a dateline's place: nothing,
    a bracket, or a few capitalised words; ending in a comma, full stop or colon unless
    the date ends the line ("Colombo 27.01.2019")."""
    body = prefix.strip()
    if _DAY_RANGE.fullmatch(prefix):
        return True
    if body.startswith("("):
        body = body[1:].lstrip()
    if not body:
        return True
    if len(body) > _PLACE_CHARS:
        return False
    ended = body[-1] in ",.:;—–-|"
    if not (ended or alone):
        return False
    words = body.rstrip(",.:;—–-| ").replace(",", " ").split()
    return 0 < len(words) <= 6 and all(
        word[0].isupper() or word in _PLACE_CONNECTORS for word in words)


# --------------------------------------------------------------------------- a user's date

def parse_filter_date(value: object, name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` filter (a web box, an API field, a CLI option); empty means no
    filter. Strict: anything else is a :class:`QueryError` naming the field.

    >>> parse_filter_date(" 2021-03-01 ", "since")
    datetime.date(2021, 3, 1)
    """
    if value is not None and not isinstance(value, str):  # a program's call can send anything
        raise QueryError(f"{name}: expected a date like 2021-03-01")
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name}: {value!r} is not a date like 2021-03-01") from None


def parse_metadata_date(value: str | None) -> dt.date | None:
    """A record's date field: ``2018-10-16``, ``2022-06-24T17:30:00Z``, ``16 Oct 2018``,
    ``16-Oct-18`` ...; None when it is not a plausible date (never an error: a bad field
    leaves the release undated, and its text may still date it).

    >>> parse_metadata_date("2022-06-24T17:30:00Z")
    datetime.date(2022, 6, 24)
    """
    if not value or not value.strip():
        return None
    value = value.strip()
    if re.match(r"\d{4}-\d\d-\d\d(?:$|[T ])", value):
        try:
            return _plausible(dt.date.fromisoformat(value[:10]))
        except ValueError:
            return None
    if found := find_date(value, window=len(value)):
        return found
    return _dateparser(value)


def _dateparser(value: str) -> dt.date | None:
    import dateparser

    settings: dict[str, Any] = {
        "STRICT_PARSING": True, "REQUIRE_PARTS": ["day", "month", "year"],
        "DATE_ORDER": "DMY", "PREFER_LOCALE_DATE_ORDER": False,
    }
    try:
        parsed = dateparser.parse(value, languages=None, settings=settings)
    except Exception:  # dateparser raises on some odd inputs instead of returning None
        return None
    return _plausible(parsed.date()) if parsed else None


# --------------------------------------------------------------------------- a question's period

_Q_YEAR = r"(?:19|20)\d{2}"
_Q_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_KK_YEAR_WORD = r"(?:ж\.|жылғы|жылы)"
# Runs of white space are possessive (``\s++``) throughout: what follows one never starts
# with white space, so the run is taken whole, once, and never re-split between two
# quantifiers (that made "2019 " x 10,000 take 25-45 s).
# A single date, most specific first (alternation order matters). The Kazakh order ("2016
# жылғы 30 қараша", "2016 жылы қарашада") needs its year word, which ends the first run of
# spaces, so no run is shared by two quantifiers there either.
_DATE = (rf"(?:{_Q_DAY}\s++{MONTH},?\s++{_Q_YEAR}|{MONTH}\s++{_Q_DAY},?\s++{_Q_YEAR}"
         rf"|{_Q_YEAR}\s*+{_KK_YEAR_WORD}\s++(?:{_Q_DAY}\s++)?{MONTH}"
         rf"|\d{{1,2}}[./]\d{{1,2}}[./]{_Q_YEAR}|{_Q_YEAR}-\d{{2}}-\d{{2}}|{MONTH}\s++{_Q_YEAR}|{_Q_YEAR})"
         rf"(?:\s*+(?:года|году|год|г\.|жылы|жылғы|ж\.))?")
_FLAGS = re.IGNORECASE | re.UNICODE

_RANGE = re.compile(
    rf"\b(?:between|from|с|со|между)\s++(?P<a>{_DATE})\s++(?:and|to|until|till|through|по|до|и)\s++"
    rf"(?P<b>{_DATE})|\b(?P<c>{_Q_YEAR})\s*+[-–—]\s*+(?P<d>{_Q_YEAR})\b", _FLAGS)
_AFTER = re.compile(rf"\b(?:since|after|from|starting|после|начиная\s++с|с)\s++(?P<a>{_DATE})", _FLAGS)
_BEFORE = re.compile(rf"\b(?:before|until|till|prior\s++to|by|до|раньше)\s++(?P<a>{_DATE})", _FLAGS)
_AT = re.compile(rf"(?<![\w-])(?P<a>{_DATE})(?![\w-])", _FLAGS)
_MONTH_YEAR = re.compile(rf"{MONTH}\s++{_Q_YEAR}", _FLAGS)
# Kazakh year-month-day order, rewritten to day-month-year before parsing.
_KK_ORDER = re.compile(rf"(?P<y>{_Q_YEAR})\s*+{_KK_YEAR_WORD}\s++(?:(?P<d>{_Q_DAY})\s++)?(?P<m>{MONTH})",
                       _FLAGS)
# Kazakh marks "in" with a suffix, not a word before the date: "2019 жылы" (in 2019),
# "қарашада" (in November). Such a phrase is a period as "in 2019" is.
_KK_IN = re.compile(rf"жылы|(?:{'|'.join(forms[1] for forms in MONTH_NAMES['kk'])})$", _FLAGS)

# A cue word right before a date ("in 2019"). Searched only just before each date (see
# _cue_before): searching the whole question up to every date was quadratic in its length.
_CUE = re.compile(r"\b(?:in|on|during|throughout|early|late|mid|в|во|на|за)[\s-]++$", _FLAGS)
_CUE_WORD_CHARS = len("throughout")
# "the 2010 statements", "which 2001 meetings": a year naming the releases themselves.
# Matched at the date's end with match(text, pos), not on a copy of the rest of the text;
# "(?<!\s)" (a date ends in no white space) keeps even a search from scanning a run of
# spaces again from each of them.
_RELEASES_AFTER = re.compile(r"(?<!\s)\s++(?:press\s++)?(?:releases?|statements?|announcements?|meetings?|"
                             r"заявлени\w*|релиз\w*|встреч\w*)\b", _FLAGS)
# A date phrase that names a day. In the second form the character before the white space
# is not itself white space ((?<!\s\s)): it starts the run, so a long run is scanned from
# its start only, not from each of its characters; a match exists exactly when one did.
_DAY_PRECISE = re.compile(r"\d{1,2}(?:st|nd|rd|th)?\s+\D|\D(?<!\s\s)\s++\d{1,2}(?:st|nd|rd|th)?,?\s++\d{4}"
                          r"|\d[./-]\d", _FLAGS)

RELATIVE_PERIOD = re.compile(
    r"\b(?P<which>last|this|past|previous|прошл\w*|этом|текущем|последн\w*)\s++(?P<unit>year|month|год\w*|месяц\w*)\b",
    _FLAGS)
"""A period relative to the archive's newest release: "last year", "в этом месяце"."""
# The year-word after a date ("2019 года"); "(?<!\s)" starts the match where the white space
# does, so a run is scanned once, not from each of its characters.
_YEAR_WORD_END = re.compile(r"(?<!\s)\s*+(?:года|году|год|г\.|жылы|жылғы|ж\.)$", _FLAGS)
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b", _FLAGS)
_YEAR_ONLY = re.compile(_Q_YEAR)
_NAMES_DAY = re.compile(r"\d{1,2}\D++\d{4}|\d{4}-\d{2}-\d{2}|[./]")
_ENGLISH = ("January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December")


@dataclass(frozen=True, slots=True)
class Period:
    """A closed or half-open range of publication dates named by a question."""

    since: dt.date | None
    until: dt.date | None
    phrase: str
    """The words of the question that named it, as written."""

    def describe(self) -> str:
        if self.since and self.until:
            return (f"releases of {self.since.isoformat()}" if self.since == self.until else
                    f"releases from {self.since.isoformat()} to {self.until.isoformat()}")
        if self.since:
            return f"releases from {self.since.isoformat()} on"
        if self.until:
            return f"releases up to {self.until.isoformat()}"
        return "all releases"


def read_period(question: str, anchor: dt.date, *, events: bool = False) -> Period | None:
    """The period ``question`` names, relative periods counted from ``anchor``.

    ``events``: the question asks for every release about something that happened, so a
    month and year name when it happened, a period even without "in".

    >>> read_period("Что было в марте 2022?", dt.date(2022, 6, 30)).until
    datetime.date(2022, 3, 31)
    >>> read_period("2016 жылы қарашада не болды?", dt.date(2022, 6, 30)).since
    datetime.date(2016, 11, 1)
    """
    if m := _RANGE.search(question):
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("c"), m.group("d"))
        first, last = _span(a), _span(b)
        if first and last:
            return Period(first[0], last[1], m.group(0).strip())
    if (m := _AFTER.search(question)) and (span := _span(m.group("a"))):
        # "after March 2022" starts when March ends; "since"/"from" include it.
        inclusive = not re.match(r"after|после", m.group(0), _FLAGS)
        start = span[0] if inclusive else span[1] + dt.timedelta(days=1)
        return Period(start, None, m.group(0).strip())
    if (m := _BEFORE.search(question)) and (span := _span(m.group("a"))):
        inclusive = re.match(r"by|until|till|до", m.group(0), _FLAGS) is not None
        end = span[1] if inclusive else span[0] - dt.timedelta(days=1)
        return Period(None, end, m.group(0).strip())
    for m in _AT.finditer(question):
        # A month or a year alone is a publication period only after "in", "during" ...:
        # "the 2019 data breach" or "Budget 2016" name what a release is about, and the
        # release may well be from another year. A full date is taken as it is.
        phrase = m.group("a").strip()
        whole_day = bool(_DAY_PRECISE.search(phrase))
        month = events and (_MONTH_YEAR.fullmatch(phrase) or _KK_ORDER.fullmatch(phrase))
        if not (whole_day or month or _cue_before(question, m.start()) or _KK_IN.search(phrase)
                or _RELEASES_AFTER.match(question, m.end())):
            continue
        if span := _span(m.group("a")):
            return Period(span[0], span[1], m.group(0).strip())
    # After the dates the question names: in "the talks in February 2022 ... grown over the
    # past year", the past year is the talks', not the archive's.
    if m := RELATIVE_PERIOD.search(question):
        return _relative(m, anchor)
    return None


def _cue_before(text: str, end: int) -> bool:
    """A cue word ("in", "during", "в" ...) and white space or dashes end ``text[:end]``.

    Looks back over the run of spaces and dashes before ``end`` and the few characters of a
    cue word before it, so a question's dates cost their own length, not the question's."""
    start = end
    while start and (text[start - 1].isspace() or text[start - 1] == "-"):
        start -= 1
    # ``\b`` at ``pos`` sees the character before it, and ``$`` matches at ``endpos``.
    return start < end and _CUE.search(text, max(0, start - _CUE_WORD_CHARS), end) is not None


def _relative(m: re.Match[str], anchor: dt.date) -> Period:
    which = m.group("which").lower()
    year_unit = m.group("unit").lower().startswith(("year", "год"))
    current = which.startswith(("this", "этом", "текущ"))
    if year_unit:
        year = anchor.year if current else anchor.year - 1
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), m.group(0))
    month_start = anchor.replace(day=1)
    if not current:
        month_start = (month_start - dt.timedelta(days=1)).replace(day=1)
    last_day = calendar.monthrange(month_start.year, month_start.month)[1]
    return Period(month_start, month_start.replace(day=last_day), m.group(0))


def _span(phrase: str) -> tuple[dt.date, dt.date] | None:
    """First and last day of the day, month or year a date phrase names."""
    text = phrase.strip()
    if kk := _KK_ORDER.fullmatch(text):
        text = " ".join(p for p in (kk.group("d"), kk.group("m"), kk.group("y")) if p)
    text = _YEAR_WORD_END.sub("", text)
    text = _ORDINAL.sub(r"\1", text)
    if _YEAR_ONLY.fullmatch(text):
        year = int(text)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    has_day = bool(_NAMES_DAY.search(text)) and not _MONTH_YEAR.fullmatch(text)
    text = _english_months(text)
    parsed = _parse(text if has_day else f"1 {text}")
    if parsed is None:
        return None
    if has_day:
        return parsed, parsed
    last = calendar.monthrange(parsed.year, parsed.month)[1]
    return parsed.replace(day=1), parsed.replace(day=last)


def _english_months(text: str) -> str:
    """Month names of any language and case in English ("в марте" -> "March", "қарашада" ->
    "November"), which dateparser reads in every form."""
    def swap(m: re.Match[str]) -> str:
        number = month_number(m.group(0))
        return _ENGLISH[number - 1] if number else m.group(0)

    return _MONTH_WORD.sub(swap, text)


@lru_cache(maxsize=512)
def _parse(text: str) -> dt.date | None:
    import dateparser

    parsed = dateparser.parse(text, languages=["en", "ru"],
                              settings={"PREFER_DAY_OF_MONTH": "first", "DATE_ORDER": "DMY"})
    return parsed.date() if parsed else None
