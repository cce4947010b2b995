"""Extractive answers: the sentences of the retrieved passages that best answer the
question, each followed by its citation marker, every quote checked to be verbatim.

A sentence's score mixes several kinds of evidence, because each fails alone: the embedding
similarity of question and sentence (meaning, but blind to names), the share of the
question's content words found in the sentence (names, numbers), the same share counted over
the sentence together with its release's title (a release about "the Sanya meeting" whose
attendance sentence never repeats "Sanya"), whether the sentence holds the kind of thing the
question asks for (a new number for "how much", a name for "who"), how much it says beyond
the question, and whether its release holds the question's rare names.

The assistant abstains instead of quoting the nearest noise when the question names
something the archive never mentions, when the best release lacks most of the question's
rare names, or when even the best sentence scores below ``Settings.min_relevance``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from .abstention import Verdict, decide, load_judge
from .answer_spans import CAPITALISED, SPAN_TYPES, find_span, has_answer
from .chunking import split_sentences
from .config import Settings
from .dates import is_dateline
from .documents import Answer, AnswerSpan, Citation, Document, Evidence, Hit
from .embedders.protocols import embed_queries
from .embedders.vector_cache import VectorCache
from .i18n import language_of
from .i18n import text as say
from .lexical import content_stems, month_stems, script_of, stems

if TYPE_CHECKING:
    import numpy as np

    from .embedders.protocols import Embedder
    from .index_store import Store
    from .planning import Part, QuestionPlan

# Weights chosen on the project's press question set (docs/QUALITY.md), checked not to move
# the XQuAD first-sentence figure.
_WEIGHTS = {"similarity": 0.30, "words": 0.15, "context": 0.20, "passage": 0.10,
            "answer_type": 0.15, "novelty": 0.10, "names": 0.10}
_PASSAGES = 8
_HEADLINE = 0.9
_SAME_RELEASE = 0.5
_OTHER_RELEASE = 0.9
"""A sentence is quoted when it scores this share of the best one: of the best one's release,
or of another."""
_MISSING_NAMES = 3
_PART_SHARE = 0.6
_WHOLE_RELEASE = 0.8
"""The passage score given to the lead release's sentences outside the retrieved passages."""
"""A part of a question is answered by its best sentence only when that scores this share of
the best sentence for the whole question; else the answer says the archive does not say it."""
"""The best release lacks this many of the question's rare names: it is about something else."""


@dataclass(frozen=True, slots=True)
class _Candidate:
    doc: Document
    start: int
    end: int
    passage_score: float
    number: int
    """The sentence's place in the document's sentence spans."""

    @property
    def text(self) -> str:
        return self.doc.text[self.start:self.end]


def sentence_spans(doc: Document, store: Store) -> tuple[tuple[int, int], ...]:
    """The document's sentences: as the indexer stored them, or split now (older index)."""
    stored = store.sentence_spans(doc.id)
    return stored if stored is not None else _split(doc.id, doc.text, doc.lang)


@lru_cache(maxsize=256)
def _split(doc_id: str, text: str, lang: str | None) -> tuple[tuple[int, int], ...]:
    return tuple(split_sentences(text, lang))


# A conversation keeps returning to the same releases, so most of an answer's sentences were
# embedded by an earlier question.
_VECTORS = VectorCache(20_000)


def is_verbatim(doc: Document, quote: str, start: int, end: int) -> bool:
    """The check every quote passes before it is shown: it is the document's own text."""
    return bool(quote.strip()) and 0 <= start < end <= len(doc.text) and doc.text[start:end] == quote


