"""The dense side: the FAISS index over the chunk vectors, chosen by size, kept in step with
the store.

Up to :data:`EXACT_LIMIT` vectors the search is exact (a flat inner-product index: at that
size a question costs a few milliseconds). Beyond it the flat index is replaced, once, by an
inverted-file index with 8-bit scalar quantization (IVF-SQ8): a quarter of the memory (a
million 384-dimension vectors in ~400 MB instead of 1.5 GB) and a search that reads only the
lists nearest the question. Its ``nprobe`` is the smallest that finds ≥ :data:`RECALL_TARGET`
of the exact top ten for held-out stored vectors used as questions; the layout and that
measurement go into the manifest. Both kinds take ids, additions and removals in place, so
the index grows incrementally.

The FAISS file is derived from the vectors SQLite holds: written under the store generation
it reflects (``vectors-<generation>.faiss``), by write-then-rename. A reader that finds the
newest file behind the store applies the difference from the stored vectors (nothing is
re-embedded), so a crash between the commit and the file never leaves a wrong answer, only a
short repair (:class:`DenseIndex`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ..atomic import staged
from ..documents import Filters
from .catalog import Catalog
from .database import Database
from .folder import IndexFolder

if TYPE_CHECKING:
    import faiss
    import numpy as np

EXACT_LIMIT = 200_000
"""Vectors searched exactly; an IVF index takes over beyond (docs/BENCHMARKS.md)."""
REFINE = 4
"""An approximate search fetches this many times the candidates asked for and re-scores them
with the exact vectors: 8-bit codes cannot order near-duplicates (a release and its
reissue), the float vectors can."""
RECALL_TARGET = 0.99
"""Recall@10 against exact search the IVF probes must reach on held-out vectors (real
questions are measured by benchmarks/scale.py; the issue's bar for them is 0.98)."""
_VECTORS = re.compile(r"^vectors-(\d+)\.faiss$")


@dataclass(frozen=True, slots=True)
class Layout:
    """How the vectors are indexed, as recorded in the manifest."""

    kind: str = "flat"
    """"flat" (exact) or "ivf-sq8"."""
    nlist: int = 0
    nprobe: int = 0
    trained_on: int = 0
    recall_at_10: float | None = None
    """Measured against exact search when the IVF index was built."""

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (0, None)}



def empty(dimension: int) -> faiss.Index:
    import faiss

    return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))


def ids_of(index: faiss.Index) -> np.ndarray:
    """Every id held by ``index`` (flat behind an id map, or IVF)."""
    import faiss
    import numpy as np

    if index.ntotal == 0:
        return np.zeros(0, np.int64)
    if isinstance(index, faiss.IndexIDMap2 | faiss.IndexIDMap):
        return faiss.vector_to_array(index.id_map).astype(np.int64)
    lists = faiss.extract_index_ivf(index).invlists
    if lists is None:  # FAISS's own attribute may be; an index this module builds has them
        raise ValueError("an IVF index without inverted lists")
    parts = [faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
             for i in range(lists.nlist) if lists.list_size(i)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)


def layout_of(index: faiss.Index) -> Layout:
    import faiss

    if isinstance(index, faiss.IndexIVF):
        return Layout("ivf-sq8", nlist=index.nlist, nprobe=index.nprobe)
    return Layout()


def needs_ivf(index: faiss.Index, total: int) -> bool:
    import faiss

    return total > EXACT_LIMIT and not isinstance(index, faiss.IndexIVF)


Blocks = Callable[[], Iterator[tuple["np.ndarray", "np.ndarray"]]]
"""Called to read every stored vector again, as (ids, float32 matrix) blocks: a million
vectors never need to be in memory at once."""


