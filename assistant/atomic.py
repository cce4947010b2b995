"""Write-then-rename: a file or folder takes its name only once it is whole.

Everything the package writes that a kill must never leave half-done goes through here: the
index folder's manifest, vectors and keyword snapshots, the ONNX cache, exports and uploads.
A reader sees the old version or the new one; a crash leaves at most a hidden temporary
sibling (``.<name>.<pid>.tmp``), which :func:`clear_stale` removes.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "manifest.json"
>>> write_bytes(target, b"{}")
>>> target.read_bytes()
b'{}'
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def temporary_sibling(path: Path) -> Path:
    """The hidden name ``path`` is written under first: same folder (so the rename is atomic,
    never a copy across file systems), this process's id (so two writers never share one)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _fsync_tree(path: Path) -> None:
    # Flushed before the rename: otherwise a power cut can leave the new name on empty files.
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        with open(file, "rb") as fh:
            os.fsync(fh.fileno())


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


@contextmanager
def staged(path: Path, *, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write (a new empty folder when ``folder``);
    when the block ends without an error it is flushed to disk and renamed to ``path``,
    replacing what was there (a folder whole); on an error it is removed and ``path`` is
    left as it was."""
    tmp = temporary_sibling(path)
    _remove(tmp)  # a leftover of an earlier run of a process with the same id
    if folder:
        tmp.mkdir()
    try:
        yield tmp
        _fsync_tree(tmp)
        if folder and path.exists():
            # os.replace cannot put a folder over a non-empty one: the old one goes first, so
            # a kill between the two leaves no folder at all, never a half-written one.
            _remove(path)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """``path`` holds ``data``, whole, or what it held before."""
    with staged(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """``path`` holds ``text`` (UTF-8), whole, or what it held before."""
    write_bytes(path, text.encode("utf-8"))


def clear_stale(folder: Path) -> list[Path]:
    """Remove the temporary siblings a killed writer left in ``folder`` (not recursive);
    call it only while holding the folder's write lock. Returns what was removed."""
    removed = []
    for path in folder.glob(".*.tmp"):
        _remove(path)
        removed.append(path)
    return removed
