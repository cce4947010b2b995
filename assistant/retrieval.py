"""Hybrid retrieval: dense (FAISS) and keyword (FTS5 BM25) candidates, fused by weighted
reciprocal rank fusion, with an optional publication-date range."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import Settings
from .documents import Hit
from .errors import ConfigError, QueryError

if TYPE_CHECKING:
    import numpy as np

    from .embedding import Embedder
    from .store import Store


@dataclass(frozen=True, slots=True)
class Filters:
    """Restrictions on what may be retrieved; ``None`` means no restriction."""

    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise QueryError(f"the date range is empty: {self.since} is after {self.until}")


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The fused hits of one query and the query's vector, kept for the answerer."""

    hits: tuple[Hit, ...]
    query_vector: np.ndarray


def fuse(rankings: list[tuple[list[int], float]], *, k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion, normalised so a candidate ranked first by every
    retriever scores 1.0.

    >>> fuse([([7, 8], 1.0), ([8], 1.0)], k=60)[8] > fuse([([7, 8], 1.0), ([8], 1.0)], k=60)[7]
    True
    """
    scores: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    best = sum(weight / (k + 1) for _, weight in rankings) or 1.0
    return {chunk_id: score / best for chunk_id, score in scores.items()}


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings

    def retrieve(self, query: str, *, k: int, filters: Filters = Filters(),
                 dense_weight: float = 1.0, keyword_weight: float = 1.0) -> Retrieval:
        if not query.strip():
            raise QueryError("the question is empty: type a question")
        mode = self.settings.retrieval
        if mode not in {"hybrid", "dense", "keyword"}:
            raise ConfigError(f"retrieval mode {mode!r}: use hybrid, dense or keyword")
        # The answerer needs the query vector in every mode; only the dense search is skipped.
        vector = self.embedder.embed([query])[0]
        limit = max(self.settings.candidates, k)
        rankings: list[tuple[list[int], float]] = []
        if mode != "keyword":
            dense = self.store.dense_search(vector, limit=limit, since=filters.since,
                                            until=filters.until)
            rankings.append(([i for i, _ in dense], dense_weight))
        if mode != "dense":
            keyword = self.store.keyword_search(query, limit=limit, since=filters.since,
                                                until=filters.until)
            rankings.append(([i for i, _ in keyword], keyword_weight))
        fused = fuse(rankings, k=self.settings.rrf_k)
        top = sorted(fused, key=lambda i: -fused[i])[:k]
        rows = self.store.chunks(top)
        hits = tuple(
            Hit(doc_id=row.doc_id, title=row.title, date=row.date, url=row.url, text=row.text,
                start=row.start, end=row.end, score=fused[i], page=row.page,
                collection=row.collection, chunk_id=i)
            for i in top if (row := rows.get(i)) is not None
        )
        return Retrieval(hits=hits, query_vector=vector)
