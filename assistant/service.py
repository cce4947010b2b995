"""The :class:`Assistant` facade: the one object the CLI, the web app and other programs use.

>>> from assistant import Assistant                      # doctest: +SKIP
>>> bot = Assistant.open("index")                        # doctest: +SKIP
>>> bot.ask("Who attended the Sanya meeting?").citations[0].title   # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .config import DEFAULT_MODEL, MAX_QUESTION_CHARS, Settings
from .documents import (
    Answer,
    Document,
    DocumentPage,
    Filters,
    Hit,
    IndexInfo,
    IndexReport,
    Turn,
)
from .embedders.protocols import embed_queries
from .errors import IndexNotFound, QueryError
from .i18n import language_of
from .i18n import text as say
from .index_store import MANIFEST, Manifest, Store, recover
from .indexing import Progress, rebuild, run_index
from .planning import QuestionPlan, plan_question
from .retrieval import Retriever

if TYPE_CHECKING:
    from .distributed import RayOptions
    from .embedders.protocols import Embedder
    from .generation import Generator
    from .reranking import Reranker


_REPORTED_LATER = dt.timedelta(days=366)
"""How long after a period the question names a release may still report on it."""
_LATEST_TRIES = 3
"""Releases tried, newest first, for a question that asks for the latest."""


class Assistant:
    """Answers questions over one index folder, and keeps it up to date."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None) -> None:
        """Prefer :meth:`open`. ``embedder`` replaces the sentence-transformers model (tests use
        a fake one; other programs may bring their own)."""
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._store: Store | None = None
        self._reranker: Reranker | None = None
        self._generator: Generator | None = None
        self._lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: str | Path | None = None, *, settings: Settings | None = None,
             embedder: Embedder | None = None, create: bool = False) -> Assistant:
        """Open the index at ``index_dir``; with ``create=True`` a missing index is fine (it is
        made by the first :meth:`index`). Otherwise fails early on a missing index or a model
        that does not match the one that built it."""
        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.with_(index_dir=Path(index_dir))
        bot = cls(settings, embedder=embedder)
        recover(settings.index_dir)
        if create:
            return bot  # checked when it is written: a --rebuild may change the model
        if (settings.index_dir / MANIFEST).exists():
            bot._reader()
        else:
            raise IndexNotFound(
                f"no index at {settings.index_dir}: build one with "
                f"`press-assistant index PATH --index {settings.index_dir}`")
        return bot

    # -- parts, loaded on first use --------------------------------------------------------

    def model_name(self) -> str:
        if self._embedder is not None:
            return self._embedder.name
        if self.settings.model:
            return self.settings.model
        if (self.settings.index_dir / MANIFEST).exists():
            return Manifest.read(self.settings.index_dir).model
        return DEFAULT_MODEL

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                from .embedders.factory import load_embedder

                self._embedder = load_embedder(self.model_name(), backend=self.settings.backend,
                                               batch_size=self.settings.batch_size)
            return self._embedder

    @property
    def reranker(self) -> Reranker | None:
        """The second-stage model named by ``Settings.reranker``, loaded on first use."""
        if not self.settings.reranker:
            return None
        with self._lock:
            if self._reranker is None:
                from .reranking import load_reranker

                self._reranker = load_reranker(self.settings.reranker)
            return self._reranker

    def _retriever(self) -> Retriever:
        return Retriever(self._reader(), self.embedder, self.settings, self.reranker)

    def _reader(self) -> Store:
        with self._lock:
            if self._store is None:
                model = self._embedder.name if self._embedder else self.settings.model
                self._store = Store.open(self.settings.index_dir, model=model)
            return self._store

    def warm_up(self) -> None:
        """Load the embedding model, the vectors and the index's in-memory catalog now, so
        that the first question (or the first list or dated one) is not the slow one."""
        self.search("warm up", k=1)
        self._reader().warm_up()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- questions -------------------------------------------------------------------------

    def search(self, query: str, *, k: int | None = None, since: dt.date | None = None,
               until: dt.date | None = None, collections: Sequence[str] = (),
               languages: Sequence[str] = ()) -> list[Hit]:
        """The ``k`` passages that best match ``query``, best first; a period the query
        names ("in March 2022") narrows ``since``/``until`` further. ``collections`` and
        ``languages`` (when given) keep only documents of those."""
        _check_length(query, "the search")
        filters = self._filters(self.plan(query), since, until, collections, languages)
        retriever = self._retriever()
        hits = retriever.retrieve(query, k=k or self.settings.top_k, filters=filters).hits
        if not hits and filters.undated:
            hits = retriever.retrieve(query, k=k or self.settings.top_k,
                                      filters=_widened(filters)).hits
        store = self._reader()
        return [dataclasses.replace(h, ocr=True) if _read_by_ocr(store, h.doc_id, h.start) else h
                for h in hits]

    def ask(self, question: str, *, k: int | None = None, since: dt.date | None = None,
            until: dt.date | None = None, collections: Sequence[str] = (),
            languages: Sequence[str] = (), history: Sequence[Turn] = ()) -> Answer:
        """An answer with numbered, verbatim, checked citations, or an abstention when the
        archive holds nothing relevant.

        A period the question names becomes a filter (combined with ``since``/``until``);
        ``collections`` and ``languages`` keep only documents of those; every restriction
        is reported in ``Answer.searched``; "the latest" answers from the newest of the relevant
        releases. ``history`` holds the conversation so far (``Turn.of(answer)``, oldest
        first): a follow-up that leans on it ("How much was he ordered to pay?") is searched
        with the previous question and prefers the releases it cited.

        With ``Settings.llm_url`` set, a language model writes the answer from the retrieved
        passages and only its sentences that pass the check are kept (``Answer.generator``,
        ``Answer.dropped``); when it fails, the extractive answer comes with
        ``Answer.fallback`` saying why. :meth:`ask_stream` gives the text as it is written."""
        final: Answer | None = None
        for event in self.ask_stream(question, k=k, since=since, until=until,
                                     collections=collections, languages=languages,
                                     history=history):
            if isinstance(event, Answer):
                final = event
        assert final is not None  # ask_stream always ends with the answer
        return final

    def ask_stream(self, question: str, *, k: int | None = None, since: dt.date | None = None,
                   until: dt.date | None = None, collections: Sequence[str] = (),
                   languages: Sequence[str] = (), history: Sequence[Turn] = ()
                   ) -> Iterator[str | Answer]:
        """:meth:`ask`, as it happens: the language model's text as it arrives (``str``
        pieces, unchecked: show them as a draft), then the :class:`Answer` to show in its
        place. Without a language model configured, only the answer."""
        from .composing import compose

        reply, plan, hits = self._extractive(question, k=k, since=since, until=until,
                                             collections=collections, languages=languages,
                                             history=history)
        generator = self.generator
        store = self._reader()
        if generator is None:
            yield _with_versions(_mark_ocr(reply, store), store)
            return
        for event in compose(question, plan, hits, reply, generator=generator,
                             store=store, embedder=self.embedder, history=history):
            yield (_with_versions(_mark_ocr(event, store), store) if isinstance(event, Answer)
                   else event)

    @property
    def generator(self) -> Generator | None:
        """The language model client of ``Settings.llm_url``, or None (extractive answers)."""
        if not self.settings.llm_url:
            return None
        with self._lock:
            if self._generator is None:
                from .generation import OpenAIGenerator

                self._generator = OpenAIGenerator.from_settings(self.settings)
        return self._generator

    def _extractive(self, question: str, *, k: int | None, since: dt.date | None,
                    until: dt.date | None, collections: Sequence[str],
                    languages: Sequence[str], history: Sequence[Turn]
                    ) -> tuple[Answer, QuestionPlan, list[Hit]]:
        """The extractive answer, the plan, and the passages it was chosen from."""
        from .answering import answer
        from .listing import answer_list

        if not question.strip():  # before the conversation is folded in and hides it
            raise QueryError("the question is empty: type a question")
        _check_length(question, "the question")
        for turn in history:
            _check_length(turn.question, "an earlier question of the conversation")
        store = self._reader()
        plan = self.plan(question, history=history)
        filters = self._filters(plan, since, until, collections, languages)
        if plan.wants_releases:
            # Lists and counts are answered over the whole archive, not the top passages.
            return self._with_period(answer_list(plan, store, filters), filters), plan, []
        retriever = self._retriever()
        depth = max(k or self.settings.top_k, 8)
        retrieval = retriever.retrieve(plan.query, k=depth, filters=filters, prefer=plan.prefer)
        if not retrieval.hits and filters.undated:
            filters = _widened(filters)
            retrieval = retriever.retrieve(plan.query, k=depth, filters=filters,
                                           prefer=plan.prefer)
        # Sentences are judged against the question as asked: the folded-in previous question
        # found the release, but the new question says what to quote from it.
        vector = (embed_queries(self.embedder, [question])[0] if plan.follow_up
                  else retrieval.query_vector)
        hits = list(retrieval.hits)
        reply = None
        if plan.latest:
            # The newest relevant release that answers: a newer one may be about something
            # next to the question (an implementation note beside the statement).
            for newest in _newest_first(hits)[:_LATEST_TRIES]:
                reply = answer(plan, newest, query_vector=vector,
                               dense_trusted=retrieval.dense_trusted, store=store,
                               embedder=self.embedder, settings=self.settings)
                if not reply.abstained:
                    # A written answer reads the newest release alone: with older ones beside
                    # it, a model may cite an older figure, and the check would let it pass.
                    hits = newest
                    break
        if reply is None or reply.abstained:
            reply = answer(plan, hits, query_vector=vector,
                           dense_trusted=retrieval.dense_trusted, store=store,
                           embedder=self.embedder, settings=self.settings)
        if reply.abstained and filters.undated and filters.until is not None:
            # "How much did trade grow in 2021, as the President said during the visit?": the
            # year is what the release is about, and releases tell of a year after it ends.
            later = dataclasses.replace(filters, until=filters.until + _REPORTED_LATER)
            again = retriever.retrieve(plan.query, k=depth, filters=later, prefer=plan.prefer)
            retry = answer(plan, again.hits, query_vector=vector,
                           dense_trusted=again.dense_trusted, store=store,
                           embedder=self.embedder, settings=self.settings)
            if not retry.abstained:
                reply, filters, hits = retry, later, list(again.hits)
        return self._with_period(reply, filters), plan, hits

    def plan(self, question: str, *, history: Sequence[Turn] = ()) -> QuestionPlan:
        """How ``question`` (asked after ``history``) will be answered: what it asks, its
        parts and the answer each wants, its period (see :mod:`assistant.planning`)."""
        store = self._reader()
        return plan_question(question, history, newest=store.newest_date(),
                             new_names=_new_names(question, history, store) if history else None)

    @staticmethod
    def _with_period(reply: Answer, filters: Filters) -> Answer:
        """The answer, saying what was searched when that was not the whole archive."""
        import dataclasses

        if not filters.restricted:
            return reply
        lang = language_of(reply.question)  # said in the question's language, as the answer is
        searched = filters.describe(lang)
        reply = dataclasses.replace(reply, searched=searched)
        if reply.abstained and reply.text == say("answer.no_answer", lang):
            reply = dataclasses.replace(
                reply, text=say("answer.no_answer_among", lang, searched=searched))
        return reply

    def _filters(self, plan: QuestionPlan, since: dt.date | None, until: dt.date | None,
                 collections: Sequence[str] = (), languages: Sequence[str] = ()) -> Filters:
        """The explicit restrictions, the date range narrowed by the period the question
        names."""
        store = self._reader()
        for kind, asked, known in (("collection", collections, store.collections),
                                   ("language", languages, store.languages)):
            if asked and (unknown := sorted(set(asked) - set(have := known()))):
                raise QueryError(f"no {kind} {', '.join(map(repr, unknown))} in the index: "
                                 f"choose among {', '.join(have) or 'none'}")
        explicit = since is not None or until is not None
        if plan.period:
            if plan.period.since and (since is None or plan.period.since > since):
                since = plan.period.since
            if plan.period.until and (until is None or plan.period.until < until):
                until = plan.period.until
            if since and until and since > until:
                raise QueryError(
                    f"the question asks about {plan.period.phrase!r}, outside the date filter: "
                    "widen or clear the filter")
        return Filters(since, until, undated=plan.period is not None and not explicit,
                       collections=tuple(collections), languages=tuple(languages))

    def document(self, doc_id: str) -> Document | None:
        return self._reader().document(doc_id)

    def source_file(self, doc_id: str) -> Path | None:
        """The file the indexer read ``doc_id`` from, when it holds this one document only
        (see :meth:`Store.document_file`); None for a record of an export, an unknown id, or
        a file gone or replaced by a link since. The one path the server may open or delete
        for a document: never one the document's own metadata names."""
        return self._reader().document_file(doc_id)

    # -- the index -------------------------------------------------------------------------

    def index(self, paths: Iterable[str | Path], *, progress: Progress | None = None,
              rebuild_all: bool = False, ray: str | RayOptions | None = None) -> IndexReport:
        """Add new, replace changed and remove deleted documents of ``paths`` (files, folders,
        JSONL/CSV exports). With ``rebuild_all`` every stored document is re-embedded first
        (after a model change). ``ray``: embed on a pool of Ray actors (a cluster's address,
        "auto", or :class:`~.distributed.RayOptions`); reading, chunking and writing stay
        here, so the index is the one a local run makes (:mod:`.distributed`)."""
        if ray is None:
            return self._index(paths, self.embedder, progress, rebuild_all)
        from .distributed import RayOptions, import_ray, ray_embedder

        import_ray()  # without ray installed, say how to install it before loading the model
        options = ray if isinstance(ray, RayOptions) else RayOptions(address=ray)
        with ray_embedder(self.embedder, options, backend=self.settings.backend) as remote:
            return self._index(paths, remote, progress, rebuild_all)

    def _index(self, paths: Iterable[str | Path], embedder: Embedder, progress: Progress | None,
               rebuild_all: bool) -> IndexReport:
        folder = self.settings.index_dir
        if rebuild_all and (folder / MANIFEST).exists():
            self.close()
            rebuild(folder, embedder, self.settings, progress)
        files = [Path(p) for p in paths]
        with Store.create_or_open(folder, model=embedder.name, dimension=embedder.dimension,
                                  chunk_tokens=self.settings.chunk_tokens,
                                  overlap_tokens=self.settings.overlap_tokens,
                                  title_tokens=self.settings.title_tokens) as store:
            return run_index(store, embedder, files, self.settings, progress=progress)

    def remove(self, doc_id: str) -> Document:
        """Take one document out of the index (its file is not touched: indexing its folder
        again brings it back unless the file is gone). Returns what was removed."""
        doc = self.document(doc_id)
        if doc is None:
            raise QueryError(f"no document {doc_id!r} in the index: it may be removed already")
        embedder = self.embedder
        with Store.create_or_open(self.settings.index_dir, model=embedder.name,
                                  dimension=embedder.dimension,
                                  chunk_tokens=self.settings.chunk_tokens,
                                  overlap_tokens=self.settings.overlap_tokens,
                                  title_tokens=self.settings.title_tokens) as store:
            store.write([], remove=[doc_id])
            store.save_vectors()
            store.save_keywords()
        return doc

    def info(self) -> IndexInfo:
        from .embedders.models import declared_languages

        store = self._reader()
        documents, chunks = store.counts()
        return IndexInfo(
            path=str(self.settings.index_dir.resolve()), documents=documents, chunks=chunks,
            model=store.manifest.model, dimension=store.manifest.dimension,
            format_version=store.manifest.format_version, size_bytes=store.size_bytes(),
            updated_at=store.updated_at(), collections=tuple(store.collections()),
            languages=tuple(store.languages()), vectors=dict(store.manifest.vectors),
            model_languages=tuple(sorted(declared_languages(store.manifest.model) or ())))

    def export(self, path: str | Path) -> int:
        """Write every document with its metadata to a JSONL file that ``index`` reads back
        (same ids, text, titles, dates and URLs, so the same answers). Returns the count."""
        import json

        from .atomic import staged

        count = 0
        # A half-written export never takes the file's name.
        with staged(Path(path)) as tmp, open(tmp, "w", encoding="utf-8") as out:
            for doc in self._reader().iter_documents():
                out.write(json.dumps({
                    "id": doc.id, "title": doc.title,
                    "date": doc.date.isoformat() if doc.date else None, "url": doc.url,
                    "lang": doc.lang, "collection": doc.collection, "pages": list(doc.pages),
                    "text": doc.text}, ensure_ascii=False) + "\n")
                count += 1
        return count

    def check(self) -> list[str]:
        """Integrity problems of the index in words (empty: all is well); vectors that lag
        behind the store are repaired first."""
        return self._reader().check()

    def list_documents(self, *, contains: str = "", collection: str | None = None,
                       limit: int = 50, offset: int = 0) -> DocumentPage:
        """A page of the stored documents (no text), newest first; ``contains`` filters by
        title or id."""
        if limit < 1 or offset < 0:
            raise QueryError("limit must be at least 1 and offset at least 0")
        if limit + offset >= 2**63:  # past SQLite's integers: an overflow, not an empty page
            raise QueryError("limit and offset are too large")
        return self._reader().list_documents(contains=contains, collection=collection,
                                             limit=limit, offset=offset)

    def documents(self) -> Sequence[str]:
        return sorted(self._reader().document_hashes())


