"""Uploads from the web: safe names inside the uploads folder, types and size refused with a
reason, background indexing of the corpus folder, and removal that deletes only uploads."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import QueryError, UnsupportedFormat, UploadTooLarge
from assistant.uploads import UPLOADS, Uploader, remove, safe_name, save_upload, upload_path
from tests.helpers import AssistantFactory

RELEASE = "Aktau ferry terminal reopened\n\n3 March 2021\n\nFerries to Baku leave twice a day.\n"


@pytest.mark.parametrize(("given", "kept"), [
    ("release.txt", "release.txt"),
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.PDF", "evil.pdf"),
    (".hidden.md", "hidden.md"),
    ("Пресс-релиз (2021).docx", "Пресс-релиз_2021_.docx"),
    ("a b;rm -rf *.html", "a_b_rm_-rf_.html"),
    ("/", "upload"),
])
def test_names_cannot_leave_the_folder(given: str, kept: str) -> None:
    assert safe_name(given) == kept
    assert "/" not in safe_name(given) and "\\" not in safe_name(given)


def test_save_refuses_unknown_types_and_oversized_files(tmp_path: Path) -> None:
    source = tmp_path / "upload.tmp"
    source.write_text(RELEASE, encoding="utf-8")
    with pytest.raises(UnsupportedFormat, match=r"\.exe files cannot be indexed"):
        save_upload(source, "tool.exe", tmp_path / "uploads")
    with pytest.raises(UploadTooLarge, match="over the 0 MB limit"):
        save_upload(source, "release.txt", tmp_path / "uploads", max_bytes=10)
    first = save_upload(source, "../release.txt", tmp_path / "uploads")
    second = save_upload(source, "release.txt", tmp_path / "uploads")
    assert first == tmp_path / "uploads" / "release.txt"
    assert second == tmp_path / "uploads" / "release-2.txt"  # never replaces another upload
    assert not list((tmp_path / "uploads").glob(".*"))  # no half-written leftovers


def test_uploads_are_indexed_with_the_corpus_and_only_they_are_deleted(
        tmp_path: Path, make_assistant: AssistantFactory) -> None:
    corpus = tmp_path / "corpus"
    bot = make_assistant({"seed.txt": "Seed release\n\n1 May 2020\n\nThe seed text.\n"}, corpus=corpus)
    uploader = Uploader(bot, corpus)
    source = tmp_path / "incoming.tmp"
    source.write_text(RELEASE, encoding="utf-8")
    save_upload(source, "ferry.txt", uploader.folder)
    uploader.start()
    status = uploader.wait(timeout=60)
    assert status.stage == "done" and not status.running, status
    assert status.report is not None and status.report.added == ("uploads/ferry.txt",)
    answer = bot.ask("How often do ferries to Baku leave?")
    assert answer.citations and answer.citations[0].doc_id == "uploads/ferry.txt"

    assert upload_path(bot, "uploads/ferry.txt", uploader.folder) == (
        uploader.folder / "ferry.txt").resolve()
    assert upload_path(bot, "seed.txt", uploader.folder) is None  # not an upload: never deleted


def test_remove_deletes_the_file_of_an_upload_only(tmp_path: Path,
                                                   make_assistant: AssistantFactory) -> None:
    corpus = tmp_path / "corpus"
    folder = corpus / UPLOADS
    bot = make_assistant({"seed.txt": "Seed release\n\n1 May 2020\n\nThe seed text.\n",
                          f"{UPLOADS}/ferry.txt": RELEASE,
                          f"{UPLOADS}/kept.txt": RELEASE.replace("Aktau", "Kuryk")}, corpus=corpus)

    doc, deleted = remove(bot, "seed.txt", folder)  # outside the uploads folder
    assert doc.title == "Seed release" and not deleted
    assert bot.document("seed.txt") is None and (corpus / "seed.txt").is_file()
    doc, deleted = remove(bot, "uploads/ferry.txt", folder)
    assert doc.id == "uploads/ferry.txt" and deleted
    assert bot.document("uploads/ferry.txt") is None and not (folder / "ferry.txt").exists()
    doc, deleted = remove(bot, "uploads/kept.txt", None)  # uploads off: no file is touched
    assert doc.id == "uploads/kept.txt" and not deleted and (folder / "kept.txt").is_file()
    with pytest.raises(QueryError, match="no document"):
        remove(bot, "seed.txt", folder)
