"""Bytes to text (:func:`decode_text`), and the files refused as binary: old Office files
(OLE), common binary formats, and anything whose first bytes do not decode to text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from assistant.documents import Document
from assistant.errors import ReadError, UnsupportedFormat
from assistant.readers import limits
from assistant.readers.registry import Reader, Source

# Signatures of common binary files whose first bytes could pass for text.
_BINARY_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"\x7fELF")


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
    has_nul = b"\x00" in data[:limits.SNIFF_BYTES]
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


def _sniff_ole(head: bytes, file: Path) -> bool:
    return head.startswith(b"\xd0\xcf\x11\xe0")


def _refuse_ole(source: Source) -> Iterator[Document]:
    raise UnsupportedFormat("an old binary Office file (.doc/.xls); save it as .docx")


def _sniff_binary(data: bytes, file: Path) -> bool:
    """The first bytes ``data`` are not text (tried after the formats recognised by content)."""
    if data[:limits.SNIFF_BYTES].startswith(_BINARY_MAGIC):
        return True
    try:
        text = decode_text(data[: 4 * limits.SNIFF_BYTES], sample=True)
    except ReadError:
        return True
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\x0c")
    return controls > max(2, len(text) // 100)


def _refuse_binary(source: Source) -> Iterator[Document]:
    raise ReadError("binary file, not a document")


OLE = Reader("ole", frozenset(), _refuse_ole, sniff=_sniff_ole)
BINARY = Reader("binary", frozenset(), _refuse_binary, sniff=_sniff_binary)
"""Refusals, registered after the formats recognised by content and before any other."""
