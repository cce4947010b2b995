"""Word (.docx) files, and the other ZIP-based files that are refused.

A Word file is a ZIP archive, and python-docx unpacks and parses it whole: before it does,
the archive's directory is checked against the limits of the size policy (no "ZIP bomb"),
then the paragraphs and XML elements of its text are counted as they are unpacked
(:func:`_check_unpacked`). The reader is chosen by content: any file that starts as a ZIP.
"""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from assistant.cleaning import normalize_text
from assistant.documents import Document
from assistant.errors import ReadError, UnsupportedFormat
from assistant.readers import limits
from assistant.readers.assembly import _check_readable, _document, _guess_title, _meaningful_title
from assistant.readers.files import _check_size, _megabytes, _Origin, _read_bytes, _short
from assistant.readers.registry import Reader, Source

# A paragraph's start tag in WordprocessingML or DrawingML, whatever its namespace prefix:
# <w:p>, <w:p w:rsidR="...">, <a:p>, <p> under a default namespace.
_PARAGRAPH_TAG = re.compile(rb"<(?:[\w.-]{1,32}:)?p[\s/>]")
_TAG_BYTES = 1 + 33 + 2  # the longest match
_START_TAG = re.compile(rb"<(?![/?!])")  # an element (not an end tag, declaration or comment)
_EOCD = b"PK\x05\x06"  # a ZIP's end-of-central-directory record


def _sniff_zip(head: bytes, file: Path) -> bool:
    return head.startswith(b"PK\x03\x04")


def _zip_kind(data: bytes, file: Path | None = None) -> str:
    """What a ZIP-based file is, from its first bytes ``data`` (its directory is read from
    ``file``): docx, zip, huge-zip or broken-zip."""
    directory = _zip_directory_bytes(file, data)
    if directory is not None and directory > limits.MAX_ZIP_DIRECTORY_BYTES:
        return "huge-zip"
    try:
        with zipfile.ZipFile(file if file is not None else io.BytesIO(data)) as archive:
            return "docx" if "word/document.xml" in archive.namelist() else "zip"
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return "broken-zip"


def _read_zip(source: Source) -> Iterator[Document]:
    kind = _zip_kind(source.head, source.origin.file)
    if kind == "docx":
        _check_size(source.size, limits.MAX_BINARY_BYTES, "for one file")
        data = _read_bytes(source.origin.file)
        _check_unpacked(data)
        yield _read_docx(data, source.origin)
    elif kind == "zip":
        raise UnsupportedFormat(
            "a ZIP-based file that is not a Word document (an archive, spreadsheet or "
            "slide deck); only .docx Office files are read"
        )
    elif kind == "huge-zip":
        raise ReadError(
            f"a ZIP-based file whose list of parts is over "
            f"{_megabytes(limits.MAX_ZIP_DIRECTORY_BYTES)} "
            "(millions of parts: not a document, maybe a ZIP bomb)"
        )
    else:
        if b"word/" in source.head:  # the names of a ZIP's parts stand in the clear
            raise ReadError("damaged Word file: its ZIP container is broken (truncated or "
                            "corrupted); save or download it again")
        raise ReadError("damaged ZIP file, not a readable document")


READER = Reader("docx", frozenset({".docx"}), _read_zip, sniff=_sniff_zip)
"""Word files, by content: every ZIP-based file comes here (the others are refused)."""


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
            if unpacked > limits.MAX_UNPACKED_BYTES:
                raise ReadError(f"a Word file that unpacks to {_megabytes(unpacked)}, over the "
                                f"{_megabytes(limits.MAX_UNPACKED_BYTES)} limit ({bomb})")
            xml = sum(part.file_size for part in parts
                      if part.filename.lower().endswith((".xml", ".rels")))
            if xml > limits.MAX_WORD_XML_BYTES:
                raise ReadError(f"a Word file whose text and layout (XML) unpack to "
                                f"{_megabytes(xml)}, over the {_megabytes(limits.MAX_WORD_XML_BYTES)} "
                                f"limit ({bomb})")
            for part in parts:
                if part.file_size > 1_000_000 and (
                        part.file_size > limits.MAX_COMPRESSION_RATIO * max(1, part.compress_size)):
                    ratio = part.file_size // max(1, part.compress_size)
                    raise ReadError(f"a Word file with a part compressed {ratio:,} times "
                                    f"({part.filename}: {_megabytes(part.file_size)} from "
                                    f"{_megabytes(part.compress_size)}; {bomb})")
            paragraphs, elements = _count_tags(archive, "word/document.xml")
    except ReadError:
        raise
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, KeyError, RuntimeError) as error:
        raise ReadError(f"damaged Word file, cannot be opened ({_short(error)})") from error
    if paragraphs > limits.MAX_WORD_PARAGRAPHS:
        raise ReadError(f"a Word file with over {limits.MAX_WORD_PARAGRAPHS:,} paragraphs ({bomb})")
    if elements > limits.MAX_WORD_ELEMENTS:
        raise ReadError(f"a Word file whose text is made of over {limits.MAX_WORD_ELEMENTS:,} XML "
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
            if paragraphs > limits.MAX_WORD_PARAGRAPHS or elements > limits.MAX_WORD_ELEMENTS:
                return paragraphs, elements
    return paragraphs + len(_PARAGRAPH_TAG.findall(carry)), elements + len(_START_TAG.findall(carry))


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
