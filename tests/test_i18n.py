"""The assistant's own words in English, Russian and Kazakh (assistant/i18n.py): the catalogue
is whole, numbers take the right forms, an answer speaks the question's language and the page
the browser's. (The page in a Russian or Kazakh browser: tests/test_browser.py.)"""

from __future__ import annotations

import datetime as dt

import pytest

from assistant import Assistant
from assistant.documents import NO_ANSWER, Answer, Citation
from assistant.errors import QueryError
from assistant.i18n import (
    LANGUAGES,
    MESSAGES,
    PLURAL_CATEGORIES,
    browser_language,
    fields,
    language_of,
    text,
    translations,
)
from assistant.web import format_answer, format_error
from tests.helpers import BODY_RU, SEED, AssistantFactory

RU_NO_ANSWER = "В архиве нет релиза, который отвечает на этот вопрос."
KK_NO_ANSWER = "Мұрағатта бұл сұраққа жауап беретін релиз жоқ."


def test_every_key_is_in_every_language_with_the_same_parameters() -> None:
    english = MESSAGES["en"]
    for lang in LANGUAGES:
        assert MESSAGES[lang].keys() == english.keys(), lang
        for key, message in MESSAGES[lang].items():
            assert fields(message) == fields(english[key]), (lang, key)
            if isinstance(message, str):
                assert isinstance(english[key], str), (lang, key)
            else:  # exactly the forms the language's numbers take, each naming the number
                assert tuple(message) == PLURAL_CATEGORIES[lang], (lang, key)
                assert all("{n" in form for form in message.values()), (lang, key)
            # Translated, not copied: only short labels ("Id", "Чат") may be the same word.
            if lang != "en" and isinstance(message, str) and len(message) > 8:
                assert message != english[key], (lang, key)


def test_russian_numbers_take_their_three_forms_and_kazakh_one() -> None:
    forms = {n: text("list.head", "ru", n=n) for n in (1, 2, 5, 11, 12, 21, 22, 25, 111, 104)}
    assert forms == {1: "Найден 1 релиз", 2: "Найдено 2 релиза", 5: "Найдено 5 релизов",
                     11: "Найдено 11 релизов", 12: "Найдено 12 релизов", 21: "Найден 21 релиз",
                     22: "Найдено 22 релиза", 25: "Найдено 25 релизов",
                     111: "Найдено 111 релизов", 104: "Найдено 104 релиза"}
    # A Kazakh noun after a numeral stays singular.
    assert text("list.head", "kk", n=1) == "1 релиз табылды"
    assert text("list.head", "kk", n=5) == "5 релиз табылды"
    assert text("list.head", "en", n=1) == "1 release matches"
    assert text("list.head", "en", n=3) == "3 releases match"
    assert text("page.documents", "ru", n=3) == "**3** документа"
    with pytest.raises(TypeError):
        text("list.head", "ru")  # a plural message needs its number


def test_languages_of_questions_and_browsers() -> None:
    assert language_of("Кто участвовал во встрече?") == "ru"
    assert language_of("Кездесуге кім қатысты?") == "kk"  # Kazakh letters: і, ү
    assert language_of("Who attended the meeting?") == "en"
    assert language_of("1234") == "en"
    assert text("answer.no_answer", "de") == NO_ANSWER  # a language it lacks: English
    assert browser_language("ru-RU,ru;q=0.9,en-US;q=0.8") == "ru"
    assert browser_language("kk-KZ,kk;q=0.9,ru;q=0.8") == "kk"
    assert browser_language("de-DE,de;q=0.9,ru;q=0.5,en;q=0.4") == "ru"
    assert browser_language("en;q=0.2,kk;q=0.7") == "kk"
    assert browser_language("ru;q=0,fr") == "en"
    assert browser_language(None) == browser_language("") == "en"


