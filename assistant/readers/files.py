"""What every reader shares: where a file sits (:class:`_Origin`), walking a folder, the
size checks and the short reasons a failure is reported with."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.cleaning import safe_label
from assistant.errors import ReadError

LINK_OUTSIDE = "a link to outside the indexed folder; not followed"
"""The reason a folder walk gives for a link (to a file or a folder) that leads out of the
folder being read."""


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where a file sits: what was given to read_path, and the file's label in it."""

    file: Path
    label: str  # the Document id of a file, and the prefix of export record ids
    source: str
    collection: str
    leaves: bool = False
    """Found in the folder ``source`` through a link that leads out of it."""

    @classmethod
    def of(cls, file: Path, root: Path | None) -> _Origin:
        resolved = file.resolve()
        if root is None:
            name = safe_label(resolved.name)
            return cls(resolved, name, str(resolved), name)
        real_root = root.resolve()
        collection = safe_label(real_root.name)
        if leaves_folder(file, root):
            # Named as it stands in the folder: its target's path means nothing there.
            label = Path(os.path.abspath(file)).relative_to(os.path.abspath(root)).as_posix()
            return cls(resolved, safe_label(label), str(real_root), collection, leaves=True)
        try:
            label = resolved.relative_to(real_root).as_posix()
        except ValueError:  # a file outside the folder named as its root: use its name
            label = resolved.name
        return cls(resolved, safe_label(label), str(real_root), collection)


def leaves_folder(file: Path, root: Path) -> bool:
    """``file``, a path inside the folder ``root``, is, or lies under, a link whose target is
    outside that folder."""
    try:
        inside = Path(os.path.abspath(file)).is_relative_to(os.path.abspath(root))
        return inside and not file.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):  # a link loop: not readable, but not outside either
        return False


def _walk(folder: Path, root: Path | None = None, seen: set[Path] | None = None,
          files: set[Path] | None = None) -> Iterator[Path]:
    """Files under ``folder`` in sorted order, without hidden entries or Office lock files.

    Links are followed only to what lies inside the folder being walked (``root``, the
    folder itself at the top): a link to outside it, to a file or a folder, is yielded as it
    is, not followed, and reading it gives a Skipped (see :func:`leaves_folder`). A folder
    reached twice through links is walked once, a file reached twice is yielded once."""
    seen = seen if seen is not None else set()
    files = files if files is not None else set()
    try:
        real = folder.resolve()
        root = root if root is not None else real
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except (OSError, RuntimeError):  # unreadable folder or link loop: nothing to name here
        return
    if real in seen:
        return
    seen.add(real)
    for entry in entries:
        if entry.name.startswith((".", "~$")):
            continue
        try:
            if entry.is_symlink():
                target = entry.resolve(strict=True)  # a broken link or a loop raises
                if not target.is_relative_to(root):
                    yield entry  # reported, not followed
                    continue
            is_dir, is_file = entry.is_dir(), entry.is_file()
            target = entry.resolve()
        except (OSError, RuntimeError):
            continue
        if is_dir:
            yield from _walk(entry, root, seen, files)
        elif is_file and target not in files:
            files.add(target)
            yield entry


def _crash_reason(error: Exception) -> str:
    return f"could not be read ({type(error).__name__}: {_short(error)})"


def _short(error: Exception) -> str:
    """An exception's message, cut to a readable length."""
    detail = " ".join(str(error).split()) or type(error).__name__
    return detail if len(detail) <= 120 else detail[:120] + "…"


def _check_size(size: int, limit: int, what: str) -> None:
    if size > limit:
        raise ReadError(f"too large {what} ({_megabytes(size)} > {_megabytes(limit)} limit)")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.0f} MB" if size >= 1e6 else f"{size / 1e6:.1f} MB"


def _read_bytes(file: Path) -> bytes:
    try:
        return file.read_bytes()
    except OSError as error:
        raise ReadError(f"cannot read the file: {error.strerror or error}") from error
