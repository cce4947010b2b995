"""Vectors of texts already embedded, so a passage or sentence is embedded once per process
(answering's candidate sentences, the bi-encoder reranker's passages)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class VectorCache:
    """Vectors of texts by (model, text), least recently used dropped first; thread-safe."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model: str, texts: Sequence[str],
            encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """The vectors of ``texts``; only those not cached go through ``encode``."""
        import numpy as np

        with self._lock:
            # Copied out under the lock: another thread may evict them before we are done.
            vectors = {t: self._items[(model, t)] for t in texts if (model, t) in self._items}
        missing = list(dict.fromkeys(t for t in texts if t not in vectors))
        if missing:
            vectors.update(zip(missing, encode(missing), strict=True))
        with self._lock:
            for text in dict.fromkeys(texts):
                self._items[(model, text)] = vectors[text]
                self._items.move_to_end((model, text))
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        if not texts:
            return np.zeros((0, 0), np.float32)
        out = np.stack([vectors[t] for t in texts])
        return out
