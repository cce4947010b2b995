"""Extractive answers: the sentences of the retrieved passages that best answer the
question, each followed by its citation marker, every quote checked to be verbatim.

A sentence's score mixes three kinds of evidence, because each fails alone: the embedding
similarity of question and sentence (meaning, but blind to names), the share of the
question's content words found in the sentence (names, numbers), and the same share counted
over the sentence together with its release's title (a release about "the Sanya meeting"
whose attendance sentence never repeats "Sanya"). When even the best sentence scores below
``Settings.min_relevance`` the assistant abstains instead of quoting the nearest noise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .chunking import split_sentences
from .config import Settings
from .documents import NO_ANSWER, Answer, Citation, Document, Hit
from .embedding import VectorCache
from .lexical import content_stems

if TYPE_CHECKING:
    import numpy as np

    from .embedding import Embedder
    from .store import Store

_WEIGHTS = {"similarity": 0.45, "words": 0.25, "context": 0.20, "passage": 0.10}
_PASSAGES = 8
_HEADLINE = 0.9


@dataclass(frozen=True, slots=True)
class _Candidate:
    doc: Document
    start: int
    end: int
    passage_score: float

    @property
    def text(self) -> str:
        return self.doc.text[self.start:self.end]


@lru_cache(maxsize=256)
def _sentences(doc_id: str, text: str, lang: str | None) -> tuple[tuple[int, int], ...]:
    return tuple(split_sentences(text, lang))


# A conversation keeps returning to the same releases, so most of an answer's sentences were
# embedded by an earlier question.
_VECTORS = VectorCache(20_000)


def is_verbatim(doc: Document, quote: str, start: int, end: int) -> bool:
    """The check every quote passes before it is shown: it is the document's own text."""
    return bool(quote.strip()) and 0 <= start < end <= len(doc.text) and doc.text[start:end] == quote


def answer(
    question: str,
    hits: Sequence[Hit],
    *,
    query_vector: np.ndarray,
    dense_trusted: bool = True,
    store: Store,
    embedder: Embedder,
    settings: Settings,
    context: str = "",
) -> Answer:
    """``context`` is what a follow-up leans on (the previous question): its words count
    with the question's where the release's title counts, so "What did they sign?" can
    quote the release the conversation is about."""
    candidates = _candidates(hits[:_PASSAGES], store)
    if not candidates:
        return Answer(question=question, text=NO_ANSWER, abstained=True)
    vectors = _VECTORS.get(embedder.name, [c.text for c in candidates], embedder.embed)
    similarity = vectors @ query_vector
    wanted = content_stems(question)
    around = wanted | content_stems(context)
    scored: list[tuple[float, int]] = []
    for i, cand in enumerate(candidates):
        words = content_stems(cand.text)
        with_title = words | content_stems(cand.doc.title)
        coverage = len(wanted & words) / len(wanted) if wanted else 0.0
        context_coverage = len(around & with_title) / len(around) if around else 0.0
        # Without a trustworthy embedding, the words carry the similarity's share too.
        meaning = float(similarity[i]) if dense_trusted else coverage
        score = (_WEIGHTS["similarity"] * meaning + _WEIGHTS["words"] * coverage
                 + _WEIGHTS["context"] * context_coverage
                 + _WEIGHTS["passage"] * cand.passage_score)
        if " ".join(cand.text.split()) == " ".join(cand.doc.title.split()):
            score *= _HEADLINE  # the headline announces; the body's sentences answer
        scored.append((score, i))
    scored.sort(reverse=True)
    best = scored[0][0]
    if best < settings.min_relevance:
        return Answer(question=question, text=NO_ANSWER, abstained=True)

    chosen: list[tuple[float, int]] = []
    for score, i in scored:
        if len(chosen) >= settings.max_quotes or score < 0.85 * best:
            break
        # A sentence that says again what a chosen one said (overlapping chunks, releases
        # repeating each other) adds nothing.
        if any(float(vectors[i] @ vectors[j]) > 0.9 for _, j in chosen):
            continue
        chosen.append((score, i))

    citations: list[Citation] = []
    parts: list[str] = []
    for score, i in chosen:
        cand = candidates[i]
        quote = cand.text
        if not is_verbatim(cand.doc, quote, cand.start, cand.end):
            continue  # never show a quote the release does not contain
        n = len(citations) + 1
        citations.append(Citation(
            n=n, doc_id=cand.doc.id, title=cand.doc.title, date=cand.doc.date, url=cand.doc.url,
            quote=quote, start=cand.start, end=cand.end, score=score,
            page=cand.doc.page_at(cand.start)))
        parts.append(f"{' '.join(quote.split())} [{n}]")
    if not citations:
        return Answer(question=question, text=NO_ANSWER, abstained=True)
    return Answer(question=question, text=" ".join(parts), abstained=False,
                  citations=tuple(citations))


def _candidates(hits: Sequence[Hit], store: Store) -> list[_Candidate]:
    """The sentences inside the retrieved passages, each once."""
    seen: set[tuple[str, int]] = set()
    out: list[_Candidate] = []
    for hit in hits:
        doc = store.document(hit.doc_id)
        if doc is None:  # removed since retrieval by a concurrent indexing run
            continue
        for a, b in _sentences(doc.id, doc.text, doc.lang):
            if b <= hit.start or a >= hit.end or (doc.id, a) in seen:
                continue
            if len(re.findall(r"\w+", doc.text[a:b])) < 3:
                continue  # dates, bylines and headings alone answer nothing
            seen.add((doc.id, a))
            out.append(_Candidate(doc=doc, start=a, end=b, passage_score=hit.score))
    return out