def build_ivf(blocks: Blocks, count: int, dimension: int, *, seed: int = 0) -> tuple[faiss.Index, Layout]:
    """An IVF-SQ8 index of the ``count`` vectors ``blocks`` yields (unit length, inner
    product), its probes tuned for recall against exact search."""
    import faiss
    import numpy as np

    # About 2·√n lists, a power of two: lists of a few hundred to a few thousand vectors.
    nlist = 2 ** max(6, round(math.log2(2 * math.sqrt(count))))
    rng = np.random.default_rng(seed)
    share = min(1.0, 40 * nlist / count)  # k-means wants ~40 points a centroid, no more
    sample = np.concatenate([m[rng.random(len(m)) < share] for _, m in blocks()])
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    # Stand-ins for questions: stored vectors moved as far from them as a question is from
    # the passage that answers it (noise of about the vector's own length: cosine ≈ 0.7).
    probes = sample[rng.choice(len(sample), size=min(len(sample), 300), replace=False)]
    probes = probes + rng.normal(0, 1 / math.sqrt(dimension), probes.shape).astype(np.float32)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    best = np.full((len(probes), 10), -np.inf, np.float32)
    truth = np.full((len(probes), 10), -1, np.int64)
    for ids, matrix in blocks():
        matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        index.add_with_ids(matrix, ids)
        # Exact top ten, merged block by block.
        scores = probes @ matrix.T
        take = min(10, scores.shape[1])
        top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        merged_scores = np.concatenate([best, np.take_along_axis(scores, top, 1)], axis=1)
        merged_ids = np.concatenate([truth, ids[top]], axis=1)
        order = np.argsort(-merged_scores, axis=1)[:, :10]
        best = np.take_along_axis(merged_scores, order, 1)
        truth = np.take_along_axis(merged_ids, order, 1)
    # The search re-scores REFINE times the asked-for number of IVF candidates with the exact
    # stored vectors (``refine``), so the recall that counts is whether the exact top ten are
    # among the IVF's top 10 × REFINE.
    def recall_at(probes_wanted: int) -> float:
        index.nprobe = probes_wanted
        _, found = index.search(probes, 10 * REFINE)
        return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))

    nprobe, recall = nlist, -1.0
    # Never fewer than 32: real questions fall between the clusters more than these stand-ins
    # do (on the benchmark's million chunks 4 probes found 0.88 of the exact top ten).
    for candidate in (32, 48, 64, 96, 128, 192, 256):
        if candidate >= nlist:
            break
        hits = recall_at(candidate)
        if hits >= RECALL_TARGET:
            nprobe, recall = candidate, hits
            break
    if recall < 0:  # no probe count short of all lists reached the target: probe them all
        recall = recall_at(nlist)
    index.nprobe = nprobe
    return index, Layout("ivf-sq8", nlist=nlist, nprobe=nprobe, trained_on=count,
                         recall_at_10=round(recall, 4))


