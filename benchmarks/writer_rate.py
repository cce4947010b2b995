"""The single writer's commit rate with the embedder faked (issue 20, part 5): how many
releases and chunks a second `run_index` commits when embedding costs nothing, where that
time goes, against the real embedder's rate on the same chunks; then how the writer's costs
grow with the index (SQLite, FTS5, FAISS, the end-of-run saves and versions linking).

    .venv/bin/python benchmarks/writer_rate.py                       # both parts
    .venv/bin/python benchmarks/writer_rate.py --no-scaling          # rate and embedder only
    .venv/bin/python benchmarks/writer_rate.py --no-rate --sizes 10000,50000 --budget 600

Part 1 (rate) indexes the Minnesota AG archive, then all press archives (SETS of
benchmarks/indexing.py), each into a fresh Store in a temporary folder, through the real
`assistant.indexing.run_index`: reading and cleaning, sentence splitting, chunking with the
real MiniLM tokenizer's counts, `Store.write` (SQLite, FTS5 stems, chunk vectors, sentence
spans and float16 sentence vectors), versions linking, the FAISS save and the keyword
snapshot. Only the model is replaced: :class:`FakeRegionEmbedder` satisfies
`RegionEmbedder`, so `embed_chunks` takes the sentence-vector path the ONNX embedder takes,
and it returns random unit vectors (and random pooled sums) at once. Each stage is timed by
wrapping the function `run_index` calls (the package is not changed); reading, splitting and
chunking run in the reader thread while the main thread embeds and writes, so the stages'
seconds can add up to more than the run's. The real embedder (MiniLM ONNX int8, as the
product loads it) then embeds a seeded sample of whole releases of at least ``--sample``
chunks with `embed_chunks`, exactly as the indexer calls it: chunks/s, tokens/s and
releases/s at the archive's chunks per release.

Part 2 (scaling) synthesizes an archive from the Minnesota AG releases: copy k of a release
has the id "<id>~k", its date field moved k times the archive's span, and about 5 % of its
words replaced
by words of the same length drawn from a Zipf vocabulary of 200,000 (FTS5 sees distinct
documents with a growing vocabulary; the dedup sees distinct ids and hashes). The reader
dates a release by the dateline in its text, which the copies keep: every copy of a release
falls on its original's day, so the days grow denser with the index (k copies a day where the
archive had one), and versions linking, which compares each new release with every release of
its ±2-day window, pays for that density: what a dense archive costs. Each copy is
written as a JSONL export and indexed by `run_index` into one growing index: a growth run
up to each of ``--sizes``, then a small run of ``--probe`` new releases, which is what a
daily incremental `index` costs at that size. Sentence spans and chunks of a copy are those
of its original (same lengths; measured in part 1, they do not depend on the index's size),
so the time goes to what does. The fake vectors here are random around 2,048 random topic
centres (a chunk's centre from its title), so FAISS's IVF k-means meets clusters as with
text; their recall says nothing of real questions. The sizes (SQLite file, FTS5 tables by
dbstat, the FAISS file, the keyword snapshot) are read after each step. Stops before a size
whose growth run would pass ``--budget`` seconds in all.

Prints markdown tables and, with ``--json PATH``, the raw figures.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import os
import random
import re
import sys
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from indexing import DATA, SETS  # noqa: E402  (benchmarks/indexing.py)

from assistant import indexing  # noqa: E402
from assistant.chunking import chunk_document, split_sentences  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.documents import Chunk, Document  # noqa: E402
from assistant.embedders.protocols import RegionEmbedder, Regions  # noqa: E402
from assistant.index_store import Store  # noqa: E402

MODEL = "all-MiniLM-L6-v2"


class FakeRegionEmbedder:
    """MiniLM's shape (dimension, token limit, languages, and its tokenizer's counts, so the
    chunks are the real ones) without its model: random unit vectors, drawn at once."""

    def __init__(self, *, centres: int = 0, seed: int = 0) -> None:
        from tokenizers import Tokenizer

        from assistant.embedders.models import model_languages, resolve_model
        from assistant.embedders.onnx_cache import ModelSpec

        spec = ModelSpec.read(Path(resolve_model(MODEL)))
        self.name = "fake-random-minilm-shape"
        self.dimension = spec.dimension
        self.max_tokens = spec.max_seq_length - 2
        self.languages: frozenset[str] | None = model_languages(spec.folder)
        self._counter = Tokenizer.from_file(str(spec.transformer / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()
        self._rng = np.random.default_rng(seed)
        self._centres = None
        if centres:
            c = self._rng.standard_normal((centres, self.dimension)).astype(np.float32)
            self._centres = c / np.linalg.norm(c, axis=1, keepdims=True)
        self.seconds = 0.0  # spent in embed / embed_with_regions (the "model")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        out = self._rng.standard_normal((len(texts), self.dimension)).astype(np.float32)
        if self._centres is not None:
            # Around a topic centre picked by the title (the embedded text's first line):
            # cosine ~0.6 to it, so the vectors cluster as text's do.
            picks = [zlib.crc32(t.split("\n", 1)[0].encode()) % len(self._centres) for t in texts]
            out = self._centres[picks] + out * (1.3 / np.sqrt(self.dimension))
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self._vectors(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_with_regions(self, texts: Sequence[str], regions: Regions
                           ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        started = time.perf_counter()
        vectors = self._vectors(texts)
        total = sum(len(r) for r in regions)
        sums = self._rng.standard_normal((total, self.dimension)).astype(np.float32)
        pooled = []
        at = 0
        for spans in regions:
            pooled.append((sums[at:at + len(spans)], np.full(len(spans), 12, np.int64)))
            at += len(spans)
        self.seconds += time.perf_counter() - started
        return vectors, pooled


# -- timing the stages of run_index without changing it ------------------------------------

class Stages:
    """Seconds and calls per stage, filled by wrappers around what run_index calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self.samples: dict[str, list[float]] = defaultdict(list)

    def timed(self, stage: str, function: Callable[..., Any], keep: bool = False) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.perf_counter() - started
                self.seconds[stage] += spent
                self.calls[stage] += 1
                if keep:
                    self.samples[stage].append(spent)
        return wrapper

    def timed_reader(self, function: Callable[..., Any]) -> Callable[..., Any]:
        """``_read_source`` is a generator returning a value: each step timed, value kept."""
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            inner = function(*args, **kwargs)
            while True:
                started = time.perf_counter()
                try:
                    item = next(inner)
                except StopIteration as finished:
                    self.seconds["read+clean"] += time.perf_counter() - started
                    return finished.value
                self.seconds["read+clean"] += time.perf_counter() - started
                yield item
        return wrapper


