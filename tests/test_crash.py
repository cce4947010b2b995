"""Crash safety and concurrency on a real archive: SIGKILL at random moments, readers while
a writer commits, a second writer. The fake embedder keeps each run fast; the store, the
vectors and the commit protocol under test are the real ones."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Assistant
from tests.fakes import FakeEmbedder
from tests.helpers import ROOT, SHARED_DATA

pytestmark = pytest.mark.shared_data
MN_AG = SHARED_DATA / "mn_ag_press_releases" / "press_releases.jsonl"  # 726 releases
FOMC = SHARED_DATA / "fomc_statements" / "fomc_statements.jsonl"  # 166, short: the quick runs
SEED_QUERY = "Sanya Assanov SCO general prosecutors"  # the fake embedder needs the words
WORKER = """
import sys
from assistant import Assistant
from tests.fakes import FakeEmbedder
Assistant.open(sys.argv[1], create=True, embedder=FakeEmbedder()).index(sys.argv[2:])
"""


def start_indexer(index: Path, *paths: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", WORKER, str(index), *map(str, paths)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def assert_healthy(index: Path) -> int:
    bot = Assistant.open(index, embedder=FakeEmbedder())
    try:
        assert bot.check() == []
        answer = bot.ask("Who attended the Sanya meeting?")
        assert not answer.abstained
        assert bot.search(SEED_QUERY, k=1)[0].doc_id == "000_f2eabe2890162440.txt"
        return bot.info().documents
    finally:
        bot.close()


def kill_at_random_moments(tmp_path: Path, archive: Path, kills: int, seed: int) -> None:
    index = tmp_path / "index"
    Assistant.open(index, create=True, embedder=FakeEmbedder()).index([ROOT / "corpus"])
    started = time.perf_counter()
    full = start_indexer(index, archive)
    assert full.wait(timeout=600) == 0, full.stderr.read() if full.stderr else ""
    duration = time.perf_counter() - started
    # Start again from the seed alone, then kill the archive run over and over.
    shutil.rmtree(index)
    Assistant.open(index, create=True, embedder=FakeEmbedder()).index([ROOT / "corpus"])

    rng = random.Random(seed)
    counts = []
    for _ in range(kills):
        proc = start_indexer(index, archive)
        time.sleep(rng.uniform(0.05, duration))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        counts.append(assert_healthy(index))
    assert counts == sorted(counts), "a later run lost documents an earlier one had committed"
    final = start_indexer(index, archive)
    assert final.wait(timeout=600) == 0
    assert assert_healthy(index) == 1 + sum(1 for line in archive.open() if line.strip())


@pytest.mark.slow
def test_sigkill_at_twenty_random_moments(tmp_path: Path, shared_data: Path) -> None:
    kill_at_random_moments(tmp_path, MN_AG, kills=20, seed=20)


def test_sigkill_at_a_few_random_moments(tmp_path: Path, shared_data: Path) -> None:
    """The smaller version that the default run (and CI) includes."""
    kill_at_random_moments(tmp_path, FOMC, kills=6, seed=5)


def test_readers_keep_answering_while_an_index_run_commits(tmp_path: Path, shared_data: Path) -> None:
    index = tmp_path / "index"
    Assistant.open(index, create=True, embedder=FakeEmbedder()).index([ROOT / "corpus"])
    reader = Assistant.open(index, embedder=FakeEmbedder())
    writer = start_indexer(index, FOMC)
    asked = 0
    while writer.poll() is None:
        answer = reader.ask("Who attended the Sanya meeting?")
        assert answer.citations
        assert reader.search(SEED_QUERY, k=1)[0].doc_id == "000_f2eabe2890162440.txt"
        assert reader.search("federal funds rate target", k=3)
        asked += 1
    assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""
    assert asked >= 3
    # Without a restart the same reader sees everything the run committed.
    assert reader.info().documents == 167
    assert reader.search("federal funds rate target", k=1)[0].doc_id.startswith("fomc-")
    assert reader.check() == []


def test_a_second_writer_stops_with_a_clear_message(tmp_path: Path, shared_data: Path) -> None:
    index = tmp_path / "index"
    Assistant.open(index, create=True, embedder=FakeEmbedder()).index([ROOT / "corpus"])
    first = start_indexer(index, FOMC)
    time.sleep(1.0)
    second = start_indexer(index, ROOT / "corpus")
    _, err = second.communicate(timeout=120)
    assert first.wait(timeout=600) == 0
    if second.returncode != 0:  # it waited briefly, then refused
        assert b"another indexing run is writing" in err
    assert assert_healthy(index) == 167
