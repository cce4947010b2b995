"""The indexing run: read, compare by content hash, chunk, embed, commit.

Unchanged documents cost a hash comparison and nothing else. Changed and new documents are
chunked and embedded in batches, and each batch is committed on its own, so a failure late
in a long run keeps everything before it. A document disappears from the index only when the
folder or export it came from is re-indexed and it is no longer there; a file that fails to
read keeps its previous version.
"""

from __future__ import annotations

import bisect
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .chunking import chunk_document, split_sentences
from .config import Settings
from .documents import Chunk, Document, IndexReport, Skipped
from .errors import ReadError
from .store import FORMAT_VERSION, FileRecord, Store, take_write_lock

if TYPE_CHECKING:
    import numpy as np

    from .embedding import Embedder

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``: stage "read" counts the paths given, "embed"
the new and changed documents chunked, embedded and committed."""

_BATCH_DOCS = 64


@dataclass(frozen=True, slots=True)
class _Source:
    """One path given to the run, and what reading it produced."""

    root: Path
    documents: tuple[Document, ...]
    skipped: tuple[Skipped, ...]
    complete: bool
    """False when a record of an export could not be read: its id is unknown, so nothing of
    that export is removed (it might be the one that failed)."""
    kept: tuple[str, ...] = ()
    """Ids of documents in files unchanged since they were last read (not read again)."""
    files: tuple[tuple[str, FileRecord], ...] = ()
    """Files read this time, as the store remembers them."""
    gone: tuple[str, ...] = ()
    """Remembered files of this root that are no longer there."""


_RECORD = re.compile(r":\d+$")  # how readers name a record of an export: "file.jsonl:17"


def _reading(settings: Settings) -> str:
    """What else decides a file's documents besides its bytes: the column mapping and the
    reader's version (a new version reads every file again)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("press-assistant")
    except PackageNotFoundError:  # running from a source tree
        release = "source"
    return json.dumps({"fields": sorted((settings.field_map or {}).items()), "reader": release,
                       "format": FORMAT_VERSION})


def _read_source(path: Path, settings: Settings, known: dict[str, FileRecord],
                 existing: dict[str, tuple[str, str]]) -> _Source:
    from .readers import read_source_file, source_files

    reading = _reading(settings)
    docs: list[Document] = []
    skipped: list[Skipped] = []
    kept: list[str] = []
    files: list[tuple[str, FileRecord]] = []
    listed: set[str] = set()
    for file, root in source_files(path):
        key = str(file.resolve())
        listed.add(key)
        try:
            stat = file.stat()
        except OSError:
            stat = None
        record = known.get(key)
        same = stat is not None and record is not None and (
            (record.size, record.mtime_ns, record.reading) == (stat.st_size, stat.st_mtime_ns, reading))
        if same and record is not None and all(doc_id in existing for doc_id in record.doc_ids):
            kept.extend(record.doc_ids)  # same bytes as last time: same documents
            skipped.extend(record.skipped)  # and the same records that could not be read
            continue
        file_docs: list[Document] = []
        file_skips: list[Skipped] = []
        for item in read_source_file(file, root, field_map=settings.field_map or None):
            (file_docs if isinstance(item, Document) else file_skips).append(item)  # type: ignore[arg-type]
        docs.extend(file_docs)
        skipped.extend(file_skips)
        if stat is not None:
            files.append((key, FileRecord(stat.st_size, stat.st_mtime_ns, reading,
                                          tuple(d.id for d in file_docs), tuple(file_skips))))
    complete = not any(_RECORD.search(s.path) for s in skipped)
    root = path.resolve()
    gone = tuple(p for p in known if p not in listed and (p == str(root) or p.startswith(f"{root}{os.sep}")))
    return _Source(root, tuple(docs), tuple(skipped), complete=complete, kept=tuple(kept),
                   files=tuple(files), gone=gone)


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
    existing = store.document_hashes()
    known = store.files()
    sources: list[_Source] = []
    for number, path in enumerate(paths, start=1):
        if not Path(path).exists():
            raise ReadError(f"{path}: no such file or folder")
        sources.append(_read_source(Path(path), settings, known, existing))
        report("read", number, len(paths))

    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    skipped: list[Skipped] = []
    todo: list[Document] = []
    seen: set[str] = set()
    for source in sources:
        skipped.extend(source.skipped)
        for doc_id in source.kept:
            if doc_id not in seen:
                seen.add(doc_id)
                unchanged.append(doc_id)
        for doc in source.documents:
            if doc.id in seen:
                skipped.append(Skipped(doc.id, "duplicate document id: the first one was kept"))
                continue
            seen.add(doc.id)
            previous = existing.get(doc.id)
            if previous and previous[0] == doc.content_hash:
                unchanged.append(doc.id)
                continue
            (updated if previous else added).append(doc.id)
            todo.append(doc)

    removed: list[str] = []
    for source in sources:
        if not source.complete:
            continue
        # A file that failed to read this time is still there: its old version stays.
        kept = {s.path for s in source.skipped}
        removed.extend(doc_id for doc_id, (_, src) in existing.items()
                       if src == str(source.root) and doc_id not in seen and doc_id not in kept)

    chunks_embedded = _embed_and_write(store, embedder, todo, removed, report)
    # Remembered only now that their documents are committed: a run killed earlier reads
    # them again next time.
    store.record_files(dict(f for source in sources for f in source.files),
                       forget=[p for source in sources for p in source.gone])
    store.save_vectors()
    return IndexReport(
        added=tuple(added), updated=tuple(updated), unchanged=tuple(unchanged),
        removed=tuple(removed), skipped=tuple(skipped), chunks_embedded=chunks_embedded,
        seconds=time.perf_counter() - started,
    )


