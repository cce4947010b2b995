"""The index folder: a manifest, a SQLite store and the FAISS vectors derived from it.

::

    index/
      manifest.json            format version, embedding model and dimension, chunker settings
      store.sqlite3            documents, chunks (with their vectors), sentence spans, FTS5
                               keyword index
      vectors-<generation>.faiss   FAISS vectors keyed by chunk id, as of that store generation
      keywords-<generation>/   past 50k chunks: the keyword index as numpy postings, as of
                               that generation (``keyword_index``)
      write.lock               held by the one process that writes

SQLite (WAL mode) is the source of truth: documents, chunks, their vectors and the FTS5
keyword index change together in one transaction, and every transaction bumps the store's
*generation*. The FAISS file is derived: written under the generation it reflects, by
write-then-rename. A reader that finds the newest FAISS file behind the store applies the
difference from the stored vectors (nothing is re-embedded), so a crash between the two never
leaves a wrong answer, only a short repair. The keyword snapshot is derived the same way; a
question asks FTS5 for the chunks written after it.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import shutil
import sqlite3
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import keyword_index
from .documents import Chunk, Document, DocumentPage, DocumentSummary, Filters, Skipped
from .errors import IndexCorrupt, IndexLocked, IndexMismatch, IndexNotFound, IndexReadOnly
from .lexical import index_text, stems

if TYPE_CHECKING:
    import faiss
    import numpy as np

FORMAT_VERSION = 2  # 2: the keyword index holds our own stems
MANIFEST = "manifest.json"
STORE = "store.sqlite3"
LOCK = "write.lock"
_VECTORS = re.compile(r"^vectors-(\d+)\.faiss$")
LARGE_INDEX = 60_000
"""Chunks beyond which the keyword query leaves out its commonest words (``_prune``); every
quality set in docs/QUALITY.md is below it (the largest, the XQuAD haystack, 58,701)."""
POSTINGS_BUDGET = 40_000
_NO_DATE = -(2**62)
"""An undated document's day number in the catalog."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, date TEXT, url TEXT,
    lang TEXT, pages TEXT NOT NULL, source TEXT NOT NULL, collection TEXT NOT NULL,
    hash TEXT NOT NULL, indexed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
-- The keyword index holds stems (lexical.index_text), not the raw text: stemming is ours, so
-- Russian and English words are stemmed alike on both sides.
-- AUTOINCREMENT: a chunk id is never reused, so a stale FAISS entry can never point at
-- another passage.
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    doc_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    page INTEGER, vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
-- Sentence spans of each document (int32 start, end pairs), found once while chunking, so
-- answering never splits a release into sentences again, and, when the embedder gives them,
-- the sentences' vectors (float16, pooled from their chunks' forward pass), so answering
-- needs no model. Absent for documents indexed by an older version: answering then splits
-- and embeds them itself.
CREATE TABLE IF NOT EXISTS sentences (
    doc_id TEXT PRIMARY KEY REFERENCES documents(id) ON DELETE CASCADE, spans BLOB NOT NULL,
    vectors BLOB
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    title, text, tokenize = 'unicode61 remove_diacritics 2'
);
-- What each file held when it was last read: a file with the same size, modification time
-- and reading settings is not read again (a no-op re-index costs a stat a file); what could
-- not be read of it is remembered too, and reported again.
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    reading TEXT NOT NULL, doc_ids TEXT NOT NULL, skipped TEXT NOT NULL
);
-- How many chunks hold each stem, read from the keyword index's own term lists: a lookup,
-- where counting matches through a join grows with the archive.
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
"""


@dataclass(frozen=True, slots=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    chunk_tokens: int
    overlap_tokens: int
    created_at: str
    updated_at: str
    vectors: dict[str, Any] = field(default_factory=dict)
    """The FAISS layout (vector_index.Layout): exact, or IVF with its parameters and the
    recall measured when it was built. Empty: exact (an index from before the choice)."""

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except FileNotFoundError:
            raise IndexNotFound(
                f"no index at {folder}: build one with `press-assistant index PATH --index {folder}`"
            ) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(f"{path} is unreadable ({exc}); rebuild with `index --rebuild`") from exc

    def write(self, folder: Path) -> None:
        _atomic_write(folder / MANIFEST, json.dumps(
            {k: getattr(self, k) for k in self.__dataclass_fields__}, indent=2).encode())


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file as the last indexing run read it."""

    size: int
    mtime_ns: int
    reading: str
    """The reading settings (column mapping, reader version) it was read with."""
    doc_ids: tuple[str, ...]
    skipped: tuple[Skipped, ...]


@dataclass(frozen=True, slots=True)
class StoredChunk:
    """A chunk row joined with its document's metadata, as retrieval needs it."""

    id: int
    doc_id: str
    start: int
    end: int
    page: int | None
    title: str
    date: dt.date | None
    url: str | None
    collection: str
    lang: str | None
    text: str


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass(frozen=True, slots=True)
class _Catalog:
    """What lists and filters need of every chunk and document, in memory."""

    rowids: dict[str, int]
    """Document id -> its SQLite row id."""
    doc_ids: np.ndarray
    """Document id by row id ("" for a row id no document has)."""
    doc_days: np.ndarray
    """Publication date by document row id, as days since 1970 (``_NO_DATE``: none)."""
    chunk_doc: np.ndarray
    """Document row id by chunk id (-1 for a chunk id no chunk has)."""
    term_docs: dict[str, np.ndarray] = field(default_factory=dict)
    """Stem -> row ids of the documents holding it, filled as lists ask (``_documents_holding``):
    kept with the catalog, so the two always describe the same generation."""


