"""The index folder: a manifest, a SQLite store and the FAISS vectors and keyword snapshot
derived from it.

::

    index/
      manifest.json            format version, embedding model and dimension, chunker settings
      store.sqlite3            documents, chunks (with their vectors), sentence spans, FTS5
                               keyword index
      vectors-<generation>.faiss   FAISS vectors keyed by chunk id, as of that store generation
      keywords-<generation>/   past 50k chunks: the keyword index as numpy postings, as of
                               that generation (``keyword_snapshot``)
      write.lock               held by the one process that writes

SQLite (WAL mode) is the source of truth: documents, chunks, their vectors and the FTS5
keyword index change together in one transaction, and every transaction bumps the store's
*generation*. The FAISS file is derived: written under the generation it reflects, by
write-then-rename. A reader that finds the newest FAISS file behind the store applies the
difference from the stored vectors (nothing is re-embedded), so a crash between the two never
leaves a wrong answer, only a short repair. The keyword snapshot is derived the same way; a
question asks FTS5 for the chunks written after it.

The modules, each owning one part (the :class:`Store` facade hands calls to them):

- ``folder``            the folder itself: manifest, write lock, recovery of a killed rebuild
- ``database``          SQLite: schema, the write transaction, generations, document reads and
                        their caches, the files table, the integrity queries
- ``catalog``           filters as chunk masks; document weights, counts and dates for lists
- ``keywords``          BM25 from FTS5 and the snapshot, word counts, the snapshot's writing
- ``keyword_snapshot``  the snapshot's format: numpy postings scoring FTS5's BM25
- ``vectors``           the FAISS index: its layout (exact or IVF-SQ8), search, sync, saving
- ``store``             the :class:`Store` facade

Importing this package loads neither numpy nor faiss; they load on first use.
"""

from .database import FileRecord, StoredChunk
from .folder import FORMAT_VERSION, LOCK, MANIFEST, STORE, Manifest, recover, take_write_lock
from .store import Store

__all__ = [
    "FORMAT_VERSION",
    "LOCK",
    "MANIFEST",
    "STORE",
    "FileRecord",
    "Manifest",
    "Store",
    "StoredChunk",
    "recover",
    "take_write_lock",
]
