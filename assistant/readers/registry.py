"""The readers, registered by the file suffixes they claim and the content they recognise.

>>> register(Reader("toy", frozenset({".toy"}), read_toy))          # doctest: +SKIP

A file's reader is decided by its content first: the first registered reader whose
``sniff`` recognises the file's first bytes reads it, whatever its name (a Word file saved as
``.pdf`` is read as Word). A reader with a sniffer is chosen by its content only. Otherwise
the reader without a sniffer that claims the file's suffix reads it; when none does (a text
file saved as ``.pdf``), the caller falls back to reading it as text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from assistant.documents import Document, Skipped
from assistant.readers.files import _Origin

__all__ = ["Reader", "Source", "find", "register", "registered", "suffixes", "unregister"]


@dataclass(frozen=True, slots=True)
class Source:
    """What a reader is given: the file, the export field map, and what was read to sniff it."""

    origin: _Origin
    fields: Mapping[str, str]
    head: bytes
    """The first bytes of the file (:data:`~assistant.readers.limits.HEAD_BYTES`)."""
    size: int


@dataclass(frozen=True, slots=True)
class Reader:
    """One format. ``read`` yields the file's Documents (or Skipped records) and raises
    ReadError with a reason for a file it cannot read. ``sniff(head, file)`` says whether the
    file's first bytes are this format's; a reader without one is chosen by suffix."""

    name: str
    suffixes: frozenset[str]
    read: Callable[[Source], Iterable[Document | Skipped]]
    sniff: Callable[[bytes, Path], bool] | None = None


_READERS: list[Reader] = []


def register(reader: Reader) -> Reader:
    """Add ``reader`` after those registered before it (sniffers are tried in this order);
    one registered under the same name is replaced."""
    unregister(reader.name)
    _READERS.append(reader)
    return reader


def unregister(name: str) -> None:
    """Remove the reader called ``name`` (nothing if there is none)."""
    _READERS[:] = [reader for reader in _READERS if reader.name != name]


def registered() -> tuple[Reader, ...]:
    """The readers, in the order their sniffers are tried."""
    return tuple(_READERS)


def suffixes() -> frozenset[str]:
    """Every suffix some reader claims: the files a folder walk reads."""
    return frozenset(suffix for reader in _READERS for suffix in reader.suffixes)


def find(suffix: str, head: bytes, file: Path) -> Reader | None:
    """The reader for a file: by its content first, then by its (lower-case) suffix."""
    for reader in _READERS:
        if reader.sniff is not None and reader.sniff(head, file):
            return reader
    return next((reader for reader in _READERS
                 if reader.sniff is None and suffix in reader.suffixes), None)
