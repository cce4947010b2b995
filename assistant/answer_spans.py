"""The words of a quoted sentence that answer the question: "37 criminal cases", "$1.2
million", "November 6, 2017", "Zhakip Assanov", "in Ramsey County".

A question part that wants a number, an amount, a date, a person, an organisation or a
place (:mod:`assistant.planning`) is answered by a span of the sentence quoted for it; the
chat shows that span in bold and ``ask --json`` gives its offsets, so a reader sees the
answer at a glance and can check it in place. Only what the question does not already say
counts: "How much did the $2 million fund pay out?" is not answered by "$2 million".

Pure functions over strings: the patterns are bounded and possessive, so a span is found in
time linear in the sentence's length.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Set
from dataclasses import dataclass

from .dates import date_candidates, month_number

__all__ = ["SPAN_TYPES", "Span", "find_span", "has_answer"]

SPAN_TYPES = frozenset({"number", "amount", "date", "person", "organisation", "place"})
"""The answer types a span can show; yes/no and free-text answers are whole sentences."""

_FLAGS = re.IGNORECASE | re.UNICODE
_SCALE = r"(?:thousand|million|billion|trillion|crore|lakh|mln|bn|m|k|тыс\.?|млн|млрд)"
_CURRENCY_WORD = (r"(?:dollars?|rupees?|rubles?|roubles?|euros?|yen|tenge|pounds?|francs?|yuan"
                  r"|USD|LKR|EUR|RUB|KZT|рубл\w*+|долл\w*+|тенге|евро)")
_FIGURE = r"\d{1,3}(?:[,\s]\d{3})++(?:\.\d++)?|\d++(?:[.,]\d++)?"
_AMOUNT = re.compile(
    rf"(?:[$€£¥₹]|Rs\.?\s?|US\$\s?|USD\s?|LKR\s?)(?:{_FIGURE})(?:\s?-?{_SCALE}\b)?"
    rf"|(?<![\w.])(?:{_FIGURE})(?:\s?{_SCALE})?\s?{_CURRENCY_WORD}(?!\w)",
    _FLAGS)
# A sum without its currency: a figure with its scale word ("1.2 million"); "90,000" alone is
# as likely a count of customers, and digits may be a phone number ("(800) 657-3787").
_BARE_AMOUNT = re.compile(r"(?<![\w.,)/-])\d++(?:\.\d++)?\s?(?:million|billion|trillion|mln|bn"
                          r"|млн|млрд)\b", _FLAGS)
_NUMBER_WORDS = (r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen"
                 r"|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty"
                 r"|fifty|sixty|seventy|eighty|ninety|hundred|hundreds|thousands|dozens?|half"
                 r"|quarter|один|одна|два|две|три|четыре|пять|шесть|семь|восемь|девять|десять")
_NUMBER = re.compile(
    rf"(?<![\w.,])(?:about\s++|nearly\s++|almost\s++|over\s++|more\s++than\s++|up\s++to\s++"
    rf"|some\s++|around\s++|approximately\s++)?"
    rf"(?:(?:(?:\d++[-\s])?\d/\d|{_FIGURE})(?:\s?(?:%|percent\b|per\s++cent\b))?"
    rf"|(?:{_NUMBER_WORDS})\b(?:[-\s](?:{_NUMBER_WORDS})\b)?)"
    rf"(?:\s?{_SCALE}\b)?"
    # The counted thing: up to three words that are not a verb's helpers ("37 criminal cases
    # were opened" -> "37 criminal cases").
    rf"(?:\s++(?!(?:{_NUMBER_WORDS}|and|or|to|in|on|at|of|by|for|from|with|was|were|is|are"
    rf"|be|been|has|have|had|that|which|who|the|a|an|this|those|these|as|than|per|each|will"
    rf"|would|could|under|into|after|before|since|during|between|while|when)\b)"
    rf"[a-zа-яё][\w'’-]*+){{0,3}}",
    _FLAGS)
_WORD = r"[A-ZА-ЯЁ][\w'’.-]*+"
_LINK = r"(?:of|the|de|da|van|von|bin|al|el|la|du|für|for|&)"
_NAME_RUN = re.compile(rf"{_WORD}(?:\s++(?:{_LINK}\s++){{0,2}}?{_WORD}){{0,9}}", re.UNICODE)
# Capitalised only because a sentence starts with them.
_OPENERS = frozenset((
    "today", "yesterday", "on", "in", "at", "the", "this", "that", "these", "those", "during",
    "after", "before", "following", "meanwhile", "also", "however", "moreover", "earlier",
    "later", "under", "as", "according", "while", "when", "with", "by", "from", "for", "since",
    "last", "next", "then", "there", "here", "it", "he", "she", "they", "we", "our", "his", "her",
    "their", "a", "an", "and", "but", "both", "president", "minister", "mr", "mrs", "ms", "dr"))
# Words of a title before a person's name: "Prosecutor General of the PRC Cao Jianming".
_TITLES = frozenset((
    "president", "vice", "prime", "minister", "prosecutor", "general", "attorney", "secretary",
    "deputy", "head", "chairman", "chairwoman", "chair", "governor", "mayor", "judge", "justice",
    "ambassador", "director", "commissioner", "senator", "representative", "chief", "executive",
    "officer", "foreign", "affairs", "defence", "defense", "finance", "state", "federal", "supreme",
    "people's", "people’s", "procuratorate", "court", "council", "ministry", "his", "her",
    "excellency", "king", "queen", "prince", "emir", "sheikh", "chancellor", "premier", "speaker",
    "colonel", "general", "major", "captain", "lieutenant", "sergeant", "detective", "sheriff",
    "dr.", "mr.", "mrs.", "ms.", "dr", "mr", "mrs", "ms"))
_ORG_CUE = re.compile(
    r"\b(?:Inc|LLC|L\.L\.C|Corp|Corporation|Company|Co|Ltd|Limited|PLC|Bank|Ministry|Department"
    r"|Agency|Group|Association|University|Council|Commission|Fund|Foundation|Committee|Authority"
    r"|Office|Services|Partners|Holdings|Institute|Board|Administration|Union|Organi[sz]ation"
    r"|Center|Centre|Cooperative|Industries|Systems|Railways|Airlines|Pharmaceuticals?|Labs?"
    r"|Laboratory|Clinic|Hospital|School|College|Party|Federation|Service|Reserve|Operations"
    r"|Award|Awards|Prize|Cup|League|Championship|Games|Festival|Museum|Gallery|Market|Street"
    r"|Avenue|Boulevard|Square|Park|Airport|Station|Bridge|Church|Cathedral|Palace|Stadium)\b\.?")
_PLACE_CUE = re.compile(r"(?:\b(?:in|at|to|from|near|outside|inside|into|across|of)\s++)$",
                        re.IGNORECASE)
_WEEKDAYS = frozenset(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                       "sunday"))


def _is_month(word: str) -> bool:
    """A month name in the one month table (English, Russian, Kazakh), or a weekday."""
    return month_number(word) is not None or word in _WEEKDAYS
_SHORT_WINDOW = 24
_PLACE_NAME = re.compile(r"\b(?:County|District|Province|Region|Oblast|City|Island|Republic"
                         r"|Territory|Township|Kingdom|Federation)\b")
_HOW_MANY = re.compile(r"\bhow\s++many\b|\bсколько\s++(?!денег|рублей|долларов)", _FLAGS)
_DURATION = re.compile(r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?"
                       r"|centuries|century|лет|год\w*+|месяц\w*+|дн\w*+|недел\w*+)\b", _FLAGS)
_NUMBER_KINDS: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = (
    (re.compile(r"%|percent|per\s++cent|процент", _FLAGS),
     re.compile(r"\b(?:percentage|percent|share|proportion)\b|процент|дол[юия]", _FLAGS)),
    (_DURATION, re.compile(r"\bhow\s++long\b|\bhow\s++much\s++time\b|\bfor\s++how\s++long\b"
                           r"|\bсколько\s++(?:лет|времени|дней|месяцев)\b", _FLAGS)),
    (re.compile(r"^\D*\d++(?:\s++years?(?:\s++old)?)?$|^\w++(?:-\w++)?\s++years?\b", _FLAGS),
     re.compile(r"\bhow\s++old\b|\bat\s++what\s++age\b|\bвозраст|\bсколько\s++лет\s++(?:было|ему|ей)",
                _FLAGS)),
)
_TOKEN = re.compile(r"[\w'’-]+")
CAPITALISED = re.compile(r"\b[A-ZА-ЯЁ][\w'’-]+")
"""A capitalised word: after a sentence's first, most likely part of a name."""


