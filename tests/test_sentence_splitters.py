"""The sentence splitter option (PRESS_ASSISTANT_SENTENCES): sentencex reads English as pysbd
does on the project's special cases, and where it differs it is fixed or kept apart."""

from __future__ import annotations

import pytest

from assistant import chunking
from assistant.chunking import split_sentences
from assistant.errors import ConfigError

SPECIAL_CASES = [
    "During the meeting Zh. Assanov spoke. Mr. Li paid $1.5 million.\n\nA heading\nNext line.",
    "Gov. Walz met U.S. officials on Jan. 5 at 3 p.m. in St. Paul. No. 5 was fine [1]. It rained!",
    "The plan has three parts:\n1. new roads\n2. new schools\n- more clinics",
    "The list: 1. Apples 2. Pears 3. Plums",
    "It rose 5. Then it fell. He was born in 1990. He left.",
    'They met today. "We agreed. It took long." Then they left.',
]


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text, "en")]


@pytest.mark.parametrize("text", SPECIAL_CASES)
def test_sentencex_splits_the_special_cases_as_pysbd(text: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESS_ASSISTANT_SENTENCES", "pysbd")
    with_pysbd = sentences(text)
    monkeypatch.setenv("PRESS_ASSISTANT_SENTENCES", "sentencex")
    assert isinstance(chunking._segmenter("en"), chunking._Sentencex)
    assert sentences(text) == with_pysbd


def test_a_marker_after_a_full_stop_stays_with_its_sentence(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # pysbd gives "[2]" to the sentence after it; the marker cites the one before.
    monkeypatch.setenv("PRESS_ASSISTANT_SENTENCES", "sentencex")
    assert sentences("It rained [1]. It poured. [2] It stopped [1][3].") == [
        "It rained [1].", "It poured. [2]", "It stopped [1][3]."]


def test_an_unpaired_opening_quote_goes_with_its_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESS_ASSISTANT_SENTENCES", "sentencex")
    text = ('It was said today. "Values unite us. ' + "They did for many years and more. " * 12
            + "No closing mark follows.")
    found = sentences(text)
    assert found[0] == "It was said today."
    assert found[1].startswith('"Values unite us.')


def test_the_option_keeps_pysbd_for_other_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESS_ASSISTANT_SENTENCES", "sentencex")
    assert not isinstance(chunking._segmenter("kk"), chunking._Sentencex)
    assert not isinstance(chunking._segmenter("ru"), chunking._Sentencex)
    assert isinstance(chunking._segmenter("si"), chunking._Sentencex)


def test_an_unknown_splitter_says_which_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESS_ASSISTANT_SENTENCES", "nltk")
    with pytest.raises(ConfigError, match="pysbd, sentencex"):
        split_sentences("A sentence.")


def test_sentencex_reads_english_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRESS_ASSISTANT_SENTENCES", raising=False)
    assert isinstance(chunking._segmenter("en"), chunking._Sentencex)
    assert not isinstance(chunking._segmenter("ru"), chunking._Sentencex)
