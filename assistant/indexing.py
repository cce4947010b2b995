"""The indexing run: read, compare by content hash, chunk, embed, commit.

Unchanged documents cost a hash comparison and nothing else (an unchanged file is not even
read). Changed and new documents are chunked and embedded in batches as they are read: one
thread reads and chunks, while the run embeds the batch before; each batch is committed on
its own, so a failure late in a long run keeps everything before it. A document disappears
from the index only when the folder or export it came from is re-indexed and it is no longer
there; a file that fails to read keeps its previous version.
"""

from __future__ import annotations

import bisect
import collections
import enum
import json
import os
import queue
import re
import shutil
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from .chunking import chunk_document, split_sentences
from .config import Settings
from .distributed import Pipelined
from .documents import Chunk, Document, IndexReport, Skipped
from .embedders.protocols import Embedder, RegionEmbedder
from .errors import ReadError
from .index_store import FORMAT_VERSION, FileRecord, Store, take_write_lock

if TYPE_CHECKING:
    import numpy as np

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``: stage "read" counts the paths given, "embed"
the new and changed documents chunked, embedded and committed (its total grows while the
paths are still being read), "keywords" the chunks put in a new keyword snapshot (a large
index only, and only when the last one is stale)."""

_BATCH_DOCS = 64


@dataclass(frozen=True, slots=True)
class _Source:
    """One path given to the run, and what reading it produced besides its documents."""

    root: Path
    skipped: tuple[Skipped, ...]
    complete: bool
    """False when a record of an export could not be read: its id is unknown, so nothing of
    that export is removed (it might be the one that failed)."""
    files: tuple[tuple[str, FileRecord], ...] = ()
    """Files read this time, as the store remembers them."""
    gone: tuple[str, ...] = ()
    """Remembered files of this root that are no longer there."""


@dataclass(frozen=True, slots=True)
class _Kept:
    """Ids of the documents of a file unchanged since it was last read (not read again)."""

    doc_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _PathRead:
    """Reading has finished ``number`` of the run's ``total`` paths."""

    number: int
    total: int


_RECORD = re.compile(r":\d+$")  # how readers name a record of an export: "file.jsonl:17"


