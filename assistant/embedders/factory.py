"""The embedder Settings.backend asks for: ONNX Runtime, torch, or ONNX when it can.

Both backends are imported only here, inside :func:`load_embedder`, so choosing one never
loads the other's libraries.
"""

from __future__ import annotations

import logging

from ..config import DEFAULT_MODEL
from ..errors import ConfigError, OnnxUnavailable
from .protocols import Embedder

log = logging.getLogger(__name__)

BACKENDS = ("auto", "onnx", "torch")


def load_embedder(name: str = DEFAULT_MODEL, *, backend: str = "auto", batch_size: int = 32) -> Embedder:
    """The model ``name`` on ``backend``: "onnx" (int8 ONNX Runtime, judged against torch on
    first use), "torch", or "auto": ONNX when it can serve the model, else torch."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    from . import e5_embedder

    if name in e5_embedder.NAMES:  # its own C engine: the backend setting does not apply
        return e5_embedder.E5Embedder()
    if backend != "torch":
        from . import onnx_embedder

        try:
            return onnx_embedder.OnnxEmbedder(name)
        except OnnxUnavailable as exc:
            if backend == "onnx":
                raise
            log.warning("embedding with torch: %s", exc)
    from . import torch_embedder

    return torch_embedder.SentenceTransformerEmbedder(name, batch_size=batch_size)
