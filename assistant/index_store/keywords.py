"""The keyword side: BM25 over the chunks' stems, from FTS5 and, past
:data:`keyword_snapshot.MIN_CHUNKS`, from the numpy snapshot with FTS5 for the chunks
written after it (see :mod:`.keyword_snapshot`); word counts for the query's idf; the
snapshot's writing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from ..documents import Filters
from ..lexical import index_text, stems
from . import keyword_snapshot
from .catalog import Allowed, Catalog
from .database import KEYWORD_TABLES, Database, fts_term
from .folder import STORE, IndexFolder

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

LARGE_INDEX = 60_000
"""Chunks beyond which the keyword query leaves out its commonest words
(:meth:`KeywordIndex.prune`); every quality set in docs/QUALITY.md is below it (the largest,
the XQuAD haystack, 58,701)."""
POSTINGS_BUDGET = 40_000


class KeywordIndex:
    """Keyword search over one store."""

    def __init__(self, folder: IndexFolder, db: Database, catalog: Catalog) -> None:
        self.folder = folder
        self.db = db
        self.catalog = catalog
        # A word's chunk count, per generation like the database's caches.
        self._frequencies: dict[str, int] = {}
        db.on_new_generation(self._frequencies.clear)
        # The newest keyword snapshot, and the last one found unreadable (not tried again).
        self._snapshot: keyword_snapshot.KeywordSnapshot | None = None
        self._snapshot_key: tuple[Path, int] | None = None
        self._unreadable: tuple[Path, int] | None = None

    def search(self, text: str, *, limit: int,
               filters: Filters | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score; higher is better) for the content words of ``text``."""
        import numpy as np

        words = list(dict.fromkeys(stems(text, drop_stopwords=True)))
        if not words:
            return []
        total = self.db.counts()[1]
        if total > LARGE_INDEX:
            words = self.prune(words)
        allowed = self.catalog.allowed(filters)
        if allowed is not None and allowed.ids.size == 0:
            return []
        snapshot = self.snapshot()
        query = " OR ".join(fts_term(w) for w in words)
        folded = keyword_snapshot.fold(words) if snapshot is not None else []
        if snapshot is None or any(len(terms) > 1 for terms in folded):
            # No snapshot, or a word FTS5 reads as a phrase ("foo_bar"), which postings
            # without positions cannot match.
            return self.fts_ranked(query, limit, allowed)
        idfs = [(terms[0], keyword_snapshot.idf(total, self.chunk_frequency(w)))
                for w, terms in zip(words, folded, strict=True) if terms]
        found = self._snapshot_ranked(
            snapshot, idfs, limit,
            None if allowed is None else np.frombuffer(allowed.mask, dtype=np.uint8))
        # The chunks written since the snapshot, from FTS5 (bm25() there and the snapshot's
        # scores are the same formula over the same counts, so they merge as they are).
        found += self.fts_ranked(query, limit, allowed, after=snapshot.covers)
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        return found[:limit]

    def _snapshot_ranked(self, snapshot: keyword_snapshot.KeywordSnapshot,
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
                live.update(r[0] for r in self.db.query(
                    f"SELECT id FROM chunks WHERE id IN ({','.join('?' * len(part))})", tuple(part)))
            found = [(i, s) for i, s in zip(listed, scores.tolist(), strict=True) if i in live]
            if len(found) >= limit or ids.size < fetch:
                return found[:limit]
            fetch *= 4

    def fts_ranked(self, query: str, limit: int, allowed: Allowed | None, *,
                   after: int | None = None) -> list[tuple[int, float]]:
        """FTS5's BM25 ranking alone (no snapshot) for the FTS5 ``query`` (words as
        :func:`~.database.fts_term` quotes them, joined by OR), of the chunks ``allowed``
        (all for None) and with ids above ``after``."""
        condition = ""
        params: list[str | int] = [query]
        if after is not None:
            # A row id range FTS5 applies itself, skipping the term lists' older entries.
            condition += " AND f.rowid > ?"
            params.append(after)
        params.append(limit)
        sql = """SELECT f.rowid, -bm25(chunks_fts, 0.5, 1.0) AS score FROM chunks_fts f
                  WHERE chunks_fts MATCH ? {} ORDER BY bm25(chunks_fts, 0.5, 1.0) LIMIT ?"""
        if allowed is None:
            rows = self.db.query(sql.format(condition), tuple(params))
        else:
            # The filter is a lookup in a byte mask, not a join: joining each match to its
            # chunk and document rows cost 150-200 ms a question at 100k chunks (the chunk
            # rows hold the vectors), the mask a few. SQLite tests it before computing BM25,
            # so only the allowed matches are scored.
            mask = allowed.mask
            size = len(mask)
            with self.db.lock:
                self.db.create_function("allowed_chunk", 1,
                                        lambda rowid: rowid < size and mask[rowid])
                rows = self.db.query(sql.format(condition + " AND allowed_chunk(f.rowid)"),
                                     tuple(params))
        return [(int(r[0]), float(r[1])) for r in rows]

    def prune(self, words: list[str]) -> list[str]:
        """The query's words, rarest first, while the chunks they are found in add up to at
        most :data:`POSTINGS_BUDGET` (the three rarest always stay): BM25 scores every chunk
        a word is in, so in a large index one common word costs more than all the rest, and
        such words barely move the order. :meth:`search` prunes past :data:`LARGE_INDEX`."""
        kept, used = [], 0
        for n, (df, word) in enumerate(sorted((self.chunk_frequency(w), w) for w in words)):
            if n >= 3 and used + df > POSTINGS_BUDGET:
                break
            kept.append(word)
            used += df
        return kept or words

    def snapshot(self) -> keyword_snapshot.KeywordSnapshot | None:
        """The newest readable keyword snapshot (None: none, FTS5 answers alone). The folder
        is listed each time (microseconds): a snapshot is written after the commit it
        reflects, so the generation cannot tell a reader that one has appeared. A snapshot
        is known by its folder's name and inode: one written again under the same name (the
        same generation) is a new folder."""
        newest = keyword_snapshot.newest(self.folder.path)
        try:
            key = None if newest is None else (newest[1], newest[1].stat().st_ino)
        except OSError:  # removed meanwhile
            key = None
        with self.db.lock:
            if key is None:
                self._snapshot = None
                return None
            if self._snapshot is not None and self._snapshot_key == key:
                return self._snapshot
            if self._unreadable == key:
                return None
        try:
            snapshot = keyword_snapshot.load(key[0])
            if snapshot.index != self.folder.manifest.created_at:
                raise ValueError("the snapshot of another index")
        except (OSError, ValueError, KeyError):
            # Removed by a writer that has just written a newer one, torn, of an older
            # format or of another index: FTS5 answers alone until a readable one appears.
            with self.db.lock:
                self._snapshot, self._unreadable = None, key
            return None
        with self.db.lock:
            self._snapshot, self._snapshot_key = snapshot, key
        return snapshot

    def chunk_frequency(self, stem: str) -> int:
        """How many chunks hold ``stem`` (title or text), over the whole index; kept for the
        generation, since the vocabulary table counts a word's postings to answer."""
        generation = self.db.fresh_caches()
        with self.db.lock:
            cached = self._frequencies.get(stem)
        if cached is not None:
            return cached
        snapshot = self.snapshot()
        # The term FTS5 holds for the stem: "zürich" is kept as "zurich".
        terms = keyword_snapshot.fold([stem])[0]
        if len(terms) != 1:
            # Nothing, or a phrase ("foo_bar" is "foo" then "bar"): FTS5 counts its matches.
            rows = self.db.query("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                                 (fts_term(stem),)) if terms else [(0,)]
            count = int(rows[0][0])
        elif snapshot is not None:
            # The snapshot's count is its term list's length, where the vocabulary table walks
            # the whole list (10-50 ms for a common word at a million chunks); FTS5 counts the
            # chunks written since. Chunks removed since still count: at most a tenth of the
            # snapshot before it is written again.
            rows = self.db.query("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?"
                                 " AND rowid > ?", (fts_term(stem), snapshot.covers))
            count = snapshot.frequency(terms[0]) + int(rows[0][0])
        else:
            rows = self.db.query("SELECT doc FROM chunks_vocab WHERE term = ?", (terms[0],))
            count = int(rows[0][0]) if rows else 0
        with self.db.lock:
            if self.db.cache_generation == generation:
                if len(self._frequencies) >= 4096:
                    self._frequencies.clear()
                self._frequencies[stem] = count
        return count

    def restem(self) -> int:
        """Make the keyword tables again (this version's tokenizer) and write every chunk's
        stems into them from the stored texts, in one transaction (a run killed half-way
        leaves the old tables, and the next writer starts again): how an index of a format
        whose keyword index alone differs (:data:`~.folder.RESTEMMED_FORMATS`) is brought up
        to date without embedding anything again. The keyword snapshots, which hold the old
        stems, are removed; the next indexing run writes a new one. The title is the
        document's whole, where indexing carries at most 48 of its word pieces into a chunk:
        a longer title adds words to the title column. Returns the chunks restemmed."""
        self.folder.require_writable()
        done = 0
        with self.db.transaction() as db:
            # Made again, not emptied: an index of format 3 cut Sinhala and Tamil words apart
            # in its tokenizer too (database.FTS_TOKENIZER).
            db.execute("DROP TABLE IF EXISTS chunks_vocab")
            db.execute("DROP TABLE chunks_fts")
            for statement in KEYWORD_TABLES:
                db.execute(statement)
            # A document at a time (its text read once for all its chunks): bounded memory.
            for (doc_id,) in db.execute("SELECT id FROM documents ORDER BY id").fetchall():
                title, text, lang = db.execute(
                    "SELECT title, text, lang FROM documents WHERE id = ?", (doc_id,)).fetchone()
                title_stems = index_text(" ".join(title.split()), lang)
                chunks = db.execute('SELECT id, start, "end" FROM chunks WHERE doc_id = ?',
                                    (doc_id,)).fetchall()
                db.executemany("INSERT INTO chunks_fts(rowid, title, text) VALUES (?, ?, ?)",
                               [(i, title_stems, index_text(text[a:b], lang)) for i, a, b in chunks])
                done += len(chunks)
        keyword_snapshot.remove_older(self.folder.path, keep=None)
        return done

    def save_snapshot(self, progress: Callable[[int, int], None] | None = None) -> bool:
        """Write a keyword snapshot when the index holds :data:`keyword_snapshot.MIN_CHUNKS`
        chunks or more and the last snapshot is missing or stale (chunks added or removed
        since reach :data:`keyword_snapshot.REFRESH_SHARE` of it); remove it below that size.
        ``progress(done, total)`` counts chunks (a million take about two minutes here).
        Returns whether one was written."""
        self.folder.require_writable()
        total = self.db.counts()[1]
        if total < keyword_snapshot.MIN_CHUNKS:
            keyword_snapshot.remove_older(self.folder.path, keep=None)
            return False
        current = self.snapshot()
        if current is not None:
            newer, older = self.db.query(
                "SELECT count(*) FILTER (WHERE id > ?), count(*) FILTER (WHERE id <= ?)"
                " FROM chunks INDEXED BY chunks_doc", (current.covers, current.covers))[0]
            if newer + current.chunks - older < keyword_snapshot.REFRESH_SHARE * current.chunks:
                return False
        # Its own connection: the read takes a while, and the store's may serve meanwhile.
        # The write lock is ours, so nothing commits during it.
        db = sqlite3.connect(self.folder.path / STORE)
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

            keyword_snapshot.write(self.folder.path, self.folder.manifest.created_at,
                                   int(row[0]) if row else 0, counted())
            if progress is not None:
                progress(done, total)
            db.execute("COMMIT")
        finally:
            db.close()
        return True
