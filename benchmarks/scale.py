"""Query speed at several index sizes (issue 7, "Fast on a two-core laptop"): `search` and
`ask` latency p50/p95 with the model loaded and warm, dense recall@10 against exact search,
the process's peak and current RSS, the index's size on disk, and cold start (a fresh process,
from its launch to its first answer), at 10k, 100k and 1M chunks. Appends the figures, the
machine, the command and how each index was made to docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/scale.py                                  # 10k, 100k and 1M
    .venv/bin/python benchmarks/scale.py --sizes 2000,10000 --no-write    # a quick check
    .venv/bin/python benchmarks/scale.py --sizes 100000 --profile         # where query time goes
    .venv/bin/python benchmarks/scale.py --sizes 1000000 --build-only     # build, measure later
    .venv/bin/python benchmarks/scale.py --backend torch --threads 1      # torch, one thread
    .venv/bin/python benchmarks/scale.py --questions benchmarks/questions/press_qa.jsonl

How an index of N chunks is made without embedding N chunks (days on this machine): the
press archives of ../shared/data, Reuters-21578 included, are read with
`assistant.readers.read_path`; documents are drawn from them in a seeded random order, split
into sentences and chunked (`chunk_document`, the index's chunk settings, the real model's
token counts) until ``--base`` chunks are reached, and those real chunks are embedded once by
the real model as `press-assistant index` runs it for ``--backend`` (with ONNX, also the
sentence vectors pooled from the same pass; all cached in an .npz under ``--work``). An index
holds these real documents first, then *variants* of them, cycling through them: a variant is
the real document with " (variant v)" added to its id and title and its date moved v weeks,
with the real chunk and sentence spans, and each vector is the real one plus Gaussian noise
(``--sigma`` per component), re-normalised to unit length. Everything goes through the store's
public write path (`Store.write` in batches of 500 documents, then `Store.save_vectors`, which
picks the FAISS layout for the size), so the index is what `press-assistant index` would
leave, only with repeated texts.

Indexes are built under ``--work`` (index-<N>/, with index-<N>.json saying how it was made)
and reused by later runs when their chunk count and recipe match, so the 1M build is paid
once (0.6 to 0.9 ms a chunk in `Store.write` at 10k here, half SQLite, half stemming for the
keyword index; plus the IVF build past 200k vectors). Each size is measured in subprocesses
of its own, so peak RSS is that size's alone; the parent only builds and orchestrates.
Questions are embedded the way `press-assistant` does it (``--backend auto``: ONNX when it
can serve the model), the same warm and cold.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from indexing import SETS, cpu_flags  # the CPU flags and the press archives, each in one place

if TYPE_CHECKING:
    import numpy as np

    from assistant import Chunk, Document

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
# The press-release archives of ../shared/data/README.md, Reuters-21578 included (the one big
# corpus); the raw HTML/SGML tarballs and the listing CSV are other forms of the same releases.
ARCHIVES = (*SETS["all"], "reuters21578/reuters21578.jsonl")
# Questions from a benchmark the README names: XQuAD's English ones (BEIR layout, "text").
# They are not about these archives, so most asks abstain (the table says how many);
# --questions benchmarks/questions/press_qa.jsonl asks about the press releases instead.
QUESTIONS = DATA / "xquad_en_ru" / "beir_en" / "queries.jsonl"
BATCH_DOCS = 500
# Issue 7's targets: (what, size in chunks, limit, unit).
TARGETS = (("ask p95", 100_000, 150.0, "ms"), ("ask p95", 1_000_000, 300.0, "ms"),
           ("search p95", 1_000_000, 50.0, "ms"), ("cold start", 100_000, 5.0, "s"),
           ("peak RSS", 1_000_000, 2048.0, "MB"), ("add one release", 100_000, 2.0, "s"))


# -- small helpers ---------------------------------------------------------------------------

def _status_mb(field: str) -> float | None:
    """A memory line of /proc/self/status (VmRSS, VmHWM) in MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_rss_mb() -> float:
    """This process's peak resident memory. VmHWM first: Linux carries ``ru_maxrss`` across
    fork and exec, so a subprocess of a parent that had grown (to 900 MB here, with the model
    loaded) reports the parent's peak as its own; VmHWM belongs to the new image alone."""
    hwm = _status_mb("VmHWM")
    return hwm if hwm is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    rss = _status_mb("VmRSS")
    return rss if rss is not None else float("nan")


