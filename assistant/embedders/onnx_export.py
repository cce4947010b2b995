"""First use of a model on ONNX: export it from torch, fuse, quantize, judge against torch.

Exported from the local model folder (torch's exporter, then onnxruntime's own optimizer and
quantizer) into the cache (onnx_cache.py). The quantization is chosen by the CPU's features,
and a candidate is used only when its vectors agree with the torch model's (mean cosine ≥
:data:`~.onnx_cache.MIN_AGREEMENT`) on real text: the model card's prose that ships with every
sentence-transformers model. The verdict is cached beside the file; when no candidate agrees,
:class:`~assistant.errors.OnnxUnavailable` says so and the caller falls back to torch.

This module imports torch and transformers: only onnx_embedder.py imports it, and only when the
cache holds no verdict yet, so serving from a warm cache never loads it. It does not import
onnx_embedder.py back: :func:`export_once` is handed the function that opens a candidate
file.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..atomic import staged
from ..errors import OnnxUnavailable
from .onnx_cache import (
    MIN_AGREEMENT,
    ModelSpec,
    Verdict,
    model_path,
    read_verdict,
    verdict_path,
    write_verdict,
)
from .protocols import Embedder
from .torch_embedder import SentenceTransformerEmbedder

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

OpenCandidate = Callable[[Path], Embedder]
"""Opens an ONNX file as an embedder, unjudged (the serving side's own, so that what is judged
is what will serve)."""


def export_once(spec: ModelSpec, folder: Path, plan: tuple[str, ...],
                open_candidate: OpenCandidate) -> Verdict:
    """The verdict for ``spec`` in ``folder``: exported, quantized and judged against torch now
    (seconds, once per model and machine), or found there when another process just did."""
    folder.mkdir(parents=True, exist_ok=True)
    verdict_file = verdict_path(folder, plan)
    # One exporter at a time per model; another process waiting here then finds the verdict.
    with _file_lock(folder / ".lock"):
        cached = read_verdict(verdict_file)
        if cached is None:
            cached = _export_and_judge(spec, folder, plan, open_candidate)
            write_verdict(verdict_file, cached)
    return cached


def _export_and_judge(spec: ModelSpec, folder: Path, plan: Sequence[str],
                      open_candidate: OpenCandidate) -> Verdict:
    import numpy as np

    log.info("exporting %s to ONNX (once per model) in %s", spec.folder.name, folder)
    fp32 = model_path(folder, "fp32")
    if not fp32.is_file():
        _export(spec, fp32)
    texts = probe_texts(spec)
    reference = _torch_vectors(spec, texts)
    tried: dict[str, float] = {}
    for variant in plan:
        path = model_path(folder, variant)
        if not path.is_file():
            _quantize(fp32, path, variant)
        vectors = open_candidate(path).embed(texts)
        cosines = np.sum(vectors * reference, axis=1)
        tried[variant] = round(float(cosines.mean()), 5)
        log.info("ONNX %s agrees with torch: mean cosine %.4f", variant, cosines.mean())
        if cosines.mean() >= MIN_AGREEMENT:
            for other in folder.glob("model-*.onnx"):  # keep the one in use only
                if other != path:
                    other.unlink(missing_ok=True)
            return Verdict(variant, round(float(cosines.mean()), 5), round(float(cosines.min()), 5),
                           len(texts), tried)
        path.unlink(missing_ok=True)
    return Verdict("none", 0.0, 0.0, len(texts), tried)


def probe_texts(spec: ModelSpec, *, limit: int = 96) -> list[str]:
    """Real prose to judge agreement on, offline: the paragraphs of the model card (and its
    sentences alone, since questions and quoted sentences are short)."""
    card = spec.folder / "README.md"
    text = card.read_text(encoding="utf-8", errors="replace") if card.is_file() else ""
    text = re.sub(r"^---\n.*?\n---\n", "", text, flags=re.DOTALL)
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)  # code is not prose
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if len(p.split()) >= 8 and not p.startswith(("|", "#"))]
    sentences = [s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if len(s.split()) >= 5]
    texts = list(dict.fromkeys(paragraphs + sentences))[:limit]
    if len(texts) < 16:
        raise OnnxUnavailable(f"{card} holds too little prose to check the ONNX model against torch")
    return texts


def _export(spec: ModelSpec, target: Path) -> None:
    """The transformer, its pooling and the normalisation as one ONNX graph (torch's
    TorchScript-based exporter: it needs no extra package)."""
    import warnings

    import torch
    from transformers import AutoModel, AutoTokenizer

    # Eager attention: its graph is the one onnxruntime's BERT optimizer recognises and fuses
    # (the SDPA path exports as ops it leaves alone).
    model = AutoModel.from_pretrained(str(spec.transformer), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(spec.transformer))

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor,
                    attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            if spec.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            # The token vectors too: the indexer pools each sentence's tokens out of its
            # chunk's pass, so answering needs no model for the sentences.
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1), hidden

    sample = tokenizer(["an example", "a somewhat longer example sentence"], padding=True,
                       return_tensors="pt")
    # Written and fused under a temporary name: the cache never holds a half-written graph.
    with staged(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled(), (sample["input_ids"], sample["attention_mask"]), str(tmp),
            input_names=["input_ids", "attention_mask"], output_names=["embedding", "tokens"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"},
                          "tokens": {0: "batch", 1: "tokens"}},
            opset_version=17, dynamo=False)
        _fuse(tmp, model.config)


def _fuse(path: Path, config: Any) -> None:
    """Fuse a BERT graph in place with onnxruntime's transformer optimizer: attention, the
    embedding and skip layer norms and bias-GELU each become one kernel, which int8
    quantization then turns into QAttention and integer products. On this 2-core AVX2
    machine int8 embeds 1.22x faster fused than unfused (39.1 against 32.0 chunks a second,
    600 Minnesota AG chunks, docs/BENCHMARKS.md) at the same agreement with torch. Other
    architectures, or a graph the optimizer does not recognise, stay as exported."""
    if getattr(config, "model_type", None) != "bert":
        return
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = optimize_model(str(path), model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, opt_level=1)
    except Exception as exc:  # an optimizer that cannot read the graph: the plain one serves
        log.warning("ONNX graph not fused (%s); using it unfused", exc)
        return
    fused = model.get_fused_operator_statistics()
    if not fused.get("Attention"):
        log.warning("the ONNX optimizer found no attention to fuse; using the graph unfused")
        return
    model.save_model_to_file(str(path))


def _quantize(source: Path, target: Path, variant: str) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if variant == "fp32":
        shutil.copyfile(source, target)
        return
    with staged(target) as tmp:
        # Per-channel scales keep the vectors within the agreement bar (per-tensor int8 of
        # this model falls to a mean cosine near 0.95).
        # The fused graph's contrib ops (Attention, SkipLayerNormalization) have no type
        # inference in the quantizer: their outputs are float.
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=variant == "int8-reduced",
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _torch_vectors(spec: ModelSpec, texts: list[str]) -> np.ndarray:
    return SentenceTransformerEmbedder(str(spec.folder)).embed(texts)


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on a file, held for the block (blocking)."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
