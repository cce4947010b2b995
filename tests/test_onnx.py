"""The ONNX Runtime embedder: chosen by CPU features, judged against torch, cached, and in
agreement with torch on real press releases (the check CI keeps)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.embedders.factory import load_embedder
from assistant.embedders.onnx_cache import MIN_AGREEMENT, ModelSpec, quantization_plan
from assistant.errors import ConfigError, OnnxUnavailable

from .fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


def test_quantization_follows_the_cpu() -> None:
    assert quantization_plan(frozenset({"avx2", "avx512f", "avx512_vnni"}), "x86_64")[0] == "int8"
    # AVX2 alone: a 7-bit variant in case the 8-bit product saturates, then float32.
    assert quantization_plan(frozenset({"avx2"}), "x86_64") == ("int8", "int8-reduced", "fp32")
    assert quantization_plan(frozenset({"sse4_2"}), "x86_64") == ("fp32",)


def test_a_model_without_a_fast_tokenizer_is_refused_in_words(tmp_path: Path) -> None:
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
    ]))
    with pytest.raises(OnnxUnavailable, match=r"tokenizer\.json"):
        ModelSpec.read(tmp_path)
    with pytest.raises(OnnxUnavailable, match="not a sentence-transformers model"):
        ModelSpec.read(tmp_path / "missing")


def test_unknown_backend_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="auto, onnx, torch"):
        load_embedder(backend="tensorflow")


def test_auto_falls_back_to_torch_and_onnx_on_request_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str, threads: int | None = None) -> None:
        raise OnnxUnavailable("no variant agreed")

    monkeypatch.setattr("assistant.embedders.onnx_embedder.OnnxEmbedder", refuse)
    monkeypatch.setattr("assistant.embedders.torch_embedder.SentenceTransformerEmbedder",
                        lambda name, batch_size: FakeEmbedder())
    assert isinstance(load_embedder(backend="auto"), FakeEmbedder)
    with pytest.raises(OnnxUnavailable, match="no variant agreed"):
        load_embedder(backend="onnx")


def test_the_embedders_import_one_way() -> None:
    """No import cycle inside assistant/embedders/, counting imports inside functions too
    (a cycle held together by late imports is still one), and the serving module reaches the
    exporter (torch) only from inside a function: on a cold cache."""
    package = ROOT / "assistant" / "embedders"
    graph: dict[str, set[str]] = {}
    top_level: dict[str, set[str]] = {}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1]
        names = {n.module or a.name for n in found for a in n.names}
        graph[path.stem] = names
        top_level[path.stem] = {n.module or a.name for n in tree.body
                                if isinstance(n, ast.ImportFrom) and n.level == 1 for a in n.names}

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(dep == goal or (dep not in seen and reaches(dep, goal, seen | {dep}))
                   for dep in graph.get(start, ()))

    assert [m for m in graph if reaches(m, m, {m})] == []
    assert "onnx_export" in graph["onnx_embedder"]
    assert not top_level["onnx_embedder"] & {"onnx_export", "torch_embedder"}


@pytest.mark.real_model
def test_onnx_is_cached_and_serves_without_torch(tmp_path: Path) -> None:
    """After the first use, an ONNX embedder loads from the cache and never imports torch,
    transformers or the exporter: what makes a cold start short."""
    from assistant.embedders.onnx_cache import cache_root
    from assistant.embedders.onnx_embedder import OnnxEmbedder

    embedder = OnnxEmbedder()  # exports and judges once per machine (the user's cache)
    assert embedder.verdict.mean_cosine >= MIN_AGREEMENT
    code = ("import sys, time; t = time.perf_counter();"
            "from assistant.embedders.onnx_embedder import OnnxEmbedder;"
            "e = OnnxEmbedder(); v = e.embed(['Who attended the meeting?']);"
            "heavy = {'torch', 'transformers', 'sentence_transformers', 'onnx',"
            " 'assistant.embedders.onnx_export'} & set(sys.modules);"
            "print(round(time.perf_counter() - t, 2), sorted(heavy), v.shape)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PRESS_ASSISTANT_CACHE": str(cache_root()), "PATH": "/usr/bin:/bin"},
                         timeout=120, check=True).stdout.split()
    assert out[1:] == ["[]", "(1,", "384)"], out
    assert float(out[0]) < 10  # loose: it is about 0.5 s; a re-export would take half a minute


@pytest.mark.real_model
@pytest.mark.shared_data
def test_onnx_agrees_with_torch_on_real_releases(real_embedder: object) -> None:
    """CI's check that the two paths agree: mean cosine ≥ 0.99 on real chunks of four
    English archives (the model's language), and the same nearest passages."""
    from assistant.chunking import chunk_document
    from assistant.documents import Document
    from assistant.embedders.onnx_embedder import OnnxEmbedder
    from assistant.embedders.torch_embedder import SentenceTransformerEmbedder
    from assistant.readers import read_path

    if not DATA.is_dir():
        pytest.skip(f"{DATA} is absent: the shared press archives are needed")
    onnx = real_embedder if isinstance(real_embedder, OnnxEmbedder) else OnnxEmbedder()
    torch = SentenceTransformerEmbedder()
    texts: list[str] = []
    for name in ("mn_ag_press_releases/press_releases.jsonl", "fomc_statements/fomc_statements.jsonl",
                 "srilanka_pmd_press_releases/press_releases.jsonl",
                 "kremlin_ukraine_press_releases_en/putin.jsonl"):
        docs = [d for d in read_path(DATA / name) if isinstance(d, Document)][:10]
        texts += [c.embedding_text for d in docs for c in chunk_document(
            d, count_tokens=torch.count_tokens, max_tokens=200, overlap_tokens=40)][:30]
    with (DATA / "xquad_en_ru" / "beir_ru" / "corpus.jsonl").open(encoding="utf-8") as lines:
        russian = [json.loads(line)["text"] for line, _ in zip(lines, range(30), strict=False)]
    assert len(texts) >= 80, "too few real chunks read"
    # The token counts the chunker relies on are the same on both paths.
    assert onnx.count_tokens(texts) == torch.count_tokens(texts)
    a, b = onnx.embed(texts), torch.embed(texts)
    cosines = np.sum(a * b, axis=1)
    assert cosines.mean() >= MIN_AGREEMENT, cosines.mean()
    assert cosines.min() >= 0.95, cosines.min()
    # Russian is outside the model's languages (retrieval does not use its vectors for
    # Cyrillic questions); quantization costs more there, and is bounded all the same.
    ru = np.sum(onnx.embed(russian) * torch.embed(russian), axis=1)
    assert ru.mean() >= 0.95, ru.mean()
    # Nearest passages of the first sentence of some chunks, as questions would find them.
    queries = [t.split("\n", 1)[-1].split(". ")[0] for t in texts[::10]]
    top_a = np.argsort(-(onnx.embed(queries) @ a.T), axis=1)[:, :5]
    top_b = np.argsort(-(torch.embed(queries) @ b.T), axis=1)[:, :5]
    overlap = np.mean([len(set(x) & set(y)) / 5 for x, y in zip(top_a, top_b, strict=True)])
    assert overlap >= 0.8, overlap


@pytest.mark.real_model
def test_chunks_are_put_together_from_the_counted_pieces_exactly(
        real_embedder: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """No text tokenized twice: the chunker's counting keeps each title's and sentence's word
    pieces, and a chunk's encoding is put together from them. It must be, token for token and
    offset for offset, what tokenizing the chunk gives, and so must the vectors."""
    from assistant.chunking import chunk_document, split_sentences
    from assistant.documents import Document
    from assistant.embedders.onnx_embedder import OnnxEmbedder
    from assistant.indexing import embed_chunks
    from assistant.readers import read_path
    from tests.helpers import SEED

    onnx = real_embedder if isinstance(real_embedder, OnnxEmbedder) else OnnxEmbedder()
    docs = [d for d in read_path(SEED) if isinstance(d, Document)]
    if DATA.is_dir():
        docs += [d for d in read_path(DATA / "mn_ag_press_releases" / "press_releases.jsonl")
                 if isinstance(d, Document)][:15]
    odd = Document(
        id="odd", title=" ".join(["A very long headline about the harbour"] * 12),
        text="Café owners in Zürich — and the U.S. — met on 3 May.\n\nСовещание прошло в Кремле. "
             + " ".join(["tariff"] * 400) + ". " + "x" * 3000 + " The end!\n\n“Quoted,” he said.")
    docs.append(odd)
    seen: list[tuple[list[str], list[list[tuple[int, int]]]]] = []
    real = onnx.embed_with_regions

    def spy(texts: list[str], regions: list[list[tuple[int, int]]]) -> object:
        seen.append((list(texts), [list(r) for r in regions]))
        return real(texts, regions)

    monkeypatch.setattr(onnx, "embed_with_regions", spy)
    onnx._counted.clear()
    batch = []
    for doc in docs:
        spans = split_sentences(doc.text, doc.lang)
        batch.append((doc, chunk_document(doc, count_tokens=onnx.count_tokens, max_tokens=200,
                                          overlap_tokens=40, sentences=spans), spans))
    vectors, pooled = embed_chunks(onnx, batch)
    texts, regions = seen[0]
    assert len(texts) >= 30
    put_together = [onnx._composed(t, r, onnx._counted) for t, r in zip(texts, regions, strict=True)]
    tokenized = onnx._encoded(texts, None)
    assert sum(p is not None for p in put_together) >= len(texts) - 3  # the odd document's cut word
    for text, mine, theirs in zip(texts, put_together, tokenized, strict=True):
        if mine is not None:
            assert mine[0].tolist() == theirs[0].tolist(), text[:80]
            assert mine[1].tolist() == theirs[1].tolist(), text[:80]
    onnx._counted.clear()  # nothing kept: every chunk tokenized
    again, pooled_again = embed_chunks(onnx, batch)
    assert np.allclose(vectors, again, atol=1e-6)
    assert pooled is not None and pooled_again is not None
    assert all(np.allclose(pooled[d], pooled_again[d], atol=1e-6) for d in pooled)