class Store:
    """An open index folder. Reads are safe from many threads; one process writes."""

    def __init__(self, folder: Path, manifest: Manifest, *, writable: bool) -> None:
        self.folder = folder
        self.manifest = manifest
        self.writable = writable
        self._lock = threading.RLock()
        self._db = sqlite3.connect(folder / STORE, check_same_thread=False,
                                   isolation_level=None, timeout=30)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        self._vectors: faiss.Index | None = None
        self._vectors_generation = -1
        self._lock_fd: int | None = None
        self._docs_cache: dict[str, Document] = {}
        self._spans_cache: dict[str, tuple[tuple[tuple[int, int], ...] | None, np.ndarray | None]] = {}
        self._cache_generation = -1
        self._counts: tuple[int, tuple[int, int]] = (-1, (0, 0))
        # Per generation, like the caches above: a word's chunk count, the chunks a filter
        # allows, and the chunk -> document catalog.
        self._frequencies: dict[str, int] = {}
        self._allowed: dict[Filters, tuple[np.ndarray, bytes]] = {}
        self._catalog: _Catalog | None = None
        # The newest keyword snapshot, and the last one found unreadable (not tried again).
        self._keywords: keyword_index.KeywordSnapshot | None = None
        self._keywords_key: tuple[Path, int] | None = None
        self._keywords_unreadable: tuple[Path, int] | None = None

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, *, model: str | None = None) -> Store:
        """Open an existing index for reading; ``model``, when given, must be the one that
        built it."""
        folder = Path(folder)
        recover(folder)
        manifest = Manifest.read(folder)
        _check(manifest, folder, model)
        if not (folder / STORE).exists():
            raise IndexCorrupt(f"{folder / STORE} is missing; rebuild with `index --rebuild`")
        return cls(folder, manifest, writable=False)

    @classmethod
    def create_or_open(cls, folder: Path, *, model: str, dimension: int, chunk_tokens: int,
                       overlap_tokens: int) -> Store:
        """Open for writing (taking the write lock), creating the folder on first use."""
        folder = Path(folder)
        recover(folder)
        folder.mkdir(parents=True, exist_ok=True)
        lock_fd = take_write_lock(folder)
        try:
            for stale in folder.glob(".*.tmp"):  # left by a run killed mid-write
                if stale.is_dir():  # a keyword snapshot
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)
            if (folder / MANIFEST).exists():
                manifest = Manifest.read(folder)
                _check(manifest, folder, model)
                store = cls(folder, manifest, writable=True)
            else:
                now = _now()
                manifest = Manifest(FORMAT_VERSION, model, dimension, chunk_tokens,
                                    overlap_tokens, now, now)
                store = cls(folder, manifest, writable=True)
                # The manifest is written last: its presence means "an index is here", so a
                # run killed before this point leaves a folder that is simply created again.
                manifest.write(folder)
        except BaseException:
            os.close(lock_fd)
            raise
        store._lock_fd = lock_fd
        return store

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    def generation(self) -> int:
        row = self._query("SELECT value FROM meta WHERE key = 'generation'")
        return int(row[0][0]) if row else 0

    def document_hashes(self, source: str | None = None) -> dict[str, tuple[str, str]]:
        """doc id -> (content hash, source), for every document or those of one source."""
        sql = "SELECT id, hash, source FROM documents"
        rows = self._query(sql + " WHERE source = ?", (source,)) if source else self._query(sql)
        return {r[0]: (r[1], r[2]) for r in rows}

    def _fresh_caches(self) -> int:
        """Drop what belongs to an older generation; returns the generation seen, which a
        result computed now may be cached under only while it is still the current one (a
        commit may land while it is computed)."""
        generation = self.generation()
        with self._lock:
            if generation != self._cache_generation:  # another process committed
                self._docs_cache.clear()
                self._spans_cache.clear()
                self._frequencies.clear()
                self._allowed.clear()
                self._catalog = None
                self._cache_generation = generation
        return generation

    def document(self, doc_id: str) -> Document | None:
        self._fresh_caches()
        with self._lock:
            cached = self._docs_cache.get(doc_id)
        if cached is not None:
            return cached
        rows = self._query(
            "SELECT id, title, text, date, url, lang, pages, source, collection FROM documents"
            " WHERE id = ?", (doc_id,))
        if not rows:
            return None
        r = rows[0]
        doc = Document(id=r[0], title=r[1], text=r[2],
                       date=dt.date.fromisoformat(r[3]) if r[3] else None, url=r[4], lang=r[5],
                       pages=tuple(json.loads(r[6])), source=r[7], collection=r[8])
        with self._lock:
            if len(self._docs_cache) > 512:  # a small cache: answers reread few documents
                self._docs_cache.clear()
            self._docs_cache[doc_id] = doc
        return doc

    def sentence_spans(self, doc_id: str) -> tuple[tuple[int, int], ...] | None:
        """The document's sentences as (start, end) offsets, as the indexer found them;
        None when it stored none (an index written by an older version)."""
        return self._sentences(doc_id)[0]

    def sentence_vectors(self, doc_id: str) -> np.ndarray | None:
        """One unit vector per sentence of :meth:`sentence_spans`, pooled at indexing time;
        None when the indexer stored none (the torch backend, an older index)."""
        return self._sentences(doc_id)[1]

    def _sentences(self, doc_id: str) -> tuple[tuple[tuple[int, int], ...] | None, np.ndarray | None]:
        self._fresh_caches()
        with self._lock:
            if doc_id in self._spans_cache:
                return self._spans_cache[doc_id]
        rows = self._query("SELECT spans, vectors FROM sentences WHERE doc_id = ?", (doc_id,))
        found: tuple[tuple[tuple[int, int], ...] | None, np.ndarray | None] = (None, None)
        if rows:
            flat = array("i")
            flat.frombytes(rows[0][0])
            spans = tuple(zip(flat[0::2], flat[1::2], strict=True))
            vectors = None
            if rows[0][1] is not None:
                import numpy as np

                vectors = np.frombuffer(rows[0][1], dtype=np.float16).astype(np.float32)
                vectors = vectors.reshape(len(spans), self.manifest.dimension)
            found = (spans, vectors)
        with self._lock:
            if len(self._spans_cache) > 512:  # a few MB: answers reread few documents
                self._spans_cache.clear()
            self._spans_cache[doc_id] = found
        return found

    def files(self) -> dict[str, FileRecord]:
        """path -> what the file held when it was last read."""
        return {r[0]: FileRecord(int(r[1]), int(r[2]), r[3], tuple(json.loads(r[4])),
                                 tuple(Skipped(*pair) for pair in json.loads(r[5])))
                for r in self._query("SELECT path, size, mtime_ns, reading, doc_ids, skipped FROM files")}

    def record_files(self, records: Mapping[str, FileRecord], forget: Iterable[str] = ()) -> None:
        """Remember files as read (and forget others). Not a change of what the index
        answers, so the generation stays (the FAISS file stays current)."""
        if not self.writable:
            raise IndexReadOnly("this index was opened for reading")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("DELETE FROM files WHERE path = ?", [(p,) for p in forget])
                self._db.executemany(
                    "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?)",
                    [(path, r.size, r.mtime_ns, r.reading, json.dumps(list(r.doc_ids)),
                      json.dumps([[s.path, s.reason] for s in r.skipped])) for path, r in records.items()])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def document_file(self, doc_id: str) -> Path | None:
        """The file ``doc_id`` was read from, when that file is its own: the indexer read
        this one document from it and nothing else (no other record, no unreadable one), no
        other file gave the same id, it is still a regular file at the path it had when read
        (no link put in its way since), and it lies in the folder (or is the file) that was
        indexed. None otherwise: a record of an export has no file of its own.

        Known from what the indexer recorded in ``files``, never from a path the document
        names (its ``url`` is the export's say, and an export may name any file)."""
        doc = self.document(doc_id)
        if doc is None:
            return None
        # The column holds exactly what record_files wrote, json.dumps of the id list, so a
        # file holding this one document matches as a string (no JSON parsed per row).
        rows = self._query("SELECT path FROM files WHERE doc_ids = ? AND skipped = '[]' LIMIT 2",
                           (json.dumps([doc_id]),))
        if len(rows) != 1:  # none, or two files claiming one id: which one was read is unknown
            return None
        path = rows[0][0]
        # The stored path was resolved when read: if resolving it now gives another, a link
        # stands where the file was.
        if os.path.realpath(path) != path or not os.path.isfile(path):
            return None
        root = doc.source.rstrip(os.sep)
        if path != root and not path.startswith(root + os.sep):
            return None  # a link in the folder led the indexer outside it: not served
        return Path(path)

    def iter_documents(self) -> Iterator[Document]:
        """Every stored document, in id order, read in pages (bounded memory)."""
        last = ""
        while True:
            rows = self._query(
                "SELECT id, title, text, date, url, lang, pages, source, collection FROM documents"
                " WHERE id > ? ORDER BY id LIMIT 500", (last,))
            if not rows:
                return
            for r in rows:
                yield Document(id=r[0], title=r[1], text=r[2],
                               date=dt.date.fromisoformat(r[3]) if r[3] else None, url=r[4],
                               lang=r[5], pages=tuple(json.loads(r[6])), source=r[7],
                               collection=r[8])
            last = rows[-1][0]

    def list_documents(self, *, contains: str = "", collection: str | None = None,
                       limit: int = 50, offset: int = 0) -> DocumentPage:
        """Documents without their text, newest first, whose title or id holds ``contains``
        (case-insensitive), optionally of one collection."""
        clauses, params = [], []
        if contains:
            # LIKE with an escape: a user's "%" or "_" is a character, not a wildcard.
            pattern = "%" + re.sub(r"([\\%_])", r"\\\1", contains.lower()) + "%"
            clauses.append("(lower(title) LIKE ? ESCAPE '\\' OR lower(id) LIKE ? ESCAPE '\\')")
            params += [pattern, pattern]
        if collection is not None:
            clauses.append("collection = ?")
            params.append(collection)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        total = int(self._query(f"SELECT count(*) FROM documents {where}", tuple(params))[0][0])
        rows = self._query(
            f"""SELECT id, title, date, url, collection, lang, length(text) FROM documents {where}
                ORDER BY date IS NULL, date DESC, id LIMIT ? OFFSET ?""",
            (*params, int(limit), int(offset)))
        return DocumentPage(total=total, documents=tuple(
            DocumentSummary(id=r[0], title=r[1], date=dt.date.fromisoformat(r[2]) if r[2] else None,
                            url=r[3], collection=r[4], lang=r[5], chars=int(r[6])) for r in rows))

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._query(
            f"""SELECT c.id, c.doc_id, c.start, c."end", c.page, d.title, d.date, d.url,
                       d.collection, d.lang, substr(d.text, c.start + 1, c."end" - c.start)
                FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE c.id IN ({marks})""",
            tuple(int(i) for i in ids))
        return {r[0]: StoredChunk(r[0], r[1], r[2], r[3], r[4], r[5],
                                  dt.date.fromisoformat(r[6]) if r[6] else None, r[7], r[8],
                                  r[9], r[10]) for r in rows}

    def counts(self) -> tuple[int, int]:
        """(documents, chunks), counted once per store generation: counting a million rows
        is tens of milliseconds, and every question asks."""
        generation = self.generation()
        with self._lock:
            if self._counts[0] == generation:
                return self._counts[1]
        docs = self._query("SELECT count(*) FROM documents")[0][0]
        chunks = self._query("SELECT count(*) FROM chunks")[0][0]
        with self._lock:
            self._counts = (generation, (int(docs), int(chunks)))
        return int(docs), int(chunks)

    def newest_date(self) -> dt.date | None:
        """Publication date of the newest dated release: what "last year" counts from."""
        row = self._query("SELECT max(date) FROM documents")
        return dt.date.fromisoformat(row[0][0]) if row and row[0][0] else None

    def collections(self) -> list[str]:
        return [r[0] for r in self._query("SELECT DISTINCT collection FROM documents ORDER BY 1")]

    def languages(self) -> list[str]:
        return [r[0] for r in self._query(
            "SELECT DISTINCT lang FROM documents WHERE lang IS NOT NULL ORDER BY 1")]

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())

    @staticmethod
    def _where(filters: Filters | None) -> tuple[str, list[Any]]:
        """SQL (over ``documents d``) restricting to the filters: the date range (``undated``
        keeps documents with no date: a range read from a question cannot rule them out),
        the collections and the languages."""
        if filters is None:
            return "", []
        clauses, params = [], []
        dates: list[str] = []
        if filters.since:
            dates.append("d.date >= ?")
            params.append(filters.since.isoformat())
        if filters.until:
            dates.append("d.date <= ?")
            params.append(filters.until.isoformat())
        if dates:
            joined = " AND ".join(dates)
            clauses.append(f"(d.date IS NULL OR ({joined}))" if filters.undated else f"({joined})")
        for column, values in (("collection", filters.collections), ("lang", filters.languages)):
            if values:
                clauses.append(f"d.{column} IN ({','.join('?' * len(values))})")
                params.extend(values)
        return " AND ".join(clauses), params

    def keyword_search(self, text: str, *, limit: int,
                       filters: Filters | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score; higher is better) for the content words of ``text``."""
        import numpy as np

        words = list(dict.fromkeys(stems(text, drop_stopwords=True)))
        if not words:
            return []
        total = self.counts()[1]
        if total > LARGE_INDEX:
            words = self._prune(words)
        allowed = self._allowed_chunks(filters)
        if allowed is not None and allowed[0].size == 0:
            return []
        snapshot = self.keyword_snapshot()
        query = " OR ".join(_fts_term(w) for w in words)
        folded = keyword_index.fold(words) if snapshot is not None else []
        if snapshot is None or any(len(terms) > 1 for terms in folded):
            # No snapshot, or a word FTS5 reads as a phrase ("foo_bar"), which postings
            # without positions cannot match.
            return self._fts_ranked(query, limit, allowed)
        idfs = [(terms[0], keyword_index.idf(total, self.chunk_frequency(w)))
                for w, terms in zip(words, folded, strict=True) if terms]
        found = self._snapshot_ranked(
            snapshot, idfs, limit,
            None if allowed is None else np.frombuffer(allowed[1], dtype=np.uint8))
        # The chunks written since the snapshot, from FTS5 (bm25() there and the snapshot's
        # scores are the same formula over the same counts, so they merge as they are).
        found += self._fts_ranked(query, limit, allowed, after=snapshot.covers)
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:limit]

    def _snapshot_ranked(self, snapshot: keyword_index.KeywordSnapshot,
                         idfs: Sequence[tuple[str, float]], limit: int,
                         allowed: np.ndarray | None) -> list[tuple[int, float]]:
        """The snapshot's best ``limit`` chunks that are still in the index: those removed
        since it was written are looked up and left out, with more fetched when needed."""
        fetch = limit + 16
        while True:
            ids, scores = snapshot.top(idfs, fetch, allowed)
            if ids.size == 0:
                return []
            live: set[int] = set()
            listed = ids.tolist()
            for start in range(0, len(listed), 500):  # within any SQLite's variable limit
                part = listed[start:start + 500]
                live.update(r[0] for r in self._query(
                    f"SELECT id FROM chunks WHERE id IN ({','.join('?' * len(part))})", tuple(part)))
            found = [(i, s) for i, s in zip(listed, scores.tolist(), strict=True) if i in live]
            if len(found) >= limit or ids.size < fetch:
                return found[:limit]
            fetch *= 4

    def _fts_ranked(self, query: str, limit: int, allowed: tuple[np.ndarray, bytes] | None, *,
                    after: int | None = None) -> list[tuple[int, float]]:
        """FTS5's BM25 ranking, of the chunks ``allowed`` and with ids above ``after``."""
        condition, params = "", [query]
        if after is not None:
            # A row id range FTS5 applies itself, skipping the term lists' older entries.
            condition += " AND f.rowid > ?"
            params.append(after)
        params.append(limit)
        sql = """SELECT f.rowid, -bm25(chunks_fts, 0.5, 1.0) AS score FROM chunks_fts f
                  WHERE chunks_fts MATCH ? {} ORDER BY bm25(chunks_fts, 0.5, 1.0) LIMIT ?"""
        if allowed is None:
            rows = self._query(sql.format(condition), tuple(params))
        else:
            # The filter is a lookup in a byte mask, not a join: joining each match to its
            # chunk and document rows cost 150-200 ms a question at 100k chunks (the chunk
            # rows hold the vectors), the mask a few. SQLite tests it before computing BM25,
            # so only the allowed matches are scored.
            mask = allowed[1]
            size = len(mask)
            with self._lock:
                self._db.create_function("allowed_chunk", 1,
                                         lambda rowid: rowid < size and mask[rowid],
                                         deterministic=True)
                rows = self._query(sql.format(condition + " AND allowed_chunk(f.rowid)"),
                                   tuple(params))
        return [(int(r[0]), float(r[1])) for r in rows]

    def _prune(self, words: list[str]) -> list[str]:
        """The query's words, rarest first, while the chunks they are found in add up to at
        most :data:`POSTINGS_BUDGET` (the three rarest always stay): BM25 scores every chunk
        a word is in, so in a large index one common word costs more than all the rest, and
        such words barely move the order."""
        kept, used = [], 0
        for n, (df, word) in enumerate(sorted((self.chunk_frequency(w), w) for w in words)):
            if n >= 3 and used + df > POSTINGS_BUDGET:
                break
            kept.append(word)
            used += df
        return kept or words

    def keyword_snapshot(self) -> keyword_index.KeywordSnapshot | None:
        """The newest readable keyword snapshot (None: none, FTS5 answers alone). The folder
        is listed each time (microseconds): a snapshot is written after the commit it
        reflects, so the generation cannot tell a reader that one has appeared. A snapshot
        is known by its folder's name and inode: one written again under the same name (the
        same generation) is a new folder."""
        newest = keyword_index.newest(self.folder)
        try:
            key = None if newest is None else (newest[1], newest[1].stat().st_ino)
        except OSError:  # removed meanwhile
            key = None
        with self._lock:
            if key is None:
                self._keywords = None
                return None
            if self._keywords is not None and self._keywords_key == key:
                return self._keywords
            if self._keywords_unreadable == key:
                return None
        try:
            snapshot = keyword_index.load(key[0])
            if snapshot.index != self.manifest.created_at:
                raise ValueError("the snapshot of another index")
        except (OSError, ValueError, KeyError):
            # Removed by a writer that has just written a newer one, torn, of an older
            # format or of another index: FTS5 answers alone until a readable one appears.
            with self._lock:
                self._keywords, self._keywords_unreadable = None, key
            return None
        with self._lock:
            self._keywords, self._keywords_key = snapshot, key
        return snapshot

    def _allowed_chunks(self, filters: Filters | None) -> tuple[np.ndarray, bytes] | None:
        """For a restrictive filter: the chunk ids it allows (sorted) and a byte mask over
        chunk ids; None when nothing is filtered. Kept for the generation: a question looks
        the same filter up several times."""
        import numpy as np

        where, args = self._where(filters)
        if not where or filters is None:
            return None
        generation = self._fresh_caches()
        with self._lock:
            if filters in self._allowed:
                return self._allowed[filters]
            catalog = self._catalog
        if catalog is not None and not filters.collections and not filters.languages:
            # A period alone, with the catalog of this generation at hand: its dates decide
            # (3 ms at a million chunks, where the join takes 20-500 ms). The catalog is not
            # built for this: after a commit the join is cheaper than rebuilding it.
            mask = self._period_mask(catalog, filters)
            ids = np.flatnonzero(mask).astype(np.int64)
        else:
            rows = self._query(
                f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {where}",
                tuple(args))
            ids = np.array(sorted(r[0] for r in rows), dtype=np.int64)
            mask = np.zeros(int(ids[-1]) + 1 if ids.size else 0, dtype=np.uint8)
            mask[ids] = 1
        found = (ids, mask.tobytes())
        with self._lock:
            if self._cache_generation == generation:
                if len(self._allowed) >= 16:  # a byte a chunk each: a few MB at a million
                    self._allowed.clear()
                self._allowed[filters] = found
        return found

    @staticmethod
    def _period_mask(catalog: _Catalog, filters: Filters) -> np.ndarray:
        """A 0/1 byte per chunk id: whether its document's date is in the filters' period
        (or it has none and ``undated`` keeps those), as ``_where`` says it in SQL."""
        import numpy as np

        days = catalog.doc_days
        dated = days != _NO_DATE
        inside = dated.copy()
        if filters.since:
            inside &= days >= np.datetime64(filters.since, "D").astype(np.int64)
        if filters.until:
            inside &= days <= np.datetime64(filters.until, "D").astype(np.int64)
        if filters.undated:
            inside |= ~dated  # row ids no document has as well: no chunk points at them
        # One gather over every chunk id; a missing chunk's -1 picks the appended False.
        return np.append(inside, False)[catalog.chunk_doc].view(np.uint8)

    def _documents_holding(self, stem: str, catalog: _Catalog) -> np.ndarray:
        """Row ids (sorted, unique) of the documents whose title or text holds ``stem``: the
        keyword index's matches mapped through ``catalog``, where a join would read every
        matching chunk's row (seconds for a common word at a million chunks). Chunks newer
        than the catalog are left out; it is replaced on the next call after a commit."""
        import numpy as np

        with self._lock:
            cached = catalog.term_docs.get(stem)
        if cached is not None:
            return cached
        # One string of ids, parsed by numpy: a row per match costs 2-5x as much for a
        # word in tens of thousands of chunks.
        joined = self._query("SELECT group_concat(rowid, ' ') FROM chunks_fts WHERE chunks_fts MATCH ?",
                             (_fts_term(stem),))[0][0]
        chunk_ids = np.fromstring(joined or "", dtype=np.int64, sep=" ")
        docs = np.unique(catalog.chunk_doc[chunk_ids[chunk_ids < catalog.chunk_doc.size]])
        docs = docs[docs >= 0]
        with self._lock:
            if len(catalog.term_docs) >= 256:
                catalog.term_docs.clear()
            catalog.term_docs[stem] = docs
        return docs

    def documents_weighed(self, weights: Mapping[str, float], *, filters: Filters | None = None,
                          at_least: float = 0.0, relative: float = 0.0) -> dict[str, float]:
        """The documents that hold any of the words ``weights`` names (stems), each with the
        sum of the weights of the words it holds; only those scoring at least ``at_least``
        and at least ``relative`` times the best score. Summed in numpy over the catalog's
        row ids: a common word is in a hundred thousand documents of a large archive."""
        import numpy as np

        catalog = self._chunk_catalog()  # one catalog for the whole call: its row ids
        allowed = self._allowed_chunks(filters)
        allowed_docs = None
        if allowed is not None:
            ids = allowed[0][allowed[0] < catalog.chunk_doc.size]
            allowed_docs = np.unique(catalog.chunk_doc[ids])
        parts, values = [], []
        for stem, weight in weights.items():
            docs = self._documents_holding(stem, catalog)
            if allowed_docs is not None:
                docs = np.intersect1d(docs, allowed_docs, assume_unique=True)
            parts.append(docs)
            values.append(np.full(docs.size, weight, dtype=np.float64))
        if not parts or not sum(p.size for p in parts):
            return {}
        rows = np.concatenate(parts)
        totals = np.bincount(rows, weights=np.concatenate(values))
        threshold = max(at_least, relative * float(totals.max()))
        chosen = np.flatnonzero((totals >= threshold) & (totals > 0))
        found = catalog.doc_ids[chosen].tolist()
        return dict(zip(found, totals[chosen].tolist(), strict=True))

    def document_frequency(self, stem: str) -> int:
        """How many documents hold ``stem``, over the whole index."""
        return int(self._documents_holding(stem, self._chunk_catalog()).size)

    def document_dates(self, doc_ids: Iterable[str]) -> dict[str, dt.date | None]:
        """Publication dates of these documents (None: undated or not in the index), read
        from the in-memory catalog, so that ordering a long list loads no document."""
        import numpy as np

        catalog = self._chunk_catalog()
        found: dict[str, dt.date | None] = {}
        for doc_id in doc_ids:
            rowid = catalog.rowids.get(doc_id)
            days = catalog.doc_days[rowid] if rowid is not None else _NO_DATE
            found[doc_id] = None if days == _NO_DATE else (
                np.datetime64(int(days), "D").astype(dt.date))
        return found

    def warm_up(self) -> None:
        """Read the vectors, open the keyword snapshot and build the chunk catalog (0.2 s at
        100k chunks, a few seconds at a million): what questions would otherwise pay on first
        use."""
        self.vectors()
        self.keyword_snapshot()
        self._chunk_catalog()

    def _chunk_catalog(self) -> _Catalog:
        """Which document each chunk is part of, and each document's id and date, as arrays,
        built once a generation from covering indexes (no document text or vector is read:
        0.2 s at 100k chunks). Its three reads share one snapshot, so a commit landing
        meanwhile cannot leave a chunk whose document is missing."""
        import numpy as np

        self._fresh_caches()
        with self._lock:
            if self._catalog is not None:
                return self._catalog
            own = not self._db.in_transaction
            if own:
                self._db.execute("BEGIN")
            try:
                generation = self.generation()
                docs = self._db.execute("SELECT rowid, id FROM documents").fetchall()
                dated = self._db.execute(
                    "SELECT rowid, date FROM documents WHERE date IS NOT NULL").fetchall()
                pairs = self._db.execute(
                    "SELECT id, doc_id FROM chunks INDEXED BY chunks_doc").fetchall()
            finally:
                if own:
                    self._db.execute("COMMIT")
            rowids = {doc_id: rowid for rowid, doc_id in docs}
            size = max(rowids.values(), default=-1) + 1
            doc_ids = np.full(size, "", dtype=object)
            if docs:
                doc_ids[[r for r, _ in docs]] = [d for _, d in docs]
            doc_days = np.full(size, _NO_DATE, dtype=np.int64)
            if dated:
                doc_days[[r for r, _ in dated]] = np.array(
                    [d for _, d in dated], dtype="datetime64[D]").astype(np.int64)
            chunk_doc = np.full(max((p[0] for p in pairs), default=-1) + 1, -1, dtype=np.int64)
            if pairs:
                chunk_doc[[p[0] for p in pairs]] = [rowids[p[1]] for p in pairs]
            catalog = _Catalog(rowids, doc_ids, doc_days, chunk_doc)
            if generation == self._cache_generation:
                self._catalog = catalog
            return catalog

    def chunk_frequency(self, stem: str) -> int:
        """How many chunks hold ``stem`` (title or text), over the whole index; kept for the
        generation, since the vocabulary table counts a word's postings to answer."""
        generation = self._fresh_caches()
        with self._lock:
            cached = self._frequencies.get(stem)
        if cached is not None:
            return cached
        snapshot = self.keyword_snapshot()
        # The term FTS5 holds for the stem: "zürich" is kept as "zurich".
        terms = keyword_index.fold([stem])[0]
        if len(terms) != 1:
            # Nothing, or a phrase ("foo_bar" is "foo" then "bar"): FTS5 counts its matches.
            rows = self._query("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                               (_fts_term(stem),)) if terms else [(0,)]
            count = int(rows[0][0])
        elif snapshot is not None:
            # The snapshot's count is its term list's length, where the vocabulary table walks
            # the whole list (10-50 ms for a common word at a million chunks); FTS5 counts the
            # chunks written since. Chunks removed since still count: at most a tenth of the
            # snapshot before it is written again.
            rows = self._query("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?"
                               " AND rowid > ?", (_fts_term(stem), snapshot.covers))
            count = snapshot.frequency(terms[0]) + int(rows[0][0])
        else:
            rows = self._query("SELECT doc FROM chunks_vocab WHERE term = ?", (terms[0],))
            count = int(rows[0][0]) if rows else 0
        with self._lock:
            if self._cache_generation == generation:
                if len(self._frequencies) >= 4096:
                    self._frequencies.clear()
                self._frequencies[stem] = count
        return count

    def dense_search(self, vector: np.ndarray, *, limit: int,
                     filters: Filters | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the nearest chunks to ``vector``."""
        import numpy as np

        from . import vector_index

        index = self.vectors()
        if index.ntotal == 0:
            return []
        filtered = self._allowed_chunks(filters)
        if filtered is not None and filtered[0].size == 0:
            return []
        allowed = None if filtered is None else np.frombuffer(filtered[1], dtype=np.uint8)
        query = vector.reshape(1, -1).astype(np.float32)
        if vector_index.layout_of(index).kind == "flat":
            scores, ids = vector_index.search(index, query, min(limit, index.ntotal), allowed)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        # Approximate: more candidates, re-scored with their exact stored vectors.
        _, ids = vector_index.search(index, query, min(limit * vector_index.REFINE, index.ntotal),
                                     allowed)
        found = ids[0][ids[0] >= 0]
        exact: list[tuple[int, float]] = []
        for block_ids, matrix in self._vector_blocks(found):
            exact.extend(zip(block_ids.tolist(), (matrix @ query[0]).tolist(), strict=True))
        exact.sort(key=lambda pair: -pair[1])
        return exact[:limit]

    # -- vectors (derived) -----------------------------------------------------------------

    def vectors(self) -> faiss.Index:
        """The FAISS index as of the store's current generation, repaired if it lags."""
        generation = self.generation()
        with self._lock:
            if self._vectors is None or self._vectors_generation != generation:
                self._vectors = self._sync_vectors(self._vectors)
                self._vectors_generation = generation
            return self._vectors

    def _sync_vectors(self, index: faiss.Index | None) -> faiss.Index:
        import numpy as np

        from . import vector_index

        if index is None:
            index, generation = self._load_newest_vectors()
            if generation == self.generation() and not (
                    self.writable and vector_index.needs_ivf(index, index.ntotal)):
                return index  # the file is as of the store: nothing to compare
        have = vector_index.ids_of(index)
        # Through the doc_id index: its entries carry the ids, without the vector blobs
        # that a scan of the table itself would read.
        want = np.sort(np.array([r[0] for r in self._query("SELECT id FROM chunks INDEXED BY chunks_doc")],
                                dtype=np.int64))
        if self.writable and vector_index.needs_ivf(index, want.size):
            # Past the exact search's size: build the approximate index from the stored
            # vectors, block by block, and record its layout.
            index, layout = vector_index.build_ivf(self._vector_blocks, want.size,
                                                   self.manifest.dimension)
            self.manifest = replace(self.manifest, vectors=layout.to_json())
            self.manifest.write(self.folder)
            return index
        stale = np.setdiff1d(have, want, assume_unique=True)
        if stale.size:
            index.remove_ids(stale)
        missing = np.setdiff1d(want, have, assume_unique=True)
        for ids, matrix in self._vector_blocks(missing):
            index.add_with_ids(matrix, ids)
        return index

    def _vector_blocks(self, ids: np.ndarray | None = None,
                       size: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Stored vectors as (ids, matrix) blocks: those of ``ids``, or all of them."""
        import numpy as np

        def block(rows: list[tuple[Any, ...]]) -> tuple[np.ndarray, np.ndarray]:
            found = np.array([r[0] for r in rows], dtype=np.int64)
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            return found, matrix.reshape(len(rows), self.manifest.dimension)

        if ids is None:
            last = -1
            while rows := self._query("SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT ?",
                                      (last, size)):
                yield block(rows)
                last = int(rows[-1][0])
            return
        for start in range(0, ids.size, size):
            part = ids[start:start + size]
            marks = ",".join("?" * len(part))
            rows = self._query(f"SELECT id, vector FROM chunks WHERE id IN ({marks})",
                               tuple(int(i) for i in part))
            if rows:
                yield block(rows)

    def _load_newest_vectors(self) -> tuple[faiss.Index, int]:
        """The newest readable FAISS file and the store generation it reflects (-1: none)."""
        import faiss

        from . import vector_index

        files = sorted(((int(m.group(1)), p) for p in self.folder.iterdir()
                        if (m := _VECTORS.match(p.name))), reverse=True)
        for generation, path in files:
            try:
                index = faiss.read_index(str(path))
            except RuntimeError:  # a torn file from a crash: fall back to an older one
                continue
            if index.d != self.manifest.dimension:
                continue
            if isinstance(index, faiss.IndexIVF):
                # The probes tuned when it was built (kept in the manifest, the file may
                # predate a re-tune).
                index.nprobe = int(self.manifest.vectors.get("nprobe") or index.nprobe)
                return index, generation
            return (index if isinstance(index, faiss.IndexIDMap2) else faiss.IndexIDMap2(index)), generation
        return vector_index.empty(self.manifest.dimension), -1

    def save_vectors(self) -> None:
        """Persist the FAISS index under the store's generation; drop older files."""
        import faiss

        generation = self.generation()
        index = self.vectors()
        path = self.folder / f"vectors-{generation}.faiss"
        if not path.exists():
            # Written by FAISS straight to a file, then renamed: serialising to bytes first
            # would hold two more copies of a large index in memory.
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            faiss.write_index(index, str(tmp))
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        for p in self.folder.iterdir():
            m = _VECTORS.match(p.name)
            if m and int(m.group(1)) != generation:
                p.unlink(missing_ok=True)

    def save_keywords(self, progress: Callable[[int, int], None] | None = None) -> bool:
        """Write a keyword snapshot when the index holds :data:`keyword_index.MIN_CHUNKS`
        chunks or more and the last snapshot is missing or stale (chunks added or removed
        since reach :data:`keyword_index.REFRESH_SHARE` of it); remove it below that size.
        ``progress(done, total)`` counts chunks (a million take about two minutes here).
        Returns whether one was written."""
        if not self.writable:
            raise IndexReadOnly("this index was opened for reading")
        total = self.counts()[1]
        if total < keyword_index.MIN_CHUNKS:
            keyword_index.remove_older(self.folder, keep=None)
            return False
        current = self.keyword_snapshot()
        if current is not None:
            newer, older = self._query(
                "SELECT count(*) FILTER (WHERE id > ?), count(*) FILTER (WHERE id <= ?)"
                " FROM chunks INDEXED BY chunks_doc", (current.covers, current.covers))[0]
            if newer + current.chunks - older < keyword_index.REFRESH_SHARE * current.chunks:
                return False
        # Its own connection: the read takes a while, and this store's may serve meanwhile.
        # The write lock is ours, so nothing commits during it.
        db = sqlite3.connect(self.folder / STORE)
        try:
            db.execute("BEGIN")
            row = db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
            rows = db.execute("SELECT rowid, title, text FROM chunks_fts ORDER BY rowid")
            done = 0

            def counted() -> Iterator[tuple[int, str, str]]:
                nonlocal done
                for row in rows:
                    yield row
                    done += 1
                    if progress is not None and done % 10_000 == 0:
                        progress(done, total)

            keyword_index.write(self.folder, self.manifest.created_at, int(row[0]) if row else 0,
                                counted())
            if progress is not None:
                progress(done, total)
            db.execute("COMMIT")
        finally:
            db.close()
        return True

    # -- writing ---------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        if not self.writable:
            raise IndexReadOnly("this index was opened for reading")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute(
                    "INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key)"
                    " DO UPDATE SET value = CAST(value AS INTEGER) + 1")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            finally:
                self._docs_cache.clear()
                self._spans_cache.clear()

    def write(self, items: Iterable[tuple[Document, Sequence[Chunk], np.ndarray]],
              remove: Iterable[str] = (), *,
              sentences: Mapping[str, Sequence[tuple[int, int]]] | None = None,
              sentence_vectors: Mapping[str, np.ndarray] | None = None) -> None:
        """Replace documents (with their chunks and vectors, and their ``sentences`` spans
        and ``sentence_vectors`` when given) and remove others, atomically."""
        sentences = sentences or {}
        sentence_vectors = sentence_vectors or {}
        with self._transaction() as db:
            for doc_id in remove:
                self._delete(db, doc_id)
            for doc, chunks, vectors in items:
                self._delete(db, doc.id)
                db.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc.id, doc.title, doc.text, doc.date.isoformat() if doc.date else None,
                     doc.url, doc.lang, json.dumps(list(doc.pages)), doc.source,
                     doc.collection, doc.content_hash, _now()))
                for chunk, vector in zip(chunks, vectors, strict=True):
                    cur = db.execute(
                        'INSERT INTO chunks (doc_id, ordinal, start, "end", page, vector)'
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (doc.id, chunk.ordinal, chunk.start, chunk.end, chunk.page,
                         vector.astype("float32").tobytes()))
                    db.execute("INSERT INTO chunks_fts(rowid, title, text) VALUES (?, ?, ?)",
                               (cur.lastrowid, index_text(chunk.title), index_text(chunk.text)))
                if (spans := sentences.get(doc.id)) is not None:
                    matrix = sentence_vectors.get(doc.id)
                    db.execute("INSERT INTO sentences VALUES (?, ?, ?)",
                               (doc.id, array("i", [o for span in spans for o in span]).tobytes(),
                                None if matrix is None else matrix.astype("float16").tobytes()))
            db.execute("INSERT INTO meta(key, value) VALUES ('updated_at', ?) ON CONFLICT(key)"
                       " DO UPDATE SET value = excluded.value", (_now(),))

    @staticmethod
    def _delete(db: sqlite3.Connection, doc_id: str) -> None:
        db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE doc_id = ?)",
                   (doc_id,))
        db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM sentences WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def check(self) -> list[str]:
        """Integrity problems of the stored data, in words; empty when all is well. The FAISS
        vectors are brought up to date first (that is a repair, not a problem)."""
        problems: list[str] = []
        dim_bytes = self.manifest.dimension * 4
        queries = {
            "chunks without a document":
                "SELECT count(*) FROM chunks c LEFT JOIN documents d ON d.id = c.doc_id"
                " WHERE d.id IS NULL",
            "chunks whose offsets fall outside their document":
                'SELECT count(*) FROM chunks c JOIN documents d ON d.id = c.doc_id'
                ' WHERE c.start < 0 OR c."end" > length(d.text) OR c.start >= c."end"',
            "vectors of the wrong size":
                f"SELECT count(*) FROM chunks WHERE length(vector) != {dim_bytes}",
            "keyword entries without a chunk":
                "SELECT count(*) FROM chunks_fts WHERE rowid NOT IN (SELECT id FROM chunks)",
            "chunks missing from the keyword index":
                "SELECT count(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM chunks_fts)",
            "documents without chunks":
                "SELECT count(*) FROM documents d WHERE NOT EXISTS"
                " (SELECT 1 FROM chunks c WHERE c.doc_id = d.id)",
        }
        for what, sql in queries.items():
            count = self._query(sql)[0][0]
            if count:
                problems.append(f"{count} {what}")
        status = self._query("PRAGMA quick_check")[0][0]
        if status != "ok":
            problems.append(f"SQLite: {status}")
        chunks = self.counts()[1]
        if self.vectors().ntotal != chunks:
            problems.append(f"{self.vectors().ntotal} vectors for {chunks} chunks")
        return problems

    def updated_at(self) -> str | None:
        row = self._query("SELECT value FROM meta WHERE key = 'updated_at'")
        return row[0][0] if row else None

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()


