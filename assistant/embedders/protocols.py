"""What the rest of the package asks of an embedding model.

:class:`Embedder` is all that retrieval, answering and evaluation use; a model trained with
roles is a :class:`QueryEmbedder`, and questions go through :func:`embed_queries`. The indexer uses more
when a backend has it: :class:`RegionEmbedder` also returns token vectors pooled over spans
of each text (sentence vectors out of the chunk's own forward pass); it is checked with
``isinstance``, which is why both protocols are runtime-checkable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import numpy as np

Regions = Sequence[Sequence[tuple[int, int]]]
"""For each text, character spans ``(start, end)`` into it (its sentences)."""


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    """Recorded in the index manifest: an index answers only with the model that built it."""
    dimension: int
    max_tokens: int
    """Word pieces the model reads, special tokens excluded; beyond that it truncates."""
    languages: frozenset[str] | None
    """ISO 639-1 codes the model was trained on (from its model card), None when unknown or
    multilingual: retrieval trusts its vectors only for questions in these languages' scripts."""

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class QueryEmbedder(Embedder, Protocol):
    """An embedder trained with roles (E5: ``query: `` and ``passage: ``): ``embed`` is for the
    archive's text, ``embed_queries`` for questions."""

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Vectors of questions: in the query role where the model has one, else as any text."""
    if isinstance(embedder, QueryEmbedder):
        return embedder.embed_queries(texts)
    return embedder.embed(texts)


@runtime_checkable
class RegionEmbedder(Embedder, Protocol):
    """An embedder that also pools each text's token vectors over given spans, from the same
    forward pass ("late chunking"): the indexer stores sentence vectors at no extra model cost,
    and answering then embeds no sentences. ONNX Runtime does; torch does not."""

    def embed_with_regions(self, texts: Sequence[str], regions: Regions
                           ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """The vectors of ``texts``, and for each text the sum of its token vectors over each
        of its ``regions`` with the number of tokens summed."""
        ...
