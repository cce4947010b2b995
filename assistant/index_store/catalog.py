"""The chunk catalog: which chunks a filter allows, and what lists need of every chunk and
document, in memory.

A filter (period, collections, languages) becomes the chunk ids it allows and a byte mask
over chunk ids (:class:`Allowed`), which the keyword and dense searches test per candidate.
Lists weigh documents by the words they hold and order them by date from the catalog's
arrays (:class:`CatalogArrays`), built once a generation from covering indexes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ..documents import Filters
from .database import Database, fts_term

if TYPE_CHECKING:
    import numpy as np

NO_DATE = -(2**62)
"""An undated document's day number in the catalog."""


class Allowed(NamedTuple):
    """The chunks a restrictive filter allows."""

    ids: np.ndarray
    """Their ids, sorted (int64)."""
    mask: bytes
    """A byte per chunk id, 1 where allowed; ids past its end are not."""


@dataclass(frozen=True, slots=True)
class CatalogArrays:
    """What lists and filters need of every chunk and document, in memory."""

    rowids: dict[str, int]
    """Document id -> its SQLite row id."""
    doc_ids: np.ndarray
    """Document id by row id ("" for a row id no document has)."""
    doc_days: np.ndarray
    """Publication date by document row id, as days since 1970 (:data:`NO_DATE`: none)."""
    chunk_doc: np.ndarray
    """Document row id by chunk id (-1 for a chunk id no chunk has)."""
    term_docs: dict[str, np.ndarray] = field(default_factory=dict)
    """Stem -> row ids of the documents holding it, filled as lists ask
    (``Catalog._documents_holding``): kept with the arrays, so the two always describe the
    same generation."""


def where(filters: Filters | None) -> tuple[str, list[Any]]:
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


def period_mask(catalog: CatalogArrays, filters: Filters) -> np.ndarray:
    """A 0/1 byte per chunk id: whether its document's date is in the filters' period
    (or it has none and ``undated`` keeps those), as :func:`where` says it in SQL."""
    import numpy as np

    days = catalog.doc_days
    dated = days != NO_DATE
    inside = dated.copy()
    if filters.since:
        inside &= days >= np.datetime64(filters.since, "D").astype(np.int64)
    if filters.until:
        inside &= days <= np.datetime64(filters.until, "D").astype(np.int64)
    if filters.undated:
        inside |= ~dated  # row ids no document has as well: no chunk points at them
    # One gather over every chunk id; a missing chunk's -1 picks the appended False.
    mask: np.ndarray = np.append(inside, False)[catalog.chunk_doc].view(np.uint8)
    return mask


