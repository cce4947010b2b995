"""Written answers: a language model writes from numbered passages, and only the sentences
that pass the check (:mod:`assistant.checking`) reach the reader.

The extractive answer is always made first (:mod:`assistant.answering`): it decides whether the
archive answers at all (the fitted judge), it is what the reader gets when the model server
fails or none of its sentences survive, and its cited passages go first into the prompt.
List, count and timeline answers stay the extractive dated table.

:func:`compose` yields the model's text as it streams (``str``), then the final
:class:`~assistant.documents.Answer` — checked, or the extractive one with ``fallback`` saying
why.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from .documents import Answer, Hit, Passage, Turn
from .errors import GenerationFailed
from .i18n import language_of
from .i18n import text as say

if TYPE_CHECKING:
    from .embedders.protocols import Embedder
    from .generation import Generator
    from .index_store import Store
    from .planning import QuestionPlan

__all__ = ["MAX_PASSAGES", "compose", "passages_for"]

log = logging.getLogger(__name__)

MAX_PASSAGES = 5
"""Passages put before the model: five 200-token chunks keep the prompt near 1,500 tokens,
which a small local model reads in seconds and which holds the releases the extractive answer
found plus a few more for a question that joins facts from several."""

_HISTORY_TURNS = 3
"""Earlier exchanges passed to the model: enough for "and what did he sign?" to know who."""

# In English, as the JSON of an English question carries them; a question in another language
# gets them in its own (the "fallback." messages of assistant.i18n).
LIST_FALLBACK = say("fallback.list", "en")
DECLINED_FALLBACK = say("fallback.declined", "en")


def passages_for(hits: Sequence[Hit], extractive: Answer, store: Store,
                 limit: int = MAX_PASSAGES) -> list[Passage]:
    """The numbered passages the model may cite: the passages holding the extractive answer's
    quotes first (the judge found that they answer), then the other hits, best first; each
    with the document's sentences that lie wholly inside it, so a generated sentence can be
    quoted by one of them verbatim."""
    from .answering import sentence_spans

    def holds_a_quote(hit: Hit) -> bool:
        return any(c.doc_id == hit.doc_id and hit.start <= c.start < hit.end
                   for c in extractive.citations)

    ordered = sorted(range(len(hits)), key=lambda i: (not holds_a_quote(hits[i]), i))
    passages: list[Passage] = []
    seen: set[tuple[str, int]] = set()
    for i in ordered:
        hit = hits[i]
        if (hit.doc_id, hit.start) in seen:
            continue
        doc = store.document(hit.doc_id)
        if doc is None:  # removed since it was retrieved
            continue
        seen.add((hit.doc_id, hit.start))
        inside = tuple((s, e) for s, e in sentence_spans(doc, store)
                       if hit.start <= s and e <= hit.end and doc.text[s:e].strip())
        passages.append(Passage(
            n=len(passages) + 1, doc_id=hit.doc_id, title=hit.title, date=hit.date,
            url=hit.url, text=doc.text[hit.start:hit.end], start=hit.start, end=hit.end,
            sentences=inside, page=hit.page, score=hit.score))
        if len(passages) == limit:
            break
    return passages


_MARKERS = re.compile(r"\s*\[\d+\]")


def history_messages(history: Sequence[Turn]) -> list[tuple[str, str]]:
    """The last exchanges of the conversation as (question, answer) pairs for the prompt,
    the earlier answers without their ``[n]`` markers: those numbered another turn's
    passages, and a model would take them for this turn's."""
    return [(turn.question, _MARKERS.sub("", turn.answer))
            for turn in history[-_HISTORY_TURNS:]]


def compose(question: str, plan: QuestionPlan, hits: Sequence[Hit], extractive: Answer, *,
            generator: Generator, store: Store, embedder: Embedder | None,
            history: Sequence[Turn] = ()) -> Iterator[str | Answer]:
    """The model's text as it arrives, then the answer to show (see the module's doc)."""
    from .answering import unanswered_line
    from .checking import check_answer
    from .generation import is_no_answer

    lang = language_of(question)  # why the quotes are shown, said in the question's language
    if plan.wants_releases:
        yield dataclasses.replace(extractive, fallback=say("fallback.list", lang))
        return
    if extractive.abstained:
        yield dataclasses.replace(extractive, fallback=say("fallback.declined", lang))
        return
    passages = passages_for(hits, extractive, store)
    if not passages:
        yield dataclasses.replace(extractive, fallback=say("fallback.no_passage", lang))
        return
    pieces: list[str] = []
    try:
        for delta in generator.stream(question, passages, history=history_messages(history),
                                      language=plan.language):
            pieces.append(delta)
            yield delta
    except GenerationFailed as exc:
        log.warning("the language model failed on %r: %s", question, exc)
        yield dataclasses.replace(extractive, fallback=say("fallback.failed", lang, error=exc))
        return
    written = "".join(pieces).strip()
    if not written:
        yield dataclasses.replace(extractive, fallback=say("fallback.empty", lang))
        return
    if is_no_answer(written):
        # The judge found an answer in these passages and the model did not: the quotes are
        # shown, and the reader is told the model disagreed.
        yield dataclasses.replace(extractive, fallback=say("fallback.model_no_answer", lang))
        return
    try:
        checked = check_answer(written, passages, embedder=embedder)
    except Exception:  # a bug in the check must not cost the reader the quotes
        log.exception("checking a written answer to %r failed", question)
        yield dataclasses.replace(extractive, fallback=say("fallback.unchecked", lang))
        return
    if not checked.kept:
        yield dataclasses.replace(
            extractive, dropped=checked.dropped,
            fallback=say("fallback.none_passed", lang, n=len(checked.dropped)))
        return
    for sentence in checked.dropped:
        log.info("dropped a written sentence (%s): %r", sentence.reason, sentence.sentence)
    # The extractive answer's line naming what the archive does not say goes on too.
    missing = [unanswered_line(extractive.unanswered, lang)] if extractive.unanswered else []
    yield Answer(question=question, text="\n".join([checked.text, *missing]), abstained=False,
                 citations=checked.citations, searched=extractive.searched,
                 confidence=extractive.confidence, generator=generator.name,
                 dropped=checked.dropped, evidence=extractive.evidence,
                 # The parts no sentence of the archive answers (found by the extractive
                 # step): the model had the same passages, so it cannot know them either.
                 unanswered=extractive.unanswered)
