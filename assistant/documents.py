"""The data that flows between the pipeline's stages, as frozen dataclasses.

``readers`` makes :class:`Document`; ``chunking`` makes :class:`Chunk`; ``store`` keeps
both; ``retrieval`` returns :class:`Hit`; ``answering`` returns :class:`Answer`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from .errors import QueryError
from .i18n import text as _say


@dataclass(frozen=True, slots=True)
class Document:
    """One press release, cleaned of page furniture.

    ``pages`` holds, for paginated sources (PDF), the character offset in ``text`` where
    each page starts: page ``n`` (1-based) starts at ``pages[n - 1]``.
    """

    id: str
    title: str
    text: str
    date: dt.date | None = None
    url: str | None = None
    lang: str | None = None
    pages: tuple[int, ...] = ()
    source: str = ""
    """The folder or export file the document was indexed from (absolute path); re-indexing
    that source removes its documents that are gone."""
    collection: str = ""
    """A short name of the source (folder or export file name), for display and filters."""
    ocr_pages: tuple[int, ...] = ()
    """The pages (1-based) whose text OCR read from an image (a scan), not a text layer."""

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that reaches the index changes."""
        fields: list[object] = [self.title, self.text, self.date.isoformat() if self.date else None,
                                self.url, self.lang, list(self.pages)]
        if self.ocr_pages:  # only then: the hashes of documents without OCR stay as they were
            fields.append(list(self.ocr_pages))
        payload = json.dumps(fields, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def ocr_at(self, offset: int) -> bool:
        """Whether the page that holds character ``offset`` was read by OCR."""
        return bool(self.ocr_pages) and self.page_at(offset) in self.ocr_pages

    def page_at(self, offset: int) -> int | None:
        """The 1-based page that holds character ``offset``, or None when unpaginated."""
        if not self.pages:
            return None
        # Bisection: the chunker asks once per chunk, and a long PDF has thousands of both.
        return max(1, bisect.bisect_right(self.pages, offset))


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input that was not indexed, and why, in words a person understands."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Chunk:
    """A passage of a document: ``document.text[start:end] == text``."""

    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str
    title: str
    page: int | None = None

    @property
    def embedding_text(self) -> str:
        """What the embedder reads: the title as context, then the passage."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True, slots=True)
class Version:
    """Another version of a cited release: the same release in another language (or an
    earlier posting of it)."""

    doc_id: str
    lang: str | None
    title: str
    url: str | None
    date: dt.date | None = None

    def to_json(self) -> dict[str, object]:
        return {"doc_id": self.doc_id, "lang": self.lang, "title": self.title, "url": self.url,
                "date": self.date.isoformat() if self.date else None}


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieved passage with its document's metadata and its fused score."""

    doc_id: str
    title: str
    date: dt.date | None
    url: str | None
    text: str
    start: int
    end: int
    score: float
    page: int | None = None
    collection: str = ""
    chunk_id: int = 0
    ocr: bool = False
    """The passage's page was read by OCR from a scan (its words may hold OCR errors)."""
    lang: str | None = None
    versions: tuple[Version, ...] = ()
    """The release's other versions (translations, re-posts), which retrieval left out in
    favour of this one."""

    def to_json(self) -> dict[str, object]:
        return {"doc_id": self.doc_id, "title": self.title,
                "date": self.date.isoformat() if self.date else None, "url": self.url,
                "text": self.text, "start": self.start, "end": self.end,
                "score": round(self.score, 4), "page": self.page, "collection": self.collection,
                "ocr": self.ocr, "lang": self.lang,
                "versions": [v.to_json() for v in self.versions]}


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered source of an answer; ``quote`` is verbatim ``document.text[start:end]``."""

    n: int
    doc_id: str
    title: str
    date: dt.date | None
    url: str | None
    quote: str
    start: int
    end: int
    score: float
    page: int | None = None
    ocr: bool = False
    """The quote's page was read by OCR from a scan (its words may hold OCR errors)."""
    versions: tuple[Version, ...] = ()
    """The cited release in other languages or postings ("also in: қазақша, русский")."""

    def to_json(self) -> dict[str, object]:
        return {
            "n": self.n, "doc_id": self.doc_id, "title": self.title,
            "date": self.date.isoformat() if self.date else None, "url": self.url,
            "quote": self.quote, "start": self.start, "end": self.end,
            "score": round(self.score, 4), "page": self.page, "ocr": self.ocr,
            "versions": [v.to_json() for v in self.versions],
        }


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions on what may be retrieved; empty or ``None`` means no restriction."""

    since: dt.date | None = None
    until: dt.date | None = None
    undated: bool = False
    """Keep documents without a publication date: set for a period read from the question,
    which cannot rule out a release whose date is unknown; an explicit filter does."""
    collections: tuple[str, ...] = ()
    """Only documents of these collections (the folder or export file they came from)."""
    languages: tuple[str, ...] = ()
    """Only documents in these languages (ISO 639-1 codes, as detected when indexed)."""

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise QueryError(f"the date range is empty: {self.since} is after {self.until}")

    @property
    def restricted(self) -> bool:
        return bool(self.since or self.until or self.collections or self.languages)

    def describe(self, lang: str = "en") -> str:
        """What was searched, in words of ``lang`` (the question's): "releases from 2021-01-01
        to 2021-12-31 in putin.jsonl in language en"."""
        since = self.since.isoformat() if self.since else None
        until = self.until.isoformat() if self.until else None
        if since and until:
            words = (_say("searched.day", lang, day=since) if since == until else
                     _say("searched.range", lang, since=since, until=until))
        elif since:
            words = _say("searched.since", lang, since=since)
        elif until:
            words = _say("searched.until", lang, until=until)
        else:
            words = _say("searched.all", lang)
        if self.collections:
            words += _say("searched.collections", lang, collections=", ".join(self.collections))
        if self.languages:
            words += _say("searched.languages", lang, languages=", ".join(self.languages))
        return words


@dataclass(frozen=True, slots=True)
class DocumentSummary:
    """A stored document without its text: a row of the library's list."""

    id: str
    title: str
    date: dt.date | None
    url: str | None
    collection: str
    lang: str | None
    chars: int

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "title": self.title,
                "date": self.date.isoformat() if self.date else None, "url": self.url,
                "collection": self.collection, "lang": self.lang, "chars": self.chars}


@dataclass(frozen=True, slots=True)
class DocumentPage:
    """One page of the library's list, and how many documents match in all."""

    total: int
    documents: tuple[DocumentSummary, ...]

    def to_json(self) -> dict[str, object]:
        return {"total": self.total, "documents": [d.to_json() for d in self.documents]}


NO_ANSWER = _say("answer.no_answer")
"""The no-answer sentence in English; an answer speaks its question's language
(:mod:`assistant.i18n`)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """What an extractive answer rests on, for the judge that decides whether to give it
    (:mod:`assistant.abstention`). Shares are 0..1; weights are inverse document
    frequencies, so a rare name counts for more than "court"."""

    best_score: float
    """The answerer's score of its best sentence."""
    similarity: float
    """Embedding similarity of the question and the best sentence."""
    top_similarity: float
    """The highest similarity of any candidate sentence."""
    words: float
    """Share of the question's content words in the best sentence."""
    weighted_sentence: float
    """Share of the question's informative weight in the best sentence and its title."""
    weighted_release: float
    """Share of the question's informative weight anywhere in the best sentence's release."""
    missing_rare: float
    """The weight (0..1, of the rarest possible word) of the rarest question word that the
    best release lacks: a close-to-topic question no release answers names something the
    nearest release does not."""
    names_missing: float
    """Share of the question's rare names that the best release lacks."""
    typed: float
    """1 when the question wants a number, amount, date or name."""
    type_found: float
    """1 when the best sentence holds one that the question does not already say."""
    passage: float
    """Retrieval's fused score of the best sentence's passage."""
    question_words: float
    """log(1 + the question's content words): lets the judge undo what length does to the
    shares above, instead of declining long questions."""
    dense: float
    """1 when the embedding was trusted for the question's script."""
    missing_weight: float
    """The informative weight of all question words the best release lacks, in units of the
    rarest possible word (not a share: a long question is not penalised for its length)."""
    lacking_rare: float
    """How many question words rarer than half the rarest possible the best release lacks."""
    window: float
    """Share of the question's informative weight in the best sentence and the two sentences
    either side of it: what the passage around the quote says."""
    title: float
    """Share of the question's informative weight in the best release's title."""
    margin: float
    """The best score minus the best score of a sentence from another release."""
    phrases_missing: float
    """Share of the question's names of several words ("Sun Country Airlines") whose words
    the best release does not all hold: a release about another company's refunds."""


@dataclass(frozen=True, slots=True)
class AnswerSpan:
    """The words of a quote that answer (a part of) the question: "37 criminal cases",
    "$1.2 million"; ``document.text[start:end] == text``, inside citation ``n``'s quote."""

    n: int
    start: int
    end: int
    text: str
    part: int = 0
    """Which part of the question it answers (0 for a question in one part)."""
    answer_type: str = ""
    """What the part asked for: number, amount, date, person, organisation or place."""

    def to_json(self) -> dict[str, object]:
        return {"n": self.n, "start": self.start, "end": self.end, "text": self.text,
                "part": self.part, "answer_type": self.answer_type}


@dataclass(frozen=True, slots=True)
class Passage:
    """A numbered passage put before a language model, which may cite it as ``[n]``:
    ``text == document.text[start:end]``. ``sentences`` are the document's sentence spans
    (absolute offsets into the document text) that lie inside the passage; a checked
    generated sentence is quoted by the one of them that best supports it."""

    n: int
    doc_id: str
    title: str
    date: dt.date | None
    url: str | None
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...] = ()
    page: int | None = None
    score: float = 0.0

    def sentence_text(self, span: tuple[int, int]) -> str:
        """The words of one of ``sentences`` (absolute offsets), read from ``text``."""
        return self.text[span[0] - self.start:span[1] - self.start]


