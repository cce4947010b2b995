"""Questions that want every matching release: lists, counts and timelines.

Which questions these are is the planner's call (:func:`assistant.planning.intent_of`).

"List every release about ...", "In which 2010 statements did ... dissent?", "How many
releases mention ...?": the top few passages of a search cannot answer these, so they are
answered over the whole archive. Every release whose text holds the question's informative
words (weighted by how rare each is: a name counts for more than "court") is a row, with its
date, title and the sentence that best shows why it matched, oldest first, and the count.

Matching is by words, so a release that says the same thing in other words is missed; the
answer says so, and says when the list was cut at ``MAX_ROWS``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import TYPE_CHECKING

from .documents import Answer, Citation
from .i18n import language_of
from .i18n import text as say
from .lexical import content_stems, month_stems, stems

if TYPE_CHECKING:
    from .documents import Filters
    from .index_store import Store
    from .planning import QuestionPlan

MAX_ROWS = 60
MIN_COVERAGE = 0.4
RELATIVE_COVERAGE = 0.5
"""A release is listed when it holds at least this share of the question's informative
weight, and at least ``RELATIVE_COVERAGE`` of what the best-matching release holds: a
question's own word ("dissent") may be one no release uses ("voting against"), and a rare
one may be spelled otherwise in most releases ("Dissanayake", "Disanayake"). Chosen on the
list questions of the press set (docs/QUALITY.md): gold recall 0.81 -> 0.99 for row
precision 0.71 -> 0.60 against a relative share of 0.75."""

# Words that say "a list of releases" rather than what the releases are about.
_FRAME = frozenset(stems(
    "list lists listed every all each release releases statement statements announcement "
    "announcements press mention mentions mentioned report reports reported cover covers "
    "covering date dates time times occasion occasions archive record recorded many often "
    "which what when name enumerate"))


_YEAR_OR_DAY = re.compile(r"(?:1[89]\d\d|20\d\d|\d{1,2}(?:st|nd|rd|th)?)")


def key_terms(question: str, *, dated: bool = False) -> list[str]:
    """The question's informative stems: its content words without the list framing, and,
    when the question names a period (``dated``), without its years, days and months: the
    period filter handles them, and a release rarely repeats its own year."""
    terms = content_stems(question) - _FRAME
    if dated:
        terms = {t for t in terms if not _YEAR_OR_DAY.fullmatch(t) and t not in month_stems()}
    return sorted(terms)


def answer_list(plan: QuestionPlan, store: Store, filters: Filters) -> Answer:
    """Every release matching the planned question (a list or a count), one cited row each,
    oldest first; the period the question names is already in ``filters``."""
    from .answering import is_verbatim, sentence_spans
    from .versions import one_per_release

    question = plan.question
    lang = language_of(question)  # the answer's own sentences speak the question's language
    terms = key_terms(question, dated=plan.dated)
    if not terms:
        return Answer(question=question, text=say("list.nothing", lang), abstained=True)
    total = max(1, store.counts()[0])
    # Inverse document frequency over the whole archive, so that a period filter does not
    # make common words look rare.
    weight = {t: math.log(1 + total / (1 + store.document_frequency(t))) for t in terms}
    full = sum(weight.values())
    scores = store.documents_weighed({t: w / full for t, w in weight.items()}, filters=filters,
                                     at_least=MIN_COVERAGE, relative=RELATIVE_COVERAGE)
    # One row per release: its translations and re-posts match the same words.
    matched = one_per_release(list(scores), store, question)
    # Oldest first by the catalog's dates, and only the rows shown (with any that share the
    # last one's date, which the title orders) are loaded: in a large archive a common
    # subject matches thousands of releases.
    dates = store.document_dates(matched)
    matched.sort(key=lambda d: (dates[d] is None, dates[d] or dt.date.min))
    shown = matched[:MAX_ROWS]
    if shown:
        last = dates[shown[-1]]
        shown += [d for d in matched[MAX_ROWS:] if dates[d] == last]
    docs = [doc for d in shown if (doc := store.document(d)) is not None]
    docs.sort(key=lambda d: (d.date is None, d.date or dt.date.min, d.title))
    count = len(matched)
    cut = count > MAX_ROWS
    wanted = set(terms)
    citations: list[Citation] = []
    lines: list[str] = []
    for doc in docs[:MAX_ROWS]:
        best = None
        for a, b in sentence_spans(doc, store):
            found = content_stems(doc.text[a:b]) & wanted
            value = sum(weight[t] for t in found)
            if best is None or value > best[0]:
                best = (value, a, b)
        if best is None:
            continue
        _, a, b = best
        quote = doc.text[a:b]
        if not is_verbatim(doc, quote, a, b):
            continue
        n = len(citations) + 1
        citations.append(Citation(n=n, doc_id=doc.id, title=doc.title, date=doc.date, url=doc.url,
                                  quote=quote, start=a, end=b, score=scores[doc.id],
                                  page=doc.page_at(a)))
        when = doc.date.isoformat() if doc.date else say("card.undated", lang)
        lines.append(f"- {when}: {' '.join(doc.title.split())} "
                     f"— {' '.join(quote.split())} [{n}]")
    if not citations:
        return Answer(question=question, text=say("list.none", lang), abstained=True)
    cited_dates = [c.date for c in citations if c.date]
    head = (say("list.head_dated", lang, n=count, first=min(cited_dates).isoformat(),
                last=max(cited_dates).isoformat()) if cited_dates
            else say("list.head", lang, n=count))
    note = (f" {say('list.cut', lang, n=MAX_ROWS)}" if cut else "") + (
        f" {say('list.by_words', lang)}")
    return Answer(question=question, text=f"{head}.{note}\n" + "\n".join(lines), abstained=False,
                  citations=tuple(citations), count=count)
