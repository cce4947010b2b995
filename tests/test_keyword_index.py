"""The keyword snapshot: numpy postings scoring FTS5's BM25, with FTS5 for what came after."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant import IndexReadOnly
from assistant.documents import Chunk, Document, Filters
from assistant.index_store import Store, keyword_snapshot
from assistant.lexical import stems

DIM = 8
WORDS = ["harbour", "budget", "minister", "school", "flood", "vaccine", "bridge", "court", "tariff",
         "drought", "election", "museum", "railway", "pension", "satellite", "wildfire"]


def _docs(start: int, count: int, *, collection: str = "wires",
          seed: int = 0) -> list[tuple[Document, list[Chunk], np.ndarray]]:
    """Documents of varied length and word counts, so that BM25 scores seldom tie."""
    rng = np.random.default_rng(seed + start)
    items = []
    for n in range(start, start + count):
        chunks = []
        for ordinal in range(2):
            picked = rng.choice(WORDS, size=int(rng.integers(2, 9)))
            text = f"Note {n}.{ordinal}: " + " ".join(picked) + "."
            chunks.append(Chunk(f"doc-{n}", ordinal, 0, len(text), text, f"Release {n}"))
        text = " ".join(c.text for c in chunks)
        doc = Document(id=f"doc-{n}", title=f"Release {n}", text=text, source="synthetic",
                       collection=collection)
        vectors = rng.normal(size=(2, DIM)).astype(np.float32)
        items.append((doc, chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)))
    return items


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(keyword_snapshot, "MIN_CHUNKS", 100)
    opened = Store.create_or_open(tmp_path / "index", model="fake", dimension=DIM,
                                  chunk_tokens=200, overlap_tokens=0)
    yield opened
    opened.close()


def _fts_only(store: Store, query: str, limit: int,
              filters: Filters | None = None) -> list[tuple[int, float]]:
    """What FTS5 alone ranks, the way the store asks it without a snapshot."""
    words = " OR ".join(f'"{w}"' for w in dict.fromkeys(stems(query, drop_stopwords=True)))
    return store.keywords.fts_ranked(words, limit, store.catalog.allowed(filters))


def _ordered(found: list[tuple[int, float]]) -> list[tuple[int, float]]:
    return sorted(found, key=lambda pair: (-float(f"{pair[1]:.9g}"), pair[0]))


QUERIES = ["harbour flood", "budget minister pension", "railway", "court tariff drought wildfire",
           "satellite museum election vaccine school", "nothing matches this"]


def test_the_snapshot_scores_what_fts5_scores(store: Store) -> None:
    store.write(_docs(0, 150))
    assert store.save_keywords()
    snapshot = store.keyword_snapshot()
    assert snapshot is not None and snapshot.chunks == 300 and snapshot.covers == 300
    for query in QUERIES:
        # Every match, so that ties cannot fall differently across the cut; ordered alike.
        ours = _ordered(store.keyword_search(query, limit=1000))
        fts = _ordered(_fts_only(store, query, 1000))
        assert [i for i, _ in ours] == [i for i, _ in fts], query
        assert np.allclose([s for _, s in ours], [s for _, s in fts], rtol=1e-5), query
        top = store.keyword_search(query, limit=10)
        assert [s for _, s in top] == pytest.approx([s for _, s in fts[:10]], rel=1e-5)
    assert store.keyword_search("nothing matches this", limit=5) == []


def test_chunks_written_or_removed_after_the_snapshot_are_found_or_left_out(store: Store) -> None:
    store.write(_docs(0, 150))
    store.save_keywords()
    removed = {f"doc-{n}" for n in range(0, 150, 17)}
    store.write(_docs(150, 5), remove=removed)
    assert not store.save_keywords()  # 18 chunks removed and 10 added: under a tenth of 300
    snapshot = store.keyword_snapshot()
    assert snapshot is not None and snapshot.covers == 300
    for query in QUERIES:
        ours = store.keyword_search(query, limit=30)
        fts = _fts_only(store, query, 30)
        assert not {store.chunks([i])[i].doc_id for i, _ in ours} & removed
        # The snapshot's average chunk length and word counts are those of when it was
        # written (the counts less what was removed since): the scores move a little, so the
        # two rankings agree on their members, not on every tie.
        assert len({i for i, _ in ours} & {i for i, _ in fts}) >= 0.9 * len(fts), query
    new = store.keyword_search("note 152.0", limit=3)
    assert store.chunks([new[0][0]])[new[0][0]].doc_id == "doc-152"


def test_filters_hold_on_both_sides_of_the_snapshot(store: Store) -> None:
    store.write(_docs(0, 100, collection="wires") + _docs(100, 50, collection="council"))
    store.save_keywords()
    store.write(_docs(150, 10, collection="council"))
    council = Filters(collections=("council",))
    found = store.keyword_search("harbour flood budget", limit=1000, filters=council)
    docs = {store.chunks([i])[i].doc_id for i, _ in found}
    assert docs and all(100 <= int(d.split("-")[1]) < 160 for d in docs)
    assert any(int(d.split("-")[1]) >= 150 for d in docs)  # written after the snapshot
    # Every match (the order moves a little: see the test above).
    assert {i for i, _ in found} == {i for i, _ in _fts_only(store, "harbour flood budget", 1000,
                                                             council)}


def test_a_stale_snapshot_is_written_again_and_the_old_one_removed(store: Store) -> None:
    folder = store.folder
    store.write(_docs(0, 40))
    assert not store.save_keywords() and store.keyword_snapshot() is None  # 80 chunks: too few
    store.write(_docs(40, 60))
    assert store.save_keywords()
    first = store.keyword_snapshot()
    assert first is not None and first.chunks == 200
    assert not store.save_keywords()  # nothing changed
    store.write(_docs(100, 15))  # 30 chunks: 15 % of the snapshot
    assert store.save_keywords()
    second = store.keyword_snapshot()
    assert second is not None and second.chunks == 230 and second.folder != first.folder
    assert [p.name for p in folder.iterdir() if p.name.startswith("keywords-")] == [second.folder.name]
    store.write([], remove=[f"doc-{n}" for n in range(80)])  # down to 70 chunks
    assert not store.save_keywords()
    assert not any(p.name.startswith("keywords-") for p in folder.iterdir())
    assert store.keyword_snapshot() is None
    assert store.keyword_search("harbour", limit=5)  # FTS5 answers alone


def test_a_reader_takes_up_a_new_snapshot_and_survives_a_torn_one(store: Store) -> None:
    store.write(_docs(0, 100))
    reader = Store.open(store.folder)
    try:
        assert reader.keyword_snapshot() is None
        store.save_keywords()
        snapshot = reader.keyword_snapshot()
        assert snapshot is not None and snapshot.covers == 200
        expected = reader.keyword_search("railway court", limit=10)
        store.write(_docs(100, 50))
        store.save_keywords()
        newest = keyword_snapshot.newest(store.folder)
        assert newest is not None
        (newest[1] / "postings.npy").unlink()  # torn: FTS5 answers alone
        store.write(_docs(150, 1))
        assert reader.keyword_snapshot() is None
        found = reader.keyword_search("railway court", limit=10)
        assert found == _fts_only(reader, "railway court", 10)
        assert len(expected) == 10
    finally:
        reader.close()


def test_writing_a_snapshot_reports_progress_and_needs_the_write_lock(store: Store) -> None:
    store.write(_docs(0, 60))
    seen: list[tuple[int, int]] = []
    assert store.save_keywords(lambda done, total: seen.append((done, total)))
    assert seen[-1] == (120, 120)
    reader = Store.open(store.folder)
    try:
        with pytest.raises(IndexReadOnly, match="opened for reading"):
            reader.save_keywords()
        with pytest.raises(IndexReadOnly, match="opened for reading"):
            reader.write([], remove=["doc-1"])
        with pytest.raises(IndexReadOnly, match="opened for reading"):
            reader.record_files({})
    finally:
        reader.close()


def test_a_snapshot_of_another_index_is_not_taken_up(store: Store, tmp_path: Path) -> None:
    """A reader still on an index that ``--rebuild`` replaced sees the new folder's files."""
    store.write(_docs(0, 100))
    store.save_keywords()
    snapshot = store.keyword_snapshot()
    assert snapshot is not None
    other = Store.create_or_open(tmp_path / "other", model="fake", dimension=DIM,
                                 chunk_tokens=200, overlap_tokens=0)
    try:
        other.write(_docs(500, 60))
        # Created in the same second as the first, in this test: made older by hand.
        other.manifest = dataclasses.replace(other.manifest, created_at="2000-01-01T00:00:00+00:00")
        shutil.copytree(snapshot.folder, other.folder / snapshot.folder.name)
        assert other.keyword_snapshot() is None
        found = other.keyword_search("harbour", limit=200)
        assert found and _ordered(found) == _ordered(_fts_only(other, "harbour", 200))
    finally:
        other.close()