def instrumented_run(store: Store, embedder: FakeRegionEmbedder, paths: Sequence[Path],
                     settings: Settings, *, split: Callable[..., Any] | None = None,
                     chunk: Callable[..., Any] | None = None) -> tuple[Any, Stages, float]:
    """run_index with its stages timed (module functions and the store's methods wrapped for
    the run, restored after)."""
    stages = Stages()
    saved = {name: getattr(indexing, name) for name in
             ("_read_source", "split_sentences", "chunk_document", "embed_chunks", "link_versions")}
    # setattr: the benchmark swaps module functions for the run (mypy knows no such thing).
    setattr(indexing, "_read_source", stages.timed_reader(saved["_read_source"]))  # noqa: B010
    setattr(indexing, "split_sentences",  # noqa: B010
            stages.timed("sentence split", split or saved["split_sentences"]))
    setattr(indexing, "chunk_document", stages.timed("chunking", chunk or saved["chunk_document"]))  # noqa: B010
    setattr(indexing, "embed_chunks", stages.timed("embed_chunks", saved["embed_chunks"]))  # noqa: B010
    setattr(indexing, "link_versions", stages.timed("link_versions", saved["link_versions"]))  # noqa: B010
    methods = ("write", "save_vectors", "save_keywords", "document_hashes", "files", "record_files")
    for name in methods:
        setattr(store, name, stages.timed(f"store.{name}", getattr(store, name), keep=name == "write"))
    embedder.seconds = 0.0
    try:
        started = time.perf_counter()
        report = indexing.run_index(store, embedder, [Path(p) for p in paths], settings)
        wall = time.perf_counter() - started
    finally:
        for name, function in saved.items():
            setattr(indexing, name, function)
        for name in methods:
            delattr(store, name)
    # The model's share of embed_chunks is the fake's; the rest is the writer's own pooling.
    stages.seconds["fake model"] = embedder.seconds
    stages.seconds["sentence pooling"] = stages.seconds.pop("embed_chunks") - embedder.seconds
    return report, stages, wall


