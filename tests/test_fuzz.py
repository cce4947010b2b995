"""Property tests: no input makes the readers, the cleaner or the chunker fail with anything
but the project's own typed errors.

- Any bytes under any supported suffix: ``read_path`` yields Documents and Skipped and never
  raises; ``read_file`` raises only :class:`~assistant.errors.AssistantError` subclasses.
- A real PDF made with pypdf (compressed streams, cross-reference table), cut short, with
  bits flipped or bytes overwritten; the same for a Word file.
- Any text through ``normalize_text``, ``clean_text``, ``text_damage`` and the date finders.
- Any document through ``chunk_document`` with the fake embedder's token counter.

``FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py`` searches longer than the default run.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.chunking import chunk_document
from assistant.cleaning import clean_text, normalize_text, text_damage
from assistant.dates import find_date, parse_metadata_date
from assistant.documents import Document, Skipped
from assistant.errors import AssistantError
from assistant.readers import document_date, read_file, read_path
from tests.fakes import FakeEmbedder
from tests.helpers import BODY_EN, BODY_RU, make_docx, make_pdf

SUFFIXES = (".txt", ".md", ".html", ".pdf", ".docx", ".jsonl", ".csv")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check_file(file: Path) -> list[Document | Skipped]:
    """The reader contract on one file; returns what read_path yielded."""
    items = list(read_path(file))
    assert items, "read_path yielded nothing for a file"
    for item in items:
        assert isinstance(item, Document | Skipped), item
        if isinstance(item, Skipped):
            assert item.reason.strip()
        else:
            assert item.text.strip() and item.id
            assert list(item.pages) == sorted(item.pages)
            assert all(0 <= start <= len(item.text) for start in item.pages)
    try:
        documents = read_file(file)
    except AssistantError:
        assert not any(isinstance(i, Document) for i in items)
    else:
        assert [d.id for d in documents] == [i.id for i in items if isinstance(i, Document)]
    return items


# --------------------------------------------------------------------------- bytes


MAGIC = [b"", b"%PDF-1.4\n", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff",
         b"\xd0\xcf\x11\xe0", b"<!doctype html><html><body><p>", b"{\"text\": \"", b"id,text\n",
         b"---\ntitle: x\n---\n", b"\x89PNG"]

texty_bytes = st.one_of(
    st.text(max_size=600).map(lambda t: t.encode("utf-8")),
    st.text(max_size=300).map(lambda t: t.encode("utf-16", errors="replace")),
    st.text(alphabet=st.characters(min_codepoint=0x400, max_codepoint=0x4FF), max_size=300)
    .map(lambda t: t.encode("cp1251", errors="replace")),
)


@FUZZ
@given(prefix=st.sampled_from(MAGIC), body=st.one_of(st.binary(max_size=2000), texty_bytes),
       suffix=st.sampled_from(SUFFIXES))
def test_any_bytes_under_any_suffix(workdir: Path, prefix: bytes, body: bytes,
                                    suffix: str) -> None:
    file = workdir / f"input{suffix}"
    file.write_bytes(prefix + body)
    check_file(file)


@FUZZ
@given(lines=st.lists(st.one_of(
    st.dictionaries(st.sampled_from(["id", "title", "text", "date", "lang", "url", "subtitle"]),
                    st.one_of(st.text(max_size=80), st.integers(), st.none(), st.booleans(),
                              st.lists(st.integers(), max_size=2)), max_size=7)
    .map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.text(max_size=80),
), max_size=8), suffix=st.sampled_from([".jsonl", ".csv"]))
def test_exports_of_odd_records(workdir: Path, lines: list[str], suffix: str) -> None:
    file = workdir / f"export{suffix}"
    file.write_text("\n".join(lines), encoding="utf-8")
    items = check_file(file) if any(line.strip() for line in lines) else []
    for item in items:  # a record is named by its line
        if isinstance(item, Skipped) and item.path != file.name:
            assert item.path.startswith(f"{file.name}:")


# --------------------------------------------------------------------------- mutated files


def _pypdf_pdf() -> bytes:
    """A real PDF written by pypdf: two pages, compressed content streams, metadata."""
    from pypdf import PdfReader, PdfWriter

    source = make_pdf([["Bank signs water agreement", BODY_EN[:80], BODY_EN[80:160]],
                       ["Second page of the release.", "Astana, 30 November 2016"]])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(source)))
    for page in writer.pages:
        page.compress_content_streams()
    writer.add_metadata({"/Title": "Water agreement signed"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PDF = _pypdf_pdf()
DOCX = make_docx(["Germany to fund a training institute", BODY_EN, BODY_RU],
                 title="Training institute", table=[["Item", "Amount"], ["Buildings", "2"]])


def test_the_pristine_files_are_read(workdir: Path) -> None:
    for name, data in (("clean.pdf", PDF), ("clean.docx", DOCX)):
        file = workdir / name
        file.write_bytes(data)
        [doc] = check_file(file)
        assert isinstance(doc, Document)


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["cut", "flip", "overwrite", "insert", "delete"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "cut":
            del data[at:]
        elif kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[at:at + len(chunk)] = chunk
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del data[at:at + draw(st.integers(1, 64))]
    return bytes(data)


@FUZZ
@given(data=mutated(PDF), suffix=st.sampled_from([".pdf", ".txt"]))
def test_mutated_pdf(workdir: Path, data: bytes, suffix: str) -> None:
    file = workdir / f"mutated{suffix}"
    file.write_bytes(data)
    check_file(file)


@FUZZ
@given(data=mutated(DOCX))
def test_mutated_docx(workdir: Path, data: bytes) -> None:
    file = workdir / "mutated.docx"
    file.write_bytes(data)
    check_file(file)


@FUZZ
@given(xml=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_zip_with_a_broken_document_part(workdir: Path, xml: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", xml)
    file = workdir / "broken.docx"
    file.write_bytes(buffer.getvalue())
    [item] = check_file(file)
    assert isinstance(item, Skipped)


# --------------------------------------------------------------------------- text


def _sample_texts() -> Iterator[str]:
    yield "Title\n\n1 May 2020 PrintPrintPDFPDF\n\nThe body, a sentence of prose here.\n\nShare"
    yield "ප ොලිස් මොධ්‍ය ප ොට්ඨොසය ශ්‍රී ලංකා"


texts = st.one_of(
    st.text(max_size=2000),
    st.lists(st.one_of(st.text(max_size=60), st.sampled_from(
        ["Print", "Share", "PDFPDF", "Tweet Share", "\n", "\n\n", "30 November 2016", "|",
         "Версия для печати", "ශ්‍රී", "\u200d", "\u0dd9", "ොලිස්", "  ", "\r\n", "Tags: a, b",
         BODY_EN, BODY_RU, "1. ", "•"])), max_size=40).map("".join),
    st.sampled_from(list(_sample_texts())),
)


@settings(max_examples=EXAMPLES + 50, deadline=None)
@given(text=texts)
def test_text_functions_accept_any_text(text: str) -> None:
    normalized = normalize_text(text)
    assert normalize_text(normalized) == normalized
    cleaned = clean_text(text)
    assert "\r" not in cleaned and "\n\n\n" not in cleaned
    assert cleaned == cleaned.strip("\n")
    damage = text_damage(text)
    assert 0 <= damage.broken + damage.coded <= damage.words
    assert 0.0 <= damage.share <= 1.0
    assert isinstance(damage.unreadable, bool) and damage.symptom()
    for found in (find_date(text), find_date(text, header_only=True), document_date(text),
                  parse_metadata_date(text[:100])):
        assert found is None or found.year >= 1900


# --------------------------------------------------------------------------- chunking


@settings(max_examples=EXAMPLES, deadline=None)
@given(text=texts, title=st.text(max_size=120), max_tokens=st.integers(20, 300),
       overlap=st.integers(0, 120), lang=st.sampled_from([None, "en", "ru", "kk", "si", "xx"]))
def test_chunking_accepts_any_document(text: str, title: str, max_tokens: int, overlap: int,
                                       lang: str | None) -> None:
    assume(text.strip())
    document = Document(id="d", title=title, text=text, lang=lang)
    count = FakeEmbedder().count_tokens
    try:
        chunks = chunk_document(document, count_tokens=count, max_tokens=max_tokens,
                                overlap_tokens=overlap)
    except ValueError as error:  # the one documented refusal: no room left after the title
        assert "leaves no room" in str(error)
        return
    assert chunks
    for number, chunk in enumerate(chunks):
        assert chunk.ordinal == number
        assert text[chunk.start:chunk.end] == chunk.text


def test_chunks_fit_the_window_even_for_uneven_long_words() -> None:
    count = FakeEmbedder().count_tokens
    text = "See the list at https://www.example.org/" + "x" * 300 + "/".join(["ab"] * 100) + " ."
    document = Document(id="d", title="Title", text=text)
    for max_tokens in (40, 100):
        chunks = chunk_document(document, count_tokens=count, max_tokens=max_tokens)
        assert max(count([c.embedding_text])[0] for c in chunks) <= max_tokens