class Catalog:
    """Filters, masks and document counts over one store, kept for its generation."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Per generation, like the database's caches: the chunks a filter allows, and the
        # chunk -> document arrays.
        self._allowed: dict[Filters, Allowed] = {}
        self._arrays: CatalogArrays | None = None
        db.on_new_generation(self._forget)

    def _forget(self) -> None:
        self._allowed.clear()
        self._arrays = None

    def allowed(self, filters: Filters | None) -> Allowed | None:
        """For a restrictive filter: the chunks it allows; None when nothing is filtered.
        Kept for the generation: a question looks the same filter up several times. A period
        alone, with this generation's arrays at hand, is decided by their dates
        (:meth:`allowed_in_period`), anything else by a join (:meth:`allowed_by_join`)."""
        clause, args = where(filters)
        if not clause or filters is None:
            return None
        generation = self.db.fresh_caches()
        with self.db.lock:
            if filters in self._allowed:
                return self._allowed[filters]
            catalog = self._arrays
        if catalog is not None and not filters.collections and not filters.languages:
            # 3 ms at a million chunks, where the join takes 20-500 ms. The arrays are not
            # built for this: after a commit the join is cheaper than rebuilding them.
            found = self.allowed_in_period(filters, catalog)
        else:
            found = self._joined(clause, args)
        with self.db.lock:
            if self.db.cache_generation == generation:
                if len(self._allowed) >= 16:  # a byte a chunk each: a few MB at a million
                    self._allowed.clear()
                self._allowed[filters] = found
        return found

    def allowed_by_join(self, filters: Filters) -> Allowed | None:
        """What :meth:`allowed` finds by joining chunks to their documents in SQL (not kept);
        None when nothing is filtered."""
        clause, args = where(filters)
        return self._joined(clause, args) if clause else None

    def _joined(self, clause: str, args: list[Any]) -> Allowed:
        """The chunks whose documents meet ``clause`` (a :func:`where` clause, not empty)."""
        import numpy as np

        rows = self.db.query(
            f"SELECT c.id FROM chunks c JOIN documents d ON d.id = c.doc_id WHERE {clause}",
            tuple(args))
        ids = np.array(sorted(r[0] for r in rows), dtype=np.int64)
        mask = np.zeros(int(ids[-1]) + 1 if ids.size else 0, dtype=np.uint8)
        mask[ids] = 1
        return Allowed(ids, mask.tobytes())

    def allowed_in_period(self, filters: Filters, catalog: CatalogArrays | None = None) -> Allowed:
        """What :meth:`allowed` finds for a period from the dates of ``catalog`` (this
        generation's :meth:`arrays` when not given), without SQL (not kept). The mask spans
        every chunk id of the arrays. Collections and languages are not looked at."""
        import numpy as np

        mask = period_mask(catalog if catalog is not None else self.arrays(), filters)
        return Allowed(np.flatnonzero(mask).astype(np.int64), mask.tobytes())

    def _documents_holding(self, stem: str, catalog: CatalogArrays) -> np.ndarray:
        """Row ids (sorted, unique) of the documents whose title or text holds ``stem``: the
        keyword index's matches mapped through ``catalog``, where a join would read every
        matching chunk's row (seconds for a common word at a million chunks). Chunks newer
        than the catalog are left out; it is replaced on the next call after a commit."""
        import numpy as np

        with self.db.lock:
            cached = catalog.term_docs.get(stem)
        if cached is not None:
            return cached
        # One string of ids, parsed by numpy: a row per match costs 2-5x as much for a
        # word in tens of thousands of chunks.
        joined = self.db.query("SELECT group_concat(rowid, ' ') FROM chunks_fts WHERE chunks_fts MATCH ?",
                               (fts_term(stem),))[0][0]
        chunk_ids = np.fromstring(joined or "", dtype=np.int64, sep=" ")
        docs = np.unique(catalog.chunk_doc[chunk_ids[chunk_ids < catalog.chunk_doc.size]])
        docs = docs[docs >= 0]
        with self.db.lock:
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

        catalog = self.arrays()  # one catalog for the whole call: its row ids
        allowed = self.allowed(filters)
        allowed_docs = None
        if allowed is not None:
            ids = allowed.ids[allowed.ids < catalog.chunk_doc.size]
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
        return int(self._documents_holding(stem, self.arrays()).size)

    def document_dates(self, doc_ids: Iterable[str]) -> dict[str, dt.date | None]:
        """Publication dates of these documents (None: undated or not in the index), read
        from the in-memory catalog, so that ordering a long list loads no document."""
        import numpy as np

        catalog = self.arrays()
        found: dict[str, dt.date | None] = {}
        for doc_id in doc_ids:
            rowid = catalog.rowids.get(doc_id)
            days = catalog.doc_days[rowid] if rowid is not None else NO_DATE
            found[doc_id] = None if days == NO_DATE else (
                np.datetime64(int(days), "D").astype(dt.date))
        return found

    def arrays(self) -> CatalogArrays:
        """Which document each chunk is part of, and each document's id and date, as arrays,
        built once a generation from covering indexes (no document text or vector is read:
        0.2 s at 100k chunks). Its three reads share one snapshot, so a commit landing
        meanwhile cannot leave a chunk whose document is missing."""
        import numpy as np

        self.db.fresh_caches()
        with self.db.lock:
            if self._arrays is not None:
                return self._arrays
            with self.db.read_snapshot():
                generation = self.db.generation()
                docs = self.db.query("SELECT rowid, id FROM documents")
                dated = self.db.query("SELECT rowid, date FROM documents WHERE date IS NOT NULL")
                pairs = self.db.query("SELECT id, doc_id FROM chunks INDEXED BY chunks_doc")
            rowids = {doc_id: rowid for rowid, doc_id in docs}
            size = max(rowids.values(), default=-1) + 1
            doc_ids = np.full(size, "", dtype=object)
            if docs:
                doc_ids[[r for r, _ in docs]] = [d for _, d in docs]
            doc_days = np.full(size, NO_DATE, dtype=np.int64)
            if dated:
                doc_days[[r for r, _ in dated]] = np.array(
                    [d for _, d in dated], dtype="datetime64[D]").astype(np.int64)
            chunk_doc = np.full(max((p[0] for p in pairs), default=-1) + 1, -1, dtype=np.int64)
            if pairs:
                chunk_doc[[p[0] for p in pairs]] = [rowids[p[1]] for p in pairs]
            catalog = CatalogArrays(rowids, doc_ids, doc_days, chunk_doc)
            if generation == self.db.cache_generation:
                self._arrays = catalog
            return catalog