def open_store(folder: Path, embedder: FakeRegionEmbedder, settings: Settings) -> Store:
    return Store.create_or_open(folder, model=embedder.name, dimension=embedder.dimension,
                                chunk_tokens=settings.chunk_tokens,
                                overlap_tokens=settings.overlap_tokens)


ORDER = ("store.document_hashes", "store.files", "read+clean", "sentence split", "chunking",
         "fake model", "sentence pooling", "store.write", "store.record_files", "link_versions",
         "store.save_vectors", "store.save_keywords")


def stage_rows(stages: Stages, wall: float) -> list[str]:
    return [f"| {name} | {stages.seconds.get(name, 0.0):.2f} | "
            f"{100 * stages.seconds.get(name, 0.0) / wall:.0f} % |" for name in ORDER]


# -- part 1: the rate ----------------------------------------------------------------------

def _one_run(paths: list[Path], settings: Settings, memo: Memo) -> tuple[Any, Stages, float, int, int]:
    embedder = FakeRegionEmbedder()
    assert isinstance(embedder, RegionEmbedder)  # the sentence-vector path, as with ONNX
    with tempfile.TemporaryDirectory(prefix="writer-rate-") as tmp:
        store = open_store(Path(tmp) / "index", embedder, settings)
        try:
            with memoized(memo):
                report, stages, wall = instrumented_run(store, embedder, paths, settings,
                                                        split=memo.split, chunk=memo.chunk)
            documents, chunks = store.counts()
        finally:
            store.close()
    assert report.chunks_embedded == chunks, (report.chunks_embedded, chunks)
    return report, stages, wall, documents, chunks


def writer_rate(name: str, paths: list[Path], settings: Settings) -> dict[str, Any]:
    """Two runs into fresh stores: the whole path (every release split and chunked), then the
    commit path alone (the same spans and chunks handed over, as a writer fed by remote
    chunkers would get them)."""
    memo = Memo(split_sentences, chunk_document)
    result: dict[str, Any] = {"set": name}
    for label in ("whole", "commit"):
        _, stages, wall, documents, chunks = _one_run(paths, settings, memo)
        result[label] = {"releases": documents, "chunks": chunks, "seconds": wall,
                         "releases_per_s": documents / wall, "chunks_per_s": chunks / wall,
                         "stages": dict(stages.seconds),
                         "write_ms_per_batch": 1000 * float(np.median(stages.samples["store.write"]))}
        what = ("whole path: read, split, chunk, commit" if label == "whole" else
                "commit path: spans and chunks handed over")
        print(f"\n### Writer, fake embedder, {what}: {name} ({documents:,} releases, {chunks:,} chunks)\n")
        print(f"{wall:.1f} s: **{documents / wall:.1f} releases/s, {chunks / wall:.0f} chunks/s**; "
              f"store.write median {result[label]['write_ms_per_batch']:.0f} ms a batch of "
              f"{indexing._BATCH_DOCS} releases\n")
        print("| stage | seconds | of the run's wall time |\n|---|---|---|")
        print("\n".join(stage_rows(stages, wall)), flush=True)
    return result


