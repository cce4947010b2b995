"""The question planner: a question (and its conversation) read once into a typed
:class:`QuestionPlan` before anything is searched.

The plan says what is asked — a fact stated in a release, or every release that matches (a
list, a count of releases, a timeline) — the parts of a question that asks two things, the
kind of answer each part wants (a number, an amount, a date, a person, an organisation, a
place, yes or no, or free text), the period it names, whether it wants the latest, what a
follow-up leans on, and its language. Retrieval, listing and answering read the plan; none
of them reads the question's wording again.

The one distinction that matters most is a *count of releases* against a *number inside a
release*: "How many statements in 2008 mention ...?" counts releases, "How many people were
detained ...?" asks for the number a release states. Only a question that counts the
archive's own records (releases, statements, announcements, times, occasions, and meetings
or calls someone held) is a count; every other "how many / how much" is a fact.

>>> plan = plan_question("Who chaired the meeting, and what did it decide?")
>>> [(p.text, p.answer_type) for p in plan.parts]
[('Who chaired the meeting', 'person'), ('what did it decide?', 'free')]
>>> plan_question("How many people were detained in the raids?").intent
'fact'
>>> plan_question("How many statements in 2008 mention the housing market?").intent
'count'
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .dates import Period
from .languages import language_of_text
from .querying import read_dates, resolve

if TYPE_CHECKING:
    from .documents import Turn

__all__ = ["ANSWER_TYPES", "AnswerType", "Intent", "Part", "QuestionPlan", "answer_type_of",
           "intent_of", "plan_question", "split_parts"]

AnswerType = Literal["number", "amount", "date", "person", "organisation", "place", "yes_no",
                     "free"]
ANSWER_TYPES: tuple[AnswerType, ...] = ("number", "amount", "date", "person", "organisation",
                                        "place", "yes_no", "free")
Intent = Literal["fact", "list", "count"]

_FLAGS = re.IGNORECASE | re.UNICODE


@dataclass(frozen=True, slots=True)
class Part:
    """One question inside a question: "Who chaired the meeting" of "Who chaired the
    meeting, and what did it decide?"."""

    text: str
    answer_type: AnswerType
    start: int
    """Where the part starts in the question (``question[start:end] == text``)."""
    end: int

    def to_json(self) -> dict[str, object]:
        return {"text": self.text, "answer_type": self.answer_type, "start": self.start,
                "end": self.end}


@dataclass(frozen=True, slots=True)
class QuestionPlan:
    """What a question asks, read once; every later stage works from this."""

    question: str
    intent: Intent
    """``fact``: something a release states. ``list``: every matching release, as rows (a
    timeline when the question asks when things happened). ``count``: how many releases
    match, with the rows."""
    parts: tuple[Part, ...]
    """At least one; two or more when the question asks several things at once."""
    period: Period | None
    latest: bool
    """The newest matching release is wanted ("the latest statement")."""
    language: str | None
    """ISO 639-1 code of the question's language, by its script and letters."""
    query: str
    """What retrieval searches: the question, with the previous one folded in for a
    follow-up that leans on it."""
    follow_up: bool = False
    context: str = ""
    """For a follow-up: the previous question, whose words count with the release's title."""
    prefer: tuple[str, ...] = ()
    """Releases the conversation is about (cited by the previous answer)."""

    @property
    def wants_releases(self) -> bool:
        """A list or a count: answered over the whole archive, not from the top passages."""
        return self.intent != "fact"

    @property
    def dated(self) -> bool:
        return self.period is not None

    def to_json(self) -> dict[str, object]:
        return {"intent": self.intent, "parts": [p.to_json() for p in self.parts],
                "period": self.period.phrase if self.period else None, "latest": self.latest,
                "language": self.language, "follow_up": self.follow_up}


def plan_question(question: str, history: Sequence[Turn] = (), *,
                  newest: dt.date | None = None,
                  new_names: Sequence[str] | None = None) -> QuestionPlan:
    """The plan of ``question`` asked after ``history`` (oldest first). ``newest``: the
    archive's newest release date, the anchor of "last year" (today when unknown).
    ``new_names``: the question's rare names the conversation has not used (see
    :func:`assistant.querying.resolve`); None when unknown."""
    intent = intent_of(question)
    dates = read_dates(question, newest=newest, events=intent != "fact")
    resolved = resolve(question, history, new_names=new_names)
    return QuestionPlan(
        question=question, intent=intent, parts=split_parts(question), period=dates.period,
        latest=dates.latest, language=language_of_text(question), query=resolved.query,
        follow_up=resolved.follow_up,
        context=history[-1].question if resolved.follow_up and history else "",
        prefer=resolved.prefer)


