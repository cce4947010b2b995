"""What the index says of its model's languages (`info`, the web library), and how a
question's language is told among the versions a release has."""

from __future__ import annotations

from assistant.embedders.models import declared_languages
from assistant.languages import describe_model_languages, question_language
from tests.helpers import AssistantFactory


def test_the_models_languages_are_known_without_loading_them() -> None:
    assert declared_languages("all-MiniLM-L6-v2") == frozenset({"en"})  # its model card
    e5 = declared_languages("multilingual-e5-small")
    assert e5 is not None and {"en", "ru", "kk", "si", "ta"} <= e5 and len(e5) > 90
    assert declared_languages("/no/such/model") is None


def test_described_in_a_few_words() -> None:
    assert describe_model_languages(["en"]) == "language: English"
    assert describe_model_languages([]) == "languages unknown"
    many = describe_model_languages(sorted(declared_languages("multilingual-e5-small") or ()))
    assert many.startswith("93 languages: en, kk, ru, si, ta, af")


def test_info_names_the_models_languages(make_assistant: AssistantFactory) -> None:
    info = make_assistant({"a.txt": "Title\n\nSome text of a release."}).info()
    assert info.model == "fake-hashing-embedder" and info.model_languages == ()


def test_the_questions_language_among_the_versions() -> None:
    offered = {"en", "ru", "kk"}
    assert question_language("Who attended the Sanya meeting?", offered) == "en"
    assert question_language("Кто присутствовал на встрече в Санье?", offered) == "ru"
    assert question_language("Санья кездесуіне кім қатысты?", offered) == "kk"
    assert question_language("ஜனாதிபதி எங்கு சென்றார்?", {"en", "si", "ta"}) == "ta"
    assert question_language("Кто там был?", {"en", "si"}) is None
