"""A frozen copy of the keyword index as numpy postings, for BM25 at a large size.

FTS5 computes BM25 match by match in its own loop: a question's common word in a million
chunks costs it 150-300 ms, however few results are asked for. The same postings laid out as
arrays (for each stem: the chunks holding it and its weighted count in each) score a word's
hundred thousand chunks in a few milliseconds with numpy.

The snapshot is derived, like the FAISS file: written by the indexing run under the store
generation it reflects, as ``keywords-<generation>/``, once the index is large enough
(:data:`MIN_CHUNKS`), and written again when the chunks added or removed since reach
:data:`REFRESH_SHARE` of it. Between two snapshots FTS5 still answers for the chunks added
after it (row ids above :attr:`KeywordSnapshot.covers`: AUTOINCREMENT ids only grow), and the
store drops the snapshot's hits whose chunk is gone. Its scores are FTS5's own ``bm25()``
(same k1, b, column weights and idf, words read by FTS5's own tokenizer), so the two halves
merge on one scale; only the average chunk length is the snapshot's, and the word counts
include chunks removed since it was written (under :data:`REFRESH_SHARE` of it).

::

    keywords-<generation>/
      meta.json      format, the index's creation time, generation, covers (highest chunk
                     id), chunks, average length
      terms.txt      the stems, one a line, in term-number order
      starts.npy     int64, where each term's postings start (terms + 1 entries)
      postings.npy   int32 chunk ids, by term, then by chunk id
      weights.npy    uint16 twice the weighted count: title occurrences + 2 x text ones
      lengths.npy    int32 tokens (title and text) by chunk id

The arrays are memory-mapped: a question touches only its words' postings, so a million
chunks' snapshot (6 bytes a posting) costs little resident memory.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..atomic import staged
from .database import FTS_TOKENIZER

if TYPE_CHECKING:
    import numpy as np

FORMAT = 2  # 2: words folded by FTS5's tokenizer (an index whose tokenizer changed has its
#             snapshots removed: KeywordIndex.restem)
MIN_CHUNKS = 50_000
"""Below this FTS5 alone is fast enough (a few ms a question) and no snapshot is kept."""
REFRESH_SHARE = 0.1
"""A new snapshot is written once the chunks added or removed since the last reach this share
of it: FTS5's part of a question grows with them."""
K1, B = 1.2, 0.75
"""FTS5's bm25() constants."""
TITLE_WEIGHT = 0.5
"""The title column's weight in ``bm25(chunks_fts, 0.5, 1.0)``; the text's is 1."""
_DIR = re.compile(r"^keywords-(\d+)$")
_BLOCK = 20_000