def _read_by_ocr(store: Store, doc_id: str, offset: int) -> bool:
    """Whether the page of ``doc_id`` that holds ``offset`` was read by OCR (documents are
    cached by the store: a card's few releases cost a lookup each)."""
    doc = store.document(doc_id)
    return doc is not None and doc.ocr_at(offset)


def _mark_ocr(answer: Answer, store: Store) -> Answer:
    """The answer with each citation whose quote comes from a page read by OCR marked so:
    done here, once, for the extractive, list and written answers alike."""
    if not any(_read_by_ocr(store, c.doc_id, c.start) for c in answer.citations):
        return answer
    return dataclasses.replace(answer, citations=tuple(
        dataclasses.replace(c, ocr=_read_by_ocr(store, c.doc_id, c.start))
        for c in answer.citations))


def _with_versions(answer: Answer, store: Store) -> Answer:
    """The answer with each citation's other versions (the release in other languages, its
    other postings), which the source card offers beside it."""
    groups = store.versions.groups(c.doc_id for c in answer.citations)
    if not groups:
        return answer
    return dataclasses.replace(answer, citations=tuple(
        dataclasses.replace(c, versions=tuple(
            m.version() for m in groups.get(c.doc_id, ()) if m.doc_id != c.doc_id))
        for c in answer.citations))


