"""The :class:`Store` facade: an open index folder, its parts behind one object.

Indexing, retrieval, listing and answering call the store; the store hands each call to the
part that owns it (:mod:`.database`, :mod:`.catalog`, :mod:`.keywords`, :mod:`.vectors`).
The parts are public attributes too, for what needs one of them directly (tests,
benchmarks).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import clear_stale
from ..documents import Chunk, Document, DocumentPage, Filters
from ..errors import IndexCorrupt
from . import keyword_snapshot
from .catalog import Catalog
from .database import Database, FileRecord, StoredChunk
from .folder import (
    FORMAT_VERSION,
    MANIFEST,
    STORE,
    IndexFolder,
    Manifest,
    check_manifest,
    now,
    recover,
    take_write_lock,
)
from .keywords import KeywordIndex
from .vectors import DenseIndex
from .versions import VersionTable

if TYPE_CHECKING:
    import faiss
    import numpy as np


class Store:
    """An open index folder. Reads are safe from many threads; one process writes."""

    def __init__(self, folder: Path, manifest: Manifest, *, writable: bool) -> None:
        """Prefer :meth:`open` and :meth:`create_or_open`."""
        self._folder = IndexFolder(folder, manifest, writable=writable)
        self.database = Database(self._folder)
        """SQLite: the schema, writes, document reads and the files table."""
        self.catalog = Catalog(self.database)
        """The chunks a filter allows; document weights, counts and dates for lists."""
        self.keywords = KeywordIndex(self._folder, self.database, self.catalog)
        """BM25 from FTS5 and the keyword snapshot."""
        self.dense = DenseIndex(self._folder, self.database, self.catalog)
        """The FAISS vectors."""
        self.versions = VersionTable(self.database)
        """Which documents are one release in several languages or postings."""

    @property
    def folder(self) -> Path:
        return self._folder.path

    @property
    def manifest(self) -> Manifest:
        return self._folder.manifest

    @manifest.setter
    def manifest(self, manifest: Manifest) -> None:
        """What this process takes the manifest to say (the file is not written)."""
        self._folder.manifest = manifest

    @property
    def writable(self) -> bool:
        return self._folder.writable

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, folder: Path, *, model: str | None = None, any_format: bool = False) -> Store:
        """Open an existing index for reading; ``model``, when given, must be the one that
        built it. ``any_format``: an index of an older format opens too (a rebuild reads its
        documents, which every format stores alike)."""
        folder = Path(folder)
        recover(folder)
        manifest = Manifest.read(folder)
        if not any_format:
            check_manifest(manifest, folder, model)
        if not (folder / STORE).exists():
            raise IndexCorrupt(f"{folder / STORE} is missing; rebuild with `index --rebuild`")
        return cls(folder, manifest, writable=False)

    @classmethod
    def create_or_open(cls, folder: Path, *, model: str, dimension: int, chunk_tokens: int,
                       overlap_tokens: int, title_tokens: int = 48) -> Store:
        """Open for writing (taking the write lock), creating the folder on first use."""
        folder = Path(folder)
        recover(folder)
        folder.mkdir(parents=True, exist_ok=True)
        lock_fd = take_write_lock(folder)
        try:
            clear_stale(folder)  # what a run killed mid-write left (the lock is ours now)
            if (folder / MANIFEST).exists():
                manifest = Manifest.read(folder)
                check_manifest(manifest, folder, model, writable=True)
                store = cls(folder, manifest, writable=True)
                if manifest.format_version != FORMAT_VERSION:
                    # Of a format whose keyword stems alone differ (check_manifest let no
                    # other through): written again from the stored texts, then the manifest.
                    try:
                        store.keywords.restem()
                        store._folder.update_manifest(format_version=FORMAT_VERSION)
                    except BaseException:
                        store.database.close()
                        raise
            else:
                stamp = now()
                manifest = Manifest(FORMAT_VERSION, model, dimension, chunk_tokens,
                                    overlap_tokens, stamp, stamp, title_tokens=title_tokens)
                store = cls(folder, manifest, writable=True)
                # The manifest is written last: its presence means "an index is here", so a
                # run killed before this point leaves a folder that is simply created again.
                manifest.write(folder)
        except BaseException:
            os.close(lock_fd)
            raise
        store._folder.lock_fd = lock_fd
        return store

    def close(self) -> None:
        with self.database.lock:
            self.database.close()
            self._folder.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading (database) ----------------------------------------------------------------

    def generation(self) -> int:
        return self.database.generation()

    def document_hashes(self, source: str | None = None) -> dict[str, tuple[str, str]]:
        """doc id -> (content hash, source), for every document or those of one source."""
        return self.database.document_hashes(source)

    def document(self, doc_id: str) -> Document | None:
        return self.database.document(doc_id)

    def sentence_spans(self, doc_id: str) -> tuple[tuple[int, int], ...] | None:
        """See :meth:`Database.sentence_spans`."""
        return self.database.sentence_spans(doc_id)

    def sentence_vectors(self, doc_id: str) -> np.ndarray | None:
        """See :meth:`Database.sentence_vectors`."""
        return self.database.sentence_vectors(doc_id)

    def files(self) -> dict[str, FileRecord]:
        """path -> what the file held when it was last read."""
        return self.database.files()

    def document_file(self, doc_id: str) -> Path | None:
        """See :meth:`Database.document_file`: the file that holds this document alone."""
        return self.database.document_file(doc_id)

    def iter_documents(self) -> Iterator[Document]:
        """Every stored document, in id order, read in pages (bounded memory)."""
        return self.database.iter_documents()

    def list_documents(self, *, contains: str = "", collection: str | None = None,
                       limit: int = 50, offset: int = 0) -> DocumentPage:
        """See :meth:`Database.list_documents`."""
        return self.database.list_documents(contains=contains, collection=collection,
                                            limit=limit, offset=offset)

    def chunks(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        return self.database.chunks(ids)

    def counts(self) -> tuple[int, int]:
        """(documents, chunks), counted once per store generation."""
        return self.database.counts()

    def newest_date(self) -> dt.date | None:
        """Publication date of the newest dated release: what "last year" counts from."""
        return self.database.newest_date()

    def collections(self) -> list[str]:
        return self.database.collections()

    def languages(self) -> list[str]:
        return self.database.languages()

    def updated_at(self) -> str | None:
        return self.database.updated_at()

    def size_bytes(self) -> int:
        return self._folder.size_bytes()

    # -- searching and lists ---------------------------------------------------------------

    def keyword_search(self, text: str, *, limit: int,
                       filters: Filters | None = None) -> list[tuple[int, float]]:
        """(chunk id, BM25 score; higher is better) for the content words of ``text``."""
        return self.keywords.search(text, limit=limit, filters=filters)

    def keyword_snapshot(self) -> keyword_snapshot.KeywordSnapshot | None:
        """The newest readable keyword snapshot (None: FTS5 answers alone)."""
        return self.keywords.snapshot()

    def chunk_frequency(self, stem: str) -> int:
        """How many chunks hold ``stem`` (title or text), over the whole index."""
        return self.keywords.chunk_frequency(stem)

    def dense_search(self, vector: np.ndarray, *, limit: int,
                     filters: Filters | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the nearest chunks to ``vector``."""
        return self.dense.nearest(vector, limit=limit, filters=filters)

    def documents_weighed(self, weights: Mapping[str, float], *, filters: Filters | None = None,
                          at_least: float = 0.0, relative: float = 0.0) -> dict[str, float]:
        """See :meth:`Catalog.documents_weighed`."""
        return self.catalog.documents_weighed(weights, filters=filters, at_least=at_least,
                                              relative=relative)

    def document_frequency(self, stem: str) -> int:
        """How many documents hold ``stem``, over the whole index."""
        return self.catalog.document_frequency(stem)

    def document_dates(self, doc_ids: Iterable[str]) -> dict[str, dt.date | None]:
        """Publication dates of these documents (None: undated or not in the index)."""
        return self.catalog.document_dates(doc_ids)

    def warm_up(self) -> None:
        """Read the vectors, open the keyword snapshot and build the chunk catalog (0.2 s at
        100k chunks, a few seconds at a million): what questions would otherwise pay on first
        use."""
        self.dense.index()
        self.keywords.snapshot()
        self.catalog.arrays()

    # -- derived files ---------------------------------------------------------------------

    def vectors(self) -> faiss.Index:
        """The FAISS index as of the store's current generation, repaired if it lags."""
        return self.dense.index()

    def save_vectors(self) -> None:
        """Persist the FAISS index under the store's generation; drop older files."""
        self.dense.save()

    def save_keywords(self, progress: Callable[[int, int], None] | None = None) -> bool:
        """See :meth:`KeywordIndex.save_snapshot`. Returns whether one was written."""
        return self.keywords.save_snapshot(progress)

    # -- writing ---------------------------------------------------------------------------

    def write(self, items: Iterable[tuple[Document, Sequence[Chunk], np.ndarray]],
              remove: Iterable[str] = (), *,
              sentences: Mapping[str, Sequence[tuple[int, int]]] | None = None,
              sentence_vectors: Mapping[str, np.ndarray] | None = None) -> None:
        """Replace documents (with their chunks and vectors, and their ``sentences`` spans
        and ``sentence_vectors`` when given) and remove others, atomically."""
        self.database.write(items, remove, sentences=sentences, sentence_vectors=sentence_vectors)

    def record_files(self, records: Mapping[str, FileRecord], forget: Iterable[str] = ()) -> None:
        """Remember files as read (and forget others); the generation stays."""
        self.database.record_files(records, forget)

    def check(self) -> list[str]:
        """Integrity problems of the stored data, in words; empty when all is well. The FAISS
        vectors are brought up to date first (that is a repair, not a problem)."""
        problems = self.database.problems()
        chunks = self.counts()[1]
        if self.vectors().ntotal != chunks:
            problems.append(f"{self.vectors().ntotal} vectors for {chunks} chunks")
        return problems
