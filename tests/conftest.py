"""Shared fixtures: the shared data folder, fake and real embedders, fresh indexes with the
fake embedder (``make_assistant``, ``make_module_assistant``) and the ``--screenshot`` option.

Plain helpers and constants are in ``tests/helpers.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes import FakeEmbedder
from tests.helpers import SHARED_DATA, AssistantFactory

# The language model servers' fixtures (real_llm: SmolLM2 on xllamacpp, once per session;
# scripted_llm: a misbehaving OpenAI-compatible server per test), for every module.
pytest_plugins = ["tests.llm_servers"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshot", metavar="PATH", default=None,
        help="copy the browser test's chat screenshot to PATH (e.g. docs/chat.png); also "
             "PRESS_ASSISTANT_SCREENSHOT=PATH. Without either it stays in a temporary folder.")


@pytest.fixture(scope="session")
def screenshot_target(pytestconfig: pytest.Config) -> Path | None:
    """Where the browser test copies its chat screenshot, if asked (``--screenshot PATH`` or
    ``PRESS_ASSISTANT_SCREENSHOT=PATH``, relative to the current folder); None: nowhere."""
    import os

    target = pytestconfig.getoption("--screenshot") or os.environ.get("PRESS_ASSISTANT_SCREENSHOT")
    return Path(target) if target else None


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; tests that need it skip, saying why, in a user's clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: the real-data tests run where ../shared/data exists (CI)")
    return SHARED_DATA


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def make_assistant(tmp_path: Path) -> Iterator[AssistantFactory]:
    """``make_assistant(releases=(), *, corpus=None, index=None, embedder=None, settings=None)
    -> Assistant``: a fresh index under ``tmp_path`` (``tmp_path / "index"`` for the first)
    opened with the fake embedder; ``releases`` (``{name: text or bytes}`` written into
    ``tmp_path / "corpus"``, or paths) indexed. Closed when the test ends. See
    :class:`tests.helpers.AssistantFactory`."""
    with AssistantFactory(tmp_path) as factory:
        yield factory


@pytest.fixture(scope="module")
def make_module_assistant(tmp_path_factory: pytest.TempPathFactory,
                          request: pytest.FixtureRequest) -> Iterator[AssistantFactory]:
    """The same for module-scoped fixtures (one index shared by a module's tests): under a
    temporary folder of the module's, closed after its last test."""
    name = request.module.__name__.rpartition(".")[2]
    with AssistantFactory(tmp_path_factory.mktemp(name)) as factory:
        yield factory


@pytest.fixture(scope="session")
def real_embedder() -> Iterator[object]:
    """all-MiniLM-L6-v2 from its PyPI package as the product runs it (ONNX when it agrees
    with torch), loaded once per test session."""
    from assistant.embedders.factory import load_embedder

    yield load_embedder()