def search(index: faiss.Index, query: np.ndarray, k: int,
           allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Scores and ids of the ``k`` nearest; only among the ids ``allowed`` marks when given
    (a 0/1 byte per id; ids past its end are not allowed)."""
    import faiss
    import numpy as np

    if len(query) == 1:
        # One question: FAISS's threads cost more to start than they save (22 ms against
        # 3 ms at 10k vectors with the other core busy), and a server runs questions side by
        # side anyway.
        faiss.omp_set_num_threads(1)

    if allowed is None:
        return index.search(query, k)
    # A bitmap FAISS tests a bit of per candidate: a batch selector would first hash every
    # allowed id, 73 ms a question for 300k of them.
    bits = np.packbits(allowed, bitorder="little")
    selector = faiss.IDSelectorBitmap(bits.size, faiss.swig_ptr(bits))  # n: the bitmap's bytes
    if isinstance(index, faiss.IndexIVF):
        # A filter that keeps a small share of the vectors leaves few of them in the usual
        # probes: probe more lists, in proportion, up to all of them.
        share = max(int(np.count_nonzero(allowed)) / max(index.ntotal, 1), 1e-6)
        nprobe = min(index.nlist, max(index.nprobe, math.ceil(index.nprobe / share)))
        ivf = faiss.SearchParametersIVF()
        ivf.nprobe = nprobe  # fields set one by one: FAISS's stubs know no keyword arguments
        params: faiss.SearchParameters = ivf
    else:
        params = faiss.SearchParameters()
    params.sel = selector
    found = index.search(query, k, params=params)
    del bits  # the selector points into it: kept alive until the search is done
    return found


class DenseIndex:
    """The FAISS index of one store, as of its current generation."""

    def __init__(self, folder: IndexFolder, db: Database, catalog: Catalog) -> None:
        self.folder = folder
        self.db = db
        self.catalog = catalog
        self._index: faiss.Index | None = None
        self._generation = -1

    def nearest(self, vector: np.ndarray, *, limit: int,
                filters: Filters | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine similarity) of the nearest chunks to ``vector``."""
        import numpy as np

        index = self.index()
        if index.ntotal == 0:
            return []
        filtered = self.catalog.allowed(filters)
        if filtered is not None and filtered.ids.size == 0:
            return []
        allowed = None if filtered is None else np.frombuffer(filtered.mask, dtype=np.uint8)
        query = vector.reshape(1, -1).astype(np.float32)
        if layout_of(index).kind == "flat":
            scores, ids = search(index, query, min(limit, index.ntotal), allowed)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        # Approximate: more candidates, re-scored with their exact stored vectors.
        _, ids = search(index, query, min(limit * REFINE, index.ntotal), allowed)
        found = ids[0][ids[0] >= 0]
        exact: list[tuple[int, float]] = []
        for block_ids, matrix in self._blocks(found):
            exact.extend(zip(block_ids.tolist(), (matrix @ query[0]).tolist(), strict=True))
        exact.sort(key=lambda pair: -pair[1])
        return exact[:limit]

    def index(self) -> faiss.Index:
        """The FAISS index as of the store's current generation, repaired if it lags."""
        generation = self.db.generation()
        with self.db.lock:
            if self._index is None or self._generation != generation:
                self._index = self._sync(self._index)
                self._generation = generation
            return self._index

    def _sync(self, index: faiss.Index | None) -> faiss.Index:
        import faiss
        import numpy as np

        writable = self.folder.writable
        if index is None:
            index, generation = self._load_newest()
            if generation == self.db.generation() and not (
                    writable and needs_ivf(index, index.ntotal)):
                return index  # the file is as of the store: nothing to compare
        have = ids_of(index)
        # Through the doc_id index: its entries carry the ids, without the vector blobs
        # that a scan of the table itself would read.
        want = np.sort(np.array([r[0] for r in self.db.query("SELECT id FROM chunks INDEXED BY chunks_doc")],
                                dtype=np.int64))
        if writable and needs_ivf(index, want.size):
            # Past the exact search's size: build the approximate index from the stored
            # vectors, block by block, and record its layout.
            index, layout = build_ivf(self._blocks, want.size, self.folder.manifest.dimension)
            self.folder.update_manifest(vectors=layout.to_json())
            return index
        stale = np.setdiff1d(have, want, assume_unique=True)
        if stale.size:
            # The selector FAISS's wrapper would make of the id array (its stubs know only this)
            index.remove_ids(faiss.IDSelectorBatch(stale.size, faiss.swig_ptr(stale)))
        missing = np.setdiff1d(want, have, assume_unique=True)
        for ids, matrix in self._blocks(missing):
            index.add_with_ids(matrix, ids)
        return index

    def _blocks(self, ids: np.ndarray | None = None,
                size: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Stored vectors as (ids, matrix) blocks: those of ``ids``, or all of them."""
        import numpy as np

        def block(rows: list[tuple[Any, ...]]) -> tuple[np.ndarray, np.ndarray]:
            found = np.array([r[0] for r in rows], dtype=np.int64)
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            return found, matrix.reshape(len(rows), self.folder.manifest.dimension)

        if ids is None:
            last = -1
            while rows := self.db.query("SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT ?",
                                        (last, size)):
                yield block(rows)
                last = int(rows[-1][0])
            return
        for start in range(0, ids.size, size):
            part = ids[start:start + size]
            marks = ",".join("?" * len(part))
            rows = self.db.query(f"SELECT id, vector FROM chunks WHERE id IN ({marks})",
                                 tuple(int(i) for i in part))
            if rows:
                yield block(rows)

    def _load_newest(self) -> tuple[faiss.Index, int]:
        """The newest readable FAISS file and the store generation it reflects (-1: none)."""
        import faiss

        manifest = self.folder.manifest
        files = sorted(((int(m.group(1)), p) for p in self.folder.path.iterdir()
                        if (m := _VECTORS.match(p.name))), reverse=True)
        for generation, path in files:
            try:
                index = faiss.read_index(str(path))
            except RuntimeError:  # a torn file from a crash: fall back to an older one
                continue
            if index.d != manifest.dimension:
                continue
            if isinstance(index, faiss.IndexIVF):
                # The probes tuned when it was built (kept in the manifest, the file may
                # predate a re-tune).
                index.nprobe = int(manifest.vectors.get("nprobe") or index.nprobe)
                return index, generation
            return (index if isinstance(index, faiss.IndexIDMap2) else faiss.IndexIDMap2(index)), generation
        return empty(manifest.dimension), -1

    def save(self) -> None:
        """Persist the FAISS index under the store's generation; drop older files."""
        import faiss

        generation = self.db.generation()
        index = self.index()
        path = self.folder.path / f"vectors-{generation}.faiss"
        if not path.exists():
            # Written by FAISS straight to a file, then renamed: serialising to bytes first
            # would hold two more copies of a large index in memory.
            with staged(path) as tmp:
                faiss.write_index(index, str(tmp))
        for p in self.folder.path.iterdir():
            m = _VECTORS.match(p.name)
            if m and int(m.group(1)) != generation:
                p.unlink(missing_ok=True)
