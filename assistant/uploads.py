"""Files added from the web: kept in the ``uploads`` folder of the corpus folder with safe
names, and the corpus folder indexed again in the background while the chat goes on answering.

The corpus folder is indexed like any other (``press-assistant index corpus/`` gives the same
documents, with the same ids: ``uploads/name.txt``); the web only ever writes and deletes
inside its uploads folder.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import QueryError, UnsupportedFormat

if TYPE_CHECKING:
    from .documents import Document, IndexReport
    from .service import Assistant

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Per file: a press release, even a PDF with pictures, is far smaller."""


def allowed_suffixes() -> frozenset[str]:
    from .readers import SUPPORTED_SUFFIXES

    return SUPPORTED_SUFFIXES


def safe_name(name: str) -> str:
    """A file name that stays inside the uploads folder: the last path component only, no
    leading dots, only letters, digits, ``.``, ``-`` and ``_`` (others become ``_``)."""
    base = re.split(r"[\\/]", name)[-1]
    base = unicodedata.normalize("NFKC", base).strip().lstrip(".")
    base = re.sub(r"[^\w.-]+", "_", base, flags=re.UNICODE).strip("_")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = stem[:120] or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def save_upload(source: Path, name: str, folder: Path, *, max_bytes: int = MAX_UPLOAD_BYTES) -> Path:
    """Copy an uploaded file (``source``, a temporary file) into ``folder`` under a safe form
    of its original ``name``; an existing file of that name gets a numbered sibling, so an
    upload never replaces another by accident."""
    clean = safe_name(name)
    suffix = Path(clean).suffix.lower()
    if suffix not in allowed_suffixes():
        raise UnsupportedFormat(f"{name}: {suffix or 'no extension'} files cannot be indexed "
                                f"(allowed: {', '.join(sorted(allowed_suffixes()))})")
    size = source.stat().st_size
    if size > max_bytes:
        raise QueryError(f"{name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / clean
    number = 1
    while target.exists():
        number += 1
        target = folder / f"{Path(clean).stem}-{number}{suffix}"
    tmp = folder / f".{target.name}.part"  # hidden: a folder walk skips it until it is whole
    shutil.copyfile(source, tmp)
    tmp.replace(target)
    return target


def upload_path(doc: Document, folder: Path) -> Path | None:
    """The file of ``doc`` when it is an upload (inside ``folder``), else None: only uploads
    are ever deleted from the web."""
    if not doc.url or "://" in doc.url:
        return None
    path = Path(doc.url).resolve()
    root = folder.resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def remove(assistant: Assistant, doc_id: str, folder: Path | None) -> tuple[Document, bool]:
    """Take ``doc_id`` out of the index and, when it is an upload (its file inside
    ``folder``; None: uploads are off), delete its file too, or indexing the corpus folder
    again would bring it back. No other file is ever touched. Returns the removed document
    and whether a file was deleted; an unknown id raises :class:`QueryError`."""
    doc = assistant.remove(doc_id)
    path = upload_path(doc, folder) if folder is not None else None
    if path is not None:
        path.unlink(missing_ok=True)
    return doc, path is not None


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
    _status: UploadStatus = field(default_factory=UploadStatus)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _again: bool = False
    _thread: threading.Thread | None = None

    @property
    def folder(self) -> Path:
        """Where uploads are saved."""
        return self.corpus / UPLOADS

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