def _reading(settings: Settings) -> str:
    """What else decides a file's documents besides its bytes: the column mapping, the
    reader's version (a new version reads every file again) and the OCR languages."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("press-assistant")
    except PackageNotFoundError:  # running from a source tree
        release = "source"
    from .readers import ocr

    reading: dict[str, object] = {"fields": sorted((settings.field_map or {}).items()),
                                  "reader": release, "format": FORMAT_VERSION}
    # The OCR languages (none without Tesseract): a scan skipped for want of Tesseract is
    # read once it is installed. Only named when there are some, so that installing nothing
    # reads no file again.
    if languages := ocr.signature():
        reading["ocr"] = languages
    return json.dumps(reading)


def _read_source(path: Path, settings: Settings, known: dict[str, FileRecord],
                 existing: dict[str, tuple[str, str]]) -> Generator[Document | _Kept, None, _Source]:
    """The documents of ``path`` as they are read, in file order (an unchanged file gives
    its remembered ids instead); returns what else the reading found."""
    from .readers import leaves_folder, read_source_file, source_files

    reading = _reading(settings)
    skipped: list[Skipped] = []
    files: list[tuple[str, FileRecord]] = []
    listed: set[str] = set()
    for file, root in source_files(path):
        key = str(file.resolve())
        listed.add(key)
        try:
            # A link out of the folder is read (to a Skipped) every time, never remembered:
            # an index made before such links were refused must not keep what it read there.
            stat = None if root is not None and leaves_folder(file, root) else file.stat()
        except OSError:
            stat = None
        record = known.get(key)
        same = stat is not None and record is not None and (
            (record.size, record.mtime_ns, record.reading) == (stat.st_size, stat.st_mtime_ns, reading))
        if same and record is not None and all(doc_id in existing for doc_id in record.doc_ids):
            yield _Kept(record.doc_ids)  # same bytes as last time: same documents
            skipped.extend(record.skipped)  # and the same records that could not be read
            continue
        file_ids: list[str] = []
        file_skips: list[Skipped] = []
        for item in read_source_file(file, root, field_map=settings.field_map or None):
            if isinstance(item, Document):
                file_ids.append(item.id)
                yield item
            else:
                file_skips.append(item)
        skipped.extend(file_skips)
        if stat is not None:
            files.append((key, FileRecord(stat.st_size, stat.st_mtime_ns, reading,
                                          tuple(file_ids), tuple(file_skips))))
    complete = not any(_RECORD.search(s.path) for s in skipped)
    root = path.resolve()
    gone = tuple(p for p in known if p not in listed and (p == str(root) or p.startswith(f"{root}{os.sep}")))
    return _Source(root, tuple(skipped), complete=complete, files=tuple(files), gone=gone)


def run_index(
    store: Store,
    embedder: Embedder,
    paths: Sequence[Path],
    settings: Settings,
    *,
    progress: Progress | None = None,
) -> IndexReport:
    """Bring ``store`` up to date with ``paths`` (files, folders, JSONL/CSV exports)."""
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    for path in paths:
        if not Path(path).exists():
            raise ReadError(f"{path}: no such file or folder")
    existing = store.document_hashes()
    known = store.files()

    sources: list[_Source] = []
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    languages: dict[str | None, int] = {}  # of the new and changed documents

    def new_and_changed() -> Iterator[Document | _PathRead | None]:
        """Read path after path, passing on each new or changed document as soon as it is
        read: reading overlaps embedding (this runs in the chunking thread). None for each
        document passed over, so that a stopped run stops here too, not at the next change."""
        for number, path in enumerate(paths, start=1):
            reader = _read_source(Path(path), settings, known, existing)
            while True:
                try:
                    item = next(reader)
                except StopIteration as finished:
                    sources.append(finished.value)
                    skipped.extend(finished.value.skipped)
                    break
                if isinstance(item, _Kept):
                    for doc_id in item.doc_ids:
                        if doc_id in seen:
                            skipped.append(Skipped(doc_id, _DUPLICATE))
                        else:
                            seen.add(doc_id)
                            unchanged.append(doc_id)
                    yield None
                    continue
                if item.id in seen:
                    skipped.append(Skipped(item.id, _DUPLICATE))
                    yield None
                    continue
                seen.add(item.id)
                previous = existing.get(item.id)
                if previous and previous[0] == item.content_hash:
                    unchanged.append(item.id)
                    yield None
                    continue
                (updated if previous else added).append(item.id)
                languages[item.lang] = languages.get(item.lang, 0) + 1
                yield item
            yield _PathRead(number, len(paths))

    chunks_embedded = _embed_and_write(store, embedder, new_and_changed(), report)

    # Removals wait until every path is read: only then is it known what is gone.
    from .readers import LINK_OUTSIDE

    removed: list[str] = []
    for source in sources:
        if not source.complete:
            continue
        # A file that failed to read this time is still there: its old version stays (not
        # what a link out of the folder led to).
        kept = {s.path for s in source.skipped if s.reason != LINK_OUTSIDE}
        removed.extend(doc_id for doc_id, (_, src) in existing.items()
                       if src == str(source.root) and doc_id not in seen and doc_id not in kept)
    if removed:
        store.write([], remove=removed)
    # Remembered only now that their documents are committed: a run killed earlier reads
    # them again next time.
    store.record_files(dict(f for source in sources for f in source.files),
                       forget=[p for source in sources for p in source.gone])
    link_versions(store, embedder, report)
    store.save_vectors()
    store.save_keywords(lambda done, total: report("keywords", done, total))
    return IndexReport(
        added=tuple(added), updated=tuple(updated), unchanged=tuple(unchanged),
        removed=tuple(removed), skipped=tuple(skipped), chunks_embedded=chunks_embedded,
        seconds=time.perf_counter() - started, notes=uncovered(embedder, languages),
    )


class _Done(enum.Enum):
    """The producer's last item: everything has been put."""

    DONE = enum.auto()


