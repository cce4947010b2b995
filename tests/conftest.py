"""Shared fixtures: project paths, the shared data folder, fake and real embedders."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
SEED = ROOT / "corpus" / "000_f2eabe2890162440.txt"


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip, saying why, in a user's clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: the real-data tests run where ../shared/data exists (CI)")
    return SHARED_DATA


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder() -> Iterator[object]:
    """all-MiniLM-L6-v2 from its PyPI package as the product runs it (ONNX when it agrees
    with torch), loaded once per test session."""
    from assistant.embedders.factory import load_embedder

    yield load_embedder()