def embedder_rate(paths: list[Path], settings: Settings, sample: int) -> dict[str, Any]:
    """The real embedder (as the product loads it) on whole releases of the archive, through
    embed_chunks as the indexer calls it."""
    from assistant.embedders.factory import load_embedder
    from assistant.readers import read_path

    real = load_embedder(MODEL)
    documents = [d for p in paths for d in read_path(p) if isinstance(d, Document)]
    max_tokens = min(settings.chunk_tokens, real.max_tokens)

    def chunked(doc: Document) -> tuple[Document, list[Chunk], list[tuple[int, int]]]:
        spans = split_sentences(doc.text, doc.lang)
        return doc, chunk_document(doc, count_tokens=real.count_tokens, max_tokens=max_tokens,
                                   overlap_tokens=settings.overlap_tokens, sentences=spans), spans

    everything = [chunked(d) for d in documents]
    per_release = sum(len(c) for _, c, _ in everything) / len(everything)
    order = list(range(len(everything)))
    random.Random(7).shuffle(order)
    batch: list[tuple[Document, list[Chunk], list[tuple[int, int]]]] = []
    for i in order:
        batch.append(everything[i])
        if sum(len(c) for _, c, _ in batch) >= sample:
            break
    texts = [c.embedding_text for _, chunks, _ in batch for c in chunks]
    tokens = sum(real.count_tokens(texts)) + 2 * len(texts)  # with [CLS] and [SEP]
    indexing.embed_chunks(real, batch[:4])  # warm: the session's first runs are slower
    started = time.perf_counter()
    vectors, pooled = indexing.embed_chunks(real, batch)
    seconds = time.perf_counter() - started
    assert pooled is not None and len(vectors) == len(texts)
    result = {"backend": getattr(real, "backend", "?"), "releases_sampled": len(batch),
              "chunks": len(texts), "tokens": tokens, "seconds": seconds,
              "chunks_per_s": len(texts) / seconds, "tokens_per_s": tokens / seconds,
              "chunks_per_release": per_release,
              "releases_per_s": len(texts) / seconds / per_release,
              "sample_releases_per_s": len(batch) / seconds}
    print(f"\n### Real embedder: {result['backend']}\n")
    print(f"{len(batch)} releases, {len(texts)} chunks, {tokens:,} tokens in {seconds:.1f} s: "
          f"**{result['chunks_per_s']:.1f} chunks/s, {result['tokens_per_s']:,.0f} tokens/s, "
          f"{result['releases_per_s']:.2f} releases/s** at {per_release:.2f} chunks a release")
    return result


# -- part 2: scaling -----------------------------------------------------------------------

_WORD = re.compile(r"\b[A-Za-z]{4,}\b")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _word(rank: int, length: int) -> str:
    """A made-up word of ``length`` letters for vocabulary rank ``rank``."""
    digits = []
    while True:
        rank, r = divmod(rank, 26)
        digits.append(_LETTERS[r])
        if not rank:
            break
    stem = "x" + "".join(digits)
    return (stem + "qz" * length)[:length]


def synthesize(base: list[dict[str, Any]], copies: range, out: Path, span_days: int) -> int:
    """Copies ``copies`` of the base records as one JSONL export at ``out``."""
    written = 0
    with out.open("w", encoding="utf-8") as sink:
        for k in copies:
            rng = np.random.default_rng(k)
            for record in base:
                text = record["text"]
                matches = list(_WORD.finditer(text))
                chosen = rng.random(len(matches)) < 0.05
                ranks = rng.zipf(1.3, size=len(matches)) % 200_000
                pieces, at = [], 0
                for m, pick, rank in zip(matches, chosen, ranks, strict=True):
                    if pick:
                        pieces += [text[at:m.start()], _word(int(rank), m.end() - m.start())]
                        at = m.end()
                pieces.append(text[at:])
                copy = dict(record, id=f"{record['id']}~{k}", text="".join(pieces))
                if record.get("date"):
                    moved = dt.date.fromisoformat(record["date"][:10]) + dt.timedelta(days=k * span_days)
                    copy["date"] = moved.isoformat()
                if record.get("url"):
                    copy["url"] = f"{record['url']}?copy={k}"
                sink.write(json.dumps(copy) + "\n")
                written += 1
    return written


class Memo:
    """Sentence spans and chunks of a copy from its original's (copies keep every length):
    the per-release work measured in part 1 is not paid again at every size."""

    def __init__(self, split: Callable[..., Any], chunk: Callable[..., Any]) -> None:
        self._split, self._chunk = split, chunk
        self._spans: dict[str, tuple[int, list[tuple[int, int]]]] = {}
        self._chunks: dict[str, tuple[int, list[Chunk]]] = {}
        self.hits = self.misses = 0
        self._last: dict[str, str] = {}  # text -> doc id, for split (called with text alone)

    @staticmethod
    def _base(doc_id: str) -> str:
        return doc_id.rsplit("~", 1)[0]

    def split(self, text: str, lang: str | None = None) -> list[tuple[int, int]]:
        doc_id = self._last.pop(text, None)
        key = self._base(doc_id) if doc_id else None
        if key and key in self._spans and self._spans[key][0] == len(text):
            self.hits += 1
            return self._spans[key][1]
        self.misses += 1
        spans: list[tuple[int, int]] = self._split(text, lang)
        if key:
            self._spans[key] = (len(text), spans)
        return spans

    def chunk(self, document: Document, **kwargs: Any) -> list[Chunk]:
        key = self._base(document.id)
        held = self._chunks.get(key)
        if held is not None and held[0] == len(document.text):
            return [dataclasses.replace(c, doc_id=document.id, text=document.text[c.start:c.end])
                    for c in held[1]]
        chunks: list[Chunk] = self._chunk(document, **kwargs)
        self._chunks[key] = (len(document.text), chunks)
        return chunks


