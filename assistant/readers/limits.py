"""The size limits of the readers' size policy (see :mod:`assistant.readers`).

The readers look these up here when they run (``limits.MAX_BINARY_BYTES``), so a test can
lower one with ``monkeypatch.setattr(limits, ...)``."""

from __future__ import annotations

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

SNIFF_BYTES = 8192
HEAD_BYTES = 8 * SNIFF_BYTES  # read to decide a file's type
EXPORT_HEAD_BYTES = 1 << 18  # read to decide an export's encoding