def _percentile(values: list[float], share: float) -> float:
    """Nearest rank, as benchmarks/load.py reports p95: the value that ``share`` of the
    values do not exceed."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else float("nan")


def _disk_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _questions(path: Path, count: int, seed: int) -> list[str]:
    """``count`` question texts drawn (seeded, so every size and run asks the same ones) from
    a JSONL file whose records hold "text" (BEIR queries) or "question" (our question sets)."""
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            text = record.get("question") or record.get("text")
            if text:
                texts.append(str(text))
    if len(texts) < count:
        raise SystemExit(f"{path} holds {len(texts)} questions; {count} are needed")
    return random.Random(seed).sample(texts, count)


def _embedder(backend: str) -> Any:
    """The embedder `press-assistant` makes for ``backend`` (auto: ONNX when it can serve the
    model, else torch). The base sample is indexed with it and the questions are asked with
    it, warm and cold (the cold start through Assistant's own default), so each figure is the
    one a user of that backend gets."""
    from assistant.config import DEFAULT_MODEL
    from assistant.embedders.torch_embedder import SentenceTransformerEmbedder

    try:
        from assistant.embedders.factory import load_embedder
    except ImportError:  # a version from before the ONNX backend: torch is all there is
        if backend == "onnx":
            raise SystemExit("--backend onnx: this version of assistant has no ONNX backend") from None
        return SentenceTransformerEmbedder()
    # --model reaches the measuring subprocesses through the environment they inherit.
    return load_embedder(os.environ.get("PRESS_ASSISTANT_MODEL") or DEFAULT_MODEL, backend=backend)


# -- the base sample: real documents, real chunks, real vectors --------------------------------

@dataclasses.dataclass
class Base:
    documents: list[Document]
    chunks: list[list[Chunk]]
    """The chunks of each document, in order."""
    sentences: list[list[tuple[int, int]]]
    """The sentence spans of each document, as the indexer stores them for answering."""
    rows: list[int]
    """The row of each document's first chunk in ``vectors``."""
    vectors: np.ndarray
    sentence_vectors: list[np.ndarray] | None
    """Each document's sentence vectors (one row per span), when the embedder pools them."""
    archives: dict[str, int]
    """Documents read per archive file (all of them, not only the sample)."""


def _read_archives() -> tuple[list[Document], dict[str, int]]:
    from tqdm import tqdm

    from assistant import Document
    from assistant.readers import read_path

    documents: list[Document] = []
    seen: set[str] = set()
    read: dict[str, int] = {}
    for archive in tqdm(ARCHIVES, desc="read archives", unit="file"):
        path = DATA / archive
        if not path.exists():
            raise SystemExit(f"{path} is missing: see {DATA / 'README.md'}")
        found = [d for d in read_path(path) if isinstance(d, Document) and d.text.strip()]
        read[archive] = len(found)
        for doc in found:
            if doc.id not in seen:  # the same id twice would replace, not add, in the store
                seen.add(doc.id)
                documents.append(doc)
    return documents, read


def _load_base(work: Path, base_chunks: int, seed: int, embedder: Any) -> Base:
    """The real sample, from the cache under ``work`` when it matches the archives, the chunk
    settings and the embedder, else chunked and embedded now (minutes) and cached."""
    import numpy as np

    from assistant import Chunk, Settings

    settings = Settings.from_env()
    documents, read = _read_archives()
    by_id = {d.id: d for d in documents}
    kind = type(embedder).__name__
    meta_path = work / f"base-{base_chunks}-seed{seed}-{kind}.json"
    npz_path = meta_path.with_suffix(".npz")
    recipe = {"model": embedder.name, "embedder": kind, "chunk_tokens": settings.chunk_tokens,
              "overlap_tokens": settings.overlap_tokens, "base": base_chunks, "seed": seed}
    if meta_path.exists() and npz_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        arrays = np.load(npz_path)
        vectors = arrays["vectors"]
        # The spans are only valid for the very text they were cut from: the cache is used
        # when every sampled document is still there, unchanged (its content hash).
        fine = (meta["recipe"] == recipe and all(
            by_id.get(d["id"]) is not None and by_id[d["id"]].content_hash == d["hash"]
            for d in meta["documents"]) and sum(len(d["chunks"]) for d in meta["documents"])
            == len(vectors))
        if fine:
            sample = [by_id[d["id"]] for d in meta["documents"]]
            chunks = [[Chunk(doc_id=doc.id, ordinal=o, start=a, end=b, text=doc.text[a:b],
                             title=title, page=page) for o, a, b, page, title in d["chunks"]]
                      for doc, d in zip(sample, meta["documents"], strict=True)]
            sentences = [[(a, b) for a, b in d["sentences"]] for d in meta["documents"]]
            pooled = None
            if "sentences" in arrays:
                cuts = np.cumsum([len(spans) for spans in sentences])[:-1]
                pooled = np.split(arrays["sentences"].astype(np.float32), cuts)
            print(f"base sample: {len(vectors):,} real chunks of {len(sample):,} documents, "
                  f"vectors from {npz_path}", file=sys.stderr)
            return Base(sample, chunks, sentences, _rows(chunks), vectors, pooled, read)
        print(f"{meta_path} does not match the archives, the settings or the embedder: "
              "embedding again", file=sys.stderr)

    sample, chunks, sentences = _sample(documents, base_chunks, seed, embedder)
    vectors, pooled = _embed_sample(embedder, sample, chunks, sentences)
    arrays_out = {"vectors": vectors}
    if pooled is not None:
        arrays_out["sentences"] = np.concatenate(pooled).astype(np.float16)  # as the store keeps them
    np.savez(npz_path, **arrays_out)
    meta_path.write_text(json.dumps({"recipe": recipe, "documents": [
        {"id": doc.id, "hash": doc.content_hash,
         "chunks": [[c.ordinal, c.start, c.end, c.page, c.title] for c in pieces],
         "sentences": spans}
        for doc, pieces, spans in zip(sample, chunks, sentences, strict=True)]}), encoding="utf-8")
    return Base(sample, chunks, sentences, _rows(chunks), vectors, pooled, read)


def _sample(documents: list[Document], base_chunks: int, seed: int, embedder: Any
            ) -> tuple[list[Document], list[list[Chunk]], list[list[tuple[int, int]]]]:
    """Documents in a seeded random order, each chunked whole, until ``base_chunks``: the
    sample mixes the archives roughly as their documents do."""
    from tqdm import tqdm

    from assistant import Settings
    from assistant.chunking import chunk_document, split_sentences

    settings = Settings.from_env()
    max_tokens = min(settings.chunk_tokens, embedder.max_tokens)
    order = list(documents)
    random.Random(seed).shuffle(order)
    sample, chunks, sentences = [], [], []
    total = 0
    with tqdm(total=base_chunks, desc="chunk sample", unit="chunk") as bar:
        for doc in order:
            if total >= base_chunks:
                break
            # Split once, as indexing does: the chunker cuts along these sentences and the
            # store keeps them for answering.
            spans = split_sentences(doc.text, doc.lang)
            pieces = chunk_document(doc, count_tokens=embedder.count_tokens,
                                    max_tokens=max_tokens, overlap_tokens=settings.overlap_tokens,
                                    sentences=spans)
            if pieces:
                sample.append(doc)
                chunks.append(pieces)
                sentences.append(spans)
                total += len(pieces)
                bar.update(len(pieces))
    return sample, chunks, sentences


def _embed_sample(embedder: Any, sample: list[Document], chunks: list[list[Chunk]],
                  sentences: list[list[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Chunk vectors, and sentence vectors when the embedder pools them, as indexing makes
    them: batches of 64 documents through indexing's own `embed_chunks`."""
    import numpy as np
    from tqdm import tqdm

    from assistant.indexing import embed_chunks

    parts: list[np.ndarray] = []
    pooled: list[np.ndarray] | None = []
    for start in tqdm(range(0, len(sample), 64), desc="embed sample", unit="batch"):
        batch = list(zip(sample[start:start + 64], chunks[start:start + 64],
                         sentences[start:start + 64], strict=True))
        vectors, by_doc = embed_chunks(embedder, batch)
        if by_doc is None or pooled is None:
            pooled = None
        else:
            pooled.extend(np.asarray(by_doc[doc.id], dtype=np.float32) for doc, _, _ in batch)
        parts.append(np.asarray(vectors, dtype=np.float32))
    return np.ascontiguousarray(np.vstack(parts)), pooled


def _rows(chunks: list[list[Chunk]]) -> list[int]:
    rows, row = [], 0
    for pieces in chunks:
        rows.append(row)
        row += len(pieces)
    return rows


# -- building an index of N chunks -----------------------------------------------------------

def _recipe(base: int, sigma: float, seed: int, embedder: Any) -> dict[str, object]:
    from assistant import Settings
    from assistant.embedders.protocols import RegionEmbedder
    from assistant.index_store import FORMAT_VERSION

    settings = Settings.from_env()
    # "sentences": the spans are written with the documents, as `press-assistant index` does
    # (without them every answer splits its releases again); "sentence_vectors": so are the
    # sentence vectors when the embedder pools them (without them every answer embeds).
    return {"model": embedder.name, "embedder": type(embedder).__name__,
            "chunk_tokens": settings.chunk_tokens, "overlap_tokens": settings.overlap_tokens,
            "base": base, "sigma": sigma, "seed": seed, "batch_docs": BATCH_DOCS,
            "format": FORMAT_VERSION, "sentences": True,
            # embed_chunks pools them for an embedder with token vectors (ONNX)
            "sentence_vectors": isinstance(embedder, RegionEmbedder)}


def _built(folder: Path, size: int, recipe: dict[str, object]) -> dict[str, Any] | None:
    """What index-<N>.json says of a finished build, when the folder holds exactly ``size``
    chunks made the same way; None when it must be built (again)."""
    from assistant.errors import AssistantError
    from assistant.index_store import Store

    info_path = folder.with_suffix(".json")
    # The .json is written after save_vectors: without it the build did not finish.
    if not info_path.exists() or not folder.exists():
        return None
    info: dict[str, Any] = json.loads(info_path.read_text(encoding="utf-8"))
    if info.get("recipe") != recipe:
        print(f"{folder} was made another way ({info.get('recipe')}): building again",
              file=sys.stderr)
        return None
    try:
        with Store.open(folder) as store:
            chunks = store.counts()[1]
    except AssistantError as exc:
        print(f"{folder}: {exc}: building again", file=sys.stderr)
        return None
    if chunks != size:
        print(f"{folder} holds {chunks:,} chunks, not {size:,}: building again", file=sys.stderr)
        return None
    return info


def _build(folder: Path, size: int, base: Base, sigma: float, seed: int,
           recipe: dict[str, object]) -> dict[str, Any]:
    """Write ``size`` chunks into a fresh index at ``folder``: the real documents first, then
    variants of them (see the module's docstring). Returns how it was made and how long each
    part took."""
    import numpy as np
    from tqdm import tqdm

    from assistant import Settings
    from assistant.index_store import Store

    if not base.documents:
        raise SystemExit("the base sample is empty: are the archives in ../shared/data?")
    shutil.rmtree(folder, ignore_errors=True)
    folder.with_suffix(".json").unlink(missing_ok=True)
    settings = Settings.from_env()
    rng = np.random.default_rng(seed)
    timings = {"variants": 0.0, "write": 0.0, "save_vectors": 0.0, "save_keywords": 0.0}
    written = real_docs = real_chunks = variant_docs = 0
    variants = 0
    collections: Counter[str] = Counter()
    started = time.perf_counter()
    store = Store.create_or_open(folder, model=str(recipe["model"]), dimension=int(base.vectors.shape[1]),
                                 chunk_tokens=settings.chunk_tokens,
                                 overlap_tokens=settings.overlap_tokens)
    try:
        with tqdm(total=size, desc=f"build {size:,}", unit="chunk", smoothing=0.05) as bar:
            items: list[tuple[Document, list[Chunk], np.ndarray]] = []
            spans: dict[str, list[tuple[int, int]]] = {}
            pooled: dict[str, np.ndarray] | None = None if base.sentence_vectors is None else {}
            # Round 0 writes the real documents; round v >= 1 their v-th variants.
            for round_ in itertools.count():
                if written >= size:
                    break
                for i, real in enumerate(base.documents):
                    if written >= size:
                        break
                    t0 = time.perf_counter()
                    # The last document may be cut short so the index holds exactly ``size``.
                    pieces = base.chunks[i][:size - written]
                    vectors = base.vectors[base.rows[i]:base.rows[i] + len(pieces)]
                    sentence_vectors = None if base.sentence_vectors is None else base.sentence_vectors[i]
                    if round_ == 0:
                        doc = real
                        real_docs += 1
                        real_chunks += len(pieces)
                    else:
                        doc, pieces = _variant(real, pieces, round_)
                        vectors = _noisy(vectors, sigma, rng)
                        if sentence_vectors is not None:
                            sentence_vectors = _noisy(sentence_vectors, sigma, rng)
                        variant_docs += 1
                    variants = round_
                    collections[doc.collection] += 1
                    items.append((doc, pieces, vectors))
                    spans[doc.id] = base.sentences[i]  # same text, same sentences
                    if pooled is not None and sentence_vectors is not None:
                        pooled[doc.id] = sentence_vectors
                    written += len(pieces)
                    timings["variants"] += time.perf_counter() - t0
                    if len(items) >= BATCH_DOCS or written >= size:
                        timings["write"] += _write(store, items, spans, pooled)
                        bar.update(sum(len(p) for _, p, _ in items))
                        items, spans = [], {}
                        pooled = None if pooled is None else {}
            if items:
                timings["write"] += _write(store, items, spans, pooled)
                bar.update(sum(len(p) for _, p, _ in items))
        t0 = time.perf_counter()
        print(f"saving the FAISS vectors of {size:,} chunks", file=sys.stderr)
        store.save_vectors()
        timings["save_vectors"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        store.save_keywords()
        timings["save_keywords"] = time.perf_counter() - t0
        documents, chunks = store.counts()
        # Exact (flat) or IVF, with the probes and the recall it measured on stored vectors.
        layout = dict(getattr(store.manifest, "vectors", None) or {"kind": "flat"})
    finally:
        store.close()
    assert chunks == size, (chunks, size)
    info = {
        "recipe": recipe, "chunks": chunks, "documents": documents,
        "real_documents": real_docs, "real_chunks": real_chunks,
        "variant_documents": variant_docs, "variant_chunks": size - real_chunks,
        "variants_per_document": variants, "collections": dict(collections), "layout": layout,
        "build_seconds": round(time.perf_counter() - started, 1),
        "timings": {k: round(v, 1) for k, v in timings.items()},
        "builder_peak_rss_mb": round(_peak_rss_mb()),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    folder.with_suffix(".json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def _with_keywords(folder: Path, info: dict[str, Any]) -> dict[str, Any]:
    """A reused index built before the keyword snapshot existed gets one now, as the next
    `press-assistant index` run would write it; its time joins the build's."""
    from assistant.index_store import Manifest, Store

    made = Manifest.read(folder)
    with Store.create_or_open(folder, model=made.model, dimension=made.dimension,
                              chunk_tokens=made.chunk_tokens,
                              overlap_tokens=made.overlap_tokens) as store:
        t0 = time.perf_counter()
        if store.save_keywords():
            info["timings"]["save_keywords"] = round(time.perf_counter() - t0, 1)
            print(f"{folder}: keyword snapshot written in "
                  f"{info['timings']['save_keywords']:,.1f} s", file=sys.stderr)
            folder.with_suffix(".json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    return info


def _variant(doc: Document, pieces: list[Chunk], v: int) -> tuple[Document, list[Chunk]]:
    suffix = f" (variant {v})"
    new = dataclasses.replace(
        doc, id=f"{doc.id}{suffix}", title=doc.title + suffix,
        date=doc.date + dt.timedelta(weeks=v) if doc.date else None)
    # Same spans of the same text; the chunk carries its document's (fitted) title, so the
    # suffix goes there too, as chunk_document would have put it.
    chunks = [dataclasses.replace(c, doc_id=new.id, title=c.title + suffix if c.title else "")
              for c in pieces]
    return new, chunks


def _noisy(vectors: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Unit vectors near ``vectors``: Gaussian noise per component, re-normalised. A zero row
    (a sentence no chunk covers) stays zero, as pooling left it."""
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    noisy = vectors + rng.normal(0.0, sigma, vectors.shape).astype(np.float32) * (norms > 0)
    return noisy / np.maximum(np.linalg.norm(noisy, axis=1, keepdims=True), 1e-12)


def _write(store: Any, items: list[tuple[Document, list[Chunk], np.ndarray]],
           spans: dict[str, list[tuple[int, int]]], pooled: dict[str, np.ndarray] | None) -> float:
    started = time.perf_counter()
    if pooled is None:
        store.write(items, sentences=spans)
    else:
        store.write(items, sentences=spans, sentence_vectors=pooled)
    return time.perf_counter() - started


# -- measuring (in subprocesses) ---------------------------------------------------------------

def _measure(folder: Path, questions: list[str], warmup: int, backend: str,
             profile: Path | None) -> dict[str, Any]:
    """Runs in a subprocess of its own (see main): the model loaded and warm, each question
    searched, then each asked; latencies, answers and this process's memory."""
    from tqdm import tqdm

    from assistant import Assistant

    embedder = _embedder(backend)
    bot = Assistant.open(folder, embedder=embedder)
    # Warm-up: the FAISS file read, the catalog built (as `serve` does at start), SQLite's
    # pages and the model's first passes are paid here.
    bot.warm_up()
    for question in questions[:warmup]:
        bot.search(question)
        bot.ask(question)
    measured = questions[warmup:]
    profiler = None
    if profile is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    # Two passes rather than search-then-ask per question, so that no ask runs right after
    # the same question's search (whose SQLite pages and query it would find fresh).
    search_ms, ask_ms = [], []
    for question in tqdm(measured, desc=f"search {folder.name}", unit="q"):
        t0 = time.perf_counter()
        bot.search(question)
        search_ms.append((time.perf_counter() - t0) * 1000)
    answered_ms = []
    dated = 0
    for question in tqdm(measured, desc=f"ask {folder.name}", unit="q"):
        t0 = time.perf_counter()
        reply = bot.ask(question)
        ask_ms.append((time.perf_counter() - t0) * 1000)
        if not reply.abstained:
            answered_ms.append(ask_ms[-1])
        dated += reply.searched is not None
    if profiler is not None and profile is not None:
        import pstats

        profiler.disable()
        profiler.dump_stats(str(profile))
        pstats.Stats(str(profile), stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    result = {
        "questions": len(measured), "warmup": warmup,
        "backend": str(getattr(embedder, "backend", "torch")),
        "search_p50_ms": statistics.median(search_ms), "search_p95_ms": _percentile(search_ms, 0.95),
        "ask_p50_ms": statistics.median(ask_ms), "ask_p95_ms": _percentile(ask_ms, 0.95),
        "answered": len(answered_ms), "dated": dated,
        "ask_answered_p50_ms": statistics.median(answered_ms) if answered_ms else float("nan"),
        "peak_rss_mb": _peak_rss_mb(), "rss_after_mb": _current_rss_mb(),
        # As the index is now (its FAISS layout may have been rebuilt since it was made).
        "layout": dict(bot.info().vectors) or {"kind": "flat"},
    }
    # After the memory figures: the exact search below reads every vector once more.
    result["recall_at_10"] = _recall(folder, embedder, measured)
    result["add_one_s"] = _add_one(bot)
    return result


def _add_one(bot: Any) -> float:
    """Seconds to index one new release (the shipped seed, from a folder of its own) into
    this index with the model loaded: read, chunk, embed, commit, FAISS file written. Done
    twice, the second timed: the first also loads the date parser's and the language
    identifier's data (about 3.5 s, once per process). The release is removed again after
    each, so the index stays as built."""
    import shutil
    import tempfile

    seed = next((ROOT / "corpus").glob("*.txt"))
    seconds = 0.0
    for _ in range(2):
        with tempfile.TemporaryDirectory(prefix="scale-add-") as tmp:
            copy = Path(tmp) / seed.name
            shutil.copyfile(seed, copy)
            t0 = time.perf_counter()
            report = bot.index([copy])
            seconds = time.perf_counter() - t0
            assert len(report.added) == 1, report
            bot.remove(report.added[0])
    return seconds


def _recall(folder: Path, embedder: Any, questions: list[str], k: int = 10) -> float:
    """Mean share of the exact top ``k`` (every stored vector, brute force in numpy) that the
    store's dense search returns for the questions: 1.0 while FAISS is flat; beyond
    index_store.vectors.EXACT_LIMIT what the IVF index loses on real questions (the store tunes its
    probes on stored vectors, not on questions)."""
    import sqlite3

    import numpy as np

    from assistant.index_store import STORE, Store

    queries = np.ascontiguousarray(embedder.embed(questions), dtype=np.float32)
    best = np.full((len(queries), k), -np.inf, np.float32)
    truth = np.full((len(queries), k), -1, np.int64)
    # Read-only, straight from the table the FAISS file is derived from, in blocks: a
    # million vectors never sit in memory at once.
    db = sqlite3.connect(f"file:{folder / STORE}?mode=ro", uri=True)
    try:
        last = -1
        while rows := db.execute("SELECT id, vector FROM chunks WHERE id > ? ORDER BY id LIMIT 20000",
                                 (last,)).fetchall():
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            matrix = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32)
            scores = queries @ matrix.reshape(len(rows), -1).T
            take = min(k, len(rows))
            top = np.argpartition(-scores, take - 1, axis=1)[:, :take]
            merged = np.concatenate([best, np.take_along_axis(scores, top, 1)], axis=1)
            merged_ids = np.concatenate([truth, ids[top]], axis=1)
            order = np.argsort(-merged, axis=1)[:, :k]
            best = np.take_along_axis(merged, order, 1)
            truth = np.take_along_axis(merged_ids, order, 1)
            last = int(ids[-1])
    finally:
        db.close()
    with Store.open(folder) as store:
        found = [{i for i, _ in store.dense_search(q, limit=k)} for q in queries]
    shares = [len(f & set(t[t >= 0].tolist())) / max(1, int((t >= 0).sum()))
              for f, t in zip(found, truth, strict=True)]
    return float(np.mean(shares))


# The cold start: a fresh interpreter imports, opens the index, warms up as `serve` does (the
# model, Assistant's own default embedder; the vectors; the catalog) and answers one question.
# It prints the wall clock at each step; the parent subtracts the time it launched it.
_COLD = """
import json, resource, sys, time
from assistant import Assistant
imported = time.time()
bot = Assistant.open(sys.argv[1])
opened = time.time()
bot.warm_up()  # as `press-assistant serve` does before it takes questions
model = time.time()
reply = bot.ask(sys.argv[2])
answered = time.time()
backend = str(getattr(bot.embedder, "backend", "torch"))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
peak = int(hwm[0].split()[1]) if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("RESULT " + json.dumps({"imported": imported, "opened": opened, "model": model,
      "answered": answered, "abstained": reply.abstained, "peak_rss_mb": peak / 1024,
      "backend": backend}))
"""


def _result(stdout: str) -> dict[str, Any]:
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"a measuring subprocess printed no result:\n{stdout[-2000:]}")
    return dict(json.loads(lines[-1][len("RESULT "):]))


def _cold_start(folder: Path, question: str, backend: str) -> dict[str, Any]:
    env = {**os.environ, "PRESS_ASSISTANT_BACKEND": backend}
    launched = time.time()
    run = subprocess.run([sys.executable, "-c", _COLD, str(folder), question], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"the cold start failed ({run.returncode}):\n{run.stderr[-3000:]}")
    got = _result(run.stdout)
    return {"cold_s": got["answered"] - launched, "cold_import_s": got["imported"] - launched,
            "cold_open_s": got["opened"] - got["imported"], "cold_model_s": got["model"] - got["opened"],
            "cold_first_ask_s": got["answered"] - got["model"], "cold_peak_rss_mb": got["peak_rss_mb"],
            "cold_backend": got["backend"]}


def _warm_run(folder: Path, args: argparse.Namespace, profile: Path | None) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--measure-index", str(folder),
               "--questions", args.questions, "--count", str(args.count),
               "--warmup", str(args.warmup), "--seed", str(args.seed), "--backend", args.backend]
    if profile is not None:
        command += ["--profile-to", str(profile)]
    # stderr (the progress bars, a profile) goes to the terminal; stdout carries the result.
    run = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if run.returncode != 0:
        raise SystemExit(f"measuring {folder} failed ({run.returncode})")
    return _result(run.stdout)


# -- reporting ---------------------------------------------------------------------------------

def _faiss(layout: dict[str, Any]) -> str:
    if layout.get("kind", "flat") == "flat":
        return "flat (exact)"
    return f"{layout['kind']}, {layout.get('nlist')} lists, {layout.get('nprobe')} probes"


def _table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| chunks | documents (real + variants) | FAISS | on disk (MB) | search p50 / p95 (ms) | "
             "ask p50 / p95 (ms) | answered (their ask p50, ms) | dense recall@10 | "
             "peak / after RSS (MB) | cold start (s) | cold peak RSS (MB) | add one release (s) | "
             "build (s) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['chunks']:,} | {r['documents']:,} ({r['real_documents']:,} + "
            f"{r['variant_documents']:,}) | {_faiss(r['layout'])} | {r['disk_mb']:,.0f} | "
            f"{r['search_p50_ms']:.0f} / {r['search_p95_ms']:.0f} | "
            f"{r['ask_p50_ms']:.0f} / {r['ask_p95_ms']:.0f} | "
            f"{r['answered']}/{r['questions']} ({r['ask_answered_p50_ms']:.0f}) | "
            f"{r['recall_at_10']:.3f} | {r['peak_rss_mb']:,.0f} / {r['rss_after_mb']:,.0f} | "
            f"{r['cold_s']:.1f} | {r['cold_peak_rss_mb']:,.0f} | {r['add_one_s']:.2f} | "
            f"{r['build_seconds']:,.0f} |")
    return lines


def _targets(rows: list[dict[str, Any]]) -> list[str]:
    by_size = {r["chunks"]: r for r in rows}
    keys = {"ask p95": "ask_p95_ms", "search p95": "search_p95_ms", "cold start": "cold_s",
            "peak RSS": "peak_rss_mb", "add one release": "add_one_s"}
    lines = ["| target | measured | met |", "|---|---|---|"]
    for what, size, limit, unit in TARGETS:
        row = by_size.get(size)
        name = f"{what} at {size:,} chunks ≤ {limit:g} {unit}"
        if row is None:
            lines.append(f"| {name} | not measured in this run | |")
            continue
        value = row[keys[what]]
        shown = f"{value:.1f} {unit}" if unit == "s" else f"{value:,.0f} {unit}"
        lines.append(f"| {name} | {shown} | {'yes' if value <= limit else '**no**'} |")
    return lines


def _method(rows: list[dict[str, Any]]) -> str:
    first = rows[0]
    recipe = first["recipe"]
    parts = "; ".join(
        f"{r['chunks']:,}: {r['real_documents']:,} real documents ({r['real_chunks']:,} chunks)"
        + (f" + {r['variant_documents']:,} variants ({r['variant_chunks']:,} chunks, up to "
           f"{r['variants_per_document']} per document)" if r["variant_documents"] else "")
        for r in rows)
    read = ", ".join(f"{Path(a).parent.name}/{Path(a).name}" for a in ARCHIVES)
    pooled = (", with its sentence vectors pooled from the same pass" if recipe.get("sentence_vectors")
              else " (no sentence vectors: answering embeds a question's candidate sentences)")
    return (
        f"How each index was made: documents of {read} (read with `read_path`), in a seeded "
        f"random order (seed {recipe['seed']}), chunked by `chunk_document` at "
        f"{recipe['chunk_tokens']}/{recipe['overlap_tokens']} tokens until {recipe['base']:,} "
        f"real chunks, which {recipe['model']} ({recipe['embedder']}, as `press-assistant "
        f"index` runs it with this backend) embedded once{pooled}. An index of N chunks holds those "
        "real documents first, then variants cycling through them: the real document with "
        "\" (variant v)\" added to id and title and its date moved v weeks, the same chunk and "
        f"sentence spans, and vectors = the real vector + Gaussian noise (sigma {recipe['sigma']} "
        "per component), re-normalised; written with `Store.write` (with the documents' "
        f"sentence spans{' and vectors' if recipe.get('sentence_vectors') else ''}, as "
        f"indexing stores them) in batches of {recipe['batch_docs']} documents, then "
        "`Store.save_vectors`, which chose the FAISS layout, and `Store.save_keywords`, which "
        f"wrote the keyword snapshot past 50k chunks. Sizes: {parts}. "
        "Variants repeat their real document's text, so the keyword index holds each passage "
        "many times over (its postings grow with N as a real archive's would, but every variant "
        "of a passage matches a question alike): queries see the size of a big archive, not "
        "its variety.")


def _measured(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    return (
        f"{_setup(rows, args)}; model warm (loaded, {args.warmup} warm-up questions), then "
        f"{rows[0]['questions']} questions drawn from {_shown(args.questions)} (seeded), each "
        "searched (`Assistant.search`, top 5) and then, in a second pass, asked "
        "(`Assistant.ask`); p50 is the median, p95 the nearest rank. \"answered\": the "
        "questions answered rather than abstained on, and the median ask of those alone (an "
        "abstention on a name the archive lacks returns before any sentence is scored). "
        "Dense recall@10: the share of the exact top ten (brute force over every stored "
        "vector) that the store's dense search returns for the same questions. Each size is "
        "measured in a subprocess of its own; peak RSS is its `VmHWM` (`ru_maxrss` would "
        "include the parent's), RSS after its `VmRSS` after the questions. Cold start: a fresh "
        "`python -c` process, from before its launch to its first `ask` answer (import, open, "
        "warm-up as `serve` does it: model, FAISS and catalog loads; the question), with the "
        "index's files in the OS cache.")


def _parts(rows: list[dict[str, Any]]) -> list[str]:
    return [
        "Cold start, in parts (s): " + "; ".join(
            f"{r['chunks']:,}: import {r['cold_import_s']:.1f}, open {r['cold_open_s']:.1f}, "
            f"warm-up {r['cold_model_s']:.1f}, first ask {r['cold_first_ask_s']:.1f}" for r in rows)
        + ".",
        "Build time, in parts (s): " + "; ".join(
            f"{r['chunks']:,}: variants {r['timings']['variants']:,.1f}, Store.write "
            f"{r['timings']['write']:,.1f}, save_vectors {r['timings']['save_vectors']:,.1f}, "
            f"save_keywords {r['timings'].get('save_keywords', 0.0):,.1f}"
            for r in rows) + ".",
    ]


def _append(command: str, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    path = ROOT / "docs" / "BENCHMARKS.md"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = [
        f"\n## Query speed at scale ({when})\n",
        f"`{command}` on {platform.machine()}, {os.cpu_count()} cores (CPU flags: {cpu_flags()}), "
        f"Python {platform.python_version()}; {_measured(rows, args)}\n",
        _method(rows) + "\n",
        *_table(rows),
        "",
        "\n\n".join(_parts(rows)),
        "\nTargets (issue 7):\n",
        *_targets(rows),
    ]
    with path.open("a", encoding="utf-8") as out:
        out.write("\n".join(text) + "\n")


def _setup(rows: list[dict[str, Any]], args: argparse.Namespace) -> str:
    """Which embedder answered, warm and cold, and with how many threads."""
    warm = sorted({r["backend"] for r in rows})
    cold = sorted({r["cold_backend"] for r in rows})
    # --threads sets it; else whatever the environment said (the libraries' default if nothing).
    omp = os.environ.get("OMP_NUM_THREADS")
    threads = f"OMP_NUM_THREADS={omp}" if omp else "the libraries' default threads"
    said = f"questions embedded by {', '.join(warm)}"
    if cold != warm:
        said += f" (cold start: {', '.join(cold)})"
    return f"--backend {args.backend}: {said}; {threads}"


def _shown(path: str) -> str:
    resolved = Path(path).resolve()
    for root, name in ((DATA, "../shared/data"), (ROOT, "")):
        if resolved.is_relative_to(root):
            relative = str(resolved.relative_to(root))
            return f"{name}/{relative}" if name else relative
    return path


# -- main --------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="Index sizes in chunks, comma-separated.")
    parser.add_argument("--work", default="/tmp/press-scale",
                        help="Where the base sample and the indexes are kept between runs.")
    parser.add_argument("--base", type=int, default=4000,
                        help="Real chunks to embed with the real model (once; cached).")
    parser.add_argument("--sigma", type=float, default=0.02,
                        help="Noise per vector component of a variant's chunk.")
    parser.add_argument("--questions", default=str(QUESTIONS),
                        help="JSONL of questions (field 'text' or 'question').")
    parser.add_argument("--count", type=int, default=100, help="Questions measured per size.")
    parser.add_argument("--warmup", type=int, default=5, help="Warm-up questions before them.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", help="embedding model (default all-MiniLM-L6-v2); use "
                        "its own --work folder, e.g. --model multilingual-e5-small "
                        "--work /tmp/press-scale-e5")
    parser.add_argument("--backend", choices=("auto", "onnx", "torch"), default="auto",
                        help="The embedder that indexes the base sample and embeds the "
                             "questions (PRESS_ASSISTANT_BACKEND); auto is what press-assistant does.")
    parser.add_argument("--threads", type=int,
                        help="OMP_NUM_THREADS for every process (default: the libraries' own).")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the warm questions; print the top and keep profile-<N>.pstats.")
    parser.add_argument("--build-only", action="store_true", help="Build the indexes, measure nothing.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to docs/BENCHMARKS.md.")
    # Internal: the per-size measuring subprocess.
    parser.add_argument("--measure-index", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.model:
        os.environ["PRESS_ASSISTANT_MODEL"] = args.model
    if args.threads:
        # Set before torch, FAISS or ONNX Runtime load, and inherited by the subprocesses.
        # On a machine whose second core is busy elsewhere, torch with two threads waits on
        # the slower one: a one-line query took 480 ms here against 23 ms with one thread.
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[name] = str(args.threads)

    if args.measure_index:
        questions = _questions(Path(args.questions), args.warmup + args.count, args.seed)
        result = _measure(Path(args.measure_index), questions, args.warmup, args.backend,
                          Path(args.profile_to) if args.profile_to else None)
        print("RESULT " + json.dumps(result))
        return 0

    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 1:
        raise SystemExit("--sizes: positive chunk counts, e.g. 10000,100000,1000000")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    questions = _questions(Path(args.questions), args.warmup + args.count, args.seed)
    # Loaded here even when every index is reused: the recipe names it. Its first load also
    # pays the ONNX export (cached), which a timed cold start must not.
    embedder = _embedder(args.backend)
    recipe = _recipe(args.base, args.sigma, args.seed, embedder)

    infos: dict[int, dict[str, Any]] = {}
    for size in sizes:
        if (info := _built(work / f"index-{size}", size, recipe)) is not None:
            print(f"reusing {work / f'index-{size}'} ({size:,} chunks, built in "
                  f"{info['build_seconds']:,.0f} s)", file=sys.stderr)
            infos[size] = _with_keywords(work / f"index-{size}", info)
    missing = [s for s in sizes if s not in infos]
    if missing:
        base = _load_base(work, args.base, args.seed, embedder)
        for size in missing:
            infos[size] = _build(work / f"index-{size}", size, base, args.sigma, args.seed, recipe)
            print(f"built {size:,} chunks in {infos[size]['build_seconds']:,.0f} s "
                  f"({infos[size]['timings']}); builder peak RSS so far "
                  f"{infos[size]['builder_peak_rss_mb']:,} MB", file=sys.stderr)
        del base
    del embedder  # the parent only orchestrates from here
    if args.build_only:
        return 0

    rows = []
    for size in sizes:
        folder = work / f"index-{size}"
        print(f"measuring {size:,} chunks: cold start, then {args.count} warm questions",
              file=sys.stderr)
        row: dict[str, Any] = {**infos[size], "disk_mb": _disk_bytes(folder) / 2**20}
        row.update(_cold_start(folder, questions[args.warmup], args.backend))
        row.update(_warm_run(folder, args, work / f"profile-{size}.pstats" if args.profile else None))
        rows.append(row)

    # Every figure, unrounded, beside the indexes: the table below rounds.
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    (work / f"results-{stamp}.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print()
    print(_measured(rows, args))
    print()
    print(_method(rows))
    print()
    print("\n".join(_table(rows)))
    print()
    print("\n".join(_parts(rows)))
    print()
    print("\n".join(_targets(rows)))
    if not args.no_write:
        _append(f"python benchmarks/scale.py {' '.join(sys.argv[1:])}".strip(), rows, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
