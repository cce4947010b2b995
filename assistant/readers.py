"""Read files, folders and site exports into :class:`~assistant.documents.Document`.

>>> from pathlib import Path
>>> for item in read_path(Path("corpus")):            # doctest: +SKIP
...     print(item.id if isinstance(item, Document) else f"skipped {item.path}: {item.reason}")

A file's type is decided by its content, not its name: a Word file saved as ``.pdf`` is read
as Word, a text file saved as ``.pdf`` as text. One bad file (or one bad export record)
becomes a :class:`~assistant.documents.Skipped` with a reason; the run goes on.

Heavy libraries (pypdf, python-docx, trafilatura, charset-normalizer, py3langid)
are imported inside the functions that need them, so ``import assistant.readers`` is instant.

Decisions:

- Folder walks skip hidden files and folders and Office lock files (``~$report.docx``).
  They follow a link only to what lies inside the folder being read: a link to a file or
  folder outside it is reported as skipped, not followed. A file or folder reached twice
  through links is read once.
- Ids and titles (file names, export records, HTML titles, front matter, PDF and Word
  properties) are kept free of control characters and of bidirectional controls, which
  would let a name show as another (:func:`assistant.cleaning.safe_label`).
- A ``.jsonl``/``.csv`` in a folder is read as a site export. An export in which no record
  has a text field (a sidecar such as the ``metadata.jsonl`` next to a folder of PDFs) is
  reported once, as one Skipped for the file, instead of once per record.
- A "PDF" whose binary parts were replaced by U+FFFD (a PDF saved through a text
  decoder) is skipped with that diagnosis: its text streams are lost, and reading its bytes
  as text would index PDF syntax.
- Dates come from the record, else the first ~600 characters of the text, else a
  ``YYYY-MM-DD`` in the file name.
- PDF and Word text is normalised (whitespace, invisible characters) but not cleaned of
  web furniture, which those formats do not carry.
- PDF and Word text that is garbage from a font mapping characters to the wrong glyphs (a
  legacy Sinhala font, say) is skipped as unreadable, not indexed as noise: see
  :func:`assistant.cleaning.text_damage`. The whole text is judged, so a release whose
  broken part is small (a letterhead) is kept, and one that is mostly broken goes whole.
- A PDF with no text but images is a scan (needs OCR); with neither, it is blank or
  damaged. An encrypted PDF opens when its user password is empty; a truncated one is
  named as such. A library's own failure on a strange file becomes a reason, never a crash.

Size policy (what is read into memory, and what is refused):

- A text, Markdown or HTML file is one release: over :data:`MAX_DOCUMENT_BYTES` (20 MB, a
  hundred times a long release) it is skipped as "too large for one release" after a look at
  its size, without reading it.
- A PDF or Word file over :data:`MAX_BINARY_BYTES` (200 MB) is skipped the same way; below
  that it is read whole, as pypdf and python-docx need.
- A Word file is a ZIP archive, and python-docx unpacks and parses it whole: before it does,
  the archive's directory is checked (:data:`MAX_ZIP_DIRECTORY_BYTES`,
  :data:`MAX_UNPACKED_BYTES` in all, :data:`MAX_WORD_XML_BYTES` of XML, no part compressed
  over :data:`MAX_COMPRESSION_RATIO` times), then the paragraphs and XML elements of its
  text counted as it is unpacked, up to :data:`MAX_WORD_PARAGRAPHS` and
  :data:`MAX_WORD_ELEMENTS`. A file over any of them (a "ZIP bomb": 57 KB unpacking to
  500,000 paragraphs took 39 s and 440 MB) is skipped, saying which.
- A JSONL/CSV export may be of any size: it is streamed one record at a time, and a record
  (a JSONL line, a CSV field) over :data:`MAX_DOCUMENT_BYTES` characters is skipped with its
  line number.
- Only the first 64 KiB of a file are read to decide its type and encoding (256 KiB for an
  export's encoding).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import itertools
import json
import logging
import os
import re
import struct
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from assistant.cleaning import (
    clean_text,
    fix_mojibake,
    normalize_text,
    safe_label,
    text_damage,
)
from assistant.dates import date_in_name, find_date, parse_metadata_date
from assistant.documents import Document, Skipped
from assistant.errors import ConfigError, ReadError, UnsupportedFormat

__all__ = [
    "EXPORT_FIELDS",
    "LINK_OUTSIDE",
    "MAX_BINARY_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_DOCUMENT_BYTES",
    "MAX_UNPACKED_BYTES",
    "MAX_WORD_ELEMENTS",
    "MAX_WORD_PARAGRAPHS",
    "MAX_WORD_XML_BYTES",
    "MAX_ZIP_DIRECTORY_BYTES",
    "SUPPORTED_SUFFIXES",
    "detect_language",
    "document_date",
    "leaves_folder",
    "read_file",
    "read_path",
]

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
EXPORT_SUFFIXES = frozenset({".jsonl", ".csv"})
SUPPORTED_SUFFIXES: frozenset[str] = (
    TEXT_SUFFIXES | HTML_SUFFIXES | EXPORT_SUFFIXES | frozenset({".pdf", ".docx"})
)

EXPORT_FIELDS: tuple[str, ...] = (
    "id", "title", "date", "url", "text", "lang", "subtitle", "summary",
)
"""Our names for an export record's fields; a ``field_map`` maps them to the export's."""

MAX_DOCUMENT_BYTES = 20_000_000
"""Largest text, Markdown or HTML file read as one release, and largest export record."""
MAX_BINARY_BYTES = 200_000_000
"""Largest PDF or Word file read (images make them large; pypdf reads the whole file)."""
MAX_ZIP_DIRECTORY_BYTES = 1_000_000
"""Largest directory of a ZIP-based file (its list of parts) that is opened: a Word file's
lists some twenty parts in 2 KB; a crafted one of millions would fill the memory."""
MAX_UNPACKED_BYTES = 250_000_000
"""Largest total size a Word file may unpack to, images included (they do not compress: a
file within :data:`MAX_BINARY_BYTES` unpacks to little more)."""
MAX_WORD_XML_BYTES = 10_000_000
"""Largest total size of a Word file's XML parts unpacked (text, styles, notes ...), which
python-docx parses whole, at some 25 times their size in memory. A release's are 75-200 KB."""
MAX_COMPRESSION_RATIO = 200
"""Most times a part of a Word file over 1 MB may be compressed. Word's XML compresses 4-10
times, images not at all; a ZIP bomb's parts hundreds or thousands of times."""
MAX_WORD_PARAGRAPHS = 20_000
"""Most paragraphs (table cells' and text boxes' included) a Word file may have: a release
has some thirty, a 300-page book ten thousand."""
MAX_WORD_ELEMENTS = 200_000
"""Most XML elements (paragraphs, runs of text, cells ...) a Word file's text may have:
python-docx takes some 15 microseconds for each run of text it reads. A release has about
two thousand."""
LINK_OUTSIDE = "a link to outside the indexed folder; not followed"
"""The reason a folder walk gives for a link (to a file or a folder) that leads out of the
folder being read."""

