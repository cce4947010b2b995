"""Readers: every format, content sniffing, exports with line numbers, folder walks."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.dates import find_date, parse_metadata_date
from assistant.documents import Document, Skipped
from assistant.errors import ConfigError, ReadError, UnsupportedFormat
from assistant.readers import (
    SUPPORTED_SUFFIXES,
    document_date,
    read_file,
    read_path,
)
from tests.helpers import BODY_EN, BODY_RU, ROOT, SEED, make_docx, make_pdf, pdf_file


def split(items: list[Document | Skipped]) -> tuple[list[Document], list[Skipped]]:
    return ([i for i in items if isinstance(i, Document)],
            [i for i in items if isinstance(i, Skipped)])


# --------------------------------------------------------------------------- fixtures
# (make_pdf and make_docx are in tests/helpers.py: other modules use them too)


def make_mapped_pdf(lines: list[str], mapping: dict[str, str]) -> bytes:
    """A one-page PDF whose font's ToUnicode table maps each character of ``lines`` to a
    string of ``mapping``: how a legacy-font PDF tells an extractor what its glyphs mean."""
    pairs = "\n".join(f"<{ord(code):02X}> <{''.join(f'{ord(c):04X}' for c in text)}>"
                      for code, text in mapping.items())
    cmap = ("/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CIDSystemInfo "
            "<< /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def /CMapName "
            "/Adobe-Identity-UCS def /CMapType 2 def 1 begincodespacerange <00> <FF> "
            f"endcodespacerange {len(mapping)} beginbfchar\n{pairs}\nendbfchar endcmap "
            "CMapName currentdict /CMap defineresource pop end end")
    content = "BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
        4: (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font "
            b"<< /F1 3 0 R >> >> /Contents 5 0 R >>"),
        5: f"<< /Length {len(content)} >>\nstream\n{content}\nendstream".encode(),
        6: f"<< /Length {len(cmap)} >>\nstream\n{cmap}\nendstream".encode(),
    }
    return pdf_file(objects)


# --------------------------------------------------------------------------- text files


def test_txt_utf8_with_bom(tmp_path: Path) -> None:
    file = tmp_path / "release.txt"
    file.write_bytes(("\ufeffBank signs water agreement\n\n12 March 2019\n\n" + BODY_EN)
                     .encode("utf-8"))
    [doc] = read_file(file)
    assert doc.id == "release.txt"
    assert doc.title == "Bank signs water agreement"
    assert doc.date == dt.date(2019, 3, 12)
    assert doc.lang == "en"
    assert doc.url == str(file.resolve())
    assert doc.source == str(file.resolve())
    assert doc.collection == "release.txt"
    assert doc.pages == ()
    assert not doc.text.startswith("\ufeff")
    assert BODY_EN in doc.text


def test_txt_cp1251(tmp_path: Path) -> None:
    file = tmp_path / "ru.txt"
    source = "Встреча генеральных прокуроров\n\n30 ноября 2016 г.\n\n" + BODY_RU
    file.write_bytes(source.encode("cp1251"))
    [doc] = read_file(file)
    assert doc.text == source
    assert doc.title == "Встреча генеральных прокуроров"
    assert doc.date == dt.date(2016, 11, 30)
    assert doc.lang == "ru"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le"])  # with and without a BOM
def test_txt_utf16(tmp_path: Path, encoding: str) -> None:
    file = tmp_path / "wide.txt"
    file.write_bytes(("Встреча в Астане\n\n" + BODY_RU).encode(encoding))
    [doc] = read_file(file)
    assert doc.title == "Встреча в Астане"
    assert BODY_RU in doc.text


def test_markdown_title_and_front_matter(tmp_path: Path) -> None:
    plain = tmp_path / "a.md"
    plain.write_text("# Budget approved\n\nAstana, 2 May 2021\n\n" + BODY_EN, encoding="utf-8")
    [doc] = read_file(plain)
    assert doc.title == "Budget approved"
    assert doc.date == dt.date(2021, 5, 2)
    assert doc.text.startswith("# Budget approved")  # the text itself is kept verbatim

    fronted = tmp_path / "b.md"
    fronted.write_text("---\ntitle: \"Front title\"\ndate: 2020-01-15\n---\n# Heading\n\n"
                       + BODY_EN, encoding="utf-8")
    [doc] = read_file(fronted)
    assert (doc.title, doc.date) == ("Front title", dt.date(2020, 1, 15))
    assert "---" not in doc.text


def test_seed_release(tmp_path: Path) -> None:
    [doc] = read_file(SEED)
    first_line = SEED.read_text(encoding="utf-8").split("\n", 1)[0].strip()
    assert doc.title == first_line
    assert doc.date == dt.date(2016, 11, 30)
    assert doc.lang == "en"
    assert "Версия для печати" not in doc.text
    assert "PDFPDF" not in doc.text
    assert "Add new comment" not in doc.text
    assert "\n30 November 2016\n" in doc.text
    assert "The event was attended by the heads of supreme supervisory authorities" in doc.text
    assert doc.text.endswith("Press Service of the General Prosecutor’s Office")


# --------------------------------------------------------------------------- html


HTML_PAGE = """<!doctype html>
<html><head><title>Ministry signs agreement | Ministry of Finance</title>
<script>var tracker = "SECRET_SCRIPT_TEXT"; function go() {}</script>
<style>body { color: red }</style></head>
<body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/about">About the ministry and its many departments</a></li></ul></nav>
<article>
<h1>Ministry signs agreement</h1>
<p>14 June 2022</p>
<p>The ministry signed a cooperation agreement with the regional development bank today.
The agreement covers water supply, irrigation and rural roads in three provinces.</p>
<p>The first projects will start next spring and employ local contractors and engineers
from the provinces concerned, the minister said at the signing ceremony in the capital.</p>
<p>Officials expect the programme to reach two hundred villages within four years, with
reports on progress published every quarter on the ministry's website.</p>
</article>
<footer>Copyright 2022 Ministry of Finance. All rights reserved.</footer>
</body></html>
"""


def test_html_main_text_without_scripts_or_menus(tmp_path: Path) -> None:
    file = tmp_path / "page.html"
    file.write_text(HTML_PAGE, encoding="utf-8")
    [doc] = read_file(file)
    assert "cooperation agreement with the regional development bank" in doc.text
    assert "SECRET_SCRIPT_TEXT" not in doc.text
    assert "color: red" not in doc.text
    assert "About the ministry and its many departments" not in doc.text
    assert "Ministry signs agreement" in doc.title
    assert doc.date == dt.date(2022, 6, 14)
    assert "\n\n" in doc.text  # paragraphs stay apart


def test_html_several_documents_in_one_file(tmp_path: Path) -> None:
    # A saved page that starts with a stray, closed <html> block: lxml alone would stop there.
    file = tmp_path / "glued.htm"
    file.write_text("<html><head><meta charset='utf-8'></head></html>\n" + HTML_PAGE,
                    encoding="utf-8")
    [doc] = read_file(file)
    assert "regional development bank" in doc.text


def test_html_double_encoded_utf8_is_repaired(tmp_path: Path) -> None:
    file = tmp_path / "mojibake.html"
    broken = HTML_PAGE.replace("ministry's", "ministry’s").encode("utf-8").decode("latin-1")
    file.write_text(broken, encoding="utf-8")
    [doc] = read_file(file)
    assert "ministry’s website" in doc.text


# --------------------------------------------------------------------------- pdf


def test_pdf_two_pages_offsets(tmp_path: Path) -> None:
    file = tmp_path / "two.pdf"
    page1 = ["Bank signs water agreement", "Colombo, 05.04.2019", "The first page says hello."]
    page2 = ["The second page continues the release.", "It ends here."]
    file.write_bytes(make_pdf([page1, page2]))
    [doc] = read_file(file)
    assert len(doc.pages) == 2
    assert doc.pages[0] == 0
    assert doc.text[doc.pages[1]:].startswith("The second page continues")
    assert doc.text[: doc.pages[1]].rstrip().endswith("The first page says hello.")
    assert doc.text[doc.pages[1] - 2: doc.pages[1]] == "\n\n"
    assert doc.page_at(doc.text.index("hello")) == 1
    assert doc.page_at(doc.text.index("ends here")) == 2
    assert doc.title == "Bank signs water agreement"
    assert doc.date == dt.date(2019, 4, 5)


def test_pdf_empty_middle_page_keeps_offsets_monotonic(tmp_path: Path) -> None:
    file = tmp_path / "gap.pdf"
    file.write_bytes(make_pdf([["Page one text here."], [], ["Page three text here."]]))
    [doc] = read_file(file)
    assert list(doc.pages) == sorted(doc.pages) and len(doc.pages) == 3
    assert doc.page_at(doc.text.index("Page three")) == 3


def test_pdf_metadata_title_used_when_meaningful(tmp_path: Path) -> None:
    good = tmp_path / "good.pdf"
    good.write_bytes(make_pdf([["PRESS RELEASE", "Some text of the release body."]],
                              title="Tax appeals commission revived"))
    assert read_file(good)[0].title == "Tax appeals commission revived"
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(make_pdf([["PRESS RELEASE", "Treasury bond auction results announced"]],
                              title="Microsoft Word - draft3.docx"))
    # The generic label line is passed over for the first line that names the release.
    assert read_file(junk)[0].title == "Treasury bond auction results announced"


def test_pdf_without_text_layer_needs_ocr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.readers import ocr

    monkeypatch.setattr(ocr, "_program", lambda: None)  # no Tesseract (tests/test_ocr.py: with)
    file = tmp_path / "scan.pdf"
    file.write_bytes(make_pdf([[], []], scan=True))
    with pytest.raises(ReadError, match="no extractable text: scanned PDF, needs OCR"):
        read_file(file)
    [skipped] = read_path(file)
    assert skipped == Skipped("scan.pdf", "no extractable text: scanned PDF, needs OCR: "
                                          f"Tesseract OCR is not installed (install it: {ocr.INSTALL})")


def test_pdf_without_text_or_images_is_not_called_a_scan(tmp_path: Path) -> None:
    file = tmp_path / "blank.pdf"
    file.write_bytes(make_pdf([[], []]))
    [skipped] = read_path(file)
    assert skipped == Skipped("blank.pdf", "no extractable text: the PDF has no text layer and "
                                           "no images (a blank or damaged PDF)")


def test_pdf_encrypted_with_password(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_pdf([["Secret text."]]))))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    file = tmp_path / "locked.pdf"
    file.write_bytes(buffer.getvalue())
    [skipped] = read_path(file)
    assert isinstance(skipped, Skipped)
    assert "encrypted PDF" in skipped.reason and "password" in skipped.reason


# Glyph codes of a Sinhala font. A Unicode font maps "P" to "පො" (pa + the vowel sign o); a
# legacy font, built for visual order, maps the glyph of the sign's left part (kombuva) to the
# sign alone, so the sign lands after a space or on another sign.
SINHALA_GLYPHS = {"P": "පො", "p": "ප", "k": "ො", "e": "ෙ", "l": "ලි", "s": "ස්", "t": "ත",
                  "a": "ා", "m": "ම", "d": "ධ්\u200dය", "j": "ජ", " ": " ", ".": "."}


def test_pdf_with_a_legacy_font_is_unreadable(tmp_path: Path) -> None:
    file = tmp_path / "police.pdf"
    file.write_bytes(make_mapped_pdf(["p kls mkd ps ekt.", "p kls tmt emta."] * 6, SINHALA_GLYPHS))
    [skipped] = read_path(file)
    assert isinstance(skipped, Skipped)
    assert skipped.reason.startswith(
        "text layer is unreadable: the PDF's font maps characters to wrong glyphs (legacy "
        "Sinhala font); needs OCR (")
    assert "% of its words are impossible letter sequences" in skipped.reason
    with pytest.raises(ReadError, match="text layer is unreadable"):
        read_file(file)


def test_pdf_with_a_unicode_sinhala_font_is_read(tmp_path: Path) -> None:
    file = tmp_path / "police.pdf"
    file.write_bytes(make_mapped_pdf(["Pls mad Pst.", "Pls tmt Pta."] * 6, SINHALA_GLYPHS))
    [doc] = read_file(file)
    assert doc.text.startswith("පොලිස් මාධ්\u200dය පොස්ත.")


def test_pdf_trailing_empty_pages_start_at_the_end(tmp_path: Path) -> None:
    file = tmp_path / "tail.pdf"
    file.write_bytes(make_pdf([["Page one text here."], [], []]))
    [doc] = read_file(file)
    assert doc.pages == (0, len(doc.text), len(doc.text))


def test_pdf_saved_as_text_is_diagnosed(tmp_path: Path) -> None:
    # What a scraper does when it decodes a PDF as text: binary bytes become U+FFFD.
    mangled = make_pdf([["Some text."]]).replace(b"Helvetica", bytes(range(0x80, 0xA0)))
    mangled = mangled.decode("utf-8", errors="replace").encode("utf-8")
    mangled = mangled.replace(b"xref", b"\xef\xbf\xbd" * 40)
    file = tmp_path / "report.pdf"
    file.write_bytes(mangled)
    [skipped] = read_path(file)
    assert isinstance(skipped, Skipped)
    assert skipped.reason.startswith("damaged PDF")


# --------------------------------------------------------------------------- docx


def test_docx_paragraphs_table_and_title(tmp_path: Path) -> None:
    file = tmp_path / "note.docx"
    file.write_bytes(make_docx(
        ["12.04.2019", "PRESS RELEASE", "", "Germany to fund a training institute", BODY_EN],
        title="Training institute funded",
        table=[["Item", "Amount"], ["Buildings", "Rs 2 million"]],
    ))
    [doc] = read_file(file)
    assert doc.title == "Training institute funded"
    assert doc.date == dt.date(2019, 4, 12)
    assert doc.text.startswith("12.04.2019\n\nPRESS RELEASE\n\nGermany to fund")
    assert "Buildings | Rs 2 million" in doc.text
    assert doc.pages == ()


def test_docx_title_from_text_when_no_core_title(tmp_path: Path) -> None:
    file = tmp_path / "untitled.docx"
    file.write_bytes(make_docx(["PRESS RELEASE", "Germany to fund a training institute",
                                BODY_EN]))
    assert read_file(file)[0].title == "Germany to fund a training institute"


def test_docx_named_pdf_is_read_as_word(tmp_path: Path) -> None:
    file = tmp_path / "2019-03-27-release.pdf"
    file.write_bytes(make_docx(["Germany to fund a training institute", BODY_EN]))
    [doc] = read_file(file)
    assert doc.id == "2019-03-27-release.pdf"
    assert BODY_EN in doc.text
    assert doc.date == dt.date(2019, 3, 27)  # no dateline in the text: the file name's date


def test_text_named_pdf_is_read_as_text(tmp_path: Path) -> None:
    file = tmp_path / "mislabelled.pdf"
    file.write_text("Bank signs water agreement\n\n" + BODY_EN, encoding="utf-8")
    [doc] = read_file(file)
    assert doc.title == "Bank signs water agreement"
    assert doc.pages == ()


def test_other_zip_and_old_office_files_are_unsupported(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "sheet.docx"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(UnsupportedFormat, match="not a Word document"):
        read_file(archive)
    old = tmp_path / "old.pdf"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(UnsupportedFormat, match=r"\.doc"):
        read_file(old)


# --------------------------------------------------------------------------- exports


def _jsonl(records: list[object]) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                     for r in records) + "\n"


def test_jsonl_export_records_and_broken_lines(tmp_path: Path) -> None:
    file = tmp_path / "press_releases.jsonl"
    file.write_text(_jsonl([
        {"id": "r1", "title": "First", "date": "2018-10-16", "url": "https://example.org/1",
         "subtitle": "A short subtitle", "text": "Tuesday, October 16, 2018\n\n" + BODY_EN},
        '{"id": "r2", "title": "Broken", "text": ',
        {"title": "No id here", "date": "2022-06-24T17:30:00Z", "text": BODY_RU, "lang": "ru-RU"},
        {"id": "r4", "title": "No text", "text": "   "},
        "",
        {"id": "r6", "title": "Dated in text", "text": "Astana, 30 ноября 2016 г.\n\n" + BODY_RU},
    ]), encoding="utf-8")
    items = list(read_path(file))
    docs, skipped = split(items)
    assert [d.id for d in docs] == ["r1", "press_releases.jsonl:3", "r6"]
    first, second, third = docs
    assert first.text.startswith("A short subtitle\n\nTuesday, October 16, 2018\n\n")
    assert first.date == dt.date(2018, 10, 16)
    assert first.url == "https://example.org/1"
    assert first.lang == "en"
    assert first.source == str(file.resolve()) and first.collection == "press_releases.jsonl"
    assert second.date == dt.date(2022, 6, 24) and second.lang == "ru"
    assert second.url == str(file.resolve())  # no url in the record: the export file
    assert third.date == dt.date(2016, 11, 30)
    assert [s.path for s in skipped] == ["press_releases.jsonl:2", "press_releases.jsonl:4"]
    assert "line 2" in skipped[0].reason
    assert "no text" in skipped[1].reason
    # Items come in file order.
    assert [getattr(i, "id", None) or i.path for i in items][:2] == [
        "r1", "press_releases.jsonl:2"]


def test_read_file_returns_the_readable_records(tmp_path: Path) -> None:
    file = tmp_path / "x.jsonl"
    file.write_text(_jsonl([{"id": "a", "text": BODY_EN}, "{broken"]), encoding="utf-8")
    assert [d.id for d in read_file(file)] == ["a"]


def test_subtitle_placeholder_and_summary(tmp_path: Path) -> None:
    file = tmp_path / "x.jsonl"
    file.write_text(_jsonl([
        {"id": "a", "title": "T", "subtitle": "No description available.", "text": BODY_EN},
        {"id": "b", "title": "T", "summary": "The president met envoys.", "text": BODY_EN},
    ]), encoding="utf-8")
    a, b = read_file(file)
    assert a.text == BODY_EN
    assert b.text == "The president met envoys.\n\n" + BODY_EN


def test_jsonl_field_map(tmp_path: Path) -> None:
    file = tmp_path / "site.jsonl"
    file.write_text(_jsonl([{"uid": "7", "headline": "Mapped title", "published": "2021-02-03",
                             "body": BODY_EN, "link": "https://example.org/7"}]),
                    encoding="utf-8")
    mapping = {"id": "uid", "title": "headline", "date": "published", "text": "body",
               "url": "link"}
    [doc] = read_path(file, field_map=mapping)
    assert isinstance(doc, Document)
    assert (doc.id, doc.title, doc.date, doc.url) == (
        "7", "Mapped title", dt.date(2021, 2, 3), "https://example.org/7")


def test_bad_field_map_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown field"):
        list(read_path(tmp_path, field_map={"body": "text"}))


def test_csv_export_with_multiline_fields_and_field_map(tmp_path: Path) -> None:
    file = tmp_path / "export.csv"
    file.write_text(
        "Identifier,Headline,Date,url,Body\n"
        f'c1,First,2019-05-24,https://example.org/c1,"{BODY_EN}\n\nSecond paragraph here."\n'
        "c2,Empty,2019-05-25,https://example.org/c2,\n"
        f'c3,Third,16 Oct 2018,,"{BODY_EN}"\n',
        encoding="utf-8",
    )
    mapping = {"id": "Identifier", "title": "headline", "text": "Body"}
    docs, skipped = split(list(read_path(file, field_map=mapping)))
    assert [d.id for d in docs] == ["c1", "c3"]
    assert docs[0].text.endswith("\n\nSecond paragraph here.")
    assert docs[0].title == "First"  # column names match case-insensitively
    assert docs[1].date == dt.date(2018, 10, 16)
    assert skipped == [Skipped("export.csv:5", skipped[0].reason)]  # c2 starts on line 5
    assert "no text" in skipped[0].reason


@pytest.mark.parametrize("encoding", ["cp1251", "utf-16", "utf-8-sig"])
def test_exports_in_other_encodings(tmp_path: Path, encoding: str) -> None:
    jsonl = tmp_path / "ru.jsonl"
    jsonl.write_bytes(_jsonl([{"id": "1", "title": "Встреча", "text": BODY_RU}] * 2)
                      .encode(encoding))
    assert [d.text for d in read_file(jsonl)] == [BODY_RU, BODY_RU]
    table = tmp_path / "ru.csv"
    table.write_bytes(f'id;title;text\n1;Встреча;"{BODY_RU}"\n'.encode(encoding))
    [doc] = read_file(table)
    assert (doc.title, doc.text) == ("Встреча", BODY_RU)


def test_jsonl_lines_end_at_newlines_only(tmp_path: Path) -> None:
    file = tmp_path / "x.jsonl"
    body = BODY_EN + "\u2028" + BODY_EN  # a line separator inside a JSON string
    file.write_text(_jsonl([{"id": "a", "text": body}, {"id": "b", "text": BODY_EN}])
                    .replace("\n", "\r\n"), encoding="utf-8")
    assert [d.id for d in read_file(file)] == ["a", "b"]


def test_export_without_text_field_is_one_skip(tmp_path: Path) -> None:
    # A sidecar of file metadata next to PDFs is not an export: one reason, not one per line.
    (tmp_path / "a.pdf").write_bytes(make_pdf([["Bank signs water agreement.", BODY_EN[:80]]]))
    (tmp_path / "metadata.jsonl").write_text(
        _jsonl([{"file": "a.pdf", "title": "A", "pages": 1}] * 5), encoding="utf-8")
    docs, skipped = split(list(read_path(tmp_path)))
    assert [d.id for d in docs] == ["a.pdf"]
    assert len(skipped) == 1 and skipped[0].path == "metadata.jsonl"
    assert "no record has a 'text' field" in skipped[0].reason


# --------------------------------------------------------------------------- folders


def test_folder_walk(tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    (folder / ".hidden").mkdir()
    (folder / "b.txt").write_text("Second release\n\n" + BODY_EN, encoding="utf-8")
    (folder / "a.txt").write_text("First release\n\n" + BODY_EN, encoding="utf-8")
    (folder / "sub" / "c.md").write_text("# Third release\n\n" + BODY_EN, encoding="utf-8")
    (folder / ".hidden" / "x.txt").write_text("hidden", encoding="utf-8")
    (folder / ".secret.txt").write_text("hidden", encoding="utf-8")
    (folder / "~$lock.docx").write_bytes(b"lock")
    (folder / "image.xyz").write_bytes(b"whatever")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "junk.txt").write_bytes(bytes(range(256)) * 8)

    items = list(read_path(folder))
    docs, skipped = split(items)
    assert [d.id for d in docs] == ["a.txt", "b.txt", "sub/c.md"]
    assert all(d.source == str(folder.resolve()) and d.collection == "corpus" for d in docs)
    assert docs[2].url == str((folder / "sub" / "c.md").resolve())
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["junk.txt"] == "binary file, not a document"
    assert reasons["image.xyz"].startswith("unsupported file type .xyz (supported: ")
    assert ".pdf" in reasons["image.xyz"]
    assert not any("hidden" in p or "secret" in p or "lock" in p for p in reasons)


def test_read_file_with_root_sets_the_relative_id(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    file = tmp_path / "sub" / "a.txt"
    file.write_text("Title\n\n" + BODY_EN, encoding="utf-8")
    [doc] = read_file(file, root=tmp_path)
    assert (doc.id, doc.collection, doc.source) == ("sub/a.txt", tmp_path.name,
                                                    str(tmp_path.resolve()))


def test_read_file_turns_a_library_crash_into_a_read_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.readers as readers

    def crash(*args: object) -> None:
        raise KeyError("a library's own bug")

    monkeypatch.setattr(readers.html, "_read_html", crash)
    file = tmp_path / "page.html"
    file.write_text(HTML_PAGE, encoding="utf-8")
    with pytest.raises(ReadError, match=r"could not be read \(KeyError: \"a library's own bug\"\)"):
        read_file(file)
    assert list(read_path(file)) == [
        Skipped("page.html", "could not be read (KeyError: \"a library's own bug\")")]


def test_a_reader_registered_for_a_new_suffix_reads_that_format(tmp_path: Path) -> None:
    """The seam: a format is one registered reader; no other module changes."""
    from assistant.readers import registry

    def read_toy(source: registry.Source) -> list[Document]:
        name, _, body = source.origin.file.read_text(encoding="utf-8").partition("|")
        return [Document(id=source.origin.label, title=name, text=body)]

    file = tmp_path / "note.toy"
    file.write_text("Toy title|Toy body.", encoding="utf-8")
    assert [s.reason for s in read_path(file)] == [
        f"unsupported file type .toy (supported: {', '.join(sorted(SUPPORTED_SUFFIXES))})"]
    registry.register(registry.Reader("toy", frozenset({".toy"}), read_toy))
    try:
        assert list(read_path(tmp_path)) == [Document(id="note.toy", title="Toy title",
                                                      text="Toy body.")]
        assert [d.title for d in read_file(file)] == ["Toy title"]
    finally:
        registry.unregister("toy")
    assert ".toy" not in registry.suffixes()
    assert [type(item) for item in read_path(file)] == [Skipped]


def test_size_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.readers as readers

    monkeypatch.setattr(readers.limits, "MAX_DOCUMENT_BYTES", 2_500_000)
    monkeypatch.setattr(readers.limits, "MAX_BINARY_BYTES", 500)
    (tmp_path / "big.md").write_text("# Big\n\n" + BODY_EN * 20_000, encoding="utf-8")
    (tmp_path / "big.html").write_text(HTML_PAGE + "<!--" + "x" * 3_000_000 + "-->",
                                       encoding="utf-8")
    (tmp_path / "big.pdf").write_bytes(make_pdf([["Bank signs water agreement."]]))
    (tmp_path / "small.txt").write_text("Small release\n\n" + BODY_EN, encoding="utf-8")
    docs, skipped = split(list(read_path(tmp_path)))
    assert [d.id for d in docs] == ["small.txt"]
    assert [(s.path, s.reason) for s in skipped] == [
        ("big.html", "too large for one release (3 MB > 2 MB limit)"),
        ("big.md", "too large for one release (3 MB > 2 MB limit)"),
        ("big.pdf", "too large for one file (0.0 MB > 0.0 MB limit)"),
    ]


def test_folder_link_loops_are_walked_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "r.txt").write_text("Release\n\n" + BODY_EN, encoding="utf-8")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    assert [d.id for d in read_path(tmp_path)] == ["a/r.txt"]


def test_missing_path_raises_and_bad_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="no such file"):
        list(read_path(tmp_path / "nope"))
    (tmp_path / "empty.txt").write_bytes(b"  \n")
    with pytest.raises(ReadError, match="empty file"):
        read_file(tmp_path / "empty.txt")
    (tmp_path / "a.xyz").write_text("text", encoding="utf-8")
    with pytest.raises(UnsupportedFormat, match=r"unsupported file type \.xyz"):
        read_file(tmp_path / "a.xyz")


def test_supported_suffixes() -> None:
    assert {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl", ".csv"} <= \
        SUPPORTED_SUFFIXES


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(("value", "expected"), [
    ("2018-10-16", dt.date(2018, 10, 16)),
    ("2022-06-24T17:30:00Z", dt.date(2022, 6, 24)),
    ("16 Oct 2018", dt.date(2018, 10, 16)),
    ("16-Oct-18", dt.date(2018, 10, 16)),
    ("1 мая 2020 г.", dt.date(2020, 5, 1)),
    ("1850-01-01", None),
    ("3000-01-01", None),
    ("not a date", None),
    ("", None),
])
def test_parse_metadata_date(value: str, expected: dt.date | None) -> None:
    assert parse_metadata_date(value) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Title\n\n30 November 2016\n\nBody.", dt.date(2016, 11, 30)),
    ("Tuesday, October 16, 2018\n\nBody.", dt.date(2018, 10, 16)),
    ("Астана, 30 ноября 2016 года\n\nТекст.", dt.date(2016, 11, 30)),
    ("Астана, 2016 жылғы 30 қараша\n\nМәтін.", dt.date(2016, 11, 30)),
    ("Colombo 27.01.2019\nText.", dt.date(2019, 1, 27)),
    ("Released 2019-02-11.", dt.date(2019, 2, 11)),
    ("In 1066 on the 14 October, nothing.", None),
])
def test_find_date(text: str, expected: dt.date | None) -> None:
    assert find_date(text) == expected


def test_find_date_looks_only_at_the_head() -> None:
    assert find_date("x" * 700 + " 30 November 2016") is None


def test_dateline_beats_file_name_beats_date_in_a_sentence() -> None:
    in_sentence = ("Press Release\nThe loans that fall due from 1st January 2019 will be "
                   "repaid on time, the ministry said today in the capital.")
    assert document_date(in_sentence, name="2018-11-22-abc.pdf") == dt.date(2018, 11, 22)
    assert document_date(in_sentence) == dt.date(2019, 1, 1)
    assert document_date("Colombo, 05.04.2019\n" + in_sentence,
                         name="2018-11-22-abc.pdf") == dt.date(2019, 4, 5)


# --------------------------------------------------------------------------- import cost


def test_import_is_light() -> None:
    code = (
        "import sys, assistant.readers, assistant.cleaning\n"
        "heavy = ['pypdf', 'docx', 'trafilatura', 'dateparser', 'charset_normalizer',"
        " 'py3langid', 'lxml']\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- real data


@pytest.mark.shared_data
def test_lk_treasury_pdfs(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.readers import ocr

    # Without Tesseract, as the text PDFs are the point here (tests/test_ocr.py reads scans).
    monkeypatch.setattr(ocr, "_program", lambda: None)
    folder = shared_data / "pdf_press_releases" / "lk_treasury_en"
    docs, skipped = split(list(read_path(folder)))
    word = [d for d in docs if (folder / d.id).read_bytes()[:2] == b"PK"]
    pdfs = [d for d in docs if (folder / d.id).read_bytes()[:4] == b"%PDF"]
    assert len(word) == 8  # Word files, whatever their suffix says
    assert len(pdfs) == 29
    scans = [s for s in skipped if s.reason.startswith("no extractable text: scanned PDF, needs OCR")]
    assert len(scans) == 3
    # The sidecar metadata.jsonl has no text field: reported once, as not an export.
    assert [s.path for s in skipped if s not in scans] == ["metadata.jsonl"]
    assert all(len(d.pages) >= 1 for d in pdfs)
    assert all(d.pages == () for d in word)
    assert all(d.date is not None and d.title for d in docs)
    assert all(d.collection == "lk_treasury_en" for d in docs)


@pytest.mark.shared_data
def test_mn_ag_export(shared_data: Path) -> None:
    export = shared_data / "mn_ag_press_releases" / "press_releases.jsonl"
    docs, skipped = split(list(read_path(export)))
    assert len(docs) == 726 and skipped == []
    assert all(d.date is not None for d in docs)
    assert all(d.url and d.url.startswith("http") for d in docs)
    assert len({d.id for d in docs}) == 726


@pytest.mark.shared_data
def test_lk_police_pdfs_with_a_legacy_font_are_all_skipped(shared_data: Path) -> None:
    folder = shared_data / "pdf_press_releases" / "lk_police_si"
    docs, skipped = split(list(read_path(folder)))
    assert docs == []
    unreadable = [s for s in skipped if s.path.endswith(".pdf")]
    assert len(unreadable) == 15
    for item in unreadable:
        assert item.reason.startswith(
            "text layer is unreadable: the PDF's font maps characters to wrong glyphs "
            "(legacy Sinhala font); needs OCR ("), item


@pytest.mark.shared_data
def test_bad_inputs_are_reported(shared_data: Path) -> None:
    [item] = read_path(shared_data / "bad_inputs")
    assert isinstance(item, Skipped)
    assert item.reason.startswith("damaged PDF")