def answer(
    plan: QuestionPlan,
    hits: Sequence[Hit],
    *,
    query_vector: np.ndarray,
    dense_trusted: bool = True,
    store: Store,
    embedder: Embedder,
    settings: Settings,
) -> Answer:
    """The answer to the planned question from the passages ``hits``. A follow-up's context
    (``plan.context``, the previous question) counts with the question's words where the
    release's title counts, so "What did they sign?" can quote the release the conversation
    is about. Each part of a question in several parts gets the sentence that answers it; a
    part no sentence answers is named in the answer."""
    question, context = plan.question, plan.context
    lang = language_of(question)  # the answer's own sentences speak the question's language
    no_answer = say("answer.no_answer", lang)
    candidates = _candidates(hits[:_PASSAGES], store,
                             whole=hits[0].doc_id if len(plan.parts) > 1 and hits else None)
    if not candidates:
        return Answer(question=question, text=no_answer, abstained=True)
    names = question_names(question, store)
    if dense_trusted and script_of(question) != script_of(candidates[0].text):
        # A Russian question about an English release that a multilingual model found: its
        # names ("Жакип") are spelt in another script and can be matched by no word. (With a
        # model of one language, such a release was found by no meaning: declining is right.)
        names = set()
    unknown = [n for n in names if store.chunk_frequency(n) == 0]
    if unknown and settings.judge != "off":
        # The question names someone or something the archive never mentions: whatever
        # sentence scores best is about something else.
        word = _word_of(unknown, question)
        return Answer(question=question, text=no_answer, abstained=True, confidence=0.0,
                      reason=say("answer.never_mentions", lang, word=word))
    vectors = _sentence_vectors(candidates, store, embedder)
    similarity = vectors @ query_vector
    wanted = content_stems(question)
    words_of = [content_stems(c.text) for c in candidates]
    if not dense_trusted:
        # The model cannot read the question (or the releases: those have no vectors): its
        # cosine is noise, or 0 against an unembedded sentence. What stands in for it in the
        # scores below, the share of the question's words a sentence holds, stands in for it
        # in the judge's evidence too.
        import numpy as np

        similarity = np.array([_share(wanted, words) for words in words_of], dtype=np.float32)
    around = wanted | content_stems(context)
    parts = plan.parts
    missing = {c.doc.id: len(names - _document_stems(c.doc.id, c.doc.title, c.doc.text))
               for c in candidates}
    # The evidence that does not depend on which part is asked.
    shared = []
    for i, cand in enumerate(candidates):
        with_title = words_of[i] | content_stems(cand.doc.title)
        # A follow-up's sentence seldom repeats the previous question's words, but the release
        # the conversation is about does: for one, the whole release is the context.
        around_here = (_document_stems(cand.doc.id, cand.doc.title, cand.doc.text) if context
                       else with_title)
        shared.append({
            "context": _share(around, around_here),
            "passage": cand.passage_score,
            # A sentence that only restates the question answers nothing.
            "novelty": len(words_of[i] - wanted) / len(words_of[i]) if words_of[i] else 0.0,
            "names": float(missing[cand.doc.id] == 0) if names else 0.0,
        })

    def score(i: int, part: Part | None, part_similarity: float | None) -> float:
        """Candidate ``i``'s evidence for the whole question (``part`` None) or one part."""
        cand = candidates[i]
        # A part's own words; the whole question's count in "context" (and the lead release
        # is preferred), so "how much does he have to repay?" stays with the person the first
        # part named without the names outweighing the part's own "repay".
        asked = wanted if part is None else content_stems(part.text) or wanted
        kinds = [p.answer_type for p in (parts if part is None else (part,))]
        sim = float(similarity[i]) if part_similarity is None else part_similarity
        evidence = {
            **shared[i],
            # Without a trustworthy embedding, the words carry the similarity's share too.
            "similarity": sim if dense_trusted else _share(asked, words_of[i]),
            "words": _share(asked, words_of[i]),
            "answer_type": float(any(has_answer(k, cand.text, question) for k in kinds)),
        }
        value = sum(_WEIGHTS[k] * v for k, v in evidence.items())
        if " ".join(cand.text.split()) == " ".join(cand.doc.title.split()):
            value *= _HEADLINE  # the headline announces; the body's sentences answer
        return value

    scored = sorted(((score(i, None, None), i) for i in range(len(candidates))), reverse=True)
    best, first = scored[0]
    top = candidates[first]
    weight = _weights(around, store)
    release_stems = _document_stems(top.doc.id, top.doc.title, top.doc.text)
    lacking = sorted((t for t in around if t not in release_stems), key=lambda t: -weight[t])
    # The word a decline names: not a figure or year (the period filter has those), a month
    # or a short form ("Fed", "AG"), which a release may well lack and still answer.
    named = [t for t in lacking if len(t) > 3 and not any(ch.isdigit() for ch in t)
             and t not in month_stems()]
    rarest = math.log(1 + max(1, store.counts()[1]))
    typed = [p.answer_type for p in parts if p.answer_type in SPAN_TYPES]
    evidence = Evidence(
        best_score=best, similarity=float(similarity[first]),
        top_similarity=float(similarity.max()), words=_share(wanted, words_of[first]),
        weighted_sentence=_weighted(weight, words_of[first] | content_stems(top.doc.title)),
        weighted_release=_weighted(weight, release_stems),
        missing_rare=weight[lacking[0]] / rarest if lacking else 0.0,
        names_missing=missing[top.doc.id] / len(names) if names else 0.0,
        typed=float(bool(typed)),
        type_found=float(any(has_answer(k, top.text, question) for k in typed)),
        passage=top.passage_score, question_words=math.log1p(len(wanted)),
        dense=float(dense_trusted),
        missing_weight=sum(weight[t] for t in lacking) / rarest,
        lacking_rare=float(sum(weight[t] > rarest / 2 for t in lacking)),
        window=_weighted(weight, _window_stems(top, store)),
        title=_weighted(weight, content_stems(top.doc.title)),
        margin=best - next((v for v, i in scored if candidates[i].doc.id != top.doc.id), 0.0),
        phrases_missing=_phrases_missing(question, release_stems))
    verdict = _judge(evidence, settings, embedder, missing[top.doc.id],
                     _word_of(named[:1], question) if named else None,
                     typed[0] if typed else None)
    if not verdict.answer:
        return Answer(question=question, text=no_answer, abstained=True,
                      confidence=verdict.confidence, reason=verdict.reason, evidence=evidence)

    total = max(1, store.counts()[1])

    def common(name: str) -> bool:
        """A name in one passage in fifty or more (the office's own head, the president)
        announces releases; it is seldom what a question asks for."""
        found = stems(name, drop_stopwords=True)
        return bool(found) and all(store.chunk_frequency(t) > total / 50 for t in found)

    lead = candidates[first].doc.id
    chosen: list[tuple[float, int, list[int]]] = []  # (score, candidate, parts it answers)
    unanswered: list[Part] = []
    if len(parts) > 1:
        part_vectors = (embed_queries(embedder, [p.text for p in parts]) if dense_trusted
                        else None)
        for number, part in enumerate(parts):
            # Half the part's own similarity, half the whole question's (which says who "he" is).
            sims = (0.5 * (vectors @ part_vectors[number]) + 0.5 * similarity
                    if part_vectors is not None else None)
            ranked = sorted(((score(i, part, float(sims[i]) if sims is not None else None), i)
                             for i in range(len(candidates))), reverse=True)
            spanned = part.answer_type in SPAN_TYPES

            def fits(v: float, i: int, part: Part = part, spanned: bool = spanned) -> bool:
                # The lead release first: another must be nearly as good as the best answer.
                bar = _PART_SHARE if candidates[i].doc.id == lead else _OTHER_RELEASE
                # A part must be answered by what it asks for: here a name of a person, not
                # any capitalised word ("Freeborn County" is no officer).
                return v >= bar * best and (not spanned or find_span(
                    part.answer_type, candidates[i].text, question, part=part.text,
                    common=common) is not None)

            found = next(((v, i) for v, i in ranked
                          if candidates[i].doc.id == lead and fits(v, i)), None) or next(
                ((v, i) for v, i in ranked if fits(v, i)), None)
            if found is None:
                unanswered.append(part)
                continue
            # One sentence may answer both parts ("signed in May, merging four agencies").
            same = next((which for _, i, which in chosen if i == found[1]), None)
            if same is not None:
                same.append(number)
            else:
                chosen.append((found[0], found[1], [number]))
    for value, i in scored:
        if len(chosen) >= settings.max_quotes:
            break
        if any(i == j for _, j, _ in chosen):
            continue
        # More of the best release (a two-part question is answered in two of its
        # sentences) is welcome; another release must be nearly as good to be cited.
        bar = _SAME_RELEASE if candidates[i].doc.id == lead else _OTHER_RELEASE
        if value < bar * best:
            continue
        # A sentence that says again what a chosen one said (overlapping chunks, releases
        # repeating each other) adds nothing.
        if any(float(vectors[i] @ vectors[j]) > 0.9 for _, j, _ in chosen):
            continue
        chosen.append((value, i, []))
    if len(parts) == 1:
        # A question in one part is answered by the best sentence that holds the kind of
        # answer it asks for; the others support it, and a name marked in them would read
        # as the answer.
        kind = parts[0].answer_type
        for _, i, which in chosen:
            if kind not in SPAN_TYPES or has_answer(kind, candidates[i].text, question):
                which.append(0)
                break

    citations: list[Citation] = []
    spans: list[AnswerSpan] = []
    texts: list[str] = []
    for value, i, which in chosen:
        cand = candidates[i]
        quote = cand.text
        if not is_verbatim(cand.doc, quote, cand.start, cand.end):
            continue  # never show a quote the release does not contain
        n = len(citations) + 1
        citations.append(Citation(
            n=n, doc_id=cand.doc.id, title=cand.doc.title, date=cand.doc.date, url=cand.doc.url,
            quote=quote, start=cand.start, end=cand.end, score=value,
            page=cand.doc.page_at(cand.start)))
        texts.append(f"{' '.join(quote.split())} [{n}]")
        for number in which:
            kind = parts[number].answer_type
            found_span = find_span(kind, quote, question, common=common,
                                   part=parts[number].text if len(parts) > 1 else None)
            if found_span is not None:
                spans.append(AnswerSpan(n=n, start=cand.start + found_span.start,
                                        end=cand.start + found_span.end, text=found_span.text,
                                        part=number, answer_type=kind))
    if not citations:
        return Answer(question=question, text=no_answer, abstained=True)
    text = " ".join(texts)
    if unanswered:
        # On a line of its own: the quotes' line ends with their last [n] marker.
        text += "\n" + unanswered_line([p.text for p in unanswered], lang)
    return Answer(question=question, text=text, abstained=False, citations=tuple(citations),
                  answer_spans=tuple(spans), unanswered=tuple(p.text for p in unanswered),
                  confidence=verdict.confidence, evidence=evidence)