_TITLE_MAX = 300
_SNIFF_BYTES = 8192
_HEAD_BYTES = 8 * _SNIFF_BYTES  # read to decide a file's type
_EXPORT_HEAD_BYTES = 1 << 18  # read to decide an export's encoding

# Lines that label a document rather than name it ("PRESS RELEASE" above the headline).
_GENERIC_TITLES = frozenset({
    "press release", "media release", "news release", "for immediate release", "statement",
    "press statement", "news", "пресс-релиз", "сообщение для прессы", "заявление",
    "баспасөз релизі", "мәлімдеме",
})
# Empty values some exports put where a subtitle would be.
_PLACEHOLDER = re.compile(
    r"^\s*(?:n/?a|none|null|-+|\.+|(?:no|without)\s+(?:description|summary|subtitle)"
    r"(?:\s+available)?\.?)\s*$",
    re.IGNORECASE,
)
# Meaningless titles that PDF and Word producers fill in.
_JUNK_META_TITLE = re.compile(
    r"^(?:untitled|title|document\d*|scanned document|press release|microsoft word\b.*"
    r"|.*\.(?:docx?|pdf|rtf|odt|txt|indd|qxd))$",
    re.IGNORECASE,
)
# An inline image in a PDF content stream: "BI" ... "ID" (see _has_inline_image).
_INLINE_IMAGE_START = re.compile(rb"(?:^|\s)BI\s")
_INLINE_IMAGE_DATA = re.compile(rb"\sID\s")
_HTML_CLOSERS = re.compile(r"</\s*+(?:html|body)\s*+>", re.IGNORECASE)
# The <title> element, in steps (see _html_title).
_HTML_TITLE_OPEN = re.compile(r"<title", re.IGNORECASE)
_HTML_TITLE_CLOSE = re.compile(r"</title\s*+>", re.IGNORECASE)
# A paragraph's start tag in WordprocessingML or DrawingML, whatever its namespace prefix:
# <w:p>, <w:p w:rsidR="...">, <a:p>, <p> under a default namespace.
_PARAGRAPH_TAG = re.compile(rb"<(?:[\w.-]{1,32}:)?p[\s/>]")
_TAG_BYTES = 1 + 33 + 2  # the longest match
_START_TAG = re.compile(rb"<(?![/?!])")  # an element (not an end tag, declaration or comment)
_EOCD = b"PK\x05\x06"  # a ZIP's end-of-central-directory record
# Signatures of common binary files whose first bytes could pass for text.
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"\x7fELF")


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


# --------------------------------------------------------------------------- public API


def read_path(
    path: Path, *, field_map: Mapping[str, str] | None = None
) -> Iterator[Document | Skipped]:
    """A file or a folder (recursively, sorted, hidden files/dirs and files starting with
    ``~$`` skipped). Yields one Document per file (or per record for .jsonl/.csv exports) or
    a Skipped with a reason a person understands.

    Never raises for one bad file: a bad file becomes Skipped. Raises ReadError only if
    ``path`` itself doesn't exist (and ConfigError for an invalid ``field_map``).
    """
    path = Path(path)
    fields = _check_field_map(field_map)
    if not path.exists():
        raise ReadError(f"{path}: no such file or folder")
    if path.is_dir():
        for file in _walk(path):
            yield from _read_guarded(_Origin.of(file, path), fields)
    else:
        yield from _read_guarded(_Origin.of(path, None), fields)


