"""HTML pages: the main text by trafilatura (imported when a page is read), the title from
its metadata or ``<title>``, the date from a dateline, else the page's metadata."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from assistant.cleaning import clean_text, fix_mojibake
from assistant.dates import find_date, parse_metadata_date
from assistant.documents import Document
from assistant.errors import ReadError
from assistant.readers import limits
from assistant.readers.assembly import _document, _guess_title
from assistant.readers.encoding import decode_text
from assistant.readers.files import _check_size, _Origin, _read_bytes
from assistant.readers.registry import Reader, Source

HTML_SUFFIXES = frozenset({".html", ".htm"})
_HTML_CLOSERS = re.compile(r"</\s*+(?:html|body)\s*+>", re.IGNORECASE)
# The <title> element, in steps (see _html_title).
_HTML_TITLE_OPEN = re.compile(r"<title", re.IGNORECASE)
_HTML_TITLE_CLOSE = re.compile(r"</title\s*+>", re.IGNORECASE)


def _read_html_file(source: Source) -> Iterator[Document]:
    _check_size(source.size, limits.MAX_DOCUMENT_BYTES, "for one release")
    yield _read_html(decode_text(_read_bytes(source.origin.file)), source.origin)


READER = Reader("html", HTML_SUFFIXES, _read_html_file)


def _looks_like_html(text: str) -> bool:
    head = text[:1024].lstrip().lower()
    return head.startswith(("<!doctype html", "<html")) or "<html" in head


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