def _embed_and_write(
    store: Store,
    embedder: Embedder,
    documents: Sequence[Document],
    removed: Iterable[str],
    report: Progress,
) -> int:
    # The index's own chunker settings, not today's defaults: one index, one way of chunking.
    max_tokens = min(store.manifest.chunk_tokens, embedder.max_tokens)
    overlap = store.manifest.overlap_tokens
    total = len(documents)
    embedded = 0
    report("embed", 0, total)
    pending_removals = list(removed)

    def chunk(start: int) -> list[tuple[Document, list[Chunk], list[tuple[int, int]]]]:
        out = []
        for doc in documents[start:start + _BATCH_DOCS]:
            # Split once: the chunker cuts along these sentences, answering quotes them.
            spans = split_sentences(doc.text, doc.lang)
            out.append((doc, chunk_document(doc, count_tokens=embedder.count_tokens,
                                            max_tokens=max_tokens, overlap_tokens=overlap,
                                            sentences=spans), spans))
        return out

    # Chunk, embed and commit one batch at a time: memory stays bounded, and a run killed
    # late keeps every batch before it. The next batch is chunked in a thread while this one
    # is embedded (the embedder's native code releases the GIL), so chunking costs no time.
    with ThreadPoolExecutor(1, thread_name_prefix="chunker") as chunker:
        upcoming = chunker.submit(chunk, 0) if total else None
        for start in range(0, total, _BATCH_DOCS):
            assert upcoming is not None
            batch = upcoming.result()
            upcoming = chunker.submit(chunk, start + _BATCH_DOCS) if start + _BATCH_DOCS < total else None
            vectors, sentence_vectors = embed_chunks(embedder, batch)
            items = []
            offset = 0
            for doc, chunks, _ in batch:
                items.append((doc, chunks, vectors[offset:offset + len(chunks)]))
                offset += len(chunks)
            store.write(items, remove=pending_removals,
                        sentences={doc.id: spans for doc, _, spans in batch},
                        sentence_vectors=sentence_vectors)
            pending_removals = []
            embedded += offset
            report("embed", min(start + _BATCH_DOCS, total), total)
    if pending_removals:
        store.write([], remove=pending_removals)
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

    texts = [c.embedding_text for _, chunks, _ in batch for c in chunks]
    if not hasattr(embedder, "embed_with_regions"):
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
    vectors, pooled = embedder.embed_with_regions(texts, regions)  # type: ignore[attr-defined]
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


def rebuild(folder: Path, embedder: Embedder, settings: Settings,
            progress: Progress | None = None) -> IndexReport:
    """Re-embed every stored document (another model, new chunk settings) into a fresh index
    beside the old one, then swap it in. The old index serves until the swap."""
    started = time.perf_counter()
    lock = take_write_lock(folder)  # no other run may write to the old index meanwhile
    try:
        old = Store.open(folder)
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
                                  overlap_tokens=settings.overlap_tokens) as new:
            chunks = _embed_and_write(new, embedder, documents, (), progress or (lambda *_: None))
            new.save_vectors()
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