def source_files(path: Path) -> list[tuple[Path, Path | None]]:
    """The files :func:`read_path` reads for ``path``, each with the root that names its
    documents (None: the file itself), in the same order."""
    path = Path(path)
    if not path.exists():
        raise ReadError(f"{path}: no such file or folder")
    if path.is_dir():
        return [(file, path) for file in _walk(path)]
    return [(path, None)]


def read_source_file(file: Path, root: Path | None, *,
                     field_map: Mapping[str, str] | None = None) -> Iterator[Document | Skipped]:
    """What :func:`read_path` yields for one of its :func:`source_files`."""
    return _read_guarded(_Origin.of(file, root), _check_field_map(field_map))


def read_file(
    path: Path, *, root: Path | None = None, field_map: Mapping[str, str] | None = None
) -> list[Document]:
    """Read one file; raises ReadError/UnsupportedFormat with the reason (and nothing else:
    a library that fails on a strange file becomes a ReadError too).

    ``root`` is the folder the file was found in (it sets the ids, ``source`` and
    ``collection``). From an export, records that cannot be read are left out (read_path
    reports them one by one); the export only fails when no record can be read.
    """
    path = Path(path)
    fields = _check_field_map(field_map)
    if not path.exists():
        raise ReadError(f"{path}: no such file")
    if path.is_dir():
        raise ReadError(f"{path} is a folder: use read_path to read a folder")
    documents: list[Document] = []
    first_skip: Skipped | None = None
    try:
        for item in _read(_Origin.of(path, root), fields):
            if isinstance(item, Document):
                documents.append(item)
            elif first_skip is None:
                first_skip = item
    except ReadError:
        raise
    except Exception as error:  # a library's own bug on a strange file
        raise ReadError(_crash_reason(error)) from error
    if not documents:
        raise ReadError(first_skip.reason if first_skip else "no document in the file")
    return documents


# --------------------------------------------------------------------------- walking


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


def _read_guarded(origin: _Origin, fields: Mapping[str, str]) -> Iterator[Document | Skipped]:
    if origin.leaves:
        yield Skipped(origin.label, LINK_OUTSIDE)
        return
    try:
        yield from _read(origin, fields)
    except ReadError as error:
        yield Skipped(origin.label, str(error))
    except Exception as error:  # a library's own bug on a strange file must not stop a run
        yield Skipped(origin.label, _crash_reason(error))


def _crash_reason(error: Exception) -> str:
    return f"could not be read ({type(error).__name__}: {_short(error)})"


def _short(error: Exception) -> str:
    """An exception's message, cut to a readable length."""
    detail = " ".join(str(error).split()) or type(error).__name__
    return detail if len(detail) <= 120 else detail[:120] + "…"


def _read(origin: _Origin, fields: Mapping[str, str]) -> Iterator[Document | Skipped]:
    suffix = origin.file.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kind = suffix or "(no extension)"
        raise UnsupportedFormat(
            f"unsupported file type {kind} (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"
        )
    try:
        size = origin.file.stat().st_size
        with origin.file.open("rb") as stream:
            head = stream.read(_HEAD_BYTES)
    except OSError as error:
        raise ReadError(f"cannot open the file: {error.strerror or error}") from error
    if not head.strip() and size <= len(head):
        raise ReadError("empty file")

    kind = _sniff(head, origin.file)
    if kind in {"pdf", "docx"}:
        _check_size(size, MAX_BINARY_BYTES, "for one file")
        data = _read_bytes(origin.file)
        if kind == "docx":
            _check_unpacked(data)
        yield _read_pdf(data, origin) if kind == "pdf" else _read_docx(data, origin)
    elif kind == "zip":
        raise UnsupportedFormat(
            "a ZIP-based file that is not a Word document (an archive, spreadsheet or "
            "slide deck); only .docx Office files are read"
        )
    elif kind == "huge-zip":
        raise ReadError(
            f"a ZIP-based file whose list of parts is over {_megabytes(MAX_ZIP_DIRECTORY_BYTES)} "
            "(millions of parts: not a document, maybe a ZIP bomb)"
        )
    elif kind == "broken-zip":
        if b"word/" in head:  # the names of a ZIP's parts stand in the clear
            raise ReadError("damaged Word file: its ZIP container is broken (truncated or "
                            "corrupted); save or download it again")
        raise ReadError("damaged ZIP file, not a readable document")
    elif kind == "ole":
        raise UnsupportedFormat("an old binary Office file (.doc/.xls); save it as .docx")
    elif kind == "binary":
        raise ReadError("binary file, not a document")
    elif suffix in EXPORT_SUFFIXES:
        yield from _read_export(origin, fields, csv_format=suffix == ".csv")
    else:
        _check_size(size, MAX_DOCUMENT_BYTES, "for one release")
        text = decode_text(_read_bytes(origin.file))
        if suffix in HTML_SUFFIXES or (suffix not in TEXT_SUFFIXES and _looks_like_html(text)):
            yield _read_html(text, origin)
        else:
            yield _read_text(text, origin, markdown=suffix in {".md", ".markdown"})


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