def _check_length(text: str, what: str) -> None:
    # Every entry point comes through here (chat, Gradio endpoints, CLI, HTTP and Python API):
    # one cap keeps the planner's and retriever's work bounded whatever a client sends.
    if len(text) > MAX_QUESTION_CHARS:
        raise QueryError(f"{what} has {len(text):,} characters; the limit is "
                         f"{MAX_QUESTION_CHARS:,}: ask a shorter question")


def _new_names(question: str, history: Sequence[Turn], store: Store) -> list[str]:
    """The question's informative names that neither the previous question nor the
    releases it cited use: the sign of a new subject."""
    from .answering import question_names
    from .lexical import stems

    previous = history[-1]
    known = set(stems(previous.question))
    for doc_id in previous.cited:
        if (doc := store.document(doc_id)) is not None:
            known.update(stems(f"{doc.title} {doc.text}"))
    return sorted(question_names(question, store) - known)


def _widened(filters: Filters) -> Filters:
    """A period read from the question, a week wider each side: "the measures of late
    September" may be in a release of 1 October. Used only when the period itself holds
    nothing that matches."""
    import dataclasses

    week = dt.timedelta(days=7)
    return dataclasses.replace(filters, since=filters.since - week if filters.since else None,
                               until=filters.until + week if filters.until else None)


def _newest_first(hits: Sequence[Hit]) -> list[list[Hit]]:
    """The passages of each relevant release (fused score at least half the best), newest
    release first, for questions asking for "the latest"."""
    if not hits:
        return []
    relevant = [h for h in hits if h.score >= 0.5 * hits[0].score and h.date is not None]
    order = sorted({h.doc_id: h.date for h in relevant}.items(),
                   key=lambda item: item[1] or dt.date.min, reverse=True)
    return [[h for h in hits if h.doc_id == doc_id] for doc_id, _ in order]
