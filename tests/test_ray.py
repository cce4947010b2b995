"""Indexing on Ray (``index --ray``, assistant/distributed.py) against a plain run, on a local
Ray instance of 2 CPUs and the FOMC archive with the real model: the same documents, chunks,
vectors and answers; a killed worker loses and duplicates nothing; a killed driver resumes;
a second run embeds nothing; without ray installed the error says how to install it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant import Assistant
from assistant.documents import IndexReport
from tests.helpers import ROOT, SHARED_DATA

pytestmark = [pytest.mark.shared_data, pytest.mark.real_model]
FOMC = SHARED_DATA / "fomc_statements" / "fomc_statements.jsonl"  # 166 short releases
QUESTIONS = ROOT / "benchmarks" / "questions" / "press_qa.jsonl"
MIN_COSINE = 0.999


@pytest.fixture(scope="module")
def ray_address() -> Iterator[str]:
    """A local Ray instance of 2 CPUs for the module; its address for the CLI runs."""
    if not FOMC.is_file():
        pytest.skip(f"{FOMC} is absent: the Ray tests run where ../shared/data exists (CI)")
    ray = pytest.importorskip("ray", reason="pip install 'press-assistant[ray]' for the Ray tests")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield str(ray.get_runtime_context().gcs_address)
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any) -> Path:
    folder = tmp_path_factory.mktemp("plain") / "index"
    Assistant.open(folder, create=True, embedder=real_embedder).index([FOMC])
    return folder


@pytest.fixture(scope="module")
def on_ray(tmp_path_factory: pytest.TempPathFactory, real_embedder: Any,
           ray_address: str) -> tuple[Path, IndexReport]:
    folder = tmp_path_factory.mktemp("ray") / "index"
    report = Assistant.open(folder, create=True, embedder=real_embedder).index([FOMC], ray="auto")
    return folder, report


def snapshot(folder: Path, embedder: Any) -> tuple[dict[str, Any], dict[tuple[str, int, int], Any]]:
    """Each document's content hash with its sentence vectors, and each chunk (by document and
    span) with its text and vector; asserts no chunk is stored twice."""
    from assistant.index_store import Store
    from assistant.index_store.vectors import ids_of

    store = Store.open(folder)
    try:
        assert store.check() == []
        index = store.vectors()
        ids = [int(i) for i in ids_of(index)]
        chunks = store.chunks(ids)
        assert len(chunks) == len(ids) == store.counts()[1]
        by_span = {(c.doc_id, c.start, c.end): (c.text, index.reconstruct(i)) for i, c in chunks.items()}
        assert len(by_span) == len(ids), "a chunk is stored twice"
        documents = {doc_id: (content, store.sentence_vectors(doc_id))
                     for doc_id, (content, _) in store.document_hashes().items()}
        return documents, by_span
    finally:
        store.close()


def assert_same_index(ours: Path, theirs: Path, embedder: Any) -> None:
    docs, chunks = snapshot(ours, embedder)
    plain_docs, plain_chunks = snapshot(theirs, embedder)
    assert len(plain_docs) == 166
    assert {d: h for d, (h, _) in docs.items()} == {d: h for d, (h, _) in plain_docs.items()}
    assert chunks.keys() == plain_chunks.keys()
    cosines = []
    for key, (text, vector) in chunks.items():
        assert text == plain_chunks[key][0]
        cosines.append(float(vector @ plain_chunks[key][1]))
    assert min(cosines) >= MIN_COSINE
    for doc_id, (_, sentences) in docs.items():
        expected = plain_docs[doc_id][1]
        if expected is None:
            assert sentences is None
            continue
        assert sentences is not None and sentences.shape == expected.shape
        assert float(np.min(np.sum(sentences * expected, axis=1))) >= MIN_COSINE


def test_a_ray_run_makes_the_index_a_plain_run_makes(plain: Path, on_ray: tuple[Path, IndexReport],
                                                     real_embedder: Any) -> None:
    folder, report = on_ray
    assert len(report.added) == 166 and report.chunks_embedded > 166
    assert_same_index(folder, plain, real_embedder)


def test_a_ray_run_answers_the_press_questions_alike(plain: Path, on_ray: tuple[Path, IndexReport],
                                                     real_embedder: Any) -> None:
    questions = [r["question"] for line in QUESTIONS.open(encoding="utf-8")
                 if (r := json.loads(line))["archive"] == "fomc"]
    assert len(questions) > 50
    ray_bot = Assistant.open(on_ray[0], embedder=real_embedder)
    plain_bot = Assistant.open(plain, embedder=real_embedder)
    try:
        for question in questions:
            ours, theirs = ray_bot.ask(question), plain_bot.ask(question)
            assert ours.text == theirs.text, question
            assert ([(c.doc_id, c.start, c.end) for c in ours.citations]
                    == [(c.doc_id, c.start, c.end) for c in theirs.citations]), question
    finally:
        ray_bot.close()
        plain_bot.close()


def test_a_second_ray_run_embeds_nothing(on_ray: tuple[Path, IndexReport], real_embedder: Any) -> None:
    again = Assistant.open(on_ray[0], create=True, embedder=real_embedder).index([FOMC], ray="auto")
    assert again.chunks_embedded == 0
    assert len(again.unchanged) == 166 and not again.added and not again.updated and not again.removed


def test_a_killed_worker_loses_and_duplicates_nothing(tmp_path: Path, plain: Path, ray_address: str,
                                                      real_embedder: Any) -> None:
    from assistant.distributed import ray_embedder

    folder = tmp_path / "index"
    with ray_embedder(real_embedder) as remote:
        # Two cores, two runs an actor as here: one actor. It dies before the run (the first
        # batch goes to a dead actor), and its replacement once the first batch is
        # committed (the later batches are queued on it by then).
        assert len(remote.pids) == 1
        first = remote.pids[0]
        os.kill(first, signal.SIGKILL)
        killed = []

        def kill_after_first_commit(stage: str, done: int, total: int) -> None:
            if stage == "embed" and done > 0 and not killed:
                assert remote.pids[0] != first
                killed.append(remote.pids[0])
                os.kill(remote.pids[0], signal.SIGKILL)

        report = Assistant.open(folder, create=True, embedder=remote).index(
            [FOMC], progress=kill_after_first_commit)
        assert killed and remote.retried >= 2
    assert len(report.added) == 166
    assert_same_index(folder, plain, real_embedder)


def test_a_killed_driver_resumes_like_a_killed_index(tmp_path: Path, plain: Path, ray_address: str,
                                                     real_embedder: Any) -> None:
    folder = tmp_path / "index"
    command = [str(Path(sys.executable).with_name("press-assistant")), "index", str(FOMC),
               "--index", str(folder), f"--ray={ray_address}"]
    first = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    committed = 0
    while first.poll() is None and time.monotonic() < deadline and not committed:
        time.sleep(0.2)
        committed = _documents(folder)
    if first.poll() is None:
        os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=60)
    assert 0 < committed < 166, first.stderr.read() if first.stderr else ""
    second = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    assert "166 added" not in second.stdout  # what the killed run committed stayed
    assert_same_index(folder, plain, real_embedder)


def _documents(folder: Path) -> int:
    """Documents committed in ``folder`` so far (0 before its first commit)."""
    import sqlite3

    databases = list(folder.glob("*.sqlite3"))
    if not databases:
        return 0
    try:
        with sqlite3.connect(f"file:{databases[0]}?mode=ro", uri=True, timeout=1) as db:
            return int(db.execute("SELECT count(*) FROM documents").fetchone()[0])
    except sqlite3.Error:  # not made yet
        return 0


def test_without_ray_the_error_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      fake_embedder: Any) -> None:
    from click.testing import CliRunner

    from assistant.cli import main
    from assistant.distributed import RayUnavailable

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails as if not installed
    bot = Assistant.open(tmp_path / "index", create=True, embedder=fake_embedder)
    with pytest.raises(RayUnavailable, match=r"pip install 'press-assistant\[ray\]'"):
        bot.index([ROOT / "corpus"], ray="auto")
    result = CliRunner().invoke(main, ["index", str(ROOT / "corpus"), "--index",
                                       str(tmp_path / "other"), "--ray"])
    assert result.exit_code == 1
    assert "pip install 'press-assistant[ray]'" in result.output