# -- what is asked: a fact, or every matching release ----------------------------------------

# White space and word runs are possessive (``\s++``, ``\w++``) so that no pattern re-splits a
# run: every search stays linear however long the question (the planner reads what clients
# send; see tests/test_security.py).
_RECORDS = (r"(?:press\s++|news\s++)?releases|statements|announcements|press\s++statements"
            r"|communiqu[eé]s|readouts")
"""Nouns that name the archive's own records: "how many ..." of these counts releases."""
_OCCASIONS = (r"meetings|calls|phone\s++calls|telephone\s++(?:calls|conversations)|conversations"
              r"|talks|visits|trips|contacts|summits")
"""Nouns of things someone held or made, each reported in a release of its own: "how many
calls did the President have with ..." counts releases; "how many meetings were held during
the summit" asks a number one release states."""
_HOW_MANY = re.compile(r"\bhow\s++many\b", _FLAGS)
# "How many times did they meet": occasions; "how many times higher": a ratio in a release.
_COUNT_TIMES = re.compile(r"\bhow\s++many\s++(?:times|occasions)\s++(?:did|has|have|had|was|were|do|does"
                          r"|is|are|in|since|during|this|last|so\s++far)\b", _FLAGS)
# Within one line: "how many" and its noun on different lines are not one phrase.
_COUNT_RECORDS = re.compile(rf"\bhow[^\S\n]++many[^\S\n]++(?:\w++[^\S\n]++){{0,2}}?(?:{_RECORDS})\b",
                            _FLAGS)
_COUNT_OCCASIONS = re.compile(
    rf"\bhow\s++many\s++(?:\w++\s++){{0,2}}?(?:{_OCCASIONS})\s++(?:did|has|have|had|do|does)\b",
    _FLAGS)
_HOW_OFTEN = re.compile(r"\bhow\s++often\b|\bсколько\s++раз\b|\bкак\s++часто\b", _FLAGS)
_RU_COUNT = re.compile(r"\bсколько\s++(?:\w++\s++)?(?:релиз|заявлени|сообщени|пресс-релиз|встреч"
                       r"|разговор|звонк|визит)\w*+", _FLAGS)
_ONE_EVENT = re.compile(r"\b(?:during|at\s++the|in\s++the\s++course\s++of|within)\b", _FLAGS)

_LIST_RECORDS = rf"{_RECORDS}|{_OCCASIONS}|times|occasions|dates"
_LIST = re.compile(
    r"^\s*+(?:please\s++)?(?:list|enumerate|name\s++(?:all|every|each))\b"
    r"|\bevery\s++(?:time|release|statement|meeting|occasion|announcement)\b"
    rf"|\ball\s++(?:the\s++|of\s++)*+(?:\w++\s++){{0,3}}?(?:{_LIST_RECORDS})\b"
    rf"|\b(?:which|what)\s++(?:(?:19|20)\d\d\s++)?(?:\w++\s++)?(?:{_RECORDS}|meetings|dates"
    r"|occasions)\b"
    r"|перечисл\w*+|\bвсе\s++(?:релизы|заявления|встречи|сообщения|разговоры|визиты)"
    r"|\bв\s++каких\s++(?:релизах|заявлениях|сообщениях)",
    _FLAGS)
# "Which companies did the office sue ...?": things the office or the leader acted against,
# across the archive. "Which two alarm companies agreed ..." (a number: one release's
# parties) and "Which firms signed the deal ..." (no acting office) are facts.
_ACTORS = (r"(?:the\s++)?(?:AG|attorney\s++general|office|state|department|ministry|government"
           r"|president|kremlin|prime\s++minister|[A-Z][a-z]++)")
_PARTIES = (r"companies|firms|businesses|manufacturers|producers|defendants|countries|drugmakers"
            r"|pharmacies|lenders|dealers|contractors|landlords|leaders|heads\s++of\s++state"
            r"|corporations|individuals|people|organi[sz]ations|charities|schools|hospitals")