def unanswered_line(parts: Sequence[str], lang: str) -> str:
    """The answer's line naming the question's parts no quoted sentence answers."""
    return " ".join(say("answer.not_said", lang, part=part.rstrip("?")) for part in parts)


def _judge(evidence: Evidence, settings: Settings, embedder: Embedder, names_missing: int,
           missing_word: str | None, wanted_type: str | None) -> Verdict:
    """Whether to answer on ``evidence``, by the judge ``settings.judge`` asks for."""
    if settings.judge == "off":
        return Verdict(True, evidence.best_score)
    judge = load_judge(embedder.name) if settings.judge == "model" else None
    if judge is None and names_missing >= _MISSING_NAMES:
        # The threshold's companion rule: the best release lacks most of the rare names.
        return Verdict(False, evidence.best_score,
                       "the releases closest to the question lack most of the names it asks about")
    return decide(evidence, judge=judge, min_relevance=settings.min_relevance,
                  missing_word=missing_word, wanted_type=wanted_type)


_PHRASE = re.compile(r"(?<=\s)[A-ZА-ЯЁ][\w'’.-]*+(?:\s++(?:of\s++|&\s++)?[A-ZА-ЯЁ][\w'’.-]*+)++")


def _phrases_missing(question: str, release: AbstractSet[str]) -> float:
    """Share of the question's names of two or more capitalised words (after its first word)
    that ``release`` (its stems) does not hold every word of."""
    phrases = [set(stems(m.group(0), drop_stopwords=True)) for m in _PHRASE.finditer(question)]
    phrases = [p for p in phrases if len(p) >= 2]
    if not phrases:
        return 0.0
    return sum(not p <= release for p in phrases) / len(phrases)


