"""The embedding model run by ONNX Runtime, int8, with the torch model as the judge.

Why: on a CPU the torch forward pass is nearly all of an indexing run's time. The same
sentence-transformers model exported to ONNX and quantized to int8 (dynamic quantization:
weights int8, activations quantized on the fly) computes the same vectors two to three times
faster on two cores, and needs neither torch nor transformers at run time, which also makes a
cold start short.

Exported on first use from the local model folder (torch's exporter, then onnxruntime's own
quantizer) and cached under ``~/.cache/press-assistant/onnx/``. The quantization is chosen
by the CPU's features, and a candidate is used only when its vectors agree with the torch
model's (mean cosine ≥ :data:`MIN_AGREEMENT`) on real text: the model card's prose that
ships with every sentence-transformers model. The verdict is cached beside the file; when no
candidate agrees, :class:`OnnxUnavailable` says so and the caller falls back to torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import DEFAULT_MODEL
from .embedding import model_languages, resolve_model
from .errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MIN_AGREEMENT = 0.99
"""Mean cosine between ONNX and torch vectors below which an ONNX model is not used."""

_EXPORT_VERSION = 3  # bump when the export or the quantization recipe changes (3: fused BERT)
_BATCH_TOKENS = 4096  # padded tokens per forward pass: 16 chunks of 256, or many short texts
_MAX_BATCH = 64
_BERT_SPACE = re.compile(r"[ \t\n\r\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]*")
"""White space as BERT's tokenizer splits at it (a control character it deletes instead, so
the text around it would join into one word: such a gap is not one)."""
_COUNTED = 20_000
"""Counted texts kept for putting chunks together (a few indexing batches' sentences)."""


class OnnxUnavailable(ConfigError):
    """The ONNX path cannot serve this model here (no onnxruntime, an unsupported model, or
    no quantization agreed with torch); torch can."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """What the export needs to know about a sentence-transformers model folder."""

    folder: Path
    transformer: Path
    """The Hugging Face model inside it (modules.json's Transformer path)."""
    max_seq_length: int
    pooling: str
    """"mean" or "cls": the two poolings the exported graph implements."""
    dimension: int

    @classmethod
    def read(cls, folder: Path) -> ModelSpec:
        try:
            modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OnnxUnavailable(f"{folder} is not a sentence-transformers model folder") from exc
        kinds = {m["type"].rsplit(".", 1)[-1]: m.get("path", "") for m in modules}
        if set(kinds) - {"Transformer", "Pooling", "Normalize"} or "Pooling" not in kinds:
            raise OnnxUnavailable(f"{folder}: modules {sorted(kinds)} have no ONNX export here")
        transformer = folder / kinds.get("Transformer", "")
        if not (transformer / "tokenizer.json").is_file():
            raise OnnxUnavailable(f"{transformer} has no tokenizer.json (a fast tokenizer)")
        pooling = json.loads((folder / kinds["Pooling"] / "config.json").read_text(encoding="utf-8"))
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
        if modes == ["pooling_mode_mean_tokens"]:
            mode = "mean"
        elif modes == ["pooling_mode_cls_token"]:
            mode = "cls"
        else:
            raise OnnxUnavailable(f"{folder}: pooling {modes} has no ONNX export here")
        config = {}
        for name in ("sentence_bert_config.json", "sentence_xlnet_config.json"):
            if (transformer / name).is_file():
                config = json.loads((transformer / name).read_text(encoding="utf-8"))
        max_seq = int(config.get("max_seq_length") or 512)
        return cls(folder, transformer, max_seq, mode, int(pooling["word_embedding_dimension"]))

    def fingerprint(self) -> str:
        """Changes when the model's files do: the cache key of its export."""
        digest = hashlib.sha256(f"v{_EXPORT_VERSION}|{self.folder.resolve()}".encode())
        for path in sorted(self.folder.rglob("*")):
            if path.is_file() and not path.name.startswith("."):
                stat = path.stat()
                digest.update(f"|{path.relative_to(self.folder)}:{stat.st_size}:{stat.st_mtime_ns}"
                              .encode())
        return digest.hexdigest()[:16]


def cpu_features() -> frozenset[str]:
    """The CPU flags that decide the quantization (Linux; empty where unknown)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith(("flags", "Features")):
            return frozenset(line.split(":", 1)[1].split())
    return frozenset()


def quantization_plan(features: frozenset[str], machine: str | None = None) -> tuple[str, ...]:
    """Candidates, fastest first; the first that agrees with torch is used.

    With VNNI (AVX-512 or AVX) int8 products are native: signed int8 weights, per channel.
    With AVX2 alone the u8 x s8 product goes through an instruction that can saturate, so a
    7-bit ("reduced range") variant follows in case the first disagrees, then float32 ONNX
    (still faster than torch, and exact). Elsewhere float32 only, except ARM's dot products.
    """
    machine = (machine or platform.machine()).lower()
    if features & {"avx512_vnni", "avx_vnni", "amx_int8"}:
        return ("int8", "fp32")
    if "avx2" in features:
        return ("int8", "int8-reduced", "fp32")
    if machine in {"aarch64", "arm64"}:
        return ("int8", "fp32")
    return ("fp32",)


def cache_root() -> Path:
    if value := os.environ.get("PRESS_ASSISTANT_CACHE"):
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "press-assistant"


@dataclass(frozen=True, slots=True)
class Verdict:
    """Which ONNX file serves the model, and how well it agreed with torch."""

    variant: str
    mean_cosine: float
    min_cosine: float
    texts: int
    tried: dict[str, float]
    """Every candidate measured: variant -> mean cosine."""


def prepare(spec: ModelSpec, *, cache: Path | None = None,
            plan: Sequence[str] | None = None) -> tuple[Path, Verdict]:
    """The ONNX file for ``spec`` and its verdict: from the cache, or exported, quantized and
    judged against torch now (seconds, once per model and machine)."""
    plan = tuple(plan or quantization_plan(cpu_features()))
    folder = (cache or cache_root()) / "onnx" / f"{spec.folder.name}-{spec.fingerprint()}"
    key = "+".join(plan)
    verdict_path = folder / f"verdict-{key}.json"
    cached = _read_verdict(verdict_path)
    if cached is not None:
        return folder / f"model-{cached.variant}.onnx", cached
    folder.mkdir(parents=True, exist_ok=True)
    # One exporter at a time per model; another process waiting here then finds the verdict.
    with _file_lock(folder / ".lock"):
        cached = _read_verdict(verdict_path)
        if cached is None:
            cached = _export_and_judge(spec, folder, plan)
            _write_json(verdict_path, {"variant": cached.variant, "mean_cosine": cached.mean_cosine,
                                       "min_cosine": cached.min_cosine, "texts": cached.texts,
                                       "tried": cached.tried})
    return folder / f"model-{cached.variant}.onnx", cached


def _read_verdict(path: Path) -> Verdict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        verdict = Verdict(**data)
    except (OSError, ValueError, TypeError):
        return None
    if verdict.variant == "none":
        raise OnnxUnavailable(
            f"no ONNX variant agreed with the torch model (mean cosine {verdict.tried}, "
            f"needed {MIN_AGREEMENT}); delete {path.parent} to judge again")
    return verdict if (path.parent / f"model-{verdict.variant}.onnx").is_file() else None


def _export_and_judge(spec: ModelSpec, folder: Path, plan: Sequence[str]) -> Verdict:
    import numpy as np

    log.info("exporting %s to ONNX (once per model) in %s", spec.folder.name, folder)
    fp32 = folder / "model-fp32.onnx"
    if not fp32.is_file():
        _export(spec, fp32)
    texts = probe_texts(spec)
    reference = _torch_vectors(spec, texts)
    tried: dict[str, float] = {}
    for variant in plan:
        path = folder / f"model-{variant}.onnx"
        if not path.is_file():
            _quantize(fp32, path, variant)
        vectors = OnnxEmbedder.from_file(spec, path).embed(texts)
        cosines = np.sum(vectors * reference, axis=1)
        tried[variant] = round(float(cosines.mean()), 5)
        log.info("ONNX %s agrees with torch: mean cosine %.4f", variant, cosines.mean())
        if cosines.mean() >= MIN_AGREEMENT:
            for other in folder.glob("model-*.onnx"):  # keep the one in use only
                if other != path:
                    other.unlink(missing_ok=True)
            return Verdict(variant, round(float(cosines.mean()), 5), round(float(cosines.min()), 5),
                           len(texts), tried)
        path.unlink(missing_ok=True)
    return Verdict("none", 0.0, 0.0, len(texts), tried)


def probe_texts(spec: ModelSpec, *, limit: int = 96) -> list[str]:
    """Real prose to judge agreement on, offline: the paragraphs of the model card (and its
    sentences alone, since questions and quoted sentences are short)."""
    import re

    card = spec.folder / "README.md"
    text = card.read_text(encoding="utf-8", errors="replace") if card.is_file() else ""
    text = re.sub(r"^---\n.*?\n---\n", "", text, flags=re.DOTALL)
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)  # code is not prose
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text)]
    paragraphs = [p for p in paragraphs if len(p.split()) >= 8 and not p.startswith(("|", "#"))]
    sentences = [s for p in paragraphs for s in re.split(r"(?<=[.!?])\s+", p) if len(s.split()) >= 5]
    texts = list(dict.fromkeys(paragraphs + sentences))[:limit]
    if len(texts) < 16:
        raise OnnxUnavailable(f"{card} holds too little prose to check the ONNX model against torch")
    return texts


def _export(spec: ModelSpec, target: Path) -> None:
    """The transformer, its pooling and the normalisation as one ONNX graph (torch's
    TorchScript-based exporter: it needs no extra package)."""
    import warnings

    import torch
    from transformers import AutoModel, AutoTokenizer

    # Eager attention: its graph is the one onnxruntime's BERT optimizer recognises and fuses
    # (the SDPA path exports as ops it leaves alone).
    model = AutoModel.from_pretrained(str(spec.transformer), attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(spec.transformer))

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor,
                    attention_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            if spec.pooling == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            # The token vectors too: the indexer pools each sentence's tokens out of its
            # chunk's pass, so answering needs no model for the sentences.
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1), hidden

    sample = tokenizer(["an example", "a somewhat longer example sentence"], padding=True,
                       return_tensors="pt")
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        staged = Path(tmp) / target.name
        torch.onnx.export(
            Pooled(), (sample["input_ids"], sample["attention_mask"]), str(staged),
            input_names=["input_ids", "attention_mask"], output_names=["embedding", "tokens"],
            dynamic_axes={"input_ids": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"}, "embedding": {0: "batch"},
                          "tokens": {0: "batch", 1: "tokens"}},
            opset_version=17, dynamo=False)
        _fuse(staged, model.config)
        os.replace(staged, target)


def _fuse(path: Path, config: Any) -> None:
    """Fuse a BERT graph in place with onnxruntime's transformer optimizer: attention, the
    embedding and skip layer norms and bias-GELU each become one kernel, which int8
    quantization then turns into QAttention and integer products. On this 2-core AVX2
    machine int8 embeds 1.22x faster fused than unfused (39.1 against 32.0 chunks a second,
    600 Minnesota AG chunks, docs/BENCHMARKS.md) at the same agreement with torch. Other
    architectures, or a graph the optimizer does not recognise, stay as exported."""
    if getattr(config, "model_type", None) != "bert":
        return
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        model = optimize_model(str(path), model_type="bert", num_heads=config.num_attention_heads,
                               hidden_size=config.hidden_size, opt_level=1)
    except Exception as exc:  # an optimizer that cannot read the graph: the plain one serves
        log.warning("ONNX graph not fused (%s); using it unfused", exc)
        return
    fused = model.get_fused_operator_statistics()
    if not fused.get("Attention"):
        log.warning("the ONNX optimizer found no attention to fuse; using the graph unfused")
        return
    model.save_model_to_file(str(path))


def _quantize(source: Path, target: Path, variant: str) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if variant == "fp32":
        shutil.copyfile(source, target)
        return
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        staged = Path(tmp) / target.name
        # Per-channel scales keep the vectors within the agreement bar (per-tensor int8 of
        # this model falls to a mean cosine near 0.95).
        # The fused graph's contrib ops (Attention, SkipLayerNormalization) have no type
        # inference in the quantizer: their outputs are float.
        quantize_dynamic(str(source), str(staged), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=variant == "int8-reduced",
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        os.replace(staged, target)


def _torch_vectors(spec: ModelSpec, texts: list[str]) -> np.ndarray:
    from .embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(spec.folder)).embed(texts)


class OnnxEmbedder:
    """An :class:`~assistant.embedding.Embedder` on ONNX Runtime.

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
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name = name
        self.dimension = spec.dimension
        self.max_tokens = spec.max_seq_length - 2
        self.languages = model_languages(spec.folder)
        self.path = path
        options = ort.SessionOptions()
        # One thread per run, several runs at once: on two cores this beats two threads
        # sharing each (smaller) matrix product.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._session = ort.InferenceSession(str(path), options,
                                                 providers=["CPUExecutionProvider"])
        except Exception as exc:  # a torn or foreign file: say where it is
            raise OnnxUnavailable(f"{path} cannot be loaded ({exc}); delete it to export again") from exc
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        self._workers = threads or cores or 1
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

    def embed_with_regions(self, texts: Sequence[str], regions: Sequence[Sequence[tuple[int, int]]]
                           ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """The vectors of ``texts``, and for each text the sum of its token vectors over each
        of its ``regions`` (character offsets into the text) with the number of tokens summed:
        sentence vectors pooled out of the passage's own forward pass ("late chunking"), at no
        extra model cost. Sums, not means, so a sentence split over two chunks adds up."""
        return self._run(texts, regions)

    def _run(self, texts: Sequence[str], regions: Sequence[Sequence[tuple[int, int]]] | None
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

    def _encoded(self, texts: Sequence[str], regions: Sequence[Sequence[tuple[int, int]]] | None
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
        return found  # type: ignore[return-value]

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


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on a file, held for the block (blocking)."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)
