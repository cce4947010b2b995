"""A small deterministic embedder for tests where the model is incidental.

Words are hashed into a fixed number of dimensions (a bag of words, L2-normalised), so texts
that share words are near each other: enough for retrieval to behave, with no model loaded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class FakeEmbedder:
    name = "fake-hashing-embedder"
    dimension = 64
    max_tokens = 254
    languages: frozenset[str] | None = None

    def __init__(self) -> None:
        self.embedded = 0  # texts embedded so far: tests check incremental re-indexing with it

    @staticmethod
    def _tokens(text: str) -> list[str]:
        return re.findall(r"\w+|[^\w\s]", text.lower())

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(self._tokens(t)) for t in texts]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in re.findall(r"\w+", text.lower()):
                digest = hashlib.blake2b(token[:6].encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dimension] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out
