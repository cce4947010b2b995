"""Bad inputs end an indexing run as Skipped with a reason a person understands (or are read,
where they can be), and the good file beside each of them is indexed all the same.

Each test builds a folder with one good release and the bad input, indexes it with the fake
embedder, and checks both the reason and that the good release is in the index.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pytest

from assistant import Assistant, IndexReport
from assistant.readers import MAX_DOCUMENT_BYTES, read_path
from tests.helpers import BODY_EN, BODY_RU, AssistantFactory, make_docx, make_pdf, write_files

GOOD = "good.txt"
GOOD_TEXT = (
    "Harbour bridge reopens after repairs\n\n12 March 2019\n\n"
    "The harbour bridge reopened on Monday after six months of repairs. "
    "The city council said traffic would return to normal by the end of the week."
)
OCR = "no extractable text: scanned PDF, needs OCR"
LEGACY_SINHALA = ("text layer is unreadable: the PDF's font maps characters to wrong glyphs "
                  "(legacy Sinhala font); needs OCR")


def index_beside(make_assistant: AssistantFactory,
                 files: dict[str, bytes]) -> tuple[IndexReport, Assistant]:
    """Index a folder holding the good release and ``files``; the report and the assistant."""
    folder = write_files(make_assistant.root / "inbox", {GOOD: GOOD_TEXT, **files})
    bot = make_assistant()
    report = bot.index([folder])
    assert GOOD in report.added
    assert GOOD in bot.documents()
    assert "harbour bridge reopened" in bot.document(GOOD).text.lower()
    return report, bot


def reasons(report: IndexReport) -> dict[str, str]:
    return {s.path: s.reason for s in report.skipped}


# --------------------------------------------------------------------------- real files


@pytest.mark.shared_data
def test_scanned_pdfs_need_ocr(shared_data: Path, make_assistant: AssistantFactory,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.readers import ocr

    monkeypatch.setattr(ocr, "_program", lambda: None)  # without Tesseract (test_ocr.py: with)
    folder = shared_data / "pdf_press_releases" / "lk_treasury_en"
    scans = ["2016-09-01-55c38e.pdf", "2021-04-12-f06c5f.pdf", "2021-07-19-881609.pdf"]
    report, bot = index_beside(make_assistant, {name: (folder / name).read_bytes() for name in scans})
    assert reasons(report) == {
        name: f"{OCR}: Tesseract OCR is not installed (install it: {ocr.INSTALL})" for name in scans}
    assert bot.documents() == [GOOD]


@pytest.mark.shared_data
def test_text_saved_as_pdf_is_diagnosed(shared_data: Path, make_assistant: AssistantFactory) -> None:
    [bad] = (shared_data / "bad_inputs").iterdir()
    report, bot = index_beside(make_assistant, {bad.name: bad.read_bytes()})
    assert reasons(report) == {bad.name: (
        "damaged PDF: it was saved through a text decoder (its binary parts became U+FFFD "
        "replacement characters), so its text is lost; download the original")}
    assert bot.documents() == [GOOD]


@pytest.mark.shared_data
def test_sinhala_pdfs_with_a_legacy_font_are_unreadable(shared_data: Path,
                                                        make_assistant: AssistantFactory) -> None:
    folder = shared_data / "pdf_press_releases" / "lk_police_si"
    # Vowel signs torn off their letters (32% of the words) / vowel signs turned into other
    # letters (valid-looking but wrong words) / the mildest: 5% of the words broken.
    names = ["2025-05-01-2025-05-01-06-10.pdf", "2025-05-01-2025-05-01-14-25.pdf",
             "2025-05-03-2025-05-03-19-30.pdf"]
    report, bot = index_beside(make_assistant, {name: (folder / name).read_bytes() for name in names})
    found = reasons(report)
    assert sorted(found) == names
    for reason in found.values():
        assert reason.startswith(LEGACY_SINHALA + " (")
    assert "32% of its words are impossible letter sequences" in found[names[0]]
    assert "Sinhala vowel signs written before a letter are missing" in found[names[1]]
    assert bot.documents() == [GOOD]


# --------------------------------------------------------------------------- made here


def test_word_file_named_pdf_is_read_as_word(make_assistant: AssistantFactory) -> None:
    word = make_docx(["Germany to fund a training institute", BODY_EN])
    report, bot = index_beside(make_assistant, {"2019-03-27-release.pdf": word})
    assert report.skipped == ()
    assert sorted(bot.documents()) == ["2019-03-27-release.pdf", GOOD]
    assert BODY_EN in bot.document("2019-03-27-release.pdf").text


@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t \n"], ids=["zero-bytes", "blank"])
def test_empty_file(make_assistant: AssistantFactory, data: bytes) -> None:
    report, bot = index_beside(make_assistant, {"empty.txt": data, "empty.pdf": data})
    assert reasons(report) == {"empty.txt": "empty file", "empty.pdf": "empty file"}
    assert bot.documents() == [GOOD]


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,  # an image
    b"\x7fELF\x02\x01\x01" + bytes(2000),  # a program
    bytes((i * 7919) % 256 for i in range(5000)),  # noise
], ids=["png", "elf", "noise"])
def test_binary_file(make_assistant: AssistantFactory, data: bytes) -> None:
    report, bot = index_beside(make_assistant, {"photo.txt": data, "notes.md": data})
    assert reasons(report) == {"photo.txt": "binary file, not a document",
                               "notes.md": "binary file, not a document"}
    assert bot.documents() == [GOOD]


def test_truncated_pdf(make_assistant: AssistantFactory) -> None:
    pdf = make_pdf([["Bank signs water agreement", BODY_EN[:90]], ["Second page."]])
    report, bot = index_beside(make_assistant, {"cut.pdf": pdf[: len(pdf) * 2 // 3]})
    assert reasons(report) == {"cut.pdf": (
        "damaged PDF: the file stops before the PDF's end (truncated, as by an interrupted "
        "download); download it again")}
    assert bot.documents() == [GOOD]


def _encrypted(user_password: str) -> bytes:
    from pypdf import PdfReader, PdfWriter

    pdf = make_pdf([["Bank signs water agreement", "The bank signed the agreement today."]])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    # RC4 needs no crypto library; AES needs the cryptography package (see the report).
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_encrypted_pdf_with_an_empty_user_password_is_read(make_assistant: AssistantFactory) -> None:
    report, bot = index_beside(make_assistant, {"open.pdf": _encrypted("")})
    assert report.skipped == ()
    assert sorted(bot.documents()) == [GOOD, "open.pdf"]
    assert "The bank signed the agreement today." in bot.document("open.pdf").text


def test_encrypted_pdf_with_a_password_is_skipped(make_assistant: AssistantFactory) -> None:
    report, bot = index_beside(make_assistant, {"locked.pdf": _encrypted("secret")})
    assert reasons(report) == {
        "locked.pdf": "encrypted PDF: needs a password (save an unprotected copy to index it)"}
    assert bot.documents() == [GOOD]


@pytest.mark.parametrize("encoding", ["cp1251", "utf-16", "utf-16-le"])
def test_russian_text_in_other_encodings_is_read_correctly(make_assistant: AssistantFactory,
                                                           encoding: str) -> None:
    source = "Встреча генеральных прокуроров\n\n30 ноября 2016 г.\n\n" + BODY_RU
    report, bot = index_beside(make_assistant, {"ru.txt": source.encode(encoding)})
    assert report.skipped == ()
    doc = bot.document("ru.txt")
    assert doc is not None
    assert doc.text == source  # not mojibake
    assert doc.title == "Встреча генеральных прокуроров"
    assert doc.lang == "ru"


def test_huge_text_file_is_refused_without_reading_it(tmp_path: Path,
                                                     make_assistant: AssistantFactory) -> None:
    """The size policy: one text file is one release, and a release over 20 MB is not one.
    The file is judged by its size: memory does not grow with it."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    line = (BODY_EN + "\n").encode()
    size = 50 * 2**20  # 52 MB
    with (folder / "dump.txt").open("wb") as out:
        for _ in range(size // len(line)):
            out.write(line)
        out.write(b"x" * (size % len(line)))
    (folder / GOOD).write_text(GOOD_TEXT, encoding="utf-8")
    bot = make_assistant()
    list(read_path(folder / GOOD))  # load the readers' libraries before measuring

    tracemalloc.start()
    try:
        report = bot.index([folder])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reasons(report) == {"dump.txt": "too large for one release (52 MB > 20 MB limit)"}
    assert bot.documents() == [GOOD]
    assert peak < size / 10, f"peak {peak / 1e6:.1f} MB while refusing a {size / 1e6:.0f} MB file"


def test_large_export_is_streamed_record_by_record(tmp_path: Path) -> None:
    """An export may be big: it is read one record at a time, in memory that does not grow
    with the file."""
    export = tmp_path / "archive.jsonl"
    with export.open("w", encoding="utf-8") as out:
        for n in range(1, 81):
            body = f"Release number {n}.\n\n" + (BODY_EN + "\n\n") * 400
            out.write(json.dumps({"id": f"r{n}", "title": f"Release {n}", "date": "2020-01-02",
                                  "lang": "en", "text": body}) + "\n")
    size = export.stat().st_size
    warm_up = tmp_path / "warm-up.jsonl"  # load the readers' libraries before measuring
    warm_up.write_text(json.dumps({"id": "w", "text": BODY_EN}) + "\n", encoding="utf-8")
    list(read_path(warm_up))

    tracemalloc.start()
    try:
        count = sum(1 for _ in read_path(export))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 80
    assert peak < size / 5, f"peak {peak / 1e6:.1f} MB reading a {size / 1e6:.1f} MB export"


def test_export_record_over_the_size_limit(make_assistant: AssistantFactory) -> None:
    lines = [json.dumps({"id": "r1", "title": "Bridge tolls cut", "text": BODY_EN}),
             json.dumps({"id": "huge", "text": "word " * (MAX_DOCUMENT_BYTES // 5 + 10)}),
             json.dumps({"id": "r3", "title": "Встреча", "text": BODY_RU}, ensure_ascii=False)]
    report, bot = index_beside(make_assistant, {"export.jsonl": "\n".join(lines).encode()})
    assert reasons(report) == {"export.jsonl:2": "line 2 is too large for one release (over 20 MB)"}
    assert sorted(bot.documents()) == [GOOD, "r1", "r3"]


HTML_CLUTTERED = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Customs seize counterfeit medicine | Revenue Service</title>
<script async src="https://www.googletagmanager.com/gtag/js?id=G-XXXX"></script>
<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}
gtag('js', new Date()); gtag('config', 'G-TRACKING-ID-SCRIPT');</script>
<script type="application/ld+json">{"@context": "https://schema.org", "headline": "LDJSON_HEADLINE"}</script>
<style>.menu { display: flex } .cookie { position: fixed }</style>
</head><body>
<div class="cookie">We use cookies to improve your experience. Accept all cookies</div>
<header><a href="/">Revenue Service</a>
<nav class="main-menu"><ul>
<li><a href="/about">About the service and its regional offices</a></li>
<li><a href="/taxes">Taxes and duties for individuals and businesses</a></li>
<li><a href="/customs">Customs procedures for travellers and importers</a></li>
<li><a href="/news">News</a></li><li><a href="/contacts">Contacts</a></li></ul></nav>
<form action="/search"><input name="q" placeholder="Search the site"></form></header>
<div class="breadcrumbs"><a href="/">Home</a> › <a href="/news">News</a> › Customs</div>
<main><article>
<h1>Customs seize counterfeit medicine</h1>
<p class="date">3 April 2023</p>
<p>Customs officers at the northern border crossing seized forty thousand packets of
counterfeit medicine hidden in a lorry carrying furniture, the service said on Monday.</p>
<p>The driver, a 42-year-old man, was detained. Laboratory tests showed the tablets held
no active ingredient, and investigators are tracing the suppliers in three countries.</p>
<p>The service reminds citizens to buy medicine only from licensed pharmacies and to report
suspicious sellers through its hotline, which is open every day of the week.</p>
<script>trackArticleView("INLINE_ARTICLE_SCRIPT");</script>
</article>
<aside><h3>Most read</h3><ul><li><a href="/n/1">New tax rates for small businesses take effect</a></li>
<li><a href="/n/2">Online declarations open for the spring season</a></li></ul></aside></main>
<footer><p>© 2023 Revenue Service. All rights reserved.</p>
<a href="/privacy">Privacy policy</a> <a href="/sitemap">Sitemap</a></footer>
<script src="/static/app.bundle.js"></script><script>initMenu("MENU_INIT_SCRIPT");</script>
</body></html>
"""


def test_html_full_of_scripts_and_navigation_keeps_only_the_article(make_assistant: AssistantFactory) -> None:
    report, bot = index_beside(make_assistant, {"seizure.html": HTML_CLUTTERED.encode()})
    assert report.skipped == ()
    doc = bot.document("seizure.html")
    assert doc is not None
    assert doc.title.startswith("Customs seize counterfeit medicine")
    for sentence in ("seized forty thousand packets of\ncounterfeit medicine",
                     "The driver, a 42-year-old man, was detained.",
                     "report\nsuspicious sellers through its hotline"):
        assert " ".join(sentence.split()) in " ".join(doc.text.split())
    for clutter in ("G-TRACKING-ID-SCRIPT", "LDJSON_HEADLINE", "display: flex", "cookies",
                    "regional offices", "Customs procedures for travellers", "Search the site",
                    "INLINE_ARTICLE_SCRIPT", "New tax rates", "All rights reserved",
                    "Privacy policy", "MENU_INIT_SCRIPT", "Home"):
        assert clutter not in doc.text


def test_export_with_a_broken_line(make_assistant: AssistantFactory) -> None:
    lines = [
        json.dumps({"id": "r1", "title": "Bridge tolls cut", "text": BODY_EN}),
        '{"id": "r2", "title": "Cut off mid-record", "text": "The minis',
        json.dumps({"id": "r3", "title": "Встреча", "text": BODY_RU}, ensure_ascii=False),
    ]
    report, bot = index_beside(make_assistant, {"export.jsonl": "\n".join(lines).encode()})
    assert reasons(report) == {
        "export.jsonl:2": "broken JSON on line 2: Unterminated string starting at (column 53)"}
    assert sorted(bot.documents()) == [GOOD, "r1", "r3"]


def test_several_bad_inputs_in_one_run(make_assistant: AssistantFactory) -> None:
    """All of the above at once: one run, every bad file reported, the good ones indexed."""
    files = {
        "empty.txt": b"",
        "image.md": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        "cut.pdf": make_pdf([["Cut short"]])[:200],
        "locked.pdf": _encrypted("secret"),
        "word.pdf": make_docx(["Word file saved as a PDF name", BODY_EN]),
        "ru.txt": ("Встреча в Астане\n\n" + BODY_RU).encode("cp1251"),
    }
    report, bot = index_beside(make_assistant, files)
    assert sorted(reasons(report)) == ["cut.pdf", "empty.txt", "image.md", "locked.pdf"]
    assert sorted(bot.documents()) == [GOOD, "ru.txt", "word.pdf"]