def _window_stems(cand: _Candidate, store: Store, around: int = 2) -> set[str]:
    """The content stems of ``cand``'s sentence and ``around`` sentences either side."""
    spans = sentence_spans(cand.doc, store)
    low, high = max(0, cand.number - around), min(len(spans), cand.number + around + 1)
    if not spans or not low < high:
        return content_stems(cand.text)
    return content_stems(cand.doc.text[spans[low][0]:spans[high - 1][1]])


def _weights(terms: AbstractSet[str], store: Store) -> dict[str, float]:
    """Each term's inverse passage frequency in the archive: rare names weigh most."""
    total = max(1, store.counts()[1])
    return {t: math.log(1 + total / (1 + store.chunk_frequency(t))) for t in terms}


def _weighted(weight: dict[str, float], found: AbstractSet[str]) -> float:
    full = sum(weight.values())
    return sum(w for t, w in weight.items() if t in found) / full if full else 0.0


def _word_of(wanted: Sequence[str], question: str) -> str:
    """The question's own word, first in the question, behind one of the stems ``wanted``
    (for a reason a reader understands)."""
    for word in re.findall(r"[\w'’-]+", question):
        if set(stems(word)) & set(wanted):
            return str(word)
    return wanted[0]


def _share(wanted: AbstractSet[str], found: AbstractSet[str]) -> float:
    return len(wanted & found) / len(wanted) if wanted else 0.0




