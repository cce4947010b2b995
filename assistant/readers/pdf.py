"""PDF files, chosen by content (``%PDF-`` in the first kilobyte: the spec lets junk precede
the header), whatever their name.

A page with no text but an image is a scan, read by OCR (:mod:`assistant.readers.ocr`, when
Tesseract is installed; the Document's ``ocr_pages`` names those pages); a PDF with neither
text nor images is blank or damaged.
An encrypted PDF opens when its user password is empty; a truncated one, or one whose
binary parts were replaced by U+FFFD (saved through a text decoder), is named as such.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from assistant.cleaning import normalize_text
from assistant.documents import Document
from assistant.errors import ReadError
from assistant.readers import limits
from assistant.readers.assembly import _check_readable, _document, _guess_title, _meaningful_title
from assistant.readers.files import _check_size, _Origin, _read_bytes, _short
from assistant.readers.registry import Reader, Source

# An inline image in a PDF content stream: "BI" ... "ID" (see _has_inline_image).
_INLINE_IMAGE_START = re.compile(rb"(?:^|\s)BI\s")
_INLINE_IMAGE_DATA = re.compile(rb"\sID\s")


def _sniff_pdf(head: bytes, file: Path) -> bool:
    return b"%PDF-" in head[:1024]


def _read_pdf_file(source: Source) -> Iterator[Document]:
    _check_size(source.size, limits.MAX_BINARY_BYTES, "for one file")
    yield _read_pdf(_read_bytes(source.origin.file), source.origin)


READER = Reader("pdf", frozenset({".pdf"}), _read_pdf_file, sniff=_sniff_pdf)


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

        # Pages with no text that show an image are scans: OCR reads them (the others keep
        # their text layer). No text at all and no image: a blank or damaged file.
        scanned = [i for i, page in enumerate(page_list)
                   if not page_texts[i] and _has_image(page)]

    ocr_pages, ocr_problem = _ocr(data, scanned, page_texts)
    text, pages = _join_pages(page_texts)
    if not text and failure is not None:
        raise ReadError(f"damaged PDF: no page can be read ({_short(failure)})")
    if not text and not scanned:
        raise ReadError("no extractable text: the PDF has no text layer and no images "
                        "(a blank or damaged PDF)")
    if not text:
        raise ReadError(f"no extractable text: {ocr_problem or 'scanned PDF, OCR found no text'}")
    _check_readable(text, "text layer is unreadable: the PDF's font maps characters to "
                          "wrong glyphs", "needs OCR")
    title = metadata_title or _guess_title(text)
    document = _document(origin, text, title=title, date=None, pages=pages)
    return dataclasses.replace(document, ocr_pages=ocr_pages) if ocr_pages else document


def _ocr(data: bytes, scanned: list[int], page_texts: list[str]) -> tuple[tuple[int, ...], str | None]:
    """Read the ``scanned`` pages (0-based) with OCR into ``page_texts``; returns the pages
    (1-based) that OCR gave text, and why none could be read, when OCR is unavailable."""
    if not scanned:
        return (), None
    from assistant.readers import ocr

    reason = ocr.unavailable_reason()
    if reason is not None:
        # A mixed PDF keeps its text pages; a scan alone is skipped with the reason.
        return (), f"scanned PDF, needs OCR: {reason}"
    read = ocr.read_pages(data, scanned)
    done: list[int] = []
    for number, raw in sorted(read.items()):
        if page := normalize_text(raw):
            page_texts[number] = page
            done.append(number + 1)
    return tuple(done), None


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
