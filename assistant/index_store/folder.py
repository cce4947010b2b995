"""The index folder itself: its manifest, the write lock, and recovery from a killed rebuild.

The manifest's presence means "an index is here"; the write lock (``flock`` on
``write.lock``) is held by the one process that writes; :func:`recover` finishes or undoes a
``--rebuild`` killed between its two renames. What lives in the folder besides is the other
modules' (see the package's docstring).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..atomic import write_bytes
from ..errors import IndexCorrupt, IndexLocked, IndexMismatch, IndexNotFound, IndexReadOnly

FORMAT_VERSION = 4  # 2: the keyword index holds our own stems; 3: sentence spans keep a dateline
#                      apart and join hard-wrapped lines (chunking.split_sentences); 4: Kazakh
#                      words stemmed as Kazakh, Sinhala and Tamil words whole (lexical.stems,
#                      database.FTS_TOKENIZER), sentences of languages pysbd has no rules for
#                      split by sentencex
RESTEMMED_FORMATS = frozenset({3})
"""Formats that differ from this one in the keyword index alone (its stems, its tokenizer):
opened for writing, such an index has it made again from its stored texts
(``KeywordIndex.restem``), with nothing embedded again (the indexing run then reads its files
again, as after any change of format, and skips their unchanged documents by their hash). Its
sentence spans stay as they were found, exact still: a Sinhala or Tamil release is split by
sentencex when it changes."""
MANIFEST = "manifest.json"
STORE = "store.sqlite3"
LOCK = "write.lock"


def now() -> str:
    """The current time as the manifest and the store record it (UTC, to the second)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Manifest:
    format_version: int
    model: str
    dimension: int
    chunk_tokens: int
    overlap_tokens: int
    created_at: str
    updated_at: str
    vectors: dict[str, Any] = field(default_factory=dict)
    """The FAISS layout (vectors.Layout): exact, or IVF with its parameters and the recall
    measured when it was built. Empty: exact (an index from before the choice)."""
    title_tokens: int = 48
    """Word pieces of the title in each chunk's embedded text (48: indexes from before the
    setting)."""

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except FileNotFoundError:
            raise IndexNotFound(
                f"no index at {folder}: build one with `press-assistant index PATH --index {folder}`"
            ) from None
        except (ValueError, KeyError, TypeError) as exc:
            raise IndexCorrupt(f"{path} is unreadable ({exc}); rebuild with `index --rebuild`") from exc

    def write(self, folder: Path) -> None:
        write_bytes(folder / MANIFEST, json.dumps(
            {k: getattr(self, k) for k in self.__dataclass_fields__}, indent=2).encode())


class IndexFolder:
    """An open index folder, shared by the store's parts: where it is, its manifest as this
    process knows it, and whether this process may write (it then holds the write lock)."""

    def __init__(self, path: Path, manifest: Manifest, *, writable: bool) -> None:
        self.path = path
        self.manifest = manifest
        self.writable = writable
        self.lock_fd: int | None = None
        """The write lock's file descriptor while held (closing it lets the lock go)."""

    def require_writable(self) -> None:
        """:class:`IndexReadOnly` unless this process opened the folder for writing."""
        if not self.writable:
            raise IndexReadOnly("this index was opened for reading")

    def update_manifest(self, **changes: Any) -> None:
        """Write the manifest again with ``changes`` (the FAISS layout, when it changes)."""
        self.manifest = replace(self.manifest, **changes)
        self.manifest.write(self.path)

    def release(self) -> None:
        """Let the write lock go (if held)."""
        if self.lock_fd is not None:
            os.close(self.lock_fd)
            self.lock_fd = None

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.path.iterdir() if p.is_file())


def recover(folder: Path) -> None:
    """Finish or undo a rebuild that was killed between its two renames (see
    ``indexing.rebuild``): the old index comes back unless the new one is complete."""
    retired = folder.with_name(folder.name + ".old")
    staging = folder.with_name(folder.name + ".rebuild")
    if folder.exists() or not retired.exists():
        return
    if (staging / MANIFEST).exists() and (staging / ".complete").exists():
        staging.rename(folder)
    else:
        retired.rename(folder)


def check_manifest(manifest: Manifest, folder: Path, model: str | None, *,
                   writable: bool = False) -> None:
    """:class:`IndexMismatch` for an index of another format, or built by another model
    than ``model`` (when given). An index of a :data:`RESTEMMED_FORMATS` format passes when
    opened for ``writable`` (the opener brings it up to date); read-only, it is told how."""
    if manifest.format_version in RESTEMMED_FORMATS and not writable:
        raise IndexMismatch(
            f"{folder} has index format {manifest.format_version}, whose keyword index holds an "
            f"older version's stems; this version reads {FORMAT_VERSION}: run `press-assistant "
            "index PATH` once to write them again in place (nothing is embedded again), or "
            "rebuild it with `press-assistant index PATH --rebuild`")
    if manifest.format_version != FORMAT_VERSION and not (
            writable and manifest.format_version in RESTEMMED_FORMATS):
        raise IndexMismatch(
            f"{folder} has index format {manifest.format_version}; this version reads "
            f"{FORMAT_VERSION}: rebuild it with `press-assistant index PATH --rebuild`")
    if model is not None and model != manifest.model:
        raise IndexMismatch(
            f"{folder} was built with the embedding model {manifest.model!r}, not {model!r}: "
            f"ask with --model {manifest.model!r}, or re-embed with `index --rebuild --model`")


def take_write_lock(folder: Path) -> int:
    """The folder's write lock, waiting up to two seconds for another writer to let it go;
    :class:`IndexLocked` after that. Returns the descriptor that holds it."""
    fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + 2.0
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(fd)
                raise IndexLocked(
                    f"another indexing run is writing to {folder}; wait for it to finish "
                    "and run again") from None
            time.sleep(0.1)
