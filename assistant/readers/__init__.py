"""Read files, folders and site exports into :class:`~assistant.documents.Document`.

>>> from pathlib import Path
>>> for item in read_path(Path("corpus")):            # doctest: +SKIP
...     print(item.id if isinstance(item, Document) else f"skipped {item.path}: {item.reason}")

A file's type is decided by its content, not its name: a Word file saved as ``.pdf`` is read
as Word, a text file saved as ``.pdf`` as text. One bad file (or one bad export record)
becomes a :class:`~assistant.documents.Skipped` with a reason; the run goes on.

Each format is one reader module, registered in :mod:`assistant.readers.registry` by the
suffixes it claims and, for binary formats, by a sniffer of its first bytes:
:mod:`~assistant.readers.text` (text, Markdown), :mod:`~assistant.readers.html`,
:mod:`~assistant.readers.pdf`, :mod:`~assistant.readers.word` (.docx, with the ZIP-bomb
checks) and :mod:`~assistant.readers.exports` (JSONL/CSV records). What they share lives in
:mod:`~assistant.readers.files` (origin, folder walks, size checks),
:mod:`~assistant.readers.assembly` (ids, titles, dates, language),
:mod:`~assistant.readers.encoding` (bytes to text, binary refusals) and
:mod:`~assistant.readers.limits` (the size policy's numbers). Adding a format is one module
and one :func:`~assistant.readers.registry.register` call.

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

from collections.abc import Iterator, Mapping
from pathlib import Path

from assistant.documents import Document, Skipped
from assistant.errors import ConfigError, ReadError, UnsupportedFormat
from assistant.languages import detect_language
from assistant.readers import encoding, exports, html, limits, pdf, registry, text, word
from assistant.readers.assembly import document_date
from assistant.readers.encoding import decode_text
from assistant.readers.exports import EXPORT_FIELDS, _check_field_map
from assistant.readers.files import LINK_OUTSIDE, _crash_reason, _Origin, _walk, leaves_folder
from assistant.readers.limits import (
    MAX_BINARY_BYTES,
    MAX_COMPRESSION_RATIO,
    MAX_DOCUMENT_BYTES,
    MAX_UNPACKED_BYTES,
    MAX_WORD_ELEMENTS,
    MAX_WORD_PARAGRAPHS,
    MAX_WORD_XML_BYTES,
    MAX_ZIP_DIRECTORY_BYTES,
)
from assistant.readers.registry import Reader, Source, register, unregister

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
    "ConfigError",
    "ReadError",
    "Reader",
    "Source",
    "UnsupportedFormat",
    "decode_text",
    "detect_language",
    "document_date",
    "leaves_folder",
    "read_file",
    "read_path",
    "read_source_file",
    "register",
    "source_files",
    "unregister",
]

# Content-sniffed formats first, in the order their sniffers are tried (the refusals of
# binary content last among them), then the formats chosen by suffix.
for _reader in (pdf.READER, word.READER, encoding.OLE, encoding.BINARY,
                text.READER, html.READER, exports.READER):
    register(_reader)

SUPPORTED_SUFFIXES: frozenset[str] = registry.suffixes()
"""The suffixes the built-in readers claim (a reader registered later adds its own to what
:func:`read_path` reads, see :func:`assistant.readers.registry.suffixes`)."""


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


def _read(origin: _Origin, fields: Mapping[str, str]) -> Iterator[Document | Skipped]:
    suffix = origin.file.suffix.lower()
    known = registry.suffixes()
    if suffix not in known:
        kind = suffix or "(no extension)"
        raise UnsupportedFormat(
            f"unsupported file type {kind} (supported: {', '.join(sorted(known))})"
        )
    try:
        size = origin.file.stat().st_size
        with origin.file.open("rb") as stream:
            head = stream.read(limits.HEAD_BYTES)
    except OSError as error:
        raise ReadError(f"cannot open the file: {error.strerror or error}") from error
    if not head.strip() and size <= len(head):
        raise ReadError("empty file")
    # By content first (a Word file saved as .pdf is Word), then by suffix; a file whose
    # suffix only a content-sniffed reader claims (a text file saved as .pdf) is text.
    reader = registry.find(suffix, head, origin.file) or text.READER
    yield from reader.read(registry.Source(origin, fields, head, size))
