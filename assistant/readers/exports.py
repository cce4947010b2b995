"""Site exports: a ``.jsonl`` or ``.csv`` file of records, one Document per record.

An export may be of any size: it is streamed one record at a time. An export in which no
record has a text field (a sidecar such as a ``metadata.jsonl``) is reported once, as one
Skipped for the file, instead of once per record."""

from __future__ import annotations

import csv
import functools
import itertools
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, TextIO

from assistant.cleaning import clean_text, safe_label
from assistant.dates import parse_metadata_date
from assistant.documents import Document, Skipped
from assistant.errors import ConfigError, ReadError
from assistant.languages import detect_language
from assistant.readers import limits
from assistant.readers.assembly import (
    _guess_title,
    _language_code,
    _tidy_title,
    document_date,
)
from assistant.readers.encoding import _encoding_of
from assistant.readers.files import _megabytes, _Origin
from assistant.readers.registry import Reader, Source

EXPORT_SUFFIXES = frozenset({".jsonl", ".csv"})

EXPORT_FIELDS: tuple[str, ...] = (
    "id", "title", "date", "url", "text", "lang", "subtitle", "summary",
)
"""Our names for an export record's fields; a ``field_map`` maps them to the export's."""
# Empty values some exports put where a subtitle would be.
_PLACEHOLDER = re.compile(
    r"^\s*(?:n/?a|none|null|-+|\.+|(?:no|without)\s+(?:description|summary|subtitle)"
    r"(?:\s+available)?\.?)\s*$",
    re.IGNORECASE,
)


def _read_export_file(source: Source) -> Iterator[Document | Skipped]:
    csv_format = source.origin.file.suffix.lower() == ".csv"
    yield from _read_export(source.origin, source.fields, csv_format=csv_format)


READER = Reader("export", EXPORT_SUFFIXES, _read_export_file)


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
            head = raw.read(limits.EXPORT_HEAD_BYTES)
        encoding = _encoding_of(head, sample=len(head) == limits.EXPORT_HEAD_BYTES)
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
    for number, raw in _bounded_lines(stream, limits.MAX_DOCUMENT_BYTES):
        if raw is None:
            yield number, None, (f"line {number} is too large for one release (over "
                                 f"{_megabytes(limits.MAX_DOCUMENT_BYTES)})")
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
    pieces = iter(functools.partial(stream.readline, limits.MAX_DOCUMENT_BYTES + 1), "")
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
    if csv.field_size_limit() < limits.MAX_DOCUMENT_BYTES:
        csv.field_size_limit(limits.MAX_DOCUMENT_BYTES)


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