# --------------------------------------------------------------------------- ZIP limits


def _zip_directory_bytes(file: Path | None, data: bytes) -> int | None:
    """The size of a ZIP's central directory (its list of parts), read from its end record
    as zipfile would find it; None when there is none to read (zipfile then says broken). A
    ZIP64 record's size means "see elsewhere": it counts as over any limit."""
    try:
        if file is not None:
            with file.open("rb") as stream:
                stream.seek(0, os.SEEK_END)
                length = stream.tell()
                stream.seek(max(0, length - (1 << 16) - 22))
                tail = stream.read()
        else:
            tail = data[-(1 << 16) - 22:]
    except OSError:
        return None
    at = tail.rfind(_EOCD, max(0, len(tail) - (1 << 16) - 22))
    if at < 0 or len(tail) - at < 22:
        return None
    entries, size = struct.unpack_from("<HI", tail, at + 10)  # total parts, directory size
    return 1 << 32 if entries == 0xFFFF or size == 0xFFFFFFFF else size


def _check_unpacked(data: bytes) -> None:
    """ReadError when a Word file would unpack to more than python-docx should parse: the
    limits of the module's size policy, from the archive's directory first (nothing is
    unpacked), then by counting the paragraphs and elements of its text as it is unpacked, up
    to the limits.

    zipfile never unpacks a part past the size the directory gives it (a part that claims
    less than it holds fails its checksum), so the directory's sizes bound what python-docx
    reads too."""
    bomb = "a ZIP bomb, or not a press release"
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
            unpacked = sum(part.file_size for part in parts)
            if unpacked > MAX_UNPACKED_BYTES:
                raise ReadError(f"a Word file that unpacks to {_megabytes(unpacked)}, over the "
                                f"{_megabytes(MAX_UNPACKED_BYTES)} limit ({bomb})")
            xml = sum(part.file_size for part in parts
                      if part.filename.lower().endswith((".xml", ".rels")))
            if xml > MAX_WORD_XML_BYTES:
                raise ReadError(f"a Word file whose text and layout (XML) unpack to "
                                f"{_megabytes(xml)}, over the {_megabytes(MAX_WORD_XML_BYTES)} "
                                f"limit ({bomb})")
            for part in parts:
                if part.file_size > 1_000_000 and (
                        part.file_size > MAX_COMPRESSION_RATIO * max(1, part.compress_size)):
                    ratio = part.file_size // max(1, part.compress_size)
                    raise ReadError(f"a Word file with a part compressed {ratio:,} times "
                                    f"({part.filename}: {_megabytes(part.file_size)} from "
                                    f"{_megabytes(part.compress_size)}; {bomb})")
            paragraphs, elements = _count_tags(archive, "word/document.xml")
    except ReadError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, RuntimeError) as error:
        raise ReadError(f"damaged Word file, cannot be opened ({_short(error)})") from error
    if paragraphs > MAX_WORD_PARAGRAPHS:
        raise ReadError(f"a Word file with over {MAX_WORD_PARAGRAPHS:,} paragraphs ({bomb})")
    if elements > MAX_WORD_ELEMENTS:
        raise ReadError(f"a Word file whose text is made of over {MAX_WORD_ELEMENTS:,} XML "
                        f"elements (runs of text, cells ...; {bomb})")


def _count_tags(archive: zipfile.ZipFile, name: str) -> tuple[int, int]:
    """Paragraphs and elements in the XML part ``name``, counted as it is unpacked a megabyte
    at a time; the counting stops once over a limit (the rest is never unpacked)."""
    paragraphs = elements = 0
    carry = b""
    with archive.open(name) as part:
        while chunk := part.read(1 << 20):
            data = carry + chunk
            # A tag that starts in the last bytes may go on in the next chunk: those bytes
            # are looked at again with it, and only tags starting before them count now (a
            # tag holds one "<", so none is counted twice).
            keep = max(0, len(data) - _TAG_BYTES)
            paragraphs += sum(1 for m in _PARAGRAPH_TAG.finditer(data) if m.start() < keep)
            elements += sum(1 for m in _START_TAG.finditer(data) if m.start() < keep)
            carry = data[keep:]
            if paragraphs > MAX_WORD_PARAGRAPHS or elements > MAX_WORD_ELEMENTS:
                return paragraphs, elements
    return paragraphs + len(_PARAGRAPH_TAG.findall(carry)), elements + len(_START_TAG.findall(carry))


# --------------------------------------------------------------------------- bytes