@dataclass(frozen=True, slots=True)
class Span:
    """Offsets into the sentence the span was found in."""

    start: int
    end: int
    text: str


def find_span(answer_type: str, sentence: str, question: str, *,
              common: Callable[[str], bool] | None = None, part: str | None = None
              ) -> Span | None:
    """The span of ``sentence`` that answers a question part wanting ``answer_type``, or None
    when the sentence holds nothing of that kind beyond what ``question`` says. Among several,
    the one nearest the words the sentence shares with the question. ``common`` tells a name
    that is everywhere in the archive (its office's head): one is marked only when no other
    name is there. ``part``: the part of a question in several parts being answered; its own
    words say what kind of number it wants ("how long" in one part, "what percentage" in the
    other), while the whole ``question`` says what is already known.

    >>> find_span("number", "Police opened 37 criminal cases were opened in May.",
    ...           "How many cases were opened?").text
    '37 criminal cases'
    >>> find_span("amount", "The firm will pay $1.2 million to the state.", "How much?").text
    '$1.2 million'
    >>> find_span("date", "The deal was signed on November 6, 2017 in Astana.", "When?").text
    'November 6, 2017'
    """
    if answer_type not in SPAN_TYPES:
        return None
    asked = _words(question)
    found = [s for s in _candidates(answer_type, sentence) if not _said(s.text, asked)]
    if answer_type == "number":
        # What kind of number: a share for "what percentage", a length of time for "how long".
        asking = part or question
        for unit, pattern in _NUMBER_KINDS:
            if pattern.search(asking):
                found = [s for s in found if unit.search(s.text)]
                break
        if _HOW_MANY.search(asking):  # a count, not a sum of money
            found = [s for s in found if not _AMOUNT.match(s.text)] or found
        # "60 employees" for "How many employees ...": the counted thing the question names.
        counted = [s for s in found if any(w.lower().strip(".,") in asked
                                           for w in s.text.split()[1:])]
        found = counted or found
    if common is not None and answer_type in {"person", "organisation", "place"}:
        found = [s for s in found if not common(s.text)] or found
    if not found:
        return None
    # Near the question's own names ("$69,000 from T-Mobile" for "How much did T-Mobile pay?")
    # when the sentence has them, else near any word it shares with the question.
    names = {m.group(0).lower() for m in _TOKEN.finditer(question) if m.start() > 0
             and m.group(0)[:1].isupper()}
    shared = [(m.start(), m.group(0).lower()) for m in _TOKEN.finditer(sentence)
              if m.group(0).lower() in asked and (len(m.group(0)) > 3 or m.group(0).lower() in names)]
    anchors = [at for at, word in shared if word in names] or [at for at, _ in shared]
    if not anchors:
        return found[0]
    return min(found, key=lambda s: (min(min(abs(s.start - a), abs(s.end - a)) for a in anchors),
                                     s.start))


