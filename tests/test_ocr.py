"""Scanned PDF pages read by OCR (assistant/readers/ocr.py): page numbers kept, OCR'd pages
marked on the document, in the index, on citations and cards; without Tesseract, scans are
skipped with the reason and how to install it.

Tests that run Tesseract skip, saying why, where it is not installed; with
``PRESS_ASSISTANT_REQUIRE_OCR=1`` (the Makefile's test target, which installs it) they fail
instead. OCR costs seconds a page: each test reads one or two pages."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
from pathlib import Path

import pytest

from assistant.documents import Citation, Document, Skipped
from assistant.errors import ReadError
from assistant.readers import ocr, read_file, read_path
from assistant.web.formatting import format_card
from tests.helpers import AssistantFactory, make_pdf

REQUIRE_OCR = "PRESS_ASSISTANT_REQUIRE_OCR"
SCAN = "2021-07-19-881609.pdf"  # a two-page scanned treasury release, no text layer


@pytest.fixture
def tesseract() -> None:
    """Skip (or, with PRESS_ASSISTANT_REQUIRE_OCR=1, fail) where OCR cannot run."""
    reason = ocr.unavailable_reason()
    if reason is None:
        return
    if os.environ.get(REQUIRE_OCR) == "1":
        pytest.fail(f"{REQUIRE_OCR}=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture
def no_tesseract(monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine where the tesseract program is not installed."""
    monkeypatch.setattr(ocr, "_program", lambda: None)


