"""Reading a question before retrieval: the period it names, whether it wants the latest,
and what a follow-up refers to.

"in March 2022", "on 24 February 2022", "between 2019 and 2021", "в 2019 году", "last year",
"the latest": a newsroom's questions name dates all the time, and a passage about the right
subject from the wrong year is a wrong answer. The period becomes a filter on publication
date; relative periods ("last year") count from the newest release in the archive, not
from today, because an archive stops somewhere and "last year" means its last year.

Phrases are found by patterns (English and Russian), and the dates inside them are parsed by
dateparser, which knows month names, abbreviations and numeric orders in both languages.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .documents import Turn

_MONTH_EN = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
             r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_MONTH_RU = (r"январ\w*|феврал\w*|март\w*|апрел\w*|ма[йяе]|июн\w*|июл\w*|август\w*|сентябр\w*"
             r"|октябр\w*|ноябр\w*|декабр\w*")
_MONTH = rf"(?:{_MONTH_EN}|{_MONTH_RU})\.?"
_YEAR = r"(?:19|20)\d{2}"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Runs of white space are possessive (``\s++``) throughout: what follows one never starts
# with white space, so the run is taken whole, once, and never re-split between two
# quantifiers (that made "2019 " x 10,000 take 25-45 s).
# A single date, most specific first (alternation order matters).
_DATE = (rf"(?:{_DAY}\s++{_MONTH},?\s++{_YEAR}|{_MONTH}\s++{_DAY},?\s++{_YEAR}"
         rf"|\d{{1,2}}[./]\d{{1,2}}[./]{_YEAR}|{_YEAR}-\d{{2}}-\d{{2}}|{_MONTH}\s++{_YEAR}|{_YEAR})"
         rf"(?:\s*+(?:года|году|год|г\.))?")
_FLAGS = re.IGNORECASE | re.UNICODE

_RANGE = re.compile(
    rf"\b(?:between|from|с|со|между)\s++(?P<a>{_DATE})\s++(?:and|to|until|till|through|по|до|и)\s++"
    rf"(?P<b>{_DATE})|\b(?P<c>{_YEAR})\s*+[-–—]\s*+(?P<d>{_YEAR})\b", _FLAGS)
_AFTER = re.compile(rf"\b(?:since|after|from|starting|после|начиная\s++с|с)\s++(?P<a>{_DATE})", _FLAGS)
_BEFORE = re.compile(rf"\b(?:before|until|till|prior\s++to|by|до|раньше)\s++(?P<a>{_DATE})", _FLAGS)
_AT = re.compile(rf"(?<![\w-])(?P<a>{_DATE})(?![\w-])", _FLAGS)
_MONTH_YEAR = re.compile(rf"{_MONTH}\s++{_YEAR}", _FLAGS)

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

_RELATIVE = re.compile(
    r"\b(?P<which>last|this|past|previous|прошл\w*|этом|текущем|последн\w*)\s++(?P<unit>year|month|год\w*|месяц\w*)\b",
    _FLAGS)
_LATEST = re.compile(
    r"\b(?:latest|most\s++recent|newest|last\s++(?:release|statement|announcement|time|meeting|press)"
    r"|последн\w*|новейш\w*|свеж\w*)\b", _FLAGS)
# The year-word after a date ("2019 года"); "(?<!\s)" starts the match where the white space
# does, so a run is scanned once, not from each of its characters.
_YEAR_WORD_END = re.compile(r"(?<!\s)\s*+(?:года|году|год|г\.)$", _FLAGS)
_ORDINAL = re.compile(r"(\d)(st|nd|rd|th)\b", _FLAGS)
_YEAR_ONLY = re.compile(_YEAR)
_NAMES_DAY = re.compile(r"\d{1,2}\D++\d{4}|\d{4}-\d{2}-\d{2}|[./]")
_MONTH_RU_WORD = re.compile(_MONTH_RU, _FLAGS)

_RU_MONTHS = {"январ": "января", "феврал": "февраля", "март": "марта", "апрел": "апреля",
              "ма": "мая", "июн": "июня", "июл": "июля", "август": "августа",
              "сентябр": "сентября", "октябр": "октября", "ноябр": "ноября", "декабр": "декабря"}


@dataclass(frozen=True, slots=True)
class Period:
    """A closed or half-open range of publication dates named by a question."""

    since: dt.date | None
    until: dt.date | None
    phrase: str
    """The words of the question that named it, as written."""

    def describe(self) -> str:
        from .documents import Filters

        return Filters(self.since, self.until).describe()


@dataclass(frozen=True, slots=True)
class QueryDates:
    period: Period | None
    latest: bool
    """The question asks for the newest matching release ("the latest", "most recent")."""


def read_dates(question: str, *, newest: dt.date | None = None, events: bool = False) -> QueryDates:
    """The period and recency a question asks for. ``newest`` is the archive's newest release
    date, the anchor of relative periods (today when unknown).

    ``events``: the question asks for every release about something that happened ("the
    releases about the President's June 2025 visit"), so a month and year name when it
    happened, and releases come out as things happen: they are a period even without "in"."""
    return QueryDates(period=_period(question, newest or dt.date.today(), events=events),
                      latest=bool(_LATEST.search(question)) and not _RELATIVE.search(question))


def _period(question: str, anchor: dt.date, *, events: bool = False) -> Period | None:
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
    if m := _RELATIVE.search(question):
        return _relative(m, anchor)
    for m in _AT.finditer(question):
        # A month or a year alone is a publication period only after "in", "during" ...:
        # "the 2019 data breach" or "Budget 2016" name what a release is about, and the
        # release may well be from another year. A full date is taken as it is.
        whole_day = bool(_DAY_PRECISE.search(m.group("a")))
        month = events and _MONTH_YEAR.fullmatch(m.group("a").strip())
        if not (whole_day or month or _cue_before(question, m.start())
                or _RELEASES_AFTER.match(question, m.end())):
            continue
        if span := _span(m.group("a")):
            return Period(span[0], span[1], m.group(0).strip())
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
    text = _YEAR_WORD_END.sub("", phrase.strip())
    text = _ORDINAL.sub(r"\1", text)
    if _YEAR_ONLY.fullmatch(text):
        year = int(text)
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    has_day = bool(_NAMES_DAY.search(text)) and not _MONTH_YEAR.fullmatch(text)
    parsed = _parse(_genitive(text) if has_day else f"1 {_genitive(text)}")
    if parsed is None:
        return None
    if has_day:
        return parsed, parsed
    last = calendar.monthrange(parsed.year, parsed.month)[1]
    return parsed.replace(day=1), parsed.replace(day=last)


def _genitive(text: str) -> str:
    """Russian month words in the case dateparser reads ("в марте" -> "марта")."""
    def swap(m: re.Match[str]) -> str:
        word = m.group(0).lower()
        for stem, form in _RU_MONTHS.items():
            if word.startswith(stem) and (stem != "ма" or word in {"май", "мая", "мае"}):
                return form
        return m.group(0)

    return _MONTH_RU_WORD.sub(swap, text)


@lru_cache(maxsize=512)
def _parse(text: str) -> dt.date | None:
    import dateparser

    parsed = dateparser.parse(text, languages=["en", "ru"],
                              settings={"PREFER_DAY_OF_MONTH": "first", "DATE_ORDER": "DMY"})
    return parsed.date() if parsed else None


# Words that make a question lean on the one before it: pronouns and demonstratives that
# point back ("that call", "the same day", "which other states"), and openings that continue
# ("And what about ...?").
_ANAPHORA = re.compile(
    r"\b(?:he|she|they|him|her|them|his|hers|their|theirs|it|its|there|then|those|these"
    r"|the same|that same|the next day|the day after|afterwards|once it was over"
    r"|(?:which|what) other|the other|the two|both sides|related|matching"
    r"|(?:that|this|the) (?:call|meeting|visit|trip|talks|deal|settlement|case|lawsuit|suit"
    r"|agreement|decision|statement|announcement|conversation|company|companies|court"
    r"|negotiations|documents|leaders|event|ceremony|move|facility|program|programme)"
    r"|он|она|оно|они|его|её|ее|их|ему|ей|им|там|тогда|эти|после этого)\b",
    _FLAGS)
_CONTINUES = re.compile(r"^\s*+(?:and|but|also|so|what about|how about|what else|а|и|но|а что)\b", _FLAGS)


@dataclass(frozen=True, slots=True)
class Resolved:
    """What retrieval searches for a question asked in a conversation."""

    query: str
    """The question, with the previous question folded in when it leans on it."""
    prefer: tuple[str, ...] = ()
    """Releases the conversation is about (cited by the previous answer), preferred when
    they match the new question too."""
    follow_up: bool = False


def resolve(question: str, history: Sequence[Turn], *,
            new_names: Sequence[str] | None = None) -> Resolved:
    """Fold the conversation into a follow-up's retrieval query.

    A question that points back (pronouns, "that call", "and what about ...", or almost no
    words of its own) searches with the previous question's words and prefers the releases
    it cited; one that stands on its own is searched as it is, so a change of subject is not
    dragged back to the old one.

    ``new_names`` are the question's informative names (rare in the archive) that the
    conversation so far has not used: a question with one ("What did he pay Posh Bridal
    Couture?") is about something new even when it says "he". Without it, any capitalised
    word or number after the first word counts as new (callers without an index)."""
    from .lexical import content_stems

    if not history:
        return Resolved(question)
    previous = history[-1]
    if new_names is None:
        words = question.split()
        own_names = any(w[:1].isupper() or any(ch.isdigit() for ch in w) for w in words[1:])
    else:
        own_names = bool(new_names)
    leans = (bool(_CONTINUES.search(question))
             or (bool(_ANAPHORA.search(question)) and not own_names)
             or len(content_stems(question)) <= 1)
    if not leans:
        return Resolved(question)
    return Resolved(query=f"{question} {previous.question}", prefer=previous.cited, follow_up=True)