@contextlib.contextmanager
def memoized(memo: Memo) -> Iterator[None]:
    """``split_sentences`` is called with a text alone: while this holds, the reader tells
    the memo which document each text it reads belongs to (chunked() splits, then chunks,
    each document in turn)."""
    saved = indexing._read_source

    def read_source(*args: Any, **kwargs: Any) -> Iterator[Any]:
        inner = saved(*args, **kwargs)
        while True:
            try:
                item = next(inner)
            except StopIteration as finished:
                return finished.value  # type: ignore[no-any-return]
            if isinstance(item, Document):
                memo._last[item.text] = item.id
            yield item

    setattr(indexing, "_read_source", read_source)  # noqa: B010
    try:
        yield
    finally:
        setattr(indexing, "_read_source", saved)  # noqa: B010


def _sizes(folder: Path) -> dict[str, float]:
    """MB on disk: the SQLite file (with its WAL), its FTS5 tables, the FAISS file, the
    keyword snapshot."""
    import sqlite3

    from assistant.index_store.folder import STORE

    mb = 1024 * 1024
    store = folder / STORE
    found = {"sqlite": sum(p.stat().st_size for p in folder.glob(f"{STORE}*")) / mb}
    db = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    finally:
        db.close()
    tables = {name: size / mb for name, size in rows}
    found["fts5"] = sum(v for k, v in tables.items() if k.startswith("chunks_fts"))
    found["chunks_table"] = tables.get("chunks", 0.0)
    found["sentences_table"] = tables.get("sentences", 0.0)
    found["documents_table"] = tables.get("documents", 0.0)
    found["faiss"] = sum(p.stat().st_size for p in folder.glob("vectors-*.faiss")) / mb
    found["keyword_snapshot"] = sum(p.stat().st_size for d in folder.glob("keywords-*")
                                    for p in d.rglob("*") if p.is_file()) / mb
    return found