def test_a_snapshot_torn_by_a_kill_is_ignored_then_cleared(store: Store) -> None:
    store.write(_docs(0, 100))
    folder = store.folder
    torn = folder / ".keywords-1.4242.tmp"  # what a run killed mid-write leaves
    torn.mkdir()
    (torn / "postings.npy").write_bytes(b"half")
    assert store.keyword_snapshot() is None
    store.close()
    reopened = Store.create_or_open(folder, model="fake", dimension=DIM, chunk_tokens=200,
                                    overlap_tokens=0)
    try:
        assert not torn.exists()
        assert reopened.save_keywords() and reopened.keyword_snapshot() is not None
    finally:
        reopened.close()


def test_word_counts_come_from_the_snapshot_and_what_came_after(store: Store) -> None:
    store.write(_docs(0, 100))
    before = {w: store.chunk_frequency(w) for w in ("harbour", "railway", "nosuchword")}
    store.save_keywords()
    store.write(_docs(100, 20))
    snapshot = store.keyword_snapshot()
    assert snapshot is not None
    after = {w: store.chunk_frequency(w) for w in before}
    vocabulary = {w: store.database.query("SELECT doc FROM chunks_vocab WHERE term = ?", (w,))
                  for w in before}
    assert after == {w: (rows[0][0] if rows else 0) for w, rows in vocabulary.items()}
    assert after["harbour"] > before["harbour"] and after["nosuchword"] == 0
    assert snapshot.frequency("harbour") == before["harbour"]