def has_answer(answer_type: str, sentence: str, question: str) -> bool:
    """Whether ``sentence`` holds something of ``answer_type`` that ``question`` does not
    already say (for the answer-type evidence of sentence selection).

    For a person, an organisation or a place, any capitalised word after the first that the
    question lacks counts: "Who attended?" is answered by "the heads of ... China, Russia"
    as well as by a full name, though only a name is marked."""
    if answer_type in {"person", "organisation", "place"}:
        asked = _words(question)
        return any(m.group(0).lower() not in asked for m in CAPITALISED.finditer(sentence, 1))
    return find_span(answer_type, sentence, question) is not None


def _candidates(answer_type: str, sentence: str) -> Iterator[Span]:
    if answer_type == "amount":
        amounts = list(_matches(_AMOUNT, sentence))
        yield from amounts
        if not amounts:  # "agreed to pay 1.2 million", the currency said elsewhere
            yield from _matches(_BARE_AMOUNT, sentence)
    elif answer_type == "number":
        yield from _matches(_AMOUNT, sentence)
        yield from (s for s in _matches(_NUMBER, sentence) if not _is_year_or_date(s, sentence)
                    and not any(_is_month(w.lower().strip(".,")) for w in s.text.split()[1:]))
    elif answer_type == "date":
        for c in date_candidates(sentence):
            yield Span(c.start, c.end, c.text)
        for m in re.finditer(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)", sentence):
            yield Span(m.start(), m.end(), m.group(0))
    else:
        yield from _names(answer_type, sentence)


