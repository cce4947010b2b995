"""Write-then-rename (assistant.atomic): a name only ever holds a whole version."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.atomic import clear_stale, staged, temporary_sibling, write_bytes, write_text


def test_a_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "manifest.json"
    write_text(target, "old")
    write_bytes(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


def test_an_error_while_writing_keeps_the_old_version_and_no_leftover(tmp_path: Path) -> None:
    target = tmp_path / "vectors.faiss"
    write_bytes(target, b"old")
    with pytest.raises(RuntimeError), staged(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert not temporary_sibling(target).exists()


def test_a_folder_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "keywords-3"
    with staged(target, folder=True) as tmp:
        (tmp / "a.npy").write_bytes(b"1")
    with staged(target, folder=True) as tmp:
        (tmp / "b.npy").write_bytes(b"2")
    assert sorted(p.name for p in target.iterdir()) == ["b.npy"]


def test_leftovers_of_a_killed_writer_are_cleared(tmp_path: Path) -> None:
    (tmp_path / ".store.sqlite3.123.tmp").write_bytes(b"torn")
    (tmp_path / ".keywords-2.77.tmp").mkdir()
    (tmp_path / "store.sqlite3").write_bytes(b"kept")
    removed = clear_stale(tmp_path)
    assert len(removed) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["store.sqlite3"]