@dataclass(frozen=True, slots=True)
class KeywordSnapshot:
    """A loaded snapshot (arrays memory-mapped)."""

    folder: Path
    index: str
    """When the index it belongs to was created (the manifest's ``created_at``): a reader
    still on the index a ``--rebuild`` replaced must not take up the new one's snapshot."""
    generation: int
    covers: int
    """The highest chunk id it holds; FTS5 answers for the ids above."""
    chunks: int
    average_length: float
    terms: dict[str, int]
    starts: np.ndarray
    postings: np.ndarray
    weights: np.ndarray
    lengths: np.ndarray

    def frequency(self, token: str) -> int:
        """How many of its chunks hold ``token`` (a term as FTS5 keeps it: see :func:`fold`)."""
        term = self.terms.get(token)
        return 0 if term is None else int(self.starts[term + 1] - self.starts[term])

    def top(self, idfs: Sequence[tuple[str, float]], k: int,
            allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best chunks for the query terms ``idfs`` ((token, its idf) pairs, tokens
        as :func:`fold` gives them; a term given twice counts twice, as in FTS5), best first,
        as (chunk ids, BM25 scores); ``allowed``, a 0/1 byte array over chunk ids, restricts
        them. Chunks removed since the snapshot are still among them."""
        import numpy as np

        ids_parts, score_parts = [], []
        for stem, idf in idfs:
            term = self.terms.get(stem)
            if term is None:
                continue
            start, end = int(self.starts[term]), int(self.starts[term + 1])
            ids = self.postings[start:end]
            if allowed is not None:
                inside = ids < allowed.size
                ids = ids[inside]
                keep = allowed[ids].astype(bool)
                ids, counts = ids[keep], self.weights[start:end][inside][keep]
            else:
                counts = self.weights[start:end]
            if ids.size == 0:
                continue
            # In double precision, as FTS5 computes: near-ties then fall as they fall there.
            freq = counts.astype(np.float64) * 0.5
            norm = K1 * (1 - B + B * self.lengths[ids].astype(np.float64) / self.average_length)
            ids_parts.append(ids)
            score_parts.append(idf * freq * (K1 + 1) / (freq + norm))
        if not ids_parts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        ids = np.concatenate(ids_parts)
        scores = np.concatenate(score_parts)
        if len(ids_parts) > 1:
            # A chunk holding several of the words: one score, their sum, read back at each
            # of its postings (scanning the sums for the chunks that have one would walk every
            # chunk id: 5 ms at a million). A chunk appears once a word, so the best
            # k x words postings hold the best k chunks.
            scores = np.bincount(ids, weights=scores)[ids]
            if ids.size > k * len(ids_parts):
                part = np.argpartition(-scores, k * len(ids_parts) - 1)[:k * len(ids_parts)]
                ids, scores = ids[part], scores[part]
            ids, first = np.unique(ids, return_index=True)
            scores = scores[first]
        if ids.size > k:
            part = np.argpartition(-scores, k - 1)[:k]
            ids, scores = ids[part], scores[part]
        order = np.lexsort((ids, -scores))
        return ids[order].astype(np.int64), scores[order].astype(np.float64)


def fold(words: Sequence[str]) -> list[tuple[str, ...]]:
    """Each word as FTS5's tokenizer (:data:`.database.FTS_TOKENIZER`) reads it: the terms
    the keyword index holds for it. Usually the word itself; "zürich" is "zurich", "foo_bar"
    is "foo" then "bar", "_" is nothing. Asked of SQLite itself, so the snapshot and FTS5 can
    never disagree on a word."""
    found: list[tuple[str, ...]] = []
    asked: list[tuple[int, str]] = []
    for n, word in enumerate(words):
        if word.isascii() and word.isalnum() and word == word.lower():
            found.append((word,))  # the tokenizer keeps these as they are
        else:
            found.append(())
            asked.append((n, word))
    if asked:
        with _FOLD_LOCK:
            db = _fold_db()
            db.execute("DELETE FROM fold")
            db.executemany("INSERT INTO fold(rowid, word) VALUES (?, ?)", asked)
            rows = db.execute("SELECT doc, term FROM fold_terms ORDER BY doc, offset").fetchall()
        for doc, term in rows:
            found[doc] = (*found[doc], term)
    return found


_FOLD_LOCK = threading.Lock()
_FOLD_DB: sqlite3.Connection | None = None


def _fold_db() -> sqlite3.Connection:
    global _FOLD_DB
    if _FOLD_DB is None:
        db = sqlite3.connect(":memory:", check_same_thread=False)
        db.execute(f'CREATE VIRTUAL TABLE fold USING fts5(word, tokenize = "{FTS_TOKENIZER}")')
        db.execute("CREATE VIRTUAL TABLE fold_terms USING fts5vocab(fold, 'instance')")
        _FOLD_DB = db
    return _FOLD_DB


def idf(chunks: int, holding: int) -> float:
    """FTS5's idf: log((N - n + 0.5) / (n + 0.5)), floored at 1e-6 for very common words."""
    ratio = (chunks - holding + 0.5) / (holding + 0.5)
    # Counts a little behind the index (see KeywordIndex.chunk_frequency) may exceed its size.
    return math.log(ratio) if ratio > 1 else 1e-6


def newest(folder: Path) -> tuple[int, Path] | None:
    """The newest snapshot folder in the index folder: (generation, path)."""
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _DIR.match(p.name))]
    return max(found) if found else None