def _matches(pattern: re.Pattern[str], sentence: str) -> Iterator[Span]:
    for m in pattern.finditer(sentence):
        text = m.group(0).rstrip(".,;:")
        if text.strip():
            yield Span(m.start(), m.start() + len(text), text)


def _is_year_or_date(span: Span, sentence: str) -> bool:
    """A year ("in 2019") or a day of a date is not a counted number."""
    digits = span.text.strip()
    if re.fullmatch(r"(?:1[89]|20)\d\d", digits):
        return True
    return any(c.start <= span.start < c.end for c in date_candidates(
        sentence[max(0, span.start - _SHORT_WINDOW):span.end + _SHORT_WINDOW]))


def _names(answer_type: str, sentence: str) -> Iterator[Span]:
    """Runs of capitalised words (with "of", "bin", "van" ... inside): a person's, an
    organisation's or a place's name. A sentence's first word counts only when it is not one
    that any sentence may start with ("Today", "The"); a person's name is the run's last
    words after its title ("Prosecutor General of the PRC Cao Jianming" -> "Cao Jianming")."""
    for m in _NAME_RUN.finditer(sentence):
        start, text = m.start(), m.group(0).rstrip(".,;:")
        if start == 0:
            opener = re.match(r"(\S+)(\s+)", text)
            if opener is None:
                continue  # one word that starts the sentence: grammar, not a name
            if opener.group(1).lower().strip(".,") in _OPENERS:
                start, text = start + opener.end(), text[opener.end():]
        words = text.split()
        if all(_is_month(w.lower().strip(".,")) for w in words):
            continue
        organisation = bool(_ORG_CUE.search(text))
        place = bool(_PLACE_CUE.search(sentence[max(0, start - 10):start]))
        if answer_type == "organisation" and not organisation and len(words) < 2:
            continue
        if answer_type == "person":
            if (organisation and not any(w.lower() in _TITLES for w in words)) \
                    or _PLACE_NAME.search(text):
                continue
            start, text = _person(start, text)
            if len(text.split()) < 2:
                continue
        if answer_type == "place" and not place:
            continue
        yield Span(start, start + len(text), text)


def _person(start: int, text: str) -> tuple[int, str]:
    """The name at the end of a run that starts with a title: the words after its last
    lower-case link ("of", "the") and its titles and acronyms, at most four."""
    tokens = [(m.start(), m.group(0)) for m in re.finditer(r"\S+", text)]
    keep = 0
    for i, (_, word) in enumerate(tokens):
        bare = word.lower().strip(".,")
        if word.islower() or bare in _TITLES or (word.isupper() and len(word) > 1):
            keep = i + 1
    name = tokens[keep:] if len(tokens) - keep >= 2 else tokens
    name = name[-4:]
    at = name[0][0]
    return start + at, text[at:]


def _words(text: str) -> Set[str]:
    return {w.lower() for w in re.findall(r"[\w$%.-]+", text)} | {
        w.lower().strip(".,") for w in text.split()}


def _said(span: str, asked: Set[str]) -> bool:
    """The question already says this: all of a number's figures, or most of a name's words,
    are in the question."""
    words = [w.lower().strip(".,;:") for w in span.split()]
    figures = [w for w in words if any(ch.isdigit() for ch in w)]
    months = [w for w in words if _is_month(w)]
    years = [w for w in figures if re.fullmatch(r"(?:1[89]|20)\d\d", w)]
    if months and years and all(w in asked for w in months + years):
        return True  # "November 29, 2020" when the question says "November 2020"
    if figures:
        return all(w in asked for w in figures)
    # A name: said when most of its words are the question's ("Kazakhstan Zhakip Assanov"
    # for a question about Zhakip Assanov).
    key = [w for w in words if len(w) > 2] or words
    return sum(w in asked for w in key) * 2 > len(key)
