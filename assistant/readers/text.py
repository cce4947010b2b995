"""Plain text and Markdown (with ``---`` front matter), and the fallback for a file whose
content no reader recognises but whose suffix a content-sniffed reader claims (a text file
saved as ``.pdf``): read as text, or as HTML when it looks like a page."""

from __future__ import annotations

import re
from collections.abc import Iterator

from assistant.cleaning import clean_text
from assistant.dates import parse_metadata_date
from assistant.documents import Document
from assistant.errors import ReadError
from assistant.readers import html, limits
from assistant.readers.assembly import _document
from assistant.readers.encoding import decode_text
from assistant.readers.files import _check_size, _Origin, _read_bytes
from assistant.readers.registry import Reader, Source

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})


def _read_text_file(source: Source) -> Iterator[Document]:
    _check_size(source.size, limits.MAX_DOCUMENT_BYTES, "for one release")
    text = decode_text(_read_bytes(source.origin.file))
    suffix = source.origin.file.suffix.lower()
    if suffix not in TEXT_SUFFIXES and html._looks_like_html(text):
        yield html._read_html(text, source.origin)
    else:
        yield _read_text(text, source.origin, markdown=suffix in {".md", ".markdown"})


READER = Reader("text", TEXT_SUFFIXES, _read_text_file)
"""Text and Markdown by suffix; also what reads a file no other reader takes."""


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