def load(path: Path) -> KeywordSnapshot:
    """Open a snapshot folder; raises OSError or ValueError when it is unreadable."""
    import numpy as np

    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path}: snapshot format {meta.get('format')}, not {FORMAT}")
    words = (path / "terms.txt").read_text(encoding="utf-8").split("\n")
    terms = {w: i for i, w in enumerate(words)} if words != [""] else {}

    def array(name: str) -> np.ndarray:
        # A plain array over the mapping: numpy's memmap subclass costs a few microseconds
        # a slice, dozens of slices a question.
        loaded: np.ndarray = np.load(path / f"{name}.npy", mmap_mode="r").view(np.ndarray)
        return loaded

    return KeywordSnapshot(path, str(meta["index"]), int(meta["generation"]), int(meta["covers"]),
                           int(meta["chunks"]), float(meta["average_length"]), terms, array("starts"),
                           array("postings"), array("weights"), array("lengths"))


def write(folder: Path, index: str, generation: int,
          rows: Iterable[tuple[int, str, str]]) -> Path:
    """Write ``keywords-<generation>/`` from the keyword index's rows (chunk id, title stems,
    text stems; ascending ids), by write-then-rename, and remove older snapshots.

    Blocks of rows are counted into sorted (term, chunk) pairs one at a time, then placed
    into one array by term: memory holds the pairs (10 bytes each) and the final arrays (6),
    never the tokens (1.5 GB peak at a million chunks)."""
    import numpy as np

    # The stored stems are split at white space here ("raw" words), then each distinct raw
    # word is folded by FTS5's own tokenizer into the terms FTS5 holds for it (``fold``).
    raw: dict[str, int] = {}
    vocabulary: dict[str, int] = {}
    fold_starts = np.zeros(1, dtype=np.int64)  # raw word -> its terms, as CSR arrays
    fold_terms = np.zeros(0, dtype=np.int64)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    lengths: list[tuple[np.ndarray, np.ndarray]] = []
    covers, chunks, tokens = 0, 0, 0
    for block in _blocks(rows):
        ids, raw_ids, weights = [], [], []
        for chunk_id, title, text in block:
            head, body = title.split(), text.split()
            ids.append(chunk_id)
            raw_ids.extend([raw.setdefault(w, len(raw)) for w in head])
            raw_ids.extend([raw.setdefault(w, len(raw)) for w in body])
            weights.append((len(head), len(body)))
        if len(raw) > fold_starts.size - 1:  # words first seen in this block
            new_words = list(raw)[fold_starts.size - 1:]
            folded = fold(new_words)
            sizes_new = np.array([len(t) for t in folded], dtype=np.int64)
            fold_starts = np.concatenate([fold_starts, fold_starts[-1] + np.cumsum(sizes_new)])
            fold_terms = np.concatenate([fold_terms, np.array(
                [vocabulary.setdefault(t, len(vocabulary)) for terms in folded for t in terms],
                dtype=np.int64)])
        chunk_ids = np.array(ids, dtype=np.int64)
        split = np.array(weights, dtype=np.int64).reshape(-1)
        # A title word counts 1 (half a text one, doubled so weights stay integers), a text
        # word 2.
        word_weights = np.repeat(np.tile(np.array([1, 2], dtype=np.int64), len(ids)), split)
        word_chunks = np.repeat(chunk_ids, split.reshape(-1, 2).sum(axis=1))
        # Each raw word becomes its terms (one, as a rule; none or several for a few).
        words = np.array(raw_ids, dtype=np.int64)
        per_word = fold_starts[words + 1] - fold_starts[words]
        term_ids = fold_terms[np.repeat(fold_starts[words], per_word)
                              + _ranks(per_word)]
        token_weights = np.repeat(word_weights, per_word)
        token_chunks = np.repeat(word_chunks, per_word)
        counts = np.bincount(np.repeat(np.arange(len(ids)), split.reshape(-1, 2).sum(axis=1)),
                             weights=per_word, minlength=len(ids)).astype(np.int64)
        lengths.append((chunk_ids, counts))
        covers, chunks, tokens = int(chunk_ids[-1]), chunks + len(ids), tokens + int(counts.sum())
        keys = (term_ids << 32) | token_chunks
        pairs, inverse = np.unique(keys, return_inverse=True)
        summed = np.bincount(inverse.reshape(-1), weights=token_weights)
        blocks.append(((pairs >> 32).astype(np.int32), (pairs & 0xFFFFFFFF).astype(np.int32),
                       np.minimum(summed, 65535).astype(np.uint16)))
    terms = len(vocabulary)
    per_term = np.zeros(terms, dtype=np.int64)
    for block_terms, _, _ in blocks:
        per_term += np.bincount(block_terms, minlength=terms)
    starts = np.zeros(terms + 1, dtype=np.int64)
    np.cumsum(per_term, out=starts[1:])
    postings = np.empty(int(starts[-1]), dtype=np.int32)
    weights_out = np.empty(int(starts[-1]), dtype=np.uint16)
    filled = starts[:-1].copy()
    # Each block is sorted by term, then chunk, and blocks come in chunk order: placing each
    # block's run of a term after the runs already placed keeps every term's chunks sorted.
    for block_terms, block_chunks, block_weights in blocks:
        first = np.searchsorted(block_terms, block_terms, side="left")
        places = filled[block_terms] + (np.arange(block_terms.size) - first)
        postings[places] = block_chunks
        weights_out[places] = block_weights
        present, runs = np.unique(block_terms, return_counts=True)
        filled[present] += runs
    by_chunk = np.zeros(covers + 1, dtype=np.int32)
    for chunk_ids, counts in lengths:
        by_chunk[chunk_ids] = counts

    target = folder / f"keywords-{generation}"
    # The same generation written again replaces the folder whole.
    with staged(target, folder=True) as tmp:
        term_list = sorted(vocabulary, key=vocabulary.__getitem__)
        (tmp / "terms.txt").write_text("\n".join(term_list), encoding="utf-8")
        for name, values in (("starts", starts), ("postings", postings), ("weights", weights_out),
                             ("lengths", by_chunk)):
            np.save(tmp / f"{name}.npy", values)
        (tmp / "meta.json").write_text(json.dumps({
            "format": FORMAT, "index": index, "generation": generation, "covers": covers,
            "chunks": chunks, "average_length": tokens / chunks if chunks else 1.0}),
            encoding="utf-8")
    remove_older(folder, keep=generation)
    return target


def remove_older(folder: Path, keep: int | None) -> None:
    """Delete the snapshots other than ``keep`` (all of them for None). A reader that has one
    open keeps its mapped arrays until it lets go."""
    for path in folder.iterdir():
        m = _DIR.match(path.name)
        if m and int(m.group(1)) != keep:
            shutil.rmtree(path, ignore_errors=True)


def _ranks(sizes: np.ndarray) -> np.ndarray:
    """0, 1, ... within each run of ``sizes``: [2, 0, 1] -> [0, 1, 0]."""
    import numpy as np

    total = int(sizes.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    ranks: np.ndarray = np.arange(total, dtype=np.int64) - starts
    return ranks


def _blocks(rows: Iterable[tuple[int, str, str]]) -> Iterator[list[tuple[int, str, str]]]:
    block: list[tuple[int, str, str]] = []
    for row in rows:
        block.append(row)
        if len(block) >= _BLOCK:
            yield block
            block = []
    if block:
        yield block
