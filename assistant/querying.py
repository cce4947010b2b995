"""Reading a question before retrieval: the period it names, whether it wants the latest,
and what a follow-up refers to.

"in March 2022", "on 24 February 2022", "between 2019 and 2021", "в 2019 году", "last year",
"the latest": a newsroom's questions name dates all the time, and a passage about the right
subject from the wrong year is a wrong answer. The period becomes a filter on publication
date; relative periods ("last year") count from the newest release in the archive, not
from today, because an archive stops somewhere and "last year" means its last year.

The period itself is read by :func:`assistant.dates.read_period` (English, Russian and Kazakh
phrases, the one month table); this module adds recency and follow-ups.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .dates import RELATIVE_PERIOD, Period, read_period

if TYPE_CHECKING:
    from .documents import Turn

__all__ = ["Period", "QueryDates", "Resolved", "read_dates", "resolve"]

_FLAGS = re.IGNORECASE | re.UNICODE

_LATEST = re.compile(
    r"\b(?:latest|most\s++recent|newest|last\s++(?:release|statement|announcement|time|meeting|press)"
    r"|последн\w*|новейш\w*|свеж\w*)\b", _FLAGS)


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
    return QueryDates(period=read_period(question, newest or dt.date.today(), events=events),
                      latest=bool(_LATEST.search(question)) and not RELATIVE_PERIOD.search(question))


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