_PARTIES_ACTED_ON = re.compile(
    rf"^\s*+(?:[Ww]hich|[Ww]hat)\s++(?!(?:two|three|four|five|six|seven|eight|nine|ten|\d++)\b)"
    rf"(?:[\w-]++\s++){{0,2}}?(?:{_PARTIES})\s++(?:did|has|have|had)\s++{_ACTORS}\s++"
    r"(?:\w++\s++)?(?:sue|sued|pursue|pursued|charge|charged|investigate|investigated|take"
    r"|taken|took|go|gone|settle|settled|reach|reached|meet|met|call|called|speak|spoken"
    r"|receive|received|visit|visited|host|hosted)\b", re.UNICODE)
# "When did Putin meet Erdogan?": every meeting or call, as a timeline; one that names a
# period or "first/last" asks for one occasion.
_WHEN_MET = re.compile(
    r"^\s*+when\s++(?:did|has|have)\b.*?\b(?:meet|met|talk|speak|spoke|call|phone)\b", _FLAGS)
_TIMELINE_WORDS = 10
"""A timeline question is short ("When did Putin meet Erdogan?"); one that describes the
meeting ("... meet in Zelenskyy's office to sort out freight problems?") asks about one."""
_AT_AN_OCCASION = re.compile(
    r"\b(?:at|during|on\s++the\s++sidelines\s++of|in\s++the\s++course\s++of)\s++(?:the|his|her|their"
    r"|its|a|an)\s++(?:[\w'’-]++\s++){0,3}?(?:summit|visit|trip|talks|meeting|forum|conference"
    r"|ceremony|session|event|congress|games|celebrations?|parade|negotiations|round)\b", _FLAGS)
_ONE_OCCASION = re.compile(r"\b(?:first|last|latest|most\s++recent|previous|next)\b", _FLAGS)


def intent_of(question: str) -> Intent:
    """Whether ``question`` asks a fact, every matching release, or how many releases match.

    >>> intent_of("How much did the company agree to pay?")
    'fact'
    >>> intent_of("How many times did the two presidents meet in 2022?")
    'count'
    >>> intent_of("List every statement in 2008 that lowered the target.")
    'list'
    """
    if _counts_releases(question):
        return "count"
    if _HOW_MANY.search(question):
        return "fact"  # a number the release states: "how many people", "how many cases"
    if _LIST.search(question):
        return "list"
    if _PARTIES_ACTED_ON.search(question) and not _AT_AN_OCCASION.search(question):
        return "list"  # "at the Tehran summit", "during the visit": one occasion's parties
    if (_WHEN_MET.search(question) and not _ONE_OCCASION.search(question)
            and len(question.split()) <= _TIMELINE_WORDS and read_dates(question).period is None):
        return "list"
    return "fact"


def _counts_releases(question: str) -> bool:
    if (_HOW_OFTEN.search(question) or _RU_COUNT.search(question)
            or _COUNT_RECORDS.search(question) or _COUNT_TIMES.search(question)):
        return True
    return bool(_COUNT_OCCASIONS.search(question)) and not _ONE_EVENT.search(question)


# -- the parts of a question -----------------------------------------------------------------

_RU_WH = (r"кто|что|когда|где|сколько|какой|какая|какое|какие|каких|каким|почему|зачем"
          r"|(?:о|об|в|во|на|за|по|для|с|со|к|от|из)\s++(?:ч[её]м|чем|что|ком|кем|кого|како\w++|каки\w++)")
# A new question starts after ", and", "; and", ";" or a question mark with a question word
# or an auxiliary after it, or after a bare " and" with a question word ("... and how many
# students are covered?"). A bare comma is not a cut: "Michael shot Nicole, who worked with
# him" is a relative clause, and "Under the settlement, how many ..." one question.
_AUX = r"did|does|do|is|was|were|are|has|have|had|can|could|will|would|should"
_WH_WORD = (r"who|whom|whose|what|which|when|where|why|how|(?:in|at|on|to|from|for|by|with"
            r"|under|into|through|of|outside|after|before|since)\s++(?:which|what|whom"
            r"|how\s++(?:many|much|long))")
