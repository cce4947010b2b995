"""Incremental indexing: add, change, remove, unchanged, bad files, locking, derived vectors."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest

from assistant import Assistant, IndexLocked, IndexMismatch, IndexNotFound
from assistant.config import Settings
from assistant.index_store import STORE, Store
from assistant.indexing import run_index
from tests.fakes import FakeEmbedder
from tests.helpers import ROOT, AssistantFactory


def write(folder: Path, name: str, title: str, body: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    write(folder, "a.txt", "Harbour bridge reopens", "The harbour bridge reopened on Monday after repairs.")
    write(folder, "b.txt", "Museum gets a new director",
          "The city museum appointed Maria Lind as its new director.")
    write(folder, "sub/c.txt", "Flood warning issued", "A flood warning was issued for the river valley.")
    return folder


def test_first_run_adds_second_run_embeds_nothing(make_assistant: AssistantFactory,
                                                  corpus: Path) -> None:
    embedder = FakeEmbedder()
    bot = make_assistant(embedder=embedder)
    first = bot.index([corpus])
    assert sorted(first.added) == ["a.txt", "b.txt", "sub/c.txt"]
    assert first.chunks_embedded == embedder.embedded > 0

    embedder.embedded = 0
    second = bot.index([corpus])
    assert sorted(second.unchanged) == ["a.txt", "b.txt", "sub/c.txt"]
    assert (second.added, second.updated, second.removed, second.chunks_embedded) == ((), (), (), 0)
    assert embedder.embedded == 0


def test_changed_file_is_replaced_and_gone_file_removed(make_assistant: AssistantFactory,
                                                        corpus: Path) -> None:
    bot = make_assistant([corpus])
    write(corpus, "b.txt", "Museum gets a new director", "The museum appointed Jonas Berg instead.")
    (corpus / "sub" / "c.txt").unlink()
    write(corpus, "d.txt", "School opens", "A new school opened in the northern district.")

    report = bot.index([corpus])
    assert report.updated == ("b.txt",)
    assert report.removed == ("sub/c.txt",)
    assert report.added == ("d.txt",)
    assert sorted(bot.documents()) == ["a.txt", "b.txt", "d.txt"]
    top = bot.search("Jonas Berg museum director", k=1)[0]
    assert top.doc_id == "b.txt" and "Jonas Berg" in top.text
    assert all("flood" not in h.text.lower() for h in bot.search("flood warning river", k=5))


def test_a_file_that_fails_keeps_its_indexed_version(make_assistant: AssistantFactory,
                                                      corpus: Path) -> None:
    bot = make_assistant([corpus])
    (corpus / "a.txt").write_bytes(b"")  # now unreadable: empty
    report = bot.index([corpus])
    assert [s.reason for s in report.skipped] and report.removed == ()
    assert "a.txt" in bot.documents()


def test_indexing_another_folder_removes_nothing_of_the_first(
        tmp_path: Path, corpus: Path, make_assistant: AssistantFactory) -> None:
    other = tmp_path / "other"
    write(other, "x.txt", "Ferry timetable changes", "The ferry will run hourly from June.")
    bot = make_assistant([corpus])
    report = bot.index([other])
    assert report.added == ("x.txt",) and report.removed == ()
    assert len(bot.documents()) == 4


def test_vectors_lagging_behind_the_store_are_repaired(
        tmp_path: Path, corpus: Path, make_assistant: AssistantFactory) -> None:
    make_assistant([corpus])  # at tmp_path / "index"
    for f in (tmp_path / "index").glob("vectors-*.faiss"):
        f.unlink()  # as if the run died between the store commit and the vector file
    reopened = Assistant.open(tmp_path / "index", embedder=FakeEmbedder())
    assert reopened.search("harbour bridge repairs", k=1)[0].doc_id == "a.txt"


def test_a_second_writer_is_refused_with_a_clear_message(
        tmp_path: Path, corpus: Path, make_assistant: AssistantFactory) -> None:
    bot = make_assistant([corpus])
    embedder = FakeEmbedder()
    with Store.create_or_open(tmp_path / "index", model=embedder.name, dimension=embedder.dimension,
                              chunk_tokens=bot.settings.chunk_tokens,
                              overlap_tokens=bot.settings.overlap_tokens), \
            pytest.raises(IndexLocked, match="another indexing run"):
        make_assistant(index="index").index([corpus])


def test_missing_index_and_other_model_are_typed_errors(
        tmp_path: Path, corpus: Path, make_assistant: AssistantFactory) -> None:
    with pytest.raises(IndexNotFound, match="press-assistant index"):
        Assistant.open(tmp_path / "nowhere", embedder=FakeEmbedder())
    make_assistant([corpus])

    class Other(FakeEmbedder):
        name = "another-model"

    with pytest.raises(IndexMismatch, match="fake-hashing-embedder"):
        Assistant.open(tmp_path / "index", embedder=Other())


def test_date_filter(tmp_path: Path, make_assistant: AssistantFactory) -> None:
    folder = tmp_path / "dated"
    write(folder, "old.txt", "Budget approved", "12 March 2019\n\nThe council approved the budget.")
    write(folder, "new.txt", "Budget approved again", "5 May 2023\n\nThe council approved the budget.")
    bot = make_assistant([folder])
    import datetime as dt

    hits = bot.search("council approved the budget", k=5, since=dt.date(2020, 1, 1))
    assert {h.doc_id for h in hits} == {"new.txt"}
    hits = bot.search("council approved the budget", k=5, until=dt.date(2020, 1, 1))
    assert {h.doc_id for h in hits} == {"old.txt"}


def test_removals_still_happen_beside_a_file_that_always_fails(
        corpus: Path, make_assistant: AssistantFactory) -> None:
    (corpus / "scan.pdf").write_bytes(b"\x00\x01binary junk\x02" * 50)
    bot = make_assistant()
    first = bot.index([corpus])
    assert [s.path for s in first.skipped] == ["scan.pdf"]
    (corpus / "a.txt").unlink()
    assert bot.index([corpus]).removed == ("a.txt",)


def test_an_export_with_a_broken_line_keeps_its_other_records(
        tmp_path: Path, make_assistant: AssistantFactory) -> None:
    export = tmp_path / "site.jsonl"
    good = json.dumps({"id": "r1", "title": "Port expansion", "date": "2020-01-02",
                       "url": "https://x/1", "text": "The port will expand its container terminal."})
    other = json.dumps({"id": "r2", "title": "Tram line", "date": "2020-02-03",
                        "url": "https://x/2", "text": "A tram line to the airport opens in spring."})
    export.write_text(good + "\n" + other + "\n", encoding="utf-8")
    bot = make_assistant()
    assert sorted(bot.index([export]).added) == ["r1", "r2"]
    export.write_text(good + "\n{broken json\n", encoding="utf-8")
    report = bot.index([export])
    assert [s.path for s in report.skipped] == ["site.jsonl:2"]
    assert report.removed == ()  # r2 might be the broken line: it is kept
    assert sorted(bot.documents()) == ["r1", "r2"]


def test_integrity_check_passes_and_catches_damage(
        tmp_path: Path, corpus: Path, make_assistant: AssistantFactory) -> None:
    bot = make_assistant([corpus])
    assert bot.check() == []
    import sqlite3

    db = sqlite3.connect(tmp_path / "index" / "store.sqlite3")
    db.execute("DELETE FROM chunks_fts WHERE rowid = (SELECT min(id) FROM chunks)")
    db.commit()
    db.close()
    assert any("missing from the keyword index" in p for p in bot.check())


def test_rebuild_with_another_model_reembeds_from_stored_text(
        tmp_path: Path, corpus: Path, make_assistant: AssistantFactory) -> None:
    make_assistant([corpus])

    class Other(FakeEmbedder):
        name = "another-model"

    embedder = Other()
    bot = Assistant.open(tmp_path / "index", create=True, embedder=embedder,
                         settings=None)
    with pytest.raises(IndexMismatch):
        bot.index([corpus])
    report = bot.index([corpus], rebuild_all=True)
    assert embedder.embedded > 0 and len(report.unchanged) == 3
    reopened = Assistant.open(tmp_path / "index", embedder=Other())
    assert reopened.info().model == "another-model" and reopened.check() == []
    assert not (tmp_path / "index.old").exists() and not (tmp_path / "index.rebuild").exists()


def test_a_rebuild_killed_between_its_renames_is_recovered(
        tmp_path: Path, corpus: Path, make_assistant: AssistantFactory) -> None:
    make_assistant([corpus])
    (tmp_path / "index").rename(tmp_path / "index.old")  # as if killed after the first rename
    bot = Assistant.open(tmp_path / "index", embedder=FakeEmbedder())
    assert len(bot.documents()) == 3 and bot.check() == []


def test_watch_indexes_changes_in_one_batch(corpus: Path, make_assistant: AssistantFactory) -> None:
    import threading

    from assistant.watching import watch

    bot = make_assistant([corpus])
    reports = []
    stop = threading.Event()
    thread = threading.Thread(target=watch, args=(bot, [corpus]), kwargs=dict(
        on_report=lambda r: (reports.append(r), stop.set()), on_error=lambda e: None,
        stop=stop, debounce=0.5, poll=0.05), daemon=True)
    thread.start()
    import time

    time.sleep(0.5)  # let the observer start
    write(corpus, "new1.txt", "Bridge tolls", "Tolls on the bridge end in May.")
    write(corpus, "new2.txt", "Library hours", "The library opens on Sundays from June.")
    (corpus / "b.txt").unlink()
    thread.join(timeout=30)
    assert len(reports) == 1
    assert sorted(reports[0].added) == ["new1.txt", "new2.txt"]
    assert reports[0].removed == ("b.txt",)


def test_export_reindexed_gives_the_same_answers(
        tmp_path: Path, corpus: Path, make_assistant: AssistantFactory) -> None:
    bot = make_assistant([corpus, ROOT / "corpus"])
    export = tmp_path / "export.jsonl"
    assert bot.export(export) == 4
    copy = make_assistant(index="copy")
    report = copy.index([export])
    assert len(report.added) == 4 and not report.skipped
    for question in ("Who attended the Sanya meeting?", "Who is the new museum director?",
                     "When does the harbour bridge reopen?"):
        a, b = bot.ask(question), copy.ask(question)
        assert a.text == b.text
        assert [(c.doc_id, c.start, c.end, c.date) for c in a.citations] == \
               [(c.doc_id, c.start, c.end, c.date) for c in b.citations]


def test_sentences_are_stored_once_and_older_indexes_still_answer(tmp_path: Path) -> None:
    """The indexer keeps each release's sentence spans, so answering does not split it again;
    a document indexed without them (an older index) is split when asked."""
    from assistant.answering import sentence_spans
    from assistant.chunking import split_sentences

    store = Store.create_or_open(tmp_path / "index", model="fake", dimension=FakeEmbedder().dimension,
                                 chunk_tokens=200, overlap_tokens=40)
    run_index(store, FakeEmbedder(), [ROOT / "corpus"], Settings())
    doc = store.document(next(iter(store.document_hashes())))
    assert doc is not None
    expected = tuple(split_sentences(doc.text, doc.lang))
    assert store.sentence_spans(doc.id) == expected and len(expected) > 3
    # As an index written before they were stored: changed on disk by another connection,
    # as another process would (the store sees the new generation and drops its caches).
    with contextlib.closing(sqlite3.connect(store.folder / STORE)) as db, db:
        db.execute("DELETE FROM sentences")
        db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
    assert store.sentence_spans(doc.id) is None
    assert sentence_spans(doc, store) == expected
    store.close()


def test_an_unchanged_file_is_not_read_again(make_assistant: AssistantFactory, corpus: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A no-op re-index costs a stat a file: files with the same size and modification time
    are not read; a touched or changed one is, and a deleted one's documents go."""
    import os

    import assistant.readers as readers

    bot = make_assistant()
    first = bot.index([corpus])
    assert len(first.added) == 3
    reads: list[str] = []
    real = readers._read_guarded
    monkeypatch.setattr(readers, "_read_guarded",
                        lambda origin, fields: reads.append(origin.file.name) or real(origin, fields))
    again = bot.index([corpus])
    assert reads == [] and len(again.unchanged) == 3 and not again.added and not again.removed

    changed = sorted(corpus.iterdir())[0]
    changed.write_text(changed.read_text() + "\n\nA new closing paragraph about the budget.\n")
    stat = changed.stat()
    os.utime(changed, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    sorted(corpus.iterdir())[1].unlink()
    third = bot.index([corpus])
    assert reads == [changed.name]
    assert len(third.updated) == 1 and len(third.removed) == 1 and len(third.unchanged) == 1


def _export(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "site.jsonl"
    path.write_text("".join(json.dumps({"id": f"r{n}", "title": f"Release {n}",
                                        "text": f"Release number {n} is about harbour works."}) + "\n"
                            for n in range(count)), encoding="utf-8")
    return path


@pytest.fixture
def records_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A counter of the records (documents and unreadable ones) readers have yielded."""
    from assistant import readers

    read = [0]
    real = readers.read_source_file

    def counted(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for item in real(*args, **kwargs):  # type: ignore[arg-type]
            read[0] += 1
            yield item

    monkeypatch.setattr(readers, "read_source_file", counted)
    return read


def test_reading_overlaps_embedding(tmp_path: Path, records_read: list[int],
                                    make_assistant: AssistantFactory) -> None:
    """The first batch is embedded while the export is still being read, not after it."""
    read = records_read

    class Watching(FakeEmbedder):
        read_at_first_embed: int | None = None

        def embed(self, texts):  # type: ignore[no-untyped-def]
            if self.read_at_first_embed is None:
                self.read_at_first_embed = read[0]
            return super().embed(texts)

    embedder = Watching()
    report = make_assistant(embedder=embedder).index([_export(tmp_path / "site", 600)])
    assert len(report.added) == 600 and read[0] == 600
    # Two chunked batches wait at most, and a third is being chunked: 4 x 64 read at most.
    assert embedder.read_at_first_embed is not None and embedder.read_at_first_embed <= 4 * 64


def test_a_reading_failure_late_keeps_the_batches_before_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_assistant: AssistantFactory) -> None:
    from assistant import readers

    real = readers.read_source_file

    def failing(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        for n, item in enumerate(real(*args, **kwargs)):  # type: ignore[arg-type]
            if n == 300:
                raise OSError("the disk went away")
            yield item

    monkeypatch.setattr(readers, "read_source_file", failing)
    bot = make_assistant()
    with pytest.raises(OSError, match="disk went away"):
        bot.index([_export(tmp_path / "site", 600)])
    kept = bot.documents()
    assert 64 <= len(kept) <= 300 and len(kept) % 64 == 0  # whole batches, committed
    monkeypatch.setattr(readers, "read_source_file", real)
    report = bot.index([tmp_path / "site" / "site.jsonl"])  # the next run finishes the job
    assert len(report.unchanged) == len(kept) and len(report.added) == 600 - len(kept)
    assert len(bot.documents()) == 600


def test_a_failing_embedder_stops_the_reading_too(tmp_path: Path, records_read: list[int],
                                                  make_assistant: AssistantFactory) -> None:
    """The error comes back at once: the reading thread stops instead of reading on."""
    read = records_read

    class Broken(FakeEmbedder):
        def embed(self, texts):  # type: ignore[no-untyped-def]
            raise RuntimeError("the model is gone")

    with pytest.raises(RuntimeError, match="model is gone"):
        make_assistant(embedder=Broken()).index([_export(tmp_path / "site", 2000)])
    assert read[0] <= 5 * 64, read[0]


def test_filters_by_collection_and_language_in_both_searches(
        tmp_path: Path, make_assistant: AssistantFactory) -> None:
    """Collection and language filters are byte masks over chunk ids in the keyword search
    and allowed ids in the dense one; both keep exactly the filtered documents."""
    write(tmp_path / "city", "a.txt", "Harbour crane", "The harbour crane lifts forty tonnes.")
    write(tmp_path / "port", "b.txt", "Second harbour crane", "A second harbour crane arrived.")
    write(tmp_path / "port", "c.txt", "Портовый кран", "Новый портовый кран поднимает сорок тонн.")
    bot = make_assistant([tmp_path / "city", tmp_path / "port"])
    collections = {d.collection for d in bot.list_documents().documents}
    assert collections == {"city", "port"}
    hits = bot.search("harbour crane", k=10, collections=["port"])
    assert hits and {h.doc_id for h in hits} <= {"b.txt", "c.txt"} and "b.txt" in {h.doc_id for h in hits}
    assert {h.doc_id for h in bot.search("harbour crane", k=10, collections=["city"])} == {"a.txt"}
    assert {h.doc_id for h in bot.search("кран", k=10, languages=["ru"])} == {"c.txt"}
    assert "c.txt" not in {h.doc_id for h in bot.search("кран harbour crane", k=10, languages=["en"])}
    listed = bot.ask("List every release about the harbour crane", collections=["port"])
    assert {c.doc_id for c in listed.citations} == {"b.txt"}
