"""Files added from the web: kept in the ``uploads`` folder of the corpus folder with safe
names, and the corpus folder indexed again in the background while the chat goes on answering.

The corpus folder is indexed like any other (``press-assistant index corpus/`` gives the same
documents, with the same ids: ``uploads/name.txt``); the web only ever writes and deletes
inside its uploads folder, and deletes only a file the indexer read one document from.

Limits, each refused with a message saying what to do: :data:`MAX_UPLOAD_BYTES` a file,
:data:`MAX_REQUEST_BYTES` the files of one API request, and a quota on the uploads folder as
a whole (:data:`QUOTA_BYTES`, :data:`QUOTA_FILES`; :class:`Uploader` takes others). A set of
files is checked whole before any of it is saved: a refused one leaves nothing on disk.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import staged
from .errors import QuotaExceeded, UnsupportedFormat, UploadTooLarge

if TYPE_CHECKING:
    from .documents import Document, IndexReport
    from .service import Assistant

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Per file: a press release, even a PDF with pictures, is far smaller."""
MAX_REQUEST_BYTES = 4 * MAX_UPLOAD_BYTES
"""The files of one request to the API together (counted as they are copied, not as
declared)."""
QUOTA_BYTES = 1024**3
"""What the uploads folder may hold in all (1 GiB): thousands of releases, and a bound on
what anyone with the password can put on the server's disk."""
QUOTA_FILES = 10_000
"""How many files the uploads folder may hold."""

MAX_NAME_BYTES = 255 - len("." + f".{2**22}.tmp")
"""A saved name's UTF-8 bytes: file systems allow 255 a name, and the file is first written
as ``.<name>.<pid>.tmp`` (:func:`atomic.temporary_sibling`; 2**22 is Linux's largest pid)."""

# One save at a time in this process: the quota check and the choice of a free name hold
# only while no other save runs between them and the copy.
_SAVING = threading.Lock()


def allowed_suffixes() -> frozenset[str]:
    """The suffixes some registered reader claims, asked each time: a format registered
    after import can be uploaded too."""
    from .readers.registry import suffixes

    return suffixes()