def test_the_browser_is_given_the_page_words_it_can_show_whole() -> None:
    words = translations("page.", suffixes=".txt", megabytes=50, folder="uploads")
    assert words["ru"]["page.ask"] == "Спросить" and words["kk"]["page.ask"] == "Сұрау"
    assert "50 МБ" in words["ru"]["page.upload_note"]
    # What events fill in (counts, names) stays on the server.
    assert "page.library_stats" not in words["en"] and "page.documents" not in words["en"]
    assert all(key.startswith("page.") for key in words["kk"])


@pytest.fixture
def archive(make_assistant: AssistantFactory) -> Assistant:
    return make_assistant({"seed.txt": SEED.read_text(encoding="utf-8"),
                           "vstrecha.txt": f"Встреча прокуроров\n\n{BODY_RU}\n"})


@pytest.mark.parametrize(("question", "expected"), [
    ("Сколько стоил билет на финал чемпионата мира по хоккею?", RU_NO_ANSWER),
    ("Әлем чемпионатының финалына билет қанша тұрды?", KK_NO_ANSWER),
    ("How much did a ticket to the ice hockey world final cost?", NO_ANSWER),
])
def test_a_question_about_nothing_is_declined_in_its_own_language(
        archive: Assistant, question: str, expected: str) -> None:
    answer = archive.ask(question)
    assert answer.abstained and answer.citations == ()
    assert answer.text == expected
    # The JSON keeps its fields; only the sentence is in the question's language.
    assert answer.to_json()["answer"] == expected
    shown = format_answer(answer)
    assert shown.startswith(expected.split()[0])


def test_what_was_searched_is_said_in_the_questions_language(archive: Assistant) -> None:
    since = dt.date(2010, 1, 1)
    russian = archive.ask("Сколько стоил билет на финал чемпионата мира по хоккею?", since=since)
    assert russian.searched == "релизы начиная с 2010-01-01"
    assert russian.text == ("В архиве нет релиза, который отвечает на этот вопрос "
                            "(область поиска: релизы начиная с 2010-01-01).")
    english = archive.ask("How much did a ticket to the ice hockey world final cost?",
                          since=since, until=dt.date(2010, 12, 31))
    assert english.text == ("The archive has no release that answers this among releases from "
                            "2010-01-01 to 2010-12-31.")


def _answer(question: str) -> Answer:
    citation = Citation(n=1, doc_id="d", title="", date=None, url=None, quote="Quote.",
                        start=0, end=6, score=1.0, page=2)
    again = Citation(n=2, doc_id="d", title="", date=dt.date(2020, 1, 2), url=None,
                     quote="Quote.", start=0, end=6, score=1.0)
    return Answer(question=question, text="Quote. [1] Quote. [2]", abstained=False,
                  citations=(citation, again), searched="releases of 2020-01-02",
                  fallback="x")


def test_the_answers_frame_and_cards_speak_the_questions_language() -> None:
    russian = format_answer(_answer("Что сказано?"))
    assert "**Источники**" in russian and "стр. 2" in russian and "без даты" in russian
    assert "без названия" in russian and "тот же релиз, что и" in russian
    assert "Область поиска:" in russian and "Ответ цитатами:" in russian
    kazakh = format_answer(_answer("Не айтылды, қай күні?"))
    assert "**Дереккөздер**" in kazakh and "2-бет" in kazakh and "атаусыз" in kazakh
    english = format_answer(_answer("What was said?"))
    assert "**Sources**" in english and "page 2" in english and "Extractive answer:" in english


def test_errors_shown_by_the_page_speak_its_language() -> None:
    assert format_error(QueryError("x"), "ru").startswith("**Извините:**")
    assert format_error(RuntimeError("x"), "kk") == (
        "**Кешіріңіз:** серверде бір қате шықты; толығырақ сервер журналында.")


def test_the_page_hands_its_words_to_gradio(archive: Assistant) -> None:
    from assistant.web import build_app

    app = build_app(archive)
    config = app.get_config_file()
    assert config["i18n_translations"]["ru"]["page.ask"] == "Спросить"
    assert config["i18n_translations"]["kk"]["page.heading"].startswith(
        "## Баспасөз релиздерінің мұрағаты\n")
