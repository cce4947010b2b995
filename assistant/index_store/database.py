"""The SQLite side of the index folder: the schema, the one write transaction, the store's
generation, document reads with their caches, and the files table.

SQLite (WAL mode) is the source of truth: documents, chunks, their vectors and the FTS5
keyword index change together in one transaction, and every transaction bumps the store's
*generation*. Whatever the other parts keep in memory belongs to one generation: they
register with :meth:`Database.on_new_generation` to drop it when another commit is seen.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
import threading
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..documents import Chunk, Document, DocumentPage, DocumentSummary, Skipped
from ..lexical import index_text
from .folder import STORE, IndexFolder, now

if TYPE_CHECKING:
    import numpy as np

FTS_TOKENIZER = "unicode61 remove_diacritics 2 categories 'L* N* Co M*' tokenchars '\u200c\u200d'"
"""How FTS5 cuts the stored stems into terms. Its default token characters are letters,
digits and private-use ones: the vowel signs (Mn, Mc) and the zero-width joiners of Sinhala
and Tamil would be separators, and "ජනාධිපති" three terms of one or two letters. Every
character of a stem (lexical.words: Unicode's word class) is a token character here but the
connector "_", so FTS5 keeps each stem whole ("foo_bar" is still two terms)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, date TEXT, url TEXT,
    lang TEXT, pages TEXT NOT NULL, source TEXT NOT NULL, collection TEXT NOT NULL,
    hash TEXT NOT NULL, indexed_at TEXT NOT NULL, ocr_pages TEXT
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE INDEX IF NOT EXISTS documents_date ON documents(date);
-- ocr_pages: the JSON list of pages read by OCR, NULL for none; added last (ALTER TABLE in
-- Database.__init__) so that an index made before it is read as it is.
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
    title, text, tokenize = "{tokenizer}"
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
""".replace("{tokenizer}", FTS_TOKENIZER)
KEYWORD_TABLES = (
    f'CREATE VIRTUAL TABLE chunks_fts USING fts5(title, text, tokenize = "{FTS_TOKENIZER}")',
    "CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row')",
)
"""The keyword index's two tables as :data:`SCHEMA` makes them, for ``KeywordIndex.restem``,
which makes them again (an older index's may have another tokenizer)."""


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


def fts_term(stem: str) -> str:
    """One word as an FTS5 query: quoted, so that no word is read as an operator."""
    return '"' + stem.replace('"', '""') + '"'


class Database:
    """The store's SQLite connection. Reads are safe from many threads (one lock, shared by
    every part of the store, guards the connection and the in-memory caches); only a store
    opened for writing writes."""

    def __init__(self, folder: IndexFolder) -> None:
        self.folder = folder
        self.lock = threading.RLock()
        self._db = sqlite3.connect(folder.path / STORE, check_same_thread=False,
                                   isolation_level=None, timeout=30)
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(SCHEMA)
        self._ocr_column = self._add_ocr_column()
        self._docs_cache: dict[str, Document] = {}
        self._spans_cache: dict[str, tuple[tuple[tuple[int, int], ...] | None, np.ndarray | None]] = {}
        self._cache_generation = -1
        self._counts: tuple[int, tuple[int, int]] = (-1, (0, 0))
        self._forgetters: list[Callable[[], None]] = []

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def _add_ocr_column(self) -> str:
        """What reads the documents' ``ocr_pages``: the column, added to an index made before
        it (its documents have none: NULL); "NULL" when it is absent and cannot be added (a
        read-only file): no page is then marked as OCR'd."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(documents)")}
        if "ocr_pages" not in columns:
            try:
                self._db.execute("ALTER TABLE documents ADD COLUMN ocr_pages TEXT")
            except sqlite3.OperationalError:  # read-only, or another process holds a write
                return "NULL"
        return "ocr_pages"

    # -- the seam the other parts read through -----------------------------------------------

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """The rows of one SQL statement, under the store's lock. The other parts of the
        store read their tables through it; tests and benchmarks may too."""
        with self.lock:
            return self._db.execute(sql, params).fetchall()

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Hold the lock, and let the reads in the block see one state of the store (a read
        transaction, unless one is open already): a commit landing meanwhile cannot split
        them."""
        with self.lock:
            own = not self._db.in_transaction
            if own:
                self._db.execute("BEGIN")
            try:
                yield
            finally:
                if own:
                    self._db.execute("COMMIT")

    def create_function(self, name: str, arguments: int, function: Callable[..., Any]) -> None:
        """A deterministic SQL function on this connection; hold :attr:`lock` from here to
        the end of the query that uses it, or another thread may replace it meanwhile."""
        self._db.create_function(name, arguments, function, deterministic=True)

    # -- generations -------------------------------------------------------------------------

    def generation(self) -> int:
        row = self.query("SELECT value FROM meta WHERE key = 'generation'")
        return int(row[0][0]) if row else 0

    def on_new_generation(self, forget: Callable[[], None]) -> None:
        """Have :meth:`fresh_caches` call ``forget`` (under the lock) when it sees a newer
        generation than the one the caches were filled under."""
        self._forgetters.append(forget)

    @property
    def cache_generation(self) -> int:
        """The generation the caches hold; a result computed under another must not be kept."""
        return self._cache_generation

    def fresh_caches(self) -> int:
        """Drop what belongs to an older generation; returns the generation seen, which a
        result computed now may be cached under only while it is still the current one (a
        commit may land while it is computed)."""
        generation = self.generation()
        with self.lock:
            if generation != self._cache_generation:  # another process committed
                self._docs_cache.clear()
                self._spans_cache.clear()
                for forget in self._forgetters:
                    forget()
                self._cache_generation = generation
        return generation

    # -- writing -----------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that bumps the generation when it commits."""
        self.folder.require_writable()
        with self.lock:
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
        with self.transaction() as db:
            for doc_id in remove:
                self._delete(db, doc_id)
            for doc, chunks, vectors in items:
                self._delete(db, doc.id)
                db.execute(
                    "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc.id, doc.title, doc.text, doc.date.isoformat() if doc.date else None,
                     doc.url, doc.lang, json.dumps(list(doc.pages)), doc.source,
                     doc.collection, doc.content_hash, now(),
                     json.dumps(list(doc.ocr_pages)) if doc.ocr_pages else None))
                for chunk, vector in zip(chunks, vectors, strict=True):
                    cur = db.execute(
                        'INSERT INTO chunks (doc_id, ordinal, start, "end", page, vector)'
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        (doc.id, chunk.ordinal, chunk.start, chunk.end, chunk.page,
                         vector.astype("float32").tobytes()))
                    db.execute("INSERT INTO chunks_fts(rowid, title, text) VALUES (?, ?, ?)",
                               (cur.lastrowid, index_text(chunk.title, doc.lang),
                                index_text(chunk.text, doc.lang)))
                if (spans := sentences.get(doc.id)) is not None:
                    matrix = sentence_vectors.get(doc.id)
                    db.execute("INSERT INTO sentences VALUES (?, ?, ?)",
                               (doc.id, array("i", [o for span in spans for o in span]).tobytes(),
                                None if matrix is None else matrix.astype("float16").tobytes()))
            db.execute("INSERT INTO meta(key, value) VALUES ('updated_at', ?) ON CONFLICT(key)"
                       " DO UPDATE SET value = excluded.value", (now(),))

    @staticmethod
    def _delete(db: sqlite3.Connection, doc_id: str) -> None:
        db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT id FROM chunks WHERE doc_id = ?)",
                   (doc_id,))
        db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM sentences WHERE doc_id = ?", (doc_id,))
        db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def record_files(self, records: Mapping[str, FileRecord], forget: Iterable[str] = ()) -> None:
        """Remember files as read (and forget others). Not a change of what the index
        answers, so the generation stays (the FAISS file stays current)."""
        self.folder.require_writable()
        with self.lock:
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

    # -- reading -----------------------------------------------------------------------------

    def document_hashes(self, source: str | None = None) -> dict[str, tuple[str, str]]:
        """doc id -> (content hash, source), for every document or those of one source."""
        sql = "SELECT id, hash, source FROM documents"
        rows = self.query(sql + " WHERE source = ?", (source,)) if source else self.query(sql)
        return {r[0]: (r[1], r[2]) for r in rows}

    def document(self, doc_id: str) -> Document | None:
        self.fresh_caches()
        with self.lock:
            cached = self._docs_cache.get(doc_id)
        if cached is not None:
            return cached
        rows = self.query(
            "SELECT id, title, text, date, url, lang, pages, source, collection,"
            f" {self._ocr_column} FROM documents WHERE id = ?", (doc_id,))
        if not rows:
            return None
        r = rows[0]
        doc = Document(id=r[0], title=r[1], text=r[2],
                       date=dt.date.fromisoformat(r[3]) if r[3] else None, url=r[4], lang=r[5],
                       pages=tuple(json.loads(r[6])), source=r[7], collection=r[8],
                       ocr_pages=tuple(json.loads(r[9])) if r[9] else ())
        with self.lock:
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
        self.fresh_caches()
        with self.lock:
            if doc_id in self._spans_cache:
                return self._spans_cache[doc_id]
        rows = self.query("SELECT spans, vectors FROM sentences WHERE doc_id = ?", (doc_id,))
        found: tuple[tuple[tuple[int, int], ...] | None, np.ndarray | None] = (None, None)
        if rows:
            flat = array("i")
            flat.frombytes(rows[0][0])
            spans = tuple(zip(flat[0::2], flat[1::2], strict=True))
            vectors = None
            if rows[0][1] is not None:
                import numpy as np

                vectors = np.frombuffer(rows[0][1], dtype=np.float16).astype(np.float32)
                vectors = vectors.reshape(len(spans), self.folder.manifest.dimension)
            found = (spans, vectors)
        with self.lock:
            if len(self._spans_cache) > 512:  # a few MB: answers reread few documents
                self._spans_cache.clear()
            self._spans_cache[doc_id] = found
        return found

    def files(self) -> dict[str, FileRecord]:
        """path -> what the file held when it was last read."""
        return {r[0]: FileRecord(int(r[1]), int(r[2]), r[3], tuple(json.loads(r[4])),
                                 tuple(Skipped(*pair) for pair in json.loads(r[5])))
                for r in self.query("SELECT path, size, mtime_ns, reading, doc_ids, skipped FROM files")}

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
        rows = self.query("SELECT path FROM files WHERE doc_ids = ? AND skipped = '[]' LIMIT 2",
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
            rows = self.query(
                "SELECT id, title, text, date, url, lang, pages, source, collection,"
                f" {self._ocr_column} FROM documents WHERE id > ? ORDER BY id LIMIT 500", (last,))
            if not rows:
                return
            for r in rows:
                yield Document(id=r[0], title=r[1], text=r[2],
                               date=dt.date.fromisoformat(r[3]) if r[3] else None, url=r[4],
                               lang=r[5], pages=tuple(json.loads(r[6])), source=r[7],
                               collection=r[8], ocr_pages=tuple(json.loads(r[9])) if r[9] else ())
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
        total = int(self.query(f"SELECT count(*) FROM documents {where}", tuple(params))[0][0])
        rows = self.query(
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
        rows = self.query(
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
        with self.lock:
            if self._counts[0] == generation:
                return self._counts[1]
        docs = self.query("SELECT count(*) FROM documents")[0][0]
        chunks = self.query("SELECT count(*) FROM chunks")[0][0]
        with self.lock:
            self._counts = (generation, (int(docs), int(chunks)))
        return int(docs), int(chunks)

    def newest_date(self) -> dt.date | None:
        """Publication date of the newest dated release: what "last year" counts from."""
        row = self.query("SELECT max(date) FROM documents")
        return dt.date.fromisoformat(row[0][0]) if row and row[0][0] else None

    def collections(self) -> list[str]:
        return [r[0] for r in self.query("SELECT DISTINCT collection FROM documents ORDER BY 1")]

    def languages(self) -> list[str]:
        return [r[0] for r in self.query(
            "SELECT DISTINCT lang FROM documents WHERE lang IS NOT NULL ORDER BY 1")]

    def updated_at(self) -> str | None:
        row = self.query("SELECT value FROM meta WHERE key = 'updated_at'")
        return row[0][0] if row else None

    def problems(self) -> list[str]:
        """Integrity problems of the stored tables, in words; empty when all is well."""
        problems: list[str] = []
        dim_bytes = self.folder.manifest.dimension * 4
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
            count = self.query(sql)[0][0]
            if count:
                problems.append(f"{count} {what}")
        status = self.query("PRAGMA quick_check")[0][0]
        if status != "ok":
            problems.append(f"SQLite: {status}")
        return problems