def _cut(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8, at a character boundary."""
    return text.encode("utf-8")[:max(max_bytes, 0)].decode("utf-8", errors="ignore")


def _fit(stem: str, tail: str) -> str:
    """``stem + tail`` with the stem cut so the whole fits in :data:`MAX_NAME_BYTES`."""
    return (_cut(stem, MAX_NAME_BYTES - len(tail.encode("utf-8"))) or "upload") + tail


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder: the last path component only, no
    leading dots, only letters, digits, ``.``, ``-`` and ``_`` (others become ``_``), and
    short enough for any file system (:data:`MAX_NAME_BYTES` of UTF-8, the extension kept)."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKC", base).strip().lstrip(".")
    base = re.sub(r"[^\w.-]+", "_", base, flags=re.UNICODE).strip("_")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    # An extension this long is none the readers know (refused anyway); cut, it cannot crowd
    # out the whole name.
    suffix = _cut(suffix.lower(), 32)
    return _fit(stem or "upload", f".{suffix}" if suffix else "")


def checked_name(name: str) -> str:
    """The :func:`safe_name` of ``name``, when it is of a type the indexer reads; else
    :class:`UnsupportedFormat` naming the types that are."""
    clean = safe_name(name)
    suffix = Path(clean).suffix.lower()
    if suffix not in allowed_suffixes():
        raise UnsupportedFormat(f"{name}: {suffix or 'no extension'} files cannot be indexed "
                                f"(allowed: {', '.join(sorted(allowed_suffixes()))})")
    return clean


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def usage(folder: Path) -> tuple[int, int]:
    """Bytes and files under ``folder`` (links not followed: they are not uploads)."""
    total = count = 0
    for top, _, names in os.walk(folder):
        for name in names:
            try:
                st = os.lstat(os.path.join(top, name))
            except OSError:  # gone meanwhile
                continue
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
                count += 1
    return total, count


def check_quota(folder: Path, adding_bytes: int, adding_files: int, *,
                quota_bytes: int = QUOTA_BYTES, quota_files: int = QUOTA_FILES) -> None:
    """:class:`QuotaExceeded` when ``adding_files`` files of ``adding_bytes`` would take the
    uploads folder past its quota."""
    held, files = usage(folder) if folder.is_dir() else (0, 0)
    if held + adding_bytes > quota_bytes or files + adding_files > quota_files:
        raise QuotaExceeded(
            f"the uploads folder is full: it holds {files:,} files, {_size(held)}, of a quota "
            f"of {quota_files:,} files, {_size(quota_bytes)}, and these {adding_files} files "
            f"({_size(adding_bytes)}) would go past it. Remove uploaded documents you no "
            "longer need, or ask the server's operator to raise the uploads quota")


def save_uploads(files: Sequence[tuple[Path, str]], folder: Path, *,
                 max_bytes: int = MAX_UPLOAD_BYTES, quota_bytes: int = QUOTA_BYTES,
                 quota_files: int = QUOTA_FILES) -> list[Path]:
    """Copy uploaded files (each a temporary ``source`` with its original ``name``) into
    ``folder`` under safe forms of their names, all or none: every file's type and size and
    the folder's quota are checked before the first is saved, and a failure while saving
    deletes what this call saved. An existing file of a name gets a numbered sibling, so an
    upload never replaces another. :class:`UnsupportedFormat` for a type not read,
    :class:`UploadTooLarge` for a file over ``max_bytes``, :class:`QuotaExceeded` for a folder
    past its quota."""
    names = [checked_name(name) for _, name in files]
    sizes = [source.stat().st_size for source, _ in files]
    for (_, name), size in zip(files, sizes, strict=True):
        if size > max_bytes:
            raise UploadTooLarge(f"{name}: {size / 1e6:.1f} MB is over the "
                             f"{max_bytes / 1e6:.0f} MB limit")
    saved: list[Path] = []
    with _SAVING:
        check_quota(folder, sum(sizes), len(files), quota_bytes=quota_bytes,
                    quota_files=quota_files)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            for (source, _), clean in zip(files, names, strict=True):
                saved.append(_save_one(source, clean, folder))
        except BaseException:
            for path in saved:
                path.unlink(missing_ok=True)
            raise
    return saved


def _save_one(source: Path, clean: str, folder: Path) -> Path:
    stem, suffix = Path(clean).stem, Path(clean).suffix
    target = folder / clean
    number = 1
    while target.exists():
        number += 1
        target = folder / _fit(stem, f"-{number}{suffix}")
    # Copied under a hidden name (.<name>.<pid>.tmp): a folder walk skips it until it is whole.
    with staged(target) as tmp:
        shutil.copyfile(source, tmp)
    return target


def save_upload(source: Path, name: str, folder: Path, *, max_bytes: int = MAX_UPLOAD_BYTES,
                quota_bytes: int = QUOTA_BYTES, quota_files: int = QUOTA_FILES) -> Path:
    """Copy one uploaded file (``source``, a temporary file) into ``folder`` under a safe form
    of its original ``name``: :func:`save_uploads` for one file."""
    return save_uploads([(source, name)], folder, max_bytes=max_bytes,
                        quota_bytes=quota_bytes, quota_files=quota_files)[0]


def upload_path(assistant: Assistant, doc_id: str, folder: Path) -> Path | None:
    """The file removing ``doc_id`` deletes: the one the indexer read this document (and
    nothing else) from, when it lies inside the uploads ``folder``; else None. Never a path
    the document itself names: an export's record may name any file."""
    path = assistant.source_file(doc_id)
    if path is None:
        return None
    root = Path(os.path.realpath(folder))
    return path if path != root and path.is_relative_to(root) else None


REMOVED_NOTE = {
    True: "its uploaded file was deleted too",
    False: ("no file was deleted (only an uploaded file holding this one document is): the "
            "document comes back when its folder is indexed again, as the corpus folder is "
            "after every upload"),
}
"""What :func:`remove` did with files, in words, by whether it deleted one."""


def remove(assistant: Assistant, doc_id: str, folder: Path | None) -> tuple[Document, bool]:
    """Take ``doc_id`` out of the index and, when it was read from an upload of its own (a
    file inside ``folder`` holding this one document; None: uploads are off), delete that
    file too, or indexing the corpus folder again would bring it back. No other file is ever
    touched: a record of an uploaded export leaves the export in place. Returns the removed
    document and whether a file was deleted; an unknown id raises :class:`QueryError`."""
    path = upload_path(assistant, doc_id, folder) if folder is not None else None
    doc = assistant.remove(doc_id)
    if path is None:
        return doc, False
    try:
        path.unlink()
    except FileNotFoundError:  # gone meanwhile: nothing was deleted here
        return doc, False
    return doc, True


@dataclass(frozen=True, slots=True)
class UploadStatus:
    """What the background indexing of uploads is doing, for the progress bar."""

    running: bool = False
    stage: str = ""
    done: int = 0
    total: int = 0
    message: str = ""
    report: IndexReport | None = None
    finished_at: float | None = None

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


UPLOADS = "uploads"


@dataclass
class Uploader:
    """Indexes the corpus folder (uploads included) in a background thread, one run at a
    time; a run asked for while one is going starts again when it ends, so no saved file is
    left unindexed."""

    assistant: Assistant
    corpus: Path
    quota_bytes: int = QUOTA_BYTES
    """What the uploads folder may hold in all."""
    quota_files: int = QUOTA_FILES
    """How many files the uploads folder may hold."""
    request_bytes: int = MAX_REQUEST_BYTES
    """The files of one API request together."""
    _status: UploadStatus = field(default_factory=UploadStatus)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _again: bool = False
    _thread: threading.Thread | None = None

    @property
    def folder(self) -> Path:
        """Where uploads are saved."""
        return self.corpus / UPLOADS

    def save(self, files: Sequence[tuple[Path, str]], *,
             max_bytes: int = MAX_UPLOAD_BYTES) -> list[Path]:
        """:func:`save_uploads` into :attr:`folder`, within this uploader's quota."""
        return save_uploads(files, self.folder, max_bytes=max_bytes,
                            quota_bytes=self.quota_bytes, quota_files=self.quota_files)

    @property
    def status(self) -> UploadStatus:
        with self._lock:
            return self._status

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._status = UploadStatus(running=True, stage="reading", message="starting")
            self._thread = threading.Thread(target=self._run, name="index-uploads", daemon=True)
            self._thread.start()

    def wait(self, timeout: float | None = None) -> UploadStatus:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status

    def _progress(self, stage: str, done: int, total: int) -> None:
        with self._lock:
            self._status = replace(self._status, stage=stage, done=done, total=total,
                                   message=f"{stage} {done}/{total}")

    def _run(self) -> None:
        from .errors import AssistantError

        while True:
            try:
                report = self.assistant.index([self.corpus], progress=self._progress)
                status = UploadStatus(stage="done", message=report.summary(), report=report,
                                      finished_at=time.time())
            except AssistantError as exc:
                status = UploadStatus(stage="failed", message=str(exc), finished_at=time.time())
            except Exception as exc:  # a bug must not kill the thread silently; the log keeps it
                import logging

                logging.getLogger(__name__).exception("indexing uploads failed")
                status = UploadStatus(stage="failed", message=f"indexing failed: {exc}",
                                      finished_at=time.time())
            with self._lock:
                if self._again:
                    self._again = False
                    self._status = UploadStatus(running=True, stage="reading", message="again")
                    continue
                self._status = status
                return
