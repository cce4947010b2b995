"""The ONNX Runtime backend: what serving runs (onnxruntime, tokenizers and numpy only).

The model's ONNX export comes from the cache (onnx_cache.py); when the cache holds no verdict
for this model and CPU yet, onnx_export.py makes one first (torch, once per machine). From a
warm cache nothing here imports torch or transformers, which is most of a cold start.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import DEFAULT_MODEL
from ..errors import OnnxUnavailable
from .models import model_languages, resolve_model
from .onnx_cache import (
    ModelSpec,
    Verdict,
    cpu_features,
    export_folder,
    model_path,
    quantization_plan,
    read_verdict,
    verdict_path,
)
from .protocols import Regions

if TYPE_CHECKING:
    import numpy as np

_BATCH_TOKENS = 4096  # padded tokens per forward pass: 16 chunks of 256, or many short texts
_MAX_BATCH = 64
_BERT_SPACE = re.compile(r"[ \t\n\r\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]*")
"""White space as BERT's tokenizer splits at it (a control character it deletes instead, so
the text around it would join into one word: such a gap is not one)."""
_COUNTED = 20_000
"""Counted texts kept for putting chunks together (a few indexing batches' sentences)."""


def prepare(spec: ModelSpec, *, cache: Path | None = None,
            plan: Sequence[str] | None = None) -> tuple[Path, Verdict]:
    """The ONNX file for ``spec`` and its verdict: from the cache, or exported, quantized and
    judged against torch now (seconds, once per model and machine)."""
    plan = tuple(plan or quantization_plan(cpu_features()))
    folder = export_folder(spec, cache)
    cached = read_verdict(verdict_path(folder, plan))
    if cached is None:
        # The only way to torch from here: a cold cache. Imported late so that serving from a
        # warm one never loads the exporter's libraries.
        from .onnx_export import export_once

        cached = export_once(spec, folder, plan, lambda path: OnnxEmbedder.from_file(spec, path))
    return model_path(folder, cached.variant), cached


def cpu_session(path: Path, threads: int | None) -> tuple[Any, int]:
    """An ONNX Runtime session of ``path`` running one thread per run, and how many runs to
    make at once (``threads``, else the cores this process may use): on two cores, two runs
    of one thread beat one run of two threads sharing each (smaller) matrix product."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # a torn or foreign file: say where it is
        raise OnnxUnavailable(f"{path} cannot be loaded ({exc}); delete it to export again") from exc
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return session, threads or cores or 1


class OnnxEmbedder:
    """A :class:`~.protocols.RegionEmbedder` on ONNX Runtime.

    Texts are tokenized once, in Rust, sorted by length and cut into batches of similar
    length (little padding); the batches run on one thread per core against one session.
    """

    backend: str

    def __init__(self, name: str = DEFAULT_MODEL, *, cache: Path | None = None,
                 plan: Sequence[str] | None = None, threads: int | None = None) -> None:
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise OnnxUnavailable("onnxruntime is not installed: pip install onnxruntime") from exc
        spec = ModelSpec.read(Path(resolve_model(name)))
        path, verdict = prepare(spec, cache=cache, plan=plan)
        self._setup(name, spec, path, threads)
        self.verdict = verdict
        self.backend = f"onnxruntime {verdict.variant} (cosine to torch {verdict.mean_cosine:.4f})"

    @classmethod
    def from_file(cls, spec: ModelSpec, path: Path, threads: int | None = None) -> OnnxEmbedder:
        """An embedder on a given ONNX file, unjudged (used while judging)."""
        self = cls.__new__(cls)
        self._setup(str(spec.folder), spec, path, threads)
        self.backend = f"onnxruntime {path.stem}"
        return self

    def _setup(self, name: str, spec: ModelSpec, path: Path, threads: int | None) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.dimension = spec.dimension
        self.max_tokens = spec.max_seq_length - 2
        self.languages = model_languages(spec.folder)
        self.path = path
        self._session, self._workers = cpu_session(path, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        tokenizer_file = str(spec.transformer / "tokenizer.json")
        self._tokenizer = Tokenizer.from_file(tokenizer_file)
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(spec.max_seq_length)
        # Counting sees the whole text: the chunker must know a passage is too long.
        self._counter = Tokenizer.from_file(tokenizer_file)
        self._counter.no_padding()
        self._counter.no_truncation()
        # What counting tokenized, kept so that a chunk is put together from its title's and
        # sentences' word pieces rather than tokenized again (see _composed).
        self._frame = _bert_frame(self._tokenizer)
        self._counted: dict[str, Any] = {}
        self._counted_lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._counter.encode_batch(list(texts), add_special_tokens=False)
        if self._frame is not None:
            with self._counted_lock:
                if len(self._counted) + len(texts) > _COUNTED:
                    # The oldest half goes: the indexer embeds what it counted a few batches
                    # ago at most.
                    kept = list(self._counted.items())[len(self._counted) // 2:]
                    self._counted = dict(kept)
                self._counted.update(zip(texts, encodings, strict=True))
        return [len(e.ids) for e in encodings]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(texts, None)[0]

    def embed_with_regions(self, texts: Sequence[str], regions: Regions
                           ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """The vectors of ``texts``, and for each text the sum of its token vectors over each
        of its ``regions`` (character offsets into the text) with the number of tokens summed:
        sentence vectors pooled out of the passage's own forward pass ("late chunking"), at no
        extra model cost. Sums, not means, so a sentence split over two chunks adds up."""
        return self._run(texts, regions)

    def _run(self, texts: Sequence[str], regions: Regions | None
             ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled: list[tuple[np.ndarray, np.ndarray]] = [
            (np.zeros((len(r), self.dimension), np.float32), np.zeros(len(r), np.int64))
            for r in regions or ()]
        if not texts:
            return out, pooled
        encodings = self._encoded(texts, regions)
        lengths = np.array([len(ids) for ids, _ in encodings])
        order = np.argsort(lengths, kind="stable")
        batches: list[np.ndarray] = []
        # A few short texts (a question's candidate sentences) still make one batch per core.
        most = max(1, min(_MAX_BATCH, -(-len(order) // self._workers)))
        start = 0
        while start < len(order):
            # Sorted ascending, so the batch's last text is its longest: grow while the padded
            # batch stays within the token budget.
            end = start + 1
            while (end < len(order) and end - start < most
                   and (end - start + 1) * lengths[order[end]] <= _BATCH_TOKENS):
                end += 1
            batches.append(order[start:end])
            start = end
        outputs = ["embedding", "tokens"] if regions is not None else ["embedding"]

        def run(batch: np.ndarray) -> None:
            width = int(lengths[batch[-1]])
            ids = np.zeros((len(batch), width), dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                tokens = encodings[index][0]
                ids[row, :len(tokens)] = tokens
                mask[row, :len(tokens)] = 1
            result = self._session.run(outputs, {"input_ids": ids, "attention_mask": mask})
            out[batch] = result[0]
            if regions is None:
                return
            for row, index in enumerate(batch):
                if not regions[index]:
                    continue
                starts = encodings[index][1]
                sums, counts = pooled[index]
                vectors = result[1][row, :len(starts)]
                for n, (a, b) in enumerate(regions[index]):
                    inside = (starts >= a) & (starts < b)
                    if inside.any():
                        sums[n] = vectors[inside].sum(axis=0)
                        counts[n] = int(inside.sum())

        if len(batches) == 1 or self._workers == 1:
            for batch in batches:
                run(batch)
        else:
            list(self._executor().map(run, batches))
        # Normalised again in float32: the graph's own division is done at its precision.
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out, pooled

    def _encoded(self, texts: Sequence[str], regions: Regions | None
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text's token ids and where each token starts in it (-1: a special token):
        put together from what counting kept when the text is a chunk whose pieces it
        counted, tokenized (once) otherwise."""
        import numpy as np

        found: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(texts)
        if regions is not None and self._frame is not None:
            with self._counted_lock:
                counted = self._counted
            for n, (text, spans) in enumerate(zip(texts, regions, strict=True)):
                found[n] = self._composed(text, spans, counted)
        missing = [n for n, f in enumerate(found) if f is None]
        if missing:
            for n, encoding in zip(missing, self._tokenizer.encode_batch([texts[n] for n in missing]),
                                   strict=True):
                offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
                word = (np.array(encoding.special_tokens_mask) == 0) & (offsets[:, 1] > offsets[:, 0])
                found[n] = (np.array(encoding.ids, dtype=np.int64), np.where(word, offsets[:, 0], -1))
        encoded = [f for f in found if f is not None]
        assert len(encoded) == len(found)  # each text composed or tokenized above
        return encoded

    def _composed(self, text: str, spans: Sequence[tuple[int, int]], counted: dict[str, Any]
                  ) -> tuple[np.ndarray, np.ndarray] | None:
        """A chunk's encoding from its pieces' (its title, then its sentences: ``spans``),
        when counting tokenized every piece and only white space lies between them. A BERT
        tokenizer splits words at white space and normalises character by character, so the
        pieces' word pieces, in order, between [CLS] and [SEP], are what tokenizing the
        whole text gives (tests check it on real releases). None: tokenize it."""
        import numpy as np

        assert self._frame is not None
        pieces: list[tuple[int, int]] = []
        cursor = 0
        if spans:
            head = text[:spans[0][0]].rstrip()
            if head:
                pieces.append((0, len(head)))
                cursor = len(head)
        for a, b in spans:
            if (pieces and a <= cursor) or not _BERT_SPACE.fullmatch(text, cursor, a):
                return None  # pieces touching or overlapping, or text between them
            pieces.append((a, b))
            cursor = b
        if not pieces or not _BERT_SPACE.fullmatch(text, cursor):
            return None
        ids: list[np.ndarray] = [self._frame[0]]
        starts: list[np.ndarray] = [np.array([-1], dtype=np.int64)]
        for a, b in pieces:
            encoding = counted.get(text[a:b])
            if encoding is None:
                return None
            offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
            ids.append(np.array(encoding.ids, dtype=np.int64))
            starts.append(np.where(offsets[:, 1] > offsets[:, 0], offsets[:, 0] + a, -1))
        ids.append(self._frame[1])
        starts.append(np.array([-1], dtype=np.int64))
        joined = np.concatenate(ids)
        if joined.size > self.max_tokens + 2:
            return None  # tokenizing would truncate it
        return joined, np.concatenate(starts)

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="onnx")
            return self._pool


def _bert_frame(tokenizer: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The [CLS] and [SEP] ids around a single text, for a BERT-style tokenizer (word
    pieces, words split at white space, normalised character by character) whose encodings
    can be put together from pieces; None for any other."""
    import numpy as np

    kinds = (type(tokenizer.pre_tokenizer).__name__, type(tokenizer.normalizer).__name__,
             type(tokenizer.model).__name__)
    if kinds != ("BertPreTokenizer", "BertNormalizer", "WordPiece"):
        return None
    try:
        template = json.loads(tokenizer.post_processor.__getstate__())
        single = template["single"]
        special = template["special_tokens"]
        if (template.get("type") != "TemplateProcessing" or len(single) != 3
                or "Sequence" not in single[1]):
            return None
        cls, sep = (special[part["SpecialToken"]["id"]]["ids"] for part in (single[0], single[2]))
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return np.array(cls, dtype=np.int64), np.array(sep, dtype=np.int64)