_DONE: Final = _Done.DONE
_Batch = list[tuple[Document, list[Chunk], list[tuple[int, int]]]]
"""Documents with their chunks and sentence spans, embedded and committed together."""
_DUPLICATE = "duplicate document id: the first one was kept"


def _embed_and_write(
    store: Store,
    embedder: Embedder,
    documents: Iterable[Document | _PathRead | None],
    report: Progress,
    total: int | None = None,
) -> int:
    """Chunk, embed and commit ``documents`` one batch at a time. A thread iterates them
    (reading them, when they come from a reader) and chunks the next batches while this one
    embeds the current one: the embedder's native code releases the GIL, so reading and
    chunking cost little time. Memory stays bounded (two batches wait at most), and a run
    killed late keeps every batch before it. ``total``: how many documents, when known
    beforehand (otherwise the progress total is what has been read so far)."""
    # The index's own chunker settings, not today's defaults: one index, one way of chunking.
    max_tokens = min(store.manifest.chunk_tokens, embedder.max_tokens)
    overlap = store.manifest.overlap_tokens
    title_tokens = store.manifest.title_tokens
    lane: queue.Queue[_Batch | _PathRead | BaseException | _Done] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: _Batch | _PathRead | BaseException | _Done) -> None:
        while not stop.is_set():
            try:
                lane.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def chunked(docs: list[Document]) -> _Batch:
        out: _Batch = []
        for doc in docs:
            # Split once: the chunker cuts along these sentences, answering quotes them.
            spans = split_sentences(doc.text, doc.lang)
            out.append((doc, chunk_document(doc, count_tokens=embedder.count_tokens,
                                            max_tokens=max_tokens, overlap_tokens=overlap,
                                            title_tokens=title_tokens, sentences=spans), spans))
        return out

    read = [0]  # documents to embed read so far (the producer writes, the writer reads)

    def produce() -> None:
        try:
            pending: list[Document] = []
            for item in documents:
                if stop.is_set():
                    return
                if item is None:
                    continue
                if isinstance(item, _PathRead):
                    put(item)
                    continue
                read[0] += 1
                pending.append(item)
                if len(pending) == _BATCH_DOCS:
                    put(chunked(pending))
                    pending = []
            if pending:
                put(chunked(pending))
            put(_DONE)
        except BaseException as error:  # raised again by the writing side
            put(error)
        finally:
            close = getattr(documents, "close", None)
            if close is not None:  # a generator stopped early: its readers close their files
                close()

    producer = threading.Thread(target=produce, name="reader-chunker", daemon=True)
    producer.start()
    embedded = done = 0

    def write(batch: _Batch, vectors: np.ndarray, sentence_vectors: dict[str, np.ndarray] | None) -> None:
        nonlocal embedded, done
        items = []
        offset = 0
        for doc, chunks, _ in batch:
            items.append((doc, chunks, vectors[offset:offset + len(chunks)]))
            offset += len(chunks)
        store.write(items, sentences={doc.id: spans for doc, _, spans in batch},
                    sentence_vectors=sentence_vectors)
        embedded += offset
        done += len(batch)
        # Unless known, the total grows while reading goes on: what has been read so far.
        report("embed", done, total or max(done, read[0]))

    # An embedder whose model runs elsewhere (Ray) embeds several batches at once, from as
    # many threads, while this one commits them in order: its workers never wait on the
    # writer. A local one embeds here, then commits, as always.
    ahead = embedder.in_flight if isinstance(embedder, Pipelined) else 0
    pool = ThreadPoolExecutor(ahead, thread_name_prefix="embed") if ahead else None
    waiting: collections.deque[tuple[_Batch, Future[tuple[np.ndarray, dict[str, np.ndarray] | None]]]] = (
        collections.deque())
    report("embed", 0, total or 0)
    try:
        while (item := lane.get()) is not _DONE:
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, _PathRead):
                report("read", item.number, item.total)
                continue
            if pool is None:
                write(item, *embed_chunks(embedder, item))
                continue
            waiting.append((item, pool.submit(embed_chunks, embedder, item)))
            if len(waiting) >= ahead:
                batch, embedding = waiting.popleft()
                write(batch, *embedding.result())
        while waiting:
            batch, embedding = waiting.popleft()
            write(batch, *embedding.result())
    finally:
        stop.set()
        producer.join()
        if pool is not None:  # a failed run: what is still embedding is not committed
            pool.shutdown(wait=False, cancel_futures=True)
    report("embed", done, done)
    return embedded


