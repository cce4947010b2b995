"""The FAISS index chosen by size: exact while small, IVF-SQ8 beyond, grown in place."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.documents import Chunk, Document
from assistant.index_store import Store, keywords, vectors

DIM = 32


def _docs(start: int, count: int, rng: np.random.Generator) -> list[tuple[Document, list[Chunk], np.ndarray]]:
    items = []
    for n in range(start, start + count):
        text = f"Release number {n} says something about topic {n % 17}."
        doc = Document(id=f"doc-{n}", title=f"Release {n}", text=text, source="synthetic")
        matrix = rng.normal(size=(2, DIM)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        chunks = [Chunk(doc.id, i, 0, len(text), text, doc.title) for i in range(2)]
        items.append((doc, chunks, matrix))
    return items


def test_past_the_exact_limit_an_ivf_index_takes_over_and_keeps_growing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 600)
    rng = np.random.default_rng(1)
    folder = tmp_path / "index"
    store = Store.create_or_open(folder, model="fake", dimension=DIM, chunk_tokens=200, overlap_tokens=0)
    store.write(_docs(0, 200, rng))
    store.save_vectors()
    assert vectors.layout_of(store.vectors()).kind == "flat"  # 400 vectors: exact

    batch = _docs(200, 300, rng)
    store.write(batch)
    store.save_vectors()  # 1,000 vectors: past the limit
    manifest = json.loads((folder / "manifest.json").read_text())["vectors"]
    assert manifest["kind"] == "ivf-sq8" and manifest["nprobe"] >= 4
    assert manifest["recall_at_10"] >= vectors.RECALL_TARGET and manifest["trained_on"] == 1000

    # A stored vector finds its own chunk; removals and additions apply in place.
    target = batch[0][2][0]
    first = store.dense_search(target, limit=5)[0]
    assert store.chunks([first[0]])[first[0]].doc_id == "doc-200" and first[1] > 0.95
    store.write(_docs(500, 10, rng), remove=["doc-200"])
    assert all(store.chunks([i])[i].doc_id != "doc-200" for i, _ in store.dense_search(target, limit=5))
    assert store.vectors().ntotal == 2 * (500 - 1 + 10)
    store.save_vectors()
    store.close()

    reader = Store.open(folder)
    assert vectors.layout_of(reader.vectors()).kind == "ivf-sq8"
    assert reader.check() == []
    reader.close()


def test_a_filter_that_keeps_few_vectors_still_finds_them(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 300)
    rng = np.random.default_rng(2)
    store = Store.create_or_open(tmp_path / "index", model="fake", dimension=DIM, chunk_tokens=200,
                                 overlap_tokens=0)
    items = _docs(0, 400, rng)
    store.write(items)
    index = store.vectors()
    assert vectors.layout_of(index).kind == "ivf-sq8"
    allowed = np.array(sorted(vectors.ids_of(index))[:5], dtype=np.int64)
    mask = np.zeros(int(allowed[-1]) + 1, dtype=np.uint8)
    mask[allowed] = 1
    _, ids = vectors.search(index, items[0][2][:1], 5, mask)
    assert sorted(int(i) for i in ids[0]) == sorted(int(i) for i in allowed)
    store.close()


def test_a_large_index_leaves_its_commonest_words_out_of_the_keyword_query(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    store = Store.create_or_open(tmp_path / "index", model="fake", dimension=DIM, chunk_tokens=200,
                                 overlap_tokens=0)
    store.write(_docs(0, 100, rng))
    assert store.chunk_frequency("releas") == 200 and store.chunk_frequency("zebra") == 0
    query = "release number 42 topic"
    exact = store.keyword_search(query, limit=5)
    monkeypatch.setattr(keywords, "LARGE_INDEX", 10)
    monkeypatch.setattr(keywords, "POSTINGS_BUDGET", 50)
    # "releas", "number" and "topic" are in every chunk; the three rarest always stay, so a
    # query of common words still runs.
    assert store.keywords.prune(["releas", "number", "topic"]) == ["number", "releas", "topic"]
    pruned = store.keyword_search("release said the number 42 about zebras today", limit=5)
    assert {store.chunks([i])[i].doc_id for i, _ in pruned} >= {"doc-42"}
    assert store.chunks([exact[0][0]])[exact[0][0]].doc_id == "doc-42"
    store.close()
