"""The ONNX cache: what the export of a model is keyed by, where it lives, and its verdict.

Why ONNX at all: on a CPU the torch forward pass is nearly all of an indexing run's time. The
same sentence-transformers model exported to ONNX and quantized to int8 (dynamic quantization:
weights int8, activations quantized on the fly) computes the same vectors two to three times
faster on two cores, and needs neither torch nor transformers at run time, which also makes a
cold start short.

The export (onnx_export.py) happens once per model and machine, under
``~/.cache/press-assistant/onnx/<model folder>-<fingerprint>/``: ``model-<variant>.onnx``, the
one variant in use, and ``verdict-<plan>.json``, which says which variant agreed with torch
(mean cosine ≥ :data:`MIN_AGREEMENT`) or that none did. Serving (onnx_embedder.py) reads the
verdict and the file and nothing else, so this module is standard library only: both sides
import it, neither imports the other through it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

from ..atomic import write_text
from ..errors import OnnxUnavailable

MIN_AGREEMENT = 0.99
"""Mean cosine between ONNX and torch vectors below which an ONNX model is not used."""

_EXPORT_VERSION = 3  # bump when the export or the quantization recipe changes (3: fused BERT)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What the export needs to know about a sentence-transformers model folder."""

    folder: Path
    transformer: Path
    """The Hugging Face model inside it (modules.json's Transformer path)."""
    max_seq_length: int
    pooling: str
    """"mean" or "cls": the two poolings the exported graph implements."""
    dimension: int

    @classmethod
    def read(cls, folder: Path) -> ModelSpec:
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OnnxUnavailable(f"{folder} is not a sentence-transformers model folder") from exc
        kinds = {m["type"].rsplit(".", 1)[-1]: m.get("path", "") for m in modules}
        if set(kinds) - {"Transformer", "Pooling", "Normalize"} or "Pooling" not in kinds:
            raise OnnxUnavailable(f"{folder}: modules {sorted(kinds)} have no ONNX export here")
        transformer = folder / kinds.get("Transformer", "")
        if not (transformer / "tokenizer.json").is_file():
            raise OnnxUnavailable(f"{transformer} has no tokenizer.json (a fast tokenizer)")
        pooling = json.loads((folder / kinds["Pooling"] / "config.json").read_text(encoding="utf-8"))
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes == ["pooling_mode_mean_tokens"]:
            mode = "mean"
        elif modes == ["pooling_mode_cls_token"]:
            mode = "cls"
        else:
            raise OnnxUnavailable(f"{folder}: pooling {modes} has no ONNX export here")
        config = {}
        for name in ("sentence_bert_config.json", "sentence_xlnet_config.json"):
            if (transformer / name).is_file():
                config = json.loads((transformer / name).read_text(encoding="utf-8"))
        max_seq = int(config.get("max_seq_length") or 512)
        return cls(folder, transformer, max_seq, mode, int(pooling["word_embedding_dimension"]))

    def fingerprint(self) -> str:
        """Changes when the model's files do: the cache key of its export."""
        digest = hashlib.sha256(f"v{_EXPORT_VERSION}|{self.folder.resolve()}".encode())
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                digest.update(f"|{path.relative_to(self.folder)}:{stat.st_size}:{stat.st_mtime_ns}"
                              .encode())
        return digest.hexdigest()[:16]


def cpu_features() -> frozenset[str]:
    """The CPU flags that decide the quantization (Linux; empty where unknown)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def quantization_plan(features: frozenset[str], machine: str | None = None) -> tuple[str, ...]:
    """Candidates, fastest first; the first that agrees with torch is used.

    With VNNI (AVX-512 or AVX) int8 products are native: signed int8 weights, per channel.
    With AVX2 alone the u8 x s8 product goes through an instruction that can saturate, so a
    7-bit ("reduced range") variant follows in case the first disagrees, then float32 ONNX
    (still faster than torch, and exact). Elsewhere float32 only, except ARM's dot products.
    """
    machine = (machine or platform.machine()).lower()
    if features & {"avx512_vnni", "avx_vnni", "amx_int8"}:
        return ("int8", "fp32")
    if "avx2" in features:
        return ("int8", "int8-reduced", "fp32")
    if machine in {"aarch64", "arm64"}:
        return ("int8", "fp32")
    return ("fp32",)


def cache_root() -> Path:
    if value := os.environ.get("PRESS_ASSISTANT_CACHE"):
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "press-assistant"


def export_folder(spec: ModelSpec, cache: Path | None = None) -> Path:
    """Where the exports of ``spec`` live: a new folder whenever the model's files change."""
    return (cache or cache_root()) / "onnx" / f"{spec.folder.name}-{spec.fingerprint()}"


def verdict_path(folder: Path, plan: tuple[str, ...]) -> Path:
    """One verdict per plan: another CPU (another plan) judges its own candidates."""
    return folder / f"verdict-{'+'.join(plan)}.json"


def model_path(folder: Path, variant: str) -> Path:
    return folder / f"model-{variant}.onnx"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Which ONNX file serves the model, and how well it agreed with torch."""

    variant: str
    mean_cosine: float
    min_cosine: float
    texts: int
    tried: dict[str, float]
    """Every candidate measured: variant -> mean cosine."""


def read_verdict(path: Path) -> Verdict | None:
    """The cached verdict, or None when there is none yet (or its file is gone: export
    again). A verdict that no variant agreed is final until the folder is deleted."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        verdict = Verdict(**data)
    except (OSError, ValueError, TypeError):
        return None
    if verdict.variant == "none":
        raise OnnxUnavailable(
            f"no ONNX variant agreed with the torch model (mean cosine {verdict.tried}, "
            f"needed {MIN_AGREEMENT}); delete {path.parent} to judge again")
    return verdict if model_path(path.parent, verdict.variant).is_file() else None


def write_verdict(path: Path, verdict: Verdict) -> None:
    write_text(path, json.dumps({"variant": verdict.variant, "mean_cosine": verdict.mean_cosine,
                                 "min_cosine": verdict.min_cosine, "texts": verdict.texts,
                                 "tried": verdict.tried}, indent=2))