def embed_chunks(
    embedder: Embedder,
    batch: Sequence[tuple[Document, Sequence[Chunk], Sequence[tuple[int, int]]]],
) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
    """The vectors of a batch of chunked documents (each with its chunks and sentence spans),
    one row per chunk in order, and, when the embedder gives token vectors (ONNX), each
    document's sentence vectors pooled from the same pass: the mean of a sentence's token
    vectors over every chunk that holds it, normalised. None for those otherwise (torch:
    answering embeds the sentences it scores)."""
    import numpy as np

    unread = [n for n, (doc, _, _) in enumerate(batch)
              if not model_reads(embedder.languages, doc.lang, doc.text)]
    if unread:
        return _embed_readable(embedder, batch, set(unread))
    texts = [c.embedding_text for _, chunks, _ in batch for c in chunks]
    if not isinstance(embedder, RegionEmbedder):
        return embedder.embed(texts), None
    regions: list[list[tuple[int, int]]] = []
    owners: list[list[int]] = []  # sentence number of each region
    for _, chunks, spans in batch:
        starts = [a for a, _ in spans]
        for chunk in chunks:
            # The embedded text is "title\npassage": passage offsets move by the title's length.
            shift = len(chunk.title) + 1 if chunk.title else 0
            here, numbers = [], []
            first = max(0, bisect.bisect_right(starts, chunk.start) - 1)
            for n in range(first, len(spans)):
                a, b = spans[n]
                if a >= chunk.end:
                    break
                if b > chunk.start:
                    here.append((max(a, chunk.start) - chunk.start + shift,
                                 min(b, chunk.end) - chunk.start + shift))
                    numbers.append(n)
            regions.append(here)
            owners.append(numbers)
    vectors, pooled = embedder.embed_with_regions(texts, regions)
    out: dict[str, np.ndarray] = {}
    index = 0
    for doc, chunks, spans in batch:
        sums = np.zeros((len(spans), vectors.shape[1]), np.float32)
        counts = np.zeros(len(spans), np.int64)
        for _ in chunks:
            part_sums, part_counts = pooled[index]
            np.add.at(sums, owners[index], part_sums)
            np.add.at(counts, owners[index], part_counts)
            index += 1
        sums /= np.maximum(counts, 1)[:, None]
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        out[doc.id] = sums
    return vectors, out


def model_reads(covered: frozenset[str] | None, lang: str | None, text: str = "") -> bool:
    """Whether a model trained on ``covered`` (None: multilingual or unknown) reads a release
    in ``lang``: one of its languages, or one written in a script it reads (Spanish for an
    English model: its words still share pieces and names with English). A language whose
    script is not known here is judged by the script of ``text`` (a paragraph that language
    identification called Nigerian Pidgin is in Latin letters); unknown either way: yes."""
    if covered is None or not lang or lang in covered:
        return True
    from .lexical import SCRIPT_OF_LANGUAGE, script_of

    script = SCRIPT_OF_LANGUAGE.get(lang) or script_of(text[:300])
    return script is None or script in {SCRIPT_OF_LANGUAGE.get(code) for code in covered}