def recover(folder: Path) -> None:
    """Finish or undo a rebuild that was killed between its two renames (see
    ``indexing.rebuild``): the old index comes back unless the new one is complete."""
    retired = folder.with_name(folder.name + ".old")
    staging = folder.with_name(folder.name + ".rebuild")
    if folder.exists() or not retired.exists():
        return
    if (staging / MANIFEST).exists() and (staging / ".complete").exists():
        staging.rename(folder)
    else:
        retired.rename(folder)


def _check(manifest: Manifest, folder: Path, model: str | None) -> None:
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatch(
            f"{folder} has index format {manifest.format_version}; this version reads "
            f"{FORMAT_VERSION}: rebuild it with `press-assistant index PATH --rebuild`")
    if model is not None and model != manifest.model:
        raise IndexMismatch(
            f"{folder} was built with the embedding model {manifest.model!r}, not {model!r}: "
            f"ask with --model {manifest.model!r}, or re-embed with `index --rebuild --model`")


def take_write_lock(folder: Path) -> int:
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + 2.0
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise IndexLocked(
                    f"another indexing run is writing to {folder}; wait for it to finish "
                    "and run again") from None
            time.sleep(0.1)


def _fts_term(stem: str) -> str:
    """One word as an FTS5 query: quoted, so that no word is read as an operator."""
    return '"' + stem.replace('"', '""') + '"'