_JOIN = re.compile(
    rf"(?:[,;]\s*+(?:and|also|as\s++well\s++as)\s++|;\s*+|(?<=\?)\s*+)(?=(?:also\s++)?(?:{_WH_WORD}|{_AUX})\b)"
    rf"|(?<!\s)\s++and\s++(?=(?:also\s++)?(?:{_WH_WORD})\b)"
    rf"|(?:,\s*+(?:и|а\s++также|а)\s++|(?<=\?)\s*+)(?=(?:{_RU_WH})\b)",
    _FLAGS)
_MIN_PART_WORDS = 2


def split_parts(question: str) -> tuple[Part, ...]:
    """The questions inside ``question``, each with the answer type it wants; one part for a
    question that asks one thing.

    >>> [p.text for p in split_parts("When was the law signed, and how many agencies does it merge?")]
    ['When was the law signed', 'how many agencies does it merge?']
    """
    cuts: list[tuple[int, int]] = []  # (end of a part, start of the next)
    for match in _JOIN.finditer(question):
        if match.start() == 0:
            continue
        cuts.append((match.start(), match.end()))
    spans: list[tuple[int, int]] = []
    start = 0
    for end, following in cuts:
        spans.append((start, end))
        start = following
    spans.append((start, len(question)))
    parts: list[Part] = []
    context_from: int | None = None  # a leading clause that asks nothing, for the next part
    for a, b in spans:
        while a < b and question[a].isspace():
            a += 1
        while b > a and question[b - 1].isspace():
            b -= 1
        text = question[a:b]
        if not parts and context_from is None and len(spans) > 1 and not _asks(text) \
                and _clause_ask(text) is None:
            # "A judge is due to sentence a man ...; on what date was that hearing?": the
            # first clause sets the scene for the question after it.
            context_from = a
            continue
        if context_from is not None:
            a, text, context_from = context_from, question[context_from:b], None
            parts.append(Part(text, answer_type_of(text), a, b))
            continue
        if parts and (len(text.split()) < _MIN_PART_WORDS or not _asks(text)):
            # "... and what?" or a trailing clause that asks nothing: it belongs to the
            # previous part.
            last = parts[-1]
            parts[-1] = Part(question[last.start:b], last.answer_type, last.start, b)
            continue
        if text:
            parts.append(Part(text, answer_type_of(text), a, b))
    if len(parts) > 1 and len(parts[0].text.split()) < _MIN_PART_WORDS:
        first, second = parts[0], parts[1]
        parts[:2] = [Part(question[first.start:second.end], answer_type_of(question),
                          first.start, second.end)]
    if context_from is not None or not parts:
        parts = [Part(question, answer_type_of(question), 0, len(question))]
    return tuple(parts)


_ASKS = re.compile(rf"^\s*+(?:also\s++)?(?:{_WH_WORD}|{_AUX}|{_RU_WH})\b", _FLAGS)


def _asks(text: str) -> bool:
    return bool(_ASKS.search(text))


# -- the answer a part wants -----------------------------------------------------------------

_MONEY_WORDS = (r"pay|paid|cost|costs|worth|fine|fined|penalty|penalties|settle|settlement|refund"
                r"|restitution|damages|award|awarded|spend|spent|raise|raised|invest|invested"
                r"|owe|owed|charge|charged|charging|price|budget|fund|funding|grant|loan|debt"
                r"|money|dollars|rupees|rubles|roubles|euros|yen|compensation|recover|recovered"
                r"|return|returned|repay|repaid|receive|received|get|collect|collected|allocate"
                r"|allocated|give|gave|donate|donated|wages|pay\s++back|payments?|revenues?"
                r"|tax|taxes|income|profits?|sales|purchases|financing|aid|assistance"
                r"|trade|investments?|shorting|shorted|cheque|check|bill|billed|overcharged"
                r"|rubles|roubles|hryvnias?|tenge|euro|pounds|\$")
