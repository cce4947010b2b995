"""Hybrid retrieval: dense (FAISS) and keyword (FTS5 BM25) candidates, fused by weighted
reciprocal rank fusion, with an optional publication-date range."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .config import Settings
from .documents import Filters, Hit, Version
from .embedders.protocols import embed_queries
from .errors import ConfigError, QueryError
from .lexical import script_of, script_trusted

if TYPE_CHECKING:
    import numpy as np

    from .embedders.protocols import Embedder
    from .index_store import Store
    from .reranking import Reranker


_EVERYTHING = Filters()


@dataclass(frozen=True, slots=True)
class Retrieval:
    """The fused hits of one query and the query's vector, kept for the answerer."""

    hits: tuple[Hit, ...]
    query_vector: np.ndarray
    dense_trusted: bool = True
    """False when the question's script is not one the embedding model was trained on."""




def dense_trusted(query: str, languages: frozenset[str] | None) -> bool:
    """Whether an embedding model trained on ``languages`` can be trusted with ``query``.

    An English-only model still returns confident-looking cosines for a Russian question
    (median top-1 0.68 on XQuAD-ru, higher than for English), so the score cannot tell; the
    script can."""
    return script_trusted(languages, script_of(query))


_NO_VECTOR = 0.01
"""Dense scores at or under this are of passages stored without a vector (a language the model
does not read); a real passage's cosine to a question is that low only when unrelated."""

_EMPTY = -1
"""A place left empty in a ranking (:meth:`Retriever._keyword_rankings`): fusion skips it."""


def script_of_language(lang: str | None, text: str) -> str | None:
    """The script a passage is written in: its document's language's, else its letters'."""
    from .lexical import SCRIPT_OF_LANGUAGE

    return SCRIPT_OF_LANGUAGE.get(lang) if lang in SCRIPT_OF_LANGUAGE else script_of(text[:300])