def question_names(question: str, store: Store) -> set[str]:
    """Stems of the names the question uses (capitalised words after the first) that are
    informative in this archive: rare ones, of four letters or more ("Fed", "AG", "UN" are
    what releases spell out in full). A name in one passage of twenty or more (the
    office's own name, the president's) says nothing about which release answers. Counted
    in passages, not releases: a lookup in the keyword index, at any size."""
    total = max(1, store.counts()[1])
    names = set()
    for match in CAPITALISED.finditer(question, 1):
        for stem in stems(match.group(0), drop_stopwords=True):
            if len(stem) > 3 and stem not in month_stems() and store.chunk_frequency(stem) < total / 20:
                names.add(stem)
    return names


def _sentence_vectors(candidates: Sequence[_Candidate], store: Store, embedder: Embedder) -> np.ndarray:
    """The candidates' vectors: pooled at indexing time when the store has them (no model
    work per question), else embedded now (and cached)."""
    import numpy as np

    stored = {c.doc.id: store.sentence_vectors(c.doc.id) for c in candidates}
    missing = [c.text for c in candidates if stored[c.doc.id] is None]
    fresh = iter(_VECTORS.get(embedder.name, missing, embedder.embed) if missing else ())
    rows = [matrix[c.number] if (matrix := stored[c.doc.id]) is not None else next(fresh)
            for c in candidates]
    return np.stack(rows).astype(np.float32)


@lru_cache(maxsize=512)
def _document_stems(doc_id: str, title: str, text: str) -> frozenset[str]:
    return frozenset(stems(f"{title} {text}"))


def _candidates(hits: Sequence[Hit], store: Store, *, whole: str | None = None
                ) -> list[_Candidate]:
    """The sentences inside the retrieved passages, each once; with ``whole``, every
    sentence of that release too (a question in two parts is mostly answered by one
    release, its second part often far from the passage that matched the first)."""
    seen: set[tuple[str, int]] = set()
    out: list[_Candidate] = []
    extra = [Hit(doc_id=h.doc_id, title=h.title, date=h.date, url=h.url, text="", start=0,
                 end=2**62, score=_WHOLE_RELEASE * h.score, page=None)
             for h in hits[:1] if h.doc_id == whole]
    for hit in [*hits, *extra]:
        doc = store.document(hit.doc_id)
        if doc is None:  # removed since retrieval by a concurrent indexing run
            continue
        for number, (a, b) in enumerate(sentence_spans(doc, store)):
            if b <= hit.start or a >= hit.end or (doc.id, a) in seen:
                continue
            if len(re.findall(r"\w+", doc.text[a:b])) < 3 or is_dateline(doc.text[a:b]):
                continue  # datelines, bylines and headings alone answer nothing
            seen.add((doc.id, a))
            out.append(_Candidate(doc=doc, start=a, end=b, passage_score=hit.score, number=number))
    return out