def scaling(sizes: list[int], probe: int, budget: float, settings: Settings) -> list[dict[str, Any]]:
    from assistant.index_store.vectors import layout_of

    source = DATA / SETS["mnag"][0]
    base = [json.loads(line) for line in source.open(encoding="utf-8") if line.strip()]
    dates = [dt.date.fromisoformat(r["date"][:10]) for r in base if r.get("date")]
    span_days = (max(dates) - min(dates)).days + 30
    memo = Memo(split_sentences, chunk_document)
    embedder = FakeRegionEmbedder(centres=2048)
    results: list[dict[str, Any]] = []
    spent = 0.0
    with tempfile.TemporaryDirectory(prefix="writer-scale-") as tmp:
        folder = Path(tmp) / "index"
        exports = Path(tmp) / "exports"
        exports.mkdir()
        store = open_store(folder, embedder, settings)
        copy = 0
        have = 0
        try:
            for size in sizes:
                copies_needed = -(-(size - have) // len(base))
                # The growth run of the last size took t for n releases: stop if this one
                # would go past the budget at the same rate.
                if results:
                    rate = results[-1]["growth_releases"] / results[-1]["growth_seconds"]
                    if spent + (size - have) / rate > budget:
                        print(f"\n(stopping before {size:,}: about {(size - have) / rate:.0f} s "
                              f"more would pass the {budget:.0f} s budget)")
                        break
                growth = exports / f"growth-{size}.jsonl"
                synthesize(base, range(copy, copy + copies_needed), growth, span_days)
                copy += copies_needed

                with memoized(memo):
                    report, stages, wall = instrumented_run(store, embedder, [growth], settings,
                                                            split=memo.split, chunk=memo.chunk)
                have = store.counts()[0]
                spent += wall
                probe_file = exports / f"probe-{size}.jsonl"
                synthesize(base[:probe], range(copy, copy + 1), probe_file, span_days)
                copy += 1
                with memoized(memo):
                    probe_report, probe_stages, probe_wall = instrumented_run(
                        store, embedder, [probe_file], settings, split=memo.split, chunk=memo.chunk)
                spent += probe_wall
                documents, chunks = store.counts()
                on_disk = _sizes(folder)
                layout = layout_of(store.vectors()).kind
                growth_releases = len(report.added)
                results.append({
                    "releases": documents, "chunks": chunks, "layout": layout,
                    "growth_releases": growth_releases, "growth_chunks": report.chunks_embedded,
                    "growth_seconds": wall, "growth_stages": dict(stages.seconds),
                    "write_ms_per_batch_first": 1000 * float(np.median(stages.samples["store.write"][:20])),
                    "write_ms_per_batch_last": 1000 * float(np.median(stages.samples["store.write"][-20:])),
                    "probe_releases": len(probe_report.added), "probe_seconds": probe_wall,
                    "probe_stages": dict(probe_stages.seconds), "sizes_mb": on_disk,
                    "memo_hits": memo.hits, "memo_misses": memo.misses,
                })
                r = results[-1]
                print(f"\n### {documents:,} releases, {chunks:,} chunks (FAISS {layout})\n")
                print(f"growth run: {growth_releases:,} releases in {wall:.1f} s = "
                      f"{growth_releases / wall:.1f} releases/s, "
                      f"{report.chunks_embedded / wall:.0f} chunks/s; "
                      f"store.write median {r['write_ms_per_batch_first']:.0f} ms a batch of 64 "
                      f"(first 20) -> {r['write_ms_per_batch_last']:.0f} ms (last 20)")
                print(f"probe run (+{len(probe_report.added)} releases): {probe_wall:.2f} s")
                print("| stage | growth run (s) | probe run (s) |\n|---|---|---|")
                for name in ORDER:
                    print(f"| {name} | {stages.seconds.get(name, 0.0):.2f} | "
                          f"{probe_stages.seconds.get(name, 0.0):.2f} |")
                print("sizes (MB): " + ", ".join(f"{k} {v:,.0f}" for k, v in on_disk.items()))
                print(f"(spans reused for {memo.hits:,} copies, split afresh {memo.misses:,}; "
                      f"{spent:.0f} s spent)", flush=True)
                growth.unlink()
                probe_file.unlink()
        finally:
            store.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-rate", action="store_true", help="skip part 1 (rate, embedder)")
    parser.add_argument("--no-scaling", action="store_true", help="skip part 2")
    parser.add_argument("--sets", default="mnag,all", help="part 1's sets (benchmarks/indexing.py SETS)")
    parser.add_argument("--sample", type=int, default=300, help="chunks the real embedder embeds")
    parser.add_argument("--sizes", default="10000,50000,200000", help="releases, part 2")
    parser.add_argument("--probe", type=int, default=64, help="releases of each probe run")
    parser.add_argument("--budget", type=float, default=720.0, help="seconds for part 2 in all")
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args()
    settings = Settings()
    out: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "load": os.getloadavg()},
                           "when": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                           "command": " ".join(sys.argv)}
    if not args.no_rate:
        out["rate"] = [writer_rate(name, [DATA / p for p in SETS[name]], settings)
                       for name in args.sets.split(",")]
        out["embedder"] = embedder_rate([DATA / p for p in SETS["mnag"]], settings, args.sample)
        for rate in out["rate"]:
            for label in ("whole", "commit"):
                ratio = rate[label]["chunks_per_s"] / out["embedder"]["chunks_per_s"]
                rate[label]["ratio_to_embedder"] = ratio
                print(f"Writer ({label}) / embedder, chunks/s, {rate['set']}: **{ratio:.1f}x** "
                      "(target >= 20x)")
    if not args.no_scaling:
        out["scaling"] = scaling([int(s) for s in args.sizes.split(",")], args.probe, args.budget, settings)
    out["load_after"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