_S = r"\s++"
# Up to three words between the question word and its noun, none an auxiliary: "which
# Albert Lea police officer", but not "what device did Ukraine's head ...".
_WORDS = rf"(?:(?!(?:{_AUX})\b)[\w'’-]++\s++){{0,3}}?"
_PERSON = (r"officials?|ministers?|presidents?|leaders?|heads?|judges?|officers?|ambassadors?"
           r"|prosecutors?|senators?|governors?|mayors?|chairman|chairs?|chairwoman|members?"
           r"|persons?|people|man|woman|men|women|attorneys?(?!\s++general['’]s\s++office)"
           r"|ceos?|founders?|owners?|premiers?|envoys?|spokesperson|deputy|deputies"
           r"|secretary|secretaries|directors?|commissioners?|kings?|queens?|princes?"
           r"|governors?|dissenters?|defendants?|victims?|lawmakers?|legislators?"
           r"|mps?|diplomats?|experts?|advisers?|advisors?|counterparts?|policymakers?"
           r"|players?|athletes?|employees?|workers?|students?|residents?|candidates?"
           r"|dissidents?|activists?|journalists?|doctors?|nurses?|soldiers?|veterans?")
_ORGANISATION = (r"compan(?:y|ies)|firms?|business(?:es)?|agenc(?:y|ies)|organi[sz]ations?"
                 r"|banks?|groups?|manufacturers?|makers?|chains?|cooperatives?|universit(?:y|ies)"
                 r"|ministr(?:y|ies)|departments?|bod(?:y|ies)|institutions?|labs?|laborator(?:y|ies)"
                 r"|franchisors?|producers?|insurers?|contractors?|subsidiar(?:y|ies)|part(?:y|ies)"
                 r"|retailers?|lenders?|corporations?|charit(?:y|ies)|schools?|hospitals?|funds?"
                 r"|drugmakers?|pharmacies|pharmacy|dealers?|brands?|outlets?|media"
                 r"|regulators?|watchdogs?|authorit(?:y|ies)|commissions?|committees?|councils?"
                 r"|bureaus?|agencies|operators?|carriers?|airlines?|newspapers?|networks?")
_PLACE = (r"cit(?:y|ies)|countr(?:y|ies)|count(?:y|ies)|regions?|towns?|places?|provinces?"
          r"|state(?!['’]s)|states|villages?|venues?|capitals?|districts?|oblasts?|locations?"
          r"|islands?|ports?|courts?|sites?|plants?|facilit(?:y|ies)|airports?|hall|halls?"
          r"|buildings?|conference|summit|forum|neighbo(?:u)?rhoods?|areas?|prisons?")
_NUMBER = (r"percentage|percent|number|share|level|levels|rate|rates|sentence|term|total"
           r"|proportion|range|target|size|figure|capacity|margin|increase|decrease")
_AMOUNT = (r"amount|penalty|fine|sum|price|cost|value|fee|restitution|compensation|budget"
           r"|charge|payment|refund|settlement\s++amount|damages|grant")