def test_words_are_read_as_fts5_reads_them(store: Store) -> None:
    """FTS5 folds accents and splits at underscores; the snapshot must hold the same terms,
    or "Zurich" would miss the releases that write "Zürich"."""
    items = _docs(0, 100)
    extra = []
    for n, text in enumerate(["The Zürich harbour reopened.", "Zurich budget talks.",
                              "The foo_bar report on Zürich.", "Tariff rules in Québec.",
                              "Quebec and zürich sign a pact."]):
        doc = Document(id=f"odd-{n}", title=f"Odd {n}", text=text, source="synthetic")
        vector = np.ones((1, DIM), dtype=np.float32) / np.sqrt(DIM)
        extra.append((doc, [Chunk(doc.id, 0, 0, len(text), text, doc.title)], vector))
    store.write(items + extra)
    assert keyword_snapshot.fold(["zürich", "foo_bar", "_", "quebec"]) == [
        ("zurich",), ("foo", "bar"), (), ("quebec",)]
    expected = {w: _fts_only(store, w, 1000) for w in ("Zurich", "Zürich", "québec", "foo_bar report")}
    counts = {w: store.chunk_frequency(w) for w in ("zürich", "zurich", "foo_bar", "québec")}
    assert counts == {"zürich": 4, "zurich": 4, "foo_bar": 1, "québec": 2}
    assert store.save_keywords()
    assert store.keyword_snapshot() is not None
    for query, fts in expected.items():
        ours = _ordered(store.keyword_search(query, limit=1000))
        assert [i for i, _ in ours] == [i for i, _ in _ordered(fts)], query
        assert np.allclose([s for _, s in ours], [s for _, s in _ordered(fts)], rtol=1e-9), query
    assert {w: store.chunk_frequency(w) for w in counts} == counts
    assert len(expected["Zurich"]) == 4


def test_a_snapshot_written_again_under_the_same_name_is_taken_up(store: Store) -> None:
    """An unreadable snapshot (an older format, say) written again at the same generation."""
    store.write(_docs(0, 100))
    store.save_keywords()
    first = store.keyword_snapshot()
    assert first is not None
    meta = first.folder / "meta.json"
    meta.write_text(meta.read_text().replace('"format": 2', '"format": 1'))
    reader = Store.open(store.folder)
    try:
        assert reader.keyword_snapshot() is None  # an older format: not read
        store.close()  # the next indexing run finds it unreadable too, and writes it again
        writer = Store.create_or_open(store.folder, model="fake", dimension=DIM,
                                      chunk_tokens=200, overlap_tokens=0)
        try:
            assert writer.save_keywords()
        finally:
            writer.close()
        again = reader.keyword_snapshot()
        assert again is not None and again.folder.name == first.folder.name
    finally:
        reader.close()