def _sniff(data: bytes, file: Path | None = None) -> str:
    """The real type of a file from its first bytes ``data`` (a ZIP's directory is read from
    ``file``): pdf, docx, zip, broken-zip, ole, binary or text."""
    head = data[:_SNIFF_BYTES]
    if b"%PDF-" in head[:1024]:  # the spec lets junk precede the header
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        directory = _zip_directory_bytes(file, data)
        if directory is not None and directory > MAX_ZIP_DIRECTORY_BYTES:
            return "huge-zip"
        try:
            with zipfile.ZipFile(file if file is not None else io.BytesIO(data)) as archive:
                return "docx" if "word/document.xml" in archive.namelist() else "zip"
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            return "broken-zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    if head.startswith(_BINARY_MAGIC):
        return "binary"
    try:
        text = decode_text(data[: 4 * _SNIFF_BYTES], sample=True)
    except ReadError:
        return "binary"
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\x0c")
    return "binary" if controls > max(2, len(text) // 100) else "text"


def decode_text(data: bytes, *, sample: bool = False) -> str:
    """Bytes to text: BOM, then UTF-8, then charset-normalizer's best guess (cp1251, UTF-16
    without BOM, ...). ``sample`` means ``data`` may end inside a multi-byte character."""
    encoding = _encoding_of(data, sample=sample)
    if sample and encoding == "utf-8":  # drop a character the sample cut in two
        return data.decode("utf-8", errors="ignore")
    return data.decode(encoding, errors="replace")


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
         (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def _encoding_of(data: bytes, *, sample: bool = False) -> str:
    """The encoding of ``data`` (a Python codec name); ReadError for binary data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    # NULs are valid UTF-8 but no text has them: it is UTF-16/32 without a BOM, or binary.
    has_nul = b"\x00" in data[:_SNIFF_BYTES]
    if not has_nul:
        try:
            data.decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError as error:
            if sample and error.start >= len(data) - 3:  # cut mid-character by the sample
                try:
                    data[: error.start].decode("utf-8")
                    return "utf-8"
                except UnicodeDecodeError:
                    pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or (has_nul and not best.encoding.startswith(("utf_16", "utf_32"))):
        raise ReadError("binary file, not a document")
    return best.encoding


def _looks_like_html(text: str) -> bool:
    head = text[:1024].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or "<html" in head


# --------------------------------------------------------------------------- formats


def _read_text(text: str, origin: _Origin, *, markdown: bool) -> Document:
    meta: dict[str, str] = {}
    if markdown:
        text, meta = _split_front_matter(text)
    cleaned = clean_text(text)
    if not cleaned:
        raise ReadError("no text left after removing page furniture")
    first = next(line for line in cleaned.split("\n") if line.strip())
    title = meta.get("title") or (first.lstrip("#").strip() if markdown else first)
    return _document(origin, cleaned, title=title, date=parse_metadata_date(meta.get("date")))


def _split_front_matter(text: str) -> tuple[str, dict[str, str]]:
    """Markdown front matter (``---`` / ``key: value`` lines / ``---``) off the text."""
    match = re.match(r"\ufeff?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", text, re.DOTALL)
    if not match:
        return text, {}
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return text[match.end():], meta


def _read_html(html: str, origin: _Origin) -> Document:
    import trafilatura

    # Some saved pages are several documents in one file; a browser reads past "</html>",
    # lxml stops there and loses the page. Dropping the closers makes lxml read on too.
    html = _HTML_CLOSERS.sub("", html)
    # Repair double-encoded UTF-8 ("â\x80\x99" for "’") before trafilatura: it drops the
    # control characters and leaves an unrepairable "â".
    html = fix_mojibake(html)
    options: dict[str, Any] = {
        "include_comments": False, "include_tables": True, "with_metadata": True,
    }
    result = trafilatura.bare_extraction(html, favor_precision=True, **options)
    if not _field(result, "text"):  # precision mode drops short releases entirely
        result = trafilatura.bare_extraction(html, favor_recall=True, **options)
    body = _field(result, "text")
    if not body:
        raise ReadError("no main text found in the HTML page")
    # trafilatura puts one paragraph on a line; a blank line between paragraphs is what the
    # other formats (and the chunker) use.
    text = clean_text("\n\n".join(line for line in body.split("\n") if line.strip()))
    if not text:
        raise ReadError("no text left after removing page furniture")
    title = _field(result, "title")
    if not title and (raw_title := _html_title(html)) is not None:
        import html as html_lib

        title = html_lib.unescape(raw_title)
    # A dateline in the text beats the page's metadata (often a modification date).
    date = find_date(text, header_only=True) or parse_metadata_date(_field(result, "date"))
    return _document(origin, text, title=title or _guess_title(text), date=date)


def _html_title(html: str) -> str | None:
    """What the page's first ``<title ...>`` holds up to ``</title>``, if it is closed.

    In steps, each over the text once: as one pattern with a lazy ``(.*?)`` it was read to
    the end again from every "<title" of a page that never closes one. Only the first
    "<title" can match: a later one finds no ">" or "</title>" the first did not."""
    opening = _HTML_TITLE_OPEN.search(html)
    if opening is None:
        return None
    start = html.find(">", opening.end())
    if start < 0:
        return None
    closing = _HTML_TITLE_CLOSE.search(html, start + 1)
    return html[start + 1:closing.start()] if closing is not None else None


def _field(result: object, name: str) -> str | None:
    """A field of trafilatura's result: an object in 2.x, a dict in 1.x."""
    if result is None:
        return None
    value = result.get(name) if isinstance(result, dict) else getattr(result, name, None)
    return value if isinstance(value, str) and value.strip() else None


def _read_pdf(data: bytes, origin: _Origin) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    with _quiet("pypdf"):
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted:
                try:
                    opened = reader.decrypt("")  # many "protected" PDFs open with no password
                except DependencyError as error:
                    raise ReadError(
                        "encrypted PDF: opening it needs the cryptography package "
                        "(pip install cryptography)"
                    ) from error
                if not opened:
                    raise ReadError(
                        "encrypted PDF: needs a password (save an unprotected copy to index it)"
                    )
            page_list = list(reader.pages)
        except ReadError:
            raise
        except Exception as error:  # pypdf raises many kinds on a broken file
            raise ReadError(_damaged_pdf_reason(data, error)) from error
        # One broken page (bad font, bad stream) must not lose the others.
        page_texts: list[str] = []
        failure: Exception | None = None
        for page in page_list:
            try:
                page_texts.append(normalize_text(page.extract_text() or ""))
            except Exception as error:
                page_texts.append("")
                failure = failure or error
        metadata_title = _pdf_meta_title(reader)

        # No text at all: a scan shows images; a blank or damaged file does not.
        images = any(page_texts) or any(_has_image(page) for page in page_list)

    text, pages = _join_pages(page_texts)
    if not text and failure is not None:
        raise ReadError(f"damaged PDF: no page can be read ({_short(failure)})")
    if not text and not images:
        raise ReadError("no extractable text: the PDF has no text layer and no images "
                        "(a blank or damaged PDF)")
    if not text:
        raise ReadError("no extractable text: scanned PDF, needs OCR")
    _check_readable(text, "text layer is unreadable: the PDF's font maps characters to "
                          "wrong glyphs", "needs OCR")
    title = metadata_title or _guess_title(text)
    return _document(origin, text, title=title, date=None, pages=pages)


def _has_image(page: Any) -> bool:
    """The page shows an image (a scan), directly or inside a form XObject."""
    def search(resources: Any, depth: int) -> bool:
        try:
            xobjects = resources.get_object().get("/XObject") if resources else None
            for ref in (xobjects.get_object().values() if xobjects else ()):
                item = ref.get_object()
                if item.get("/Subtype") == "/Image":
                    return True
                if depth < 3 and item.get("/Subtype") == "/Form" and search(
                        item.get("/Resources"), depth + 1):
                    return True
        except Exception:  # a broken resource dictionary: no image found there
            return False
        return False

    try:
        resources = page.get("/Resources")
        contents = page.get_contents()
        inline = contents is not None and _has_inline_image(contents.get_data())
    except Exception:
        return False
    return inline or search(resources, 0)


def _has_inline_image(content: bytes) -> bool:
    """A content stream holds an inline image: "BI", then its data after an "ID".

    Only the first "BI" is tried: a later one has less of the stream after it, so it finds
    an "ID" only where the first would (one pattern with a lazy ".*?" read the rest of the
    stream again from every "BI")."""
    start = _INLINE_IMAGE_START.search(content)
    return start is not None and _INLINE_IMAGE_DATA.search(content, start.end()) is not None


def _join_pages(page_texts: Iterable[str]) -> tuple[str, tuple[int, ...]]:
    """Pages joined by a blank line, and where each page starts in the result.

    An empty page starts where the next text would: page_at() then gives the text after it
    to the following page, which is where it is. Empty pages at the end start at the end of
    the text, never past it.
    """
    parts: list[str] = []
    length = 0
    starts: list[int] = []
    for page in page_texts:
        separator = "\n\n" if parts else ""
        starts.append(length + len(separator))
        if page:
            parts += [separator, page]
            length += len(separator) + len(page)
    return "".join(parts), tuple(min(start, length) for start in starts)


def _damaged_pdf_reason(data: bytes, error: Exception) -> str:
    if data.count(b"\xef\xbf\xbd") > 16:
        return ("damaged PDF: it was saved through a text decoder (its binary parts became "
                "U+FFFD replacement characters), so its text is lost; download the original")
    if b"%%EOF" not in data[-2048:]:
        return ("damaged PDF: the file stops before the PDF's end (truncated, as by an "
                "interrupted download); download it again")
    return f"damaged PDF, cannot be opened ({_short(error)})"


def _pdf_meta_title(reader: Any) -> str | None:
    try:
        raw = reader.metadata.title if reader.metadata else None
    except Exception:  # broken info dictionary: fall back to the text
        return None
    return _meaningful_title(raw)


def _meaningful_title(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    title = " ".join(normalize_text(raw).split())
    if len(title) < 4 or not any(ch.isalpha() for ch in title):
        return None
    return None if _JUNK_META_TITLE.match(title) else title


def _read_docx(data: bytes, origin: _Origin) -> Document:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as error:  # python-docx raises KeyError/ValueError on broken parts
        raise ReadError(f"damaged Word file, cannot be opened ({error})") from error
    blocks: list[str] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(_table_rows(item))
        else:
            blocks.append(item.text)
    text = "\n\n".join(b for b in (normalize_text(block) for block in blocks) if b)
    if not text:
        raise ReadError("the Word file has no text")
    _check_readable(text, "text is unreadable: it is typed in a font that is not Unicode",
                    "convert it to Unicode")
    title = _meaningful_title(document.core_properties.title) or _guess_title(text)
    return _document(origin, text, title=title, date=None)


def _check_readable(text: str, problem: str, remedy: str) -> None:
    """ReadError when ``text`` is mostly garbage from a broken font mapping."""
    damage = text_damage(text)
    if damage.unreadable:
        font = f"legacy {damage.script} font" if damage.script not in {"", "Latin"} else "legacy font"
        raise ReadError(f"{problem} ({font}); {remedy} ({damage.symptom()})")


def _table_rows(table: Any) -> Iterator[str]:
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            value = " ".join(cell.text.split())
            # A merged cell is returned once per grid column it spans.
            if value and (not cells or cells[-1] != value):
                cells.append(value)
        if cells:
            yield " | ".join(cells)


# --------------------------------------------------------------------------- exports


class _RecordError(ReadError):
    """A record that cannot become a Document; ``missing`` is the text field it lacks."""

    def __init__(self, message: str, *, missing: str | None = None) -> None:
        super().__init__(message)
        self.missing = missing


def _read_export(
    origin: _Origin, fields: Mapping[str, str], *, csv_format: bool
) -> Iterator[Document | Skipped]:
    with _open_export(origin.file, csv_format=csv_format) as stream:
        yield from _export_items(stream, origin, fields, csv_format=csv_format)


def _export_items(
    stream: TextIO, origin: _Origin, fields: Mapping[str, str], *, csv_format: bool
) -> Iterator[Document | Skipped]:
    rows = _csv_rows(stream) if csv_format else _jsonl_rows(stream)
    yielded = 0
    held: list[tuple[Skipped, str | None]] = []
    keys: list[str] = []
    for line, record, problem in rows:
        where = f"{origin.label}:{line}"
        if record is not None and not keys:
            keys = list(record)
        if problem is None and record is not None:
            try:
                document = _record_document(record, where, origin, fields)
            except _RecordError as error:
                skipped, missing = Skipped(where, str(error)), error.missing
            else:
                for skipped, _ in held:  # a real export after all: report them one by one
                    yield skipped
                held.clear()
                yielded += 1
                yield document
                continue
        else:
            skipped, missing = Skipped(where, problem or "unreadable record"), None
        if yielded:
            yield skipped
        else:
            held.append((skipped, missing))
    if yielded:
        return
    if held and all(missing for _, missing in held):
        name = held[0][1]
        raise ReadError(
            f"not a press-release export: no record has a {name!r} field (its fields: "
            f"{', '.join(keys) or 'none'}); map the text field with a field map if it has "
            "another name"
        )
    if not held:
        raise ReadError("the export holds no records")
    for skipped, _ in held:
        yield skipped


def _open_export(file: Path, *, csv_format: bool) -> TextIO:
    """The export as a text stream in its encoding (decided from its first 256 KiB)."""
    try:
        with file.open("rb") as raw:
            head = raw.read(_EXPORT_HEAD_BYTES)
        encoding = _encoding_of(head, sample=len(head) == _EXPORT_HEAD_BYTES)
        # JSONL lines end at "\n" only (a JSON string may hold U+2028); CSV needs newline="".
        return file.open(encoding=encoding, errors="replace", newline="" if csv_format else "\n")
    except OSError as error:
        raise ReadError(f"cannot read the file: {error.strerror or error}") from error


def _bounded_lines(stream: TextIO, limit: int) -> Iterator[tuple[int, str | None]]:
    """Numbered lines of ``stream``; None for a line longer than ``limit`` characters, which is
    skipped without being held in memory."""
    number = 0
    while line := stream.readline(limit + 1):
        number += 1
        if len(line) > limit and not line.endswith("\n"):
            while (rest := stream.readline(1 << 16)) and not rest.endswith("\n"):
                pass
            yield number, None
        else:
            yield number, line


def _jsonl_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    for number, raw in _bounded_lines(stream, MAX_DOCUMENT_BYTES):
        if raw is None:
            yield number, None, (f"line {number} is too large for one release (over "
                                 f"{_megabytes(MAX_DOCUMENT_BYTES)})")
            continue
        line = raw.strip()
        if not line:
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, None, f"broken JSON on line {number}: {error.msg} (column {error.colno})"
            continue
        except RecursionError:  # "[[[[...": nested deeper than the parser goes
            yield number, None, f"broken JSON on line {number}: nested too deeply"
            continue
        if not isinstance(value, dict):
            yield number, None, f"line {number} is not a JSON object"
            continue
        yield number, value, None


def _csv_rows(stream: TextIO) -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    _allow_long_csv_fields()
    # Lines of at most the record limit: a larger field fails csv's own limit, so a huge
    # line is never held whole.
    pieces = iter(functools.partial(stream.readline, MAX_DOCUMENT_BYTES + 1), "")
    first_line = next(pieces, "")
    delimiter = max(",;\t|", key=first_line.count)
    reader = csv.reader(itertools.chain([first_line], pieces), delimiter=delimiter)
    try:
        header = [name.strip() for name in next(reader)]
    except (StopIteration, csv.Error):
        return
    line = reader.line_num
    while True:
        start = line + 1  # a record's number is the line it starts on (fields may wrap)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield start, None, f"broken CSV from line {start} on: {error}"
            return
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        yield start, dict(zip(header, row, strict=False)), None


def _allow_long_csv_fields() -> None:
    # A release body easily exceeds csv's 128 KiB default field limit; the record limit is
    # the one that counts (the setting is global: never lower what another caller set).
    if csv.field_size_limit() < MAX_DOCUMENT_BYTES:
        csv.field_size_limit(MAX_DOCUMENT_BYTES)


def _record_document(
    record: Mapping[str, Any], where: str, origin: _Origin, fields: Mapping[str, str]
) -> Document:
    def get(name: str) -> str | None:
        key = fields.get(name, name)
        value = record.get(key)
        if value is None:  # exports spell columns "Title", "TEXT", ...
            folded = key.casefold()
            value = next((v for k, v in record.items() if k.casefold() == folded), None)
        if value is None or isinstance(value, dict | list):
            return None
        text = str(value).strip()
        return text or None

    body = get("text")
    if body is None:
        name = fields.get("text", "text")
        raise _RecordError(f"record has no text (no {name!r} field or it is empty)",
                           missing=name)
    lead = get("subtitle") or get("summary")
    if lead and not _PLACEHOLDER.match(lead) and lead not in body[: len(lead) + 500]:
        body = f"{lead}\n\n{body}"
    text = clean_text(body)
    if not text:
        raise _RecordError("record has no text left after removing page furniture")
    title = get("title")
    date = parse_metadata_date(get("date")) or document_date(text)
    return Document(
        id=safe_label(get("id") or "").strip() or where,
        title=(_tidy_title(title) if title else "") or _guess_title(text),
        text=text,
        date=date,
        url=get("url") or str(origin.file),
        lang=_language_code(get("lang")) or detect_language(text),
        source=origin.source,
        collection=origin.collection,
    )


def _check_field_map(field_map: Mapping[str, str] | None) -> dict[str, str]:
    if not field_map:
        return {}
    unknown = sorted(set(field_map) - set(EXPORT_FIELDS))
    if unknown:
        raise ConfigError(
            f"unknown field {unknown[0]!r} in the field map; ours are: {', '.join(EXPORT_FIELDS)}"
        )
    bad = [k for k, v in field_map.items() if not isinstance(v, str) or not v.strip()]
    if bad:
        raise ConfigError(f"the field map gives no export column for {bad[0]!r}")
    return {k: v.strip() for k, v in field_map.items()}


# --------------------------------------------------------------------------- metadata


def _document(
    origin: _Origin, text: str, *, title: str | None, date: dt.date | None,
    pages: tuple[int, ...] = (),
) -> Document:
    return Document(
        id=origin.label,
        title=(_tidy_title(title) if title else "") or _guess_title(text),
        text=text,
        date=date or document_date(text, name=origin.file.name),
        url=str(origin.file),
        lang=detect_language(text),
        pages=pages,
        source=origin.source,
        collection=origin.collection,
    )


def _tidy_title(title: str) -> str:
    """One line of at most ``_TITLE_MAX`` characters, fit to show (see safe_label): every
    title passes here."""
    title = " ".join(safe_label(normalize_text(title)).split())
    if len(title) > _TITLE_MAX:
        title = title[:_TITLE_MAX].rsplit(" ", 1)[0] + "…"
    return title


def _guess_title(text: str) -> str:
    """The first line that names the release: not a label like "PRESS RELEASE", not a bare
    date, and of a few words; else simply the first line."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for line in lines[:15]:
        words = [w for w in line.split() if any(ch.isalpha() for ch in w)]
        if len(words) < 3 or line.strip(" .:-").casefold() in _GENERIC_TITLES:
            continue
        return _tidy_title(line)
    return _tidy_title(lines[0]) if lines else ""


def document_date(text: str, *, name: str = "") -> dt.date | None:
    """A release's date: its dateline, else a ``YYYY-MM-DD`` in its file name, else any date
    near the top (a date inside a sentence is often about something else: a deadline)."""
    return (find_date(text, header_only=True) or date_in_name(name)
            or find_date(text))


def _language_code(value: str | None) -> str | None:
    if not value:
        return None
    code = re.split(r"[-_]", value.strip().lower())[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text`` by py3langid; None for text too short to tell."""
    sample = text[:5000]
    if sum(ch.isalpha() for ch in sample) < 20:
        return None
    import py3langid

    code, _score = py3langid.classify(sample)
    return str(code)


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """Silence a library's warnings for one call: a broken PDF makes pypdf log hundreds of
    lines, and the library must not print (the run reports the file as Skipped instead)."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