def image_page(lines: list[str]) -> bytes:
    """A one-page PDF that is only an image of ``lines`` (as a scanner makes), at 200 dpi."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (1654, 2339), 255)  # A4 at 200 dpi
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=44)  # about 12 pt at 200 dpi
    for n, line in enumerate(lines):
        draw.text((160, 200 + 70 * n), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format="PDF", resolution=200.0)
    return buffer.getvalue()


def joined(*pdfs: bytes) -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for pdf in pdfs:
        for page in PdfReader(io.BytesIO(pdf)).pages:
            writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


TEXT_PAGE = ["Harbour bridge reopens after repairs.", "Traffic returns to normal this week."]
IMAGE_LINES = ["The ferry service to the northern islands", "will resume on the fourth of May",
               "with three crossings every day."]


# --------------------------------------------------------------------------- without Tesseract


def test_without_tesseract_a_scan_is_skipped_saying_how_to_install_it(
        tmp_path: Path, no_tesseract: None) -> None:
    file = tmp_path / "scan.pdf"
    file.write_bytes(make_pdf([[], []], scan=True))
    [skipped] = read_path(file)
    assert isinstance(skipped, Skipped)
    assert skipped.reason.startswith("no extractable text: scanned PDF, needs OCR: "
                                     "Tesseract OCR is not installed")
    assert "apt-get install tesseract-ocr tesseract-ocr-eng" in skipped.reason
    assert ocr.signature() == ""  # the indexer's reading settings name no OCR


def test_without_tesseract_a_mixed_pdf_keeps_its_text_pages(
        tmp_path: Path, no_tesseract: None) -> None:
    file = tmp_path / "mixed.pdf"
    file.write_bytes(joined(make_pdf([TEXT_PAGE]), image_page(IMAGE_LINES)))
    [doc] = read_file(file)
    assert "Harbour bridge reopens" in doc.text
    assert "ferry" not in doc.text
    assert doc.ocr_pages == ()
    assert len(doc.pages) == 2


def test_languages_are_those_wanted_and_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "_program", lambda: "/usr/bin/tesseract")
    monkeypatch.setattr(ocr, "_installed", lambda program: ("eng", "rus", "deu"))
    assert ocr.languages() == ("eng", "rus")  # the default set, as far as installed
    monkeypatch.setenv(ocr.LANGUAGES_ENV, "deu+eng+xxx")
    assert ocr.languages() == ("deu", "eng")
    monkeypatch.setenv(ocr.LANGUAGES_ENV, "xxx")
    reason = ocr.unavailable_reason()
    assert reason is not None and "none of the OCR languages xxx" in reason
    assert ocr.LANGUAGES_ENV in reason
    with pytest.raises(ReadError, match="scanned PDF, needs OCR"):
        ocr.read_pages(make_pdf([[]], scan=True), [0])


def test_the_joiners_tesseract_adds_to_sinhala_and_tamil_are_dropped() -> None:
    # A ZWNJ after al-lakuna / pulli or at a word's end is Tesseract's, not the text's; the
    # ZWJ of a Sinhala conjunct (ශ්‍රී) and a ZWNJ between two letters stay.
    assert ocr.tidy("පොලිස්\u200c ශ්\u200dරී நிதி அமைச்சு\u200c\nசெயலகம்\u200c க\u200cல") == (
        "පොලිස් ශ්\u200dරී நிதி அமைச்சு\nசெயலகம் க\u200cல")


def test_a_latin_page_with_cyrillic_look_alikes_is_read_again_without_russian_and_kazakh() -> None:
    wanted = ("eng", "rus", "kaz", "sin", "tam")
    english = "The agreement was signed " * 20
    assert ocr.latin_page_languages(english + "іп Colombo оп Monday", wanted) == ("eng", "sin", "tam")
    assert ocr.latin_page_languages(english, wanted) == ()  # no Cyrillic: the reading stands
    russian = "Генеральный прокурор провёл встречу " * 10 + "www.prokuror.kz"
    assert ocr.latin_page_languages(russian, wanted) == ()  # a Cyrillic page keeps its Latin
    assert ocr.latin_page_languages(english + "іп", ("rus", "kaz")) == ()  # nothing left to use


# --------------------------------------------------------------------------- the document


def test_a_document_without_ocr_keeps_its_content_hash() -> None:
    """Indexes made before OCR must not see every document as changed."""
    doc = Document(id="a", title="T", text="Some text.", date=dt.date(2021, 1, 2), url=None,
                   lang="en", pages=(0, 5))
    old_payload = json.dumps(["T", "Some text.", "2021-01-02", None, "en", [0, 5]],
                             ensure_ascii=False)
    assert doc.content_hash == hashlib.sha256(old_payload.encode()).hexdigest()
    marked = Document(id="a", title="T", text="Some text.", date=dt.date(2021, 1, 2), url=None,
                      lang="en", pages=(0, 5), ocr_pages=(2,))
    assert marked.content_hash != doc.content_hash
    assert not marked.ocr_at(0) and marked.ocr_at(5) and marked.ocr_at(9)
    assert not doc.ocr_at(9)


def test_the_card_and_the_json_say_ocr_text() -> None:
    citation = Citation(n=1, doc_id="scan.pdf", title="Ferry", date=None, url=None,
                        quote="The ferry will resume.", start=0, end=22, score=1.0, page=2,
                        ocr=True)
    card = format_card(citation, turn=1)
    assert "page 2" in card and "OCR text" in card
    assert citation.to_json()["ocr"] is True
    plain = format_card(Citation(n=1, doc_id="a.pdf", title="Ferry", date=None, url=None,
                                 quote="The ferry will resume.", start=0, end=22, score=1.0,
                                 page=2), turn=1)
    assert "OCR" not in plain


def test_an_index_made_before_ocr_is_read_and_gains_the_column(
        make_assistant: AssistantFactory) -> None:
    bot = make_assistant({"bridge.txt": "Harbour bridge reopens\n\nThe bridge reopened on Monday."})
    bot.close()
    store = make_assistant.root / "index" / "store.sqlite3"
    with sqlite3.connect(store) as db:  # as an index written before the column existed
        db.execute("ALTER TABLE documents DROP COLUMN ocr_pages")
    again = make_assistant(index=make_assistant.root / "index")
    doc = again.document("bridge.txt")
    assert doc is not None and doc.ocr_pages == () and "reopened" in doc.text
    with sqlite3.connect(store) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(documents)")]
    assert columns[-1] == "ocr_pages"


# --------------------------------------------------------------------------- with Tesseract


def test_a_mixed_pdf_reads_its_image_page_by_ocr(tmp_path: Path, tesseract: None) -> None:
    file = tmp_path / "mixed.pdf"
    file.write_bytes(joined(make_pdf([TEXT_PAGE]), image_page(IMAGE_LINES)))
    [doc] = read_file(file)
    assert doc.ocr_pages == (2,)  # page 1 keeps its text layer
    assert doc.text.startswith("Harbour bridge reopens after repairs.")
    page_two = doc.text[doc.pages[1]:]
    assert doc.page_at(doc.pages[1]) == 2
    words = " ".join(page_two.split()).lower()
    assert "ferry service to the northern islands" in words
    assert "three crossings every day" in words
    assert doc.ocr_at(doc.pages[1]) and not doc.ocr_at(0)


def test_a_scan_where_ocr_finds_no_text_says_so(tmp_path: Path, tesseract: None) -> None:
    file = tmp_path / "grey.pdf"
    file.write_bytes(make_pdf([[]], scan=True))  # one page that is a plain grey image
    [skipped] = read_path(file)
    assert skipped == Skipped("grey.pdf", "no extractable text: scanned PDF, OCR found no text")


@pytest.mark.shared_data
def test_a_scanned_release_is_indexed_and_cited_with_its_page(
        shared_data: Path, tesseract: None, make_assistant: AssistantFactory) -> None:
    scan = shared_data / "pdf_press_releases" / "lk_treasury_en" / SCAN
    bot = make_assistant({SCAN: scan.read_bytes(),
                          "bridge.txt": "Harbour bridge reopens\n\nThe bridge reopened on Monday."})
    doc = bot.document(SCAN)
    assert doc is not None
    assert doc.ocr_pages == (1, 2) and len(doc.pages) == 2
    # A fact on the second page, asked in other words than the release's.
    answer = bot.ask("By which year does the government aim to bring its budget deficit "
                     "down to four percent of GDP?")
    assert not answer.abstained, answer.reason
    cited = answer.citations[0]
    assert cited.doc_id == SCAN
    assert "2025" in cited.quote and "deficit" in cited.quote
    assert doc.text[cited.start:cited.end] == cited.quote
    assert cited.page == 2 and cited.ocr
    assert answer.to_json()["citations"][0]["ocr"] is True  # type: ignore[index]
    [hit] = bot.search("budget deficit target 2025", k=1)
    assert hit.doc_id == SCAN and hit.ocr and hit.page in (1, 2)  # a chunk may start on page 1


def test_the_http_api_marks_ocr_text(make_assistant: AssistantFactory, tesseract: None) -> None:
    from fastapi.testclient import TestClient

    from assistant.api import build_api

    bot = make_assistant({"mixed.pdf": joined(make_pdf([TEXT_PAGE]), image_page(IMAGE_LINES))})
    client = TestClient(build_api(bot))
    body = client.post("/api/ask", json={"question": "When does the ferry to the northern "
                                                     "islands start running again?"}).json()
    assert not body["abstained"], body
    cited = body["citations"][0]
    assert "ferry" in cited["quote"].lower() and cited["page"] == 2 and cited["ocr"] is True
    hits = client.post("/api/search", json={"query": "harbour bridge repairs"}).json()["hits"]
    assert hits[0]["page"] == 1 and hits[0]["ocr"] is False  # the text layer's page
    document = client.get("/api/documents/mixed.pdf").json()
    assert document["ocr_pages"] == [2]
