"""The torch backend: a sentence-transformers model, as its own library runs it.

The fallback when ONNX cannot serve a model, and the judge the ONNX export is measured
against (onnx_export.py). sentence-transformers (and with it torch and transformers) is
imported when an embedder is made, never at import time.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import DEFAULT_MODEL
from ..errors import ConfigError
from .models import model_languages, resolve_model

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU (or whatever torch picks)."""

    backend = "torch"

    def __init__(self, name: str = DEFAULT_MODEL, *, batch_size: int = 32) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model = _load(name)
        dimension = self._model.get_embedding_dimension()
        window = self._model.max_seq_length
        if dimension is None or window is None:  # neither is None for a sentence-embedding model
            raise ConfigError(f"{name}: the model states no embedding dimension or window")
        self.dimension = int(dimension)
        # The window includes [CLS] and [SEP]; chunks are measured without them.
        self.max_tokens = int(window) - 2
        self.languages = model_languages(Path(resolve_model(name)))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._model.tokenizer(
            list(texts), add_special_tokens=False, truncation=False, verbose=False
        )["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _load(name: str) -> SentenceTransformer:
    # Offline by construction: a hub name that is not cached locally fails fast instead of
    # hanging on a firewall.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    target = resolve_model(name)
    try:
        return SentenceTransformer(target, device="cpu")
    except Exception as exc:  # any loader failure becomes one actionable message
        raise ConfigError(
            f"could not load the embedding model {name!r} ({type(exc).__name__}: {exc}). "
            "Give a local model folder with --model or PRESS_ASSISTANT_MODEL; "
            "models are not downloaded at run time"
        ) from exc