_TYPE_RULES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    ("amount", re.compile(
        rf"^(?:(?:for|of|to|by){_S})?how{_S}much\b(?=.*?\b(?:{_MONEY_WORDS})\b)|^how{_S}much{_S}(?:money|in)\b"
        rf"|^(?:what|which){_S}(?:was{_S}|is{_S}|were{_S})?(?:the{_S})?{_WORDS}(?:{_AMOUNT})\b"
        rf"|^what\b.*?\b(?:cost|costs|charge|charged|pay|paid)\b(?!.*?\b(?:for|to){_S}wh)"
        rf"|^сколько{_S}(?:денег|рублей|долларов|средств)\b|^на{_S}какую{_S}сумму\b"
        rf"|^как\w*+{_S}(?:\w++{_S})?(?:штраф|сумм|компенсаци|выплат)", _FLAGS)),
    ("number", re.compile(
        rf"^(?:(?:to|by|for|of|in|at|from|with){_S})?how{_S}(?:many|much|long|old|far|large|big|high|low|often|fast|deep)\b"
        rf"|^by{_S}how{_S}much\b|^(?:to|by|at|from|of){_S}(?:what|which){_S}{_WORDS}(?:{_NUMBER})\b"
        rf"|^(?:what|which){_S}(?:was{_S}|is{_S}|were{_S}|are{_S})?(?:the{_S})?{_WORDS}"
        rf"(?:{_NUMBER})\b|^(?:\w++{_S})?скольк|^каков\w*+{_S}(?:размер|объ[её]м|число)"
        rf"|^(?:\w++{_S})?как\w*+{_S}(?:\w++{_S})?(?:уровн|дол[юиея]|процент|ставк|по{_S}сч[её]ту"
        rf"|числ|размер|объ[её]м)", _FLAGS)),
    ("date", re.compile(
        rf"^when\b|^(?:(?:in|on|since|by){_S})?(?:what|which){_S}{_WORDS}(?:year|date|day|month"
        rf"|time|week)\b|^когда\b|^в{_S}каком{_S}году\b|^какого{_S}числа\b|^қашан\b", _FLAGS)),
    ("person", re.compile(
        rf"^who(?:m|se)?\b|^(?:to|by|with|from|for){_S}whom\b"
        rf"|^(?:[\w-]++{_S})?(?:what|which){_S}{_WORDS}(?:{_PERSON})\b"
        rf"|^(?:кто|кого|кому|кем|кім)\b|^как{_S}зовут\b", _FLAGS)),
    ("organisation", re.compile(
        rf"^(?:[\w-]++{_S})?(?:what|which){_S}{_WORDS}(?:{_ORGANISATION})\b"
        rf"|^какая{_S}(?:компания|организация|фирма)\b|^какие{_S}(?:компании|организации)\b",
        _FLAGS)),
    ("place", re.compile(
        rf"^where\b|^(?:[\w-]++{_S})?(?:what|which){_S}{_WORDS}(?:{_PLACE})\b"
        rf"|^(?:где|куда|откуда|қайда)\b|^в{_S}каком{_S}(?:городе|регионе|суде|месте)\b"
        rf"|^в{_S}какой{_S}(?:стране|области)\b", _FLAGS)),
    ("yes_no", re.compile(
        rf"^(?:{_AUX})\b|^(?:ли|верно{_S}ли)\b|(?<!\s){_S}ли\b", _FLAGS)),
)
# Where the question itself starts: after any leading context ("In May 1994, to what level
# ...", "The scrap shredder ...: how big a penalty ...").
_FIRST_ASK = re.compile(
    rf"\b(?:(?:in|at|on|to|from|for|by|with|under|into|through|of|outside|after|before|since)"
    rf"{_S})?(?:who|whom|whose|what|which|when|where|why|how)\b"
    rf"|(?<!\w)(?:(?:до|от|на|в|во|за|по|против|для|с|со|из)\s++)?(?:кто|кого|кому|кем|что|когда"
    rf"|где|куда|скольк\w*+|каков\w*+|как\w*+|почему|зачем|қашан|қайда|кім)(?!\w)", _FLAGS)
# Where a clause starts: the question's start, or after punctuation or "and", "know", "tell".
_CLAUSE_START = re.compile(r"(?:^|[,;:?(—–-]|\band|\bknow|\btell(?:\s++(?:me|us))?|\bи|\bа)\s*+$",
                           _FLAGS)


def _clause_ask(text: str) -> re.Match[str] | None:
    """The first question word that starts a clause; None when the text only has relative
    ones ("a man who ran four agencies")."""
    for found in _FIRST_ASK.finditer(text):
        if _CLAUSE_START.search(text[max(0, found.start() - 12):found.start()]):
            return found
    return None


def _first_ask(text: str) -> re.Match[str] | None:
    """The question word that starts the question: the first one that starts a clause ("...
    the deal reached when Aspirus took over, how much money ..." asks how much), else the
    first one."""
    return _clause_ask(text) or _FIRST_ASK.search(text)


def answer_type_of(text: str) -> AnswerType:
    """The kind of answer one question wants, read from its question word on.

    >>> [answer_type_of(q) for q in ("How much did it pay?", "How many were hurt?",
    ...  "When was it signed?", "Who chaired it?", "Which company won?",
    ...  "In which city did they meet?", "Did the court agree?", "What did it decide?")]
    ['amount', 'number', 'date', 'person', 'organisation', 'place', 'yes_no', 'free']
    """
    stripped = text.strip()
    first = _first_ask(stripped)
    if first is None:
        return "yes_no" if _TYPE_RULES[-1][1].search(stripped) else "free"
    asked = stripped[first.start():]
    for kind, pattern in _TYPE_RULES:
        if kind == "yes_no":
            # An auxiliary opens a yes/no question only at the very start ("Did the court
            # agree?"), not after a question word ("what did it decide").
            if first.start() == 0 or not pattern.search(stripped):
                continue
            return kind
        if pattern.search(asked):
            return kind
    return "free"