def _embed_readable(
    embedder: Embedder,
    batch: Sequence[tuple[Document, Sequence[Chunk], Sequence[tuple[int, int]]]],
    unread: set[int],
) -> tuple[np.ndarray, dict[str, np.ndarray] | None]:
    """:func:`embed_chunks` for a batch holding releases the model cannot read (``unread``,
    their places in it): only the others go through the model. An English model's vector of a
    Sinhala or Tamil passage is noise (its words are unknown pieces) that dense search would
    still rank for English questions, and such releases were a quarter of the word pieces of
    the Sri Lanka archive (docs/BENCHMARKS.md, issue 20). Their chunks and sentences get zero
    vectors: no question's dense search ranks them (retrieval drops scores of 0), keywords
    find them as before (the index notes it, :func:`uncovered`), and answering scores their
    sentences by words, as it does for a question in a script the model does not read."""
    import numpy as np

    readable = [item for n, item in enumerate(batch) if n not in unread]
    vectors, sentences = embed_chunks(embedder, readable) if readable else (None, None)
    rows: list[np.ndarray] = []
    taken = 0
    for n, (_, chunks, _) in enumerate(batch):
        if n in unread:
            rows.append(np.zeros((len(chunks), embedder.dimension), np.float32))
        else:
            assert vectors is not None
            rows.append(vectors[taken:taken + len(chunks)])
            taken += len(chunks)
    if not isinstance(embedder, RegionEmbedder):
        return np.concatenate(rows), None
    pooled = dict(sentences or {})
    for n in unread:
        doc, _, spans = batch[n]
        pooled[doc.id] = np.zeros((len(spans), embedder.dimension), np.float32)
    return np.concatenate(rows), pooled


def uncovered(embedder: Embedder, languages: dict[str | None, int]) -> tuple[str, ...]:
    """A note when releases of the run are in languages the model was not trained on: their
    passages are found by keywords alone, and a question in another language misses them."""
    from .languages import ENDONYMS

    missing = {lang: n for lang, n in languages.items()
               if lang and not model_reads(embedder.languages, lang)}
    if not missing:
        return ()
    count = sum(missing.values())
    named = ", ".join(f"{ENDONYMS.get(lang, lang)} ({lang})" for lang in sorted(missing))
    return (f"{count} release{'s' if count != 1 else ''} in {named}, which the model "
            f"{embedder.name} does not cover: they are found by keywords alone, and questions "
            "in another language miss them. For cross-lingual search build the index with "
            "`press-assistant index PATH --rebuild --model multilingual-e5-small`.",)


def link_versions(store: Store, embedder: Embedder, report: Progress) -> None:
    """Link the documents not linked yet with their translations and re-posts
    (:mod:`assistant.versions`); translations only when the model covers several languages,
    since an English model's vectors of a Sinhala release say nothing of its meaning."""
    from .versions import link

    languages = embedder.languages
    link(store, multilingual=languages is None or len(languages) > 1,
         progress=lambda done, total: report("link", done, total))


def rebuild(folder: Path, embedder: Embedder, settings: Settings,
            progress: Progress | None = None) -> IndexReport:
    """Re-embed every stored document (another model, new chunk settings) into a fresh index
    beside the old one, then swap it in. The old index serves until the swap."""
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    lock = take_write_lock(folder)  # no other run may write to the old index meanwhile
    try:
        old = Store.open(folder, any_format=True)  # the documents of any format
        try:
            documents = [d for i in old.document_hashes() if (d := old.document(i)) is not None]
        finally:
            old.close()
        staging = folder.with_name(folder.name + ".rebuild")
        retired = folder.with_name(folder.name + ".old")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
        with Store.create_or_open(staging, model=embedder.name, dimension=embedder.dimension,
                                  chunk_tokens=settings.chunk_tokens,
                                  overlap_tokens=settings.overlap_tokens,
                                  title_tokens=settings.title_tokens) as new:
            chunks = _embed_and_write(new, embedder, documents, report, total=len(documents))
            link_versions(new, embedder, report)
            new.save_vectors()
            new.save_keywords(lambda done, total: report("keywords", done, total))
        # Two renames; a kill between them is finished by store.recover() on the next open.
        (staging / ".complete").touch()
        folder.rename(retired)
        staging.rename(folder)
        (folder / ".complete").unlink()
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        os.close(lock)
    return IndexReport(updated=tuple(d.id for d in documents), chunks_embedded=chunks,
                       seconds=time.perf_counter() - started)