@dataclass(frozen=True, slots=True)
class DroppedSentence:
    """A generated sentence the check removed before anyone saw it, and why."""

    sentence: str
    reason: str

    def to_json(self) -> dict[str, object]:
        return {"sentence": self.sentence, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Answer:
    """An answer: sentences from the archive (or, with a language model, sentences it wrote
    that passed the check), each followed by its ``[n]``."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    searched: str | None = None
    """The publication dates searched, in words ("releases from 2022-03-01 to 2022-03-31"),
    when the question or a filter named a period; None means the whole archive."""
    count: int | None = None
    """For a question that asks for every matching release: how many match (each cited row
    is one release)."""
    answer_spans: tuple[AnswerSpan, ...] = ()
    """Where a quote holds the number, amount, date or name a question part asks for."""
    unanswered: tuple[str, ...] = ()
    """The parts of the question that no quoted sentence answers (the answer text says so)."""
    confidence: float | None = None
    """The judge's confidence that the archive answers the question (None for lists)."""
    reason: str | None = None
    """Why the assistant declined, in words, when it did."""
    generator: str | None = None
    """The language model that wrote the answer (every sentence checked), or None for the
    extractive answer."""
    fallback: str | None = None
    """Why the extractive answer is shown although a language model was configured (the
    server failed, timed out, or none of its sentences passed the check); None otherwise."""
    dropped: tuple[DroppedSentence, ...] = ()
    """Generated sentences the check removed, each with its reason."""
    evidence: Evidence | None = field(default=None, compare=False, repr=False)
    """What the judge decided on (not part of the JSON; for fitting and inspection)."""

    def to_json(self) -> dict[str, object]:
        return {
            "question": self.question, "answer": self.text, "abstained": self.abstained,
            "searched": self.searched, "count": self.count,
            "citations": [c.to_json() for c in self.citations],
            "answer_spans": [s.to_json() for s in self.answer_spans],
            "unanswered_parts": list(self.unanswered),
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            "reason": self.reason,
            "generator": self.generator, "fallback": self.fallback,
            "dropped": [d.to_json() for d in self.dropped],
        }


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier exchange of a conversation, as much of it as a follow-up needs."""

    question: str
    cited: tuple[str, ...] = ()
    """Ids of the releases the answer cited, first cited first."""
    answer: str = ""
    """What was answered (a language model writing the next answer reads the conversation)."""

    @classmethod
    def of(cls, answer: Answer) -> Turn:
        return cls(question=answer.question,
                   cited=tuple(dict.fromkeys(c.doc_id for c in answer.citations)),
                   answer=answer.text)


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What an indexing run did."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    chunks_embedded: int = 0
    seconds: float = 0.0
    notes: tuple[str, ...] = ()
    """What the run found worth saying once, beside the counts: releases in languages the
    embedding model does not cover (and the flag that builds an index that does)."""

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
            f"{len(self.skipped)} skipped; {self.chunks_embedded} chunks embedded "
            f"in {self.seconds:.1f}s"
        )


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """What an index holds."""

    path: str
    documents: int
    chunks: int
    model: str
    dimension: int
    format_version: int
    size_bytes: int
    updated_at: str | None
    collections: tuple[str, ...] = field(default_factory=tuple)
    languages: tuple[str, ...] = field(default_factory=tuple)
    model_languages: tuple[str, ...] = field(default_factory=tuple)
    """The languages the embedding model covers (empty: unknown); a question or release in
    another is found by keywords alone."""
    vectors: dict[str, object] = field(default_factory=dict)
    """The FAISS layout from the manifest: {} or {"kind": "flat"} exact; IVF with its
    parameters and the recall measured when it was built."""