def fuse(rankings: list[tuple[list[int], float]], *, k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion, normalised so a candidate ranked first by every
    retriever scores 1.0.

    >>> fuse([([7, 8], 1.0), ([8], 1.0)], k=60)[8] > fuse([([7, 8], 1.0), ([8], 1.0)], k=60)[7]
    True
    """
    scores: dict[int, float] = {}
    for ids, weight in rankings:
        for rank, chunk_id in enumerate(ids, start=1):
            if chunk_id == _EMPTY:
                continue
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    best = sum(weight / (k + 1) for _, weight in rankings) or 1.0
    return {chunk_id: score / best for chunk_id, score in scores.items()}


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, settings: Settings,
                 reranker: Reranker | None = None) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.reranker = reranker

    def retrieve(self, query: str, *, k: int, filters: Filters = _EVERYTHING,
                 prefer: Sequence[str] = ()) -> Retrieval:
        """The ``k`` best passages for ``query``. Passages of the ``prefer`` releases (those a
        conversation is about) that are candidates anyway count once more in the fusion."""
        if not query.strip():
            raise QueryError("the question is empty: type a question")
        mode = self.settings.retrieval
        if mode not in {"hybrid", "dense", "keyword"}:
            raise ConfigError(f"retrieval mode {mode!r}: use hybrid, dense or keyword")
        # The answerer needs the query vector in every mode; only the dense search is skipped.
        vector = embed_queries(self.embedder, [query])[0]
        limit = max(self.settings.candidates, k)
        trusted = dense_trusted(query, getattr(self.embedder, "languages", None))
        rankings: list[tuple[list[int], float]] = []
        if mode == "dense" or (mode == "hybrid" and trusted):
            dense = self.store.dense_search(vector, limit=limit, filters=filters)
            # A passage the model cannot read has a zero vector (indexing.embed_chunks): it
            # scores 0 against every question (IVF-SQ8's rounding: under 0.001) and is no
            # dense candidate, however few there are.
            rankings.append(([i for i, score in dense if score > _NO_VECTOR], self.settings.dense_weight))
        if mode != "dense":
            keyword = [i for i, _ in self.store.keyword_search(query, limit=limit, filters=filters)]
            if mode == "hybrid" and rankings:
                rankings.extend(self._keyword_rankings(query, keyword))
            else:
                rankings.append((keyword, self.settings.keyword_weight))
        if prefer:
            candidates = sorted(fuse(rankings, k=self.settings.rrf_k).items(), key=lambda p: -p[1])
            rows = self.store.chunks([i for i, _ in candidates])
            wanted = set(prefer)
            preferred = [i for i, _ in candidates if (row := rows.get(i)) and row.doc_id in wanted]
            rankings.append((preferred, self.settings.keyword_weight))
        fused = fuse(rankings, k=self.settings.rrf_k)
        order = sorted(fused, key=lambda i: -fused[i])
        if self.reranker is not None and order:
            depth = self.settings.rerank_depth
            reranked = self._rerank(query, order[:depth])
            # Below the reranked head the first stage's order stands, scored under the head.
            floor = min(reranked.values(), default=1.0)
            tail = {i: floor * fused[i] / fused[order[0]] * 0.99 for i in order[depth:]}
            fused = {**tail, **reranked}
            order = sorted(fused, key=lambda i: -fused[i])
        order, fused, versions = self._one_version(query, order, fused, vector, filters)
        top = order[:k]
        rows = self.store.chunks(top)
        hits = tuple(
            Hit(doc_id=row.doc_id, title=row.title, date=row.date, url=row.url, text=row.text,
                start=row.start, end=row.end, score=fused[i], page=row.page,
                collection=row.collection, chunk_id=i, lang=row.lang,
                versions=versions.get(row.doc_id, ()))
            for i in top if (row := rows.get(i)) is not None
        )
        return Retrieval(hits=hits, query_vector=vector, dense_trusted=trusted)

    def _keyword_rankings(self, query: str, ids: list[int]) -> list[tuple[list[int], float]]:
        """The keyword ranking, as it enters the fusion beside the dense one: a passage in
        another script than the question's matched it on a figure or a name at best (keyword
        search cannot cross languages), so its weight is ``cross_keyword_weight``; within the
        question's script the keyword weight stands. Each passage keeps its rank in the one
        list (the other list's places are left empty)."""
        weight = self.settings.keyword_weight
        script = script_of(query)
        if not ids or script is None:
            return [(ids, weight)]
        rows = self.store.chunks(ids)
        same = [script_of_language(row.lang, row.text) in (None, script)
                if (row := rows.get(i)) is not None else True for i in ids]
        if all(same):
            return [(ids, weight)]
        return [([i if s else _EMPTY for i, s in zip(ids, same, strict=True)], weight),
                ([_EMPTY if s else i for i, s in zip(ids, same, strict=True)],
                 weight * self.settings.cross_keyword_weight)]

    def _one_version(self, query: str, order: list[int], fused: dict[int, float],
                     vector: np.ndarray, filters: Filters,
                     ) -> tuple[list[int], dict[int, float], dict[str, tuple[Version, ...]]]:
        """One version of each release among the candidates: the same release in three
        languages would otherwise fill three of the places. The version kept is the one
        in the question's language, else the one found (the newest posting of either); its
        closest passage takes the place of the passage found. Returns the new order, scores
        and each kept document's other versions."""
        from .languages import question_language
        from .versions import preferred

        rows = self.store.chunks(order)
        groups = self.store.versions.groups({row.doc_id for row in rows.values()})
        if not groups:
            return order, fused, {}
        allowed = set(filters.languages)
        language = question_language(query, {m.lang for ms in groups.values() for m in ms})
        chosen: dict[str, str] = {}  # group (its smallest id) -> the document cited
        kept: list[int] = []
        scores = dict(fused)
        versions: dict[str, tuple[Version, ...]] = {}
        for i in order:
            row = rows.get(i)
            members = groups.get(row.doc_id) if row is not None else None
            if row is None or members is None:
                kept.append(i)
                continue
            group = min(m.doc_id for m in members)
            if group not in chosen:
                usable = [m for m in members if not allowed or m.lang in allowed]
                cite = preferred(usable, language=language, found=row.doc_id)
                chosen[group] = cite
                versions[cite] = tuple(m.version() for m in members if m.doc_id != cite)
                if cite != row.doc_id:
                    # The cited version's own best passage, in this passage's place.
                    found = self.store.versions.best_chunk(cite, vector)
                    if found is not None and found[0] not in kept:
                        scores[found[0]] = fused[i]
                        kept.append(found[0])
                    continue
            if row.doc_id == chosen[group] and i not in kept:
                kept.append(i)
        return kept, scores, versions

    def _rerank(self, query: str, ids: list[int]) -> dict[int, float]:
        """The first stage's order fused with the reranker's over its top ``ids``."""
        assert self.reranker is not None
        rows = self.store.chunks(ids)
        present = [i for i in ids if i in rows]
        # The title goes with the passage: releases often name the event only there.
        scores = self.reranker.score(query, [f"{rows[i].title}\n{rows[i].text}" for i in present])
        reranked = [present[j] for j in sorted(range(len(present)), key=lambda j: -float(scores[j]))]
        return fuse([(present, 1.0), (reranked, self.settings.rerank_weight)], k=self.settings.rrf_k)
