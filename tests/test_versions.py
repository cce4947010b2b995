"""Versions of one release (translations, re-posts) linked at indexing time and cited once,
in the question's language, with the others offered on the card (assistant/versions.py).

The model is incidental to the linking logic, so these tests use a bilingual fake: the
hashing embedder, with the Russian and Kazakh words of a small glossary embedded as their
English equivalents, the way a multilingual model places a translation near its original.
The real multilingual model on the Sri Lankan archive is in test_multilingual.py."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant import Assistant
from assistant.versions import numbers, numbers_agree, shingles
from tests.fakes import FakeEmbedder
from tests.helpers import AssistantFactory

GLOSSARY = {
    # Russian
    "генеральный": "general", "прокурор": "prosecutor", "асанов": "asanov",
    "встретился": "met", "с": "the", "делегацией": "delegation", "провинции": "province",
    "хайнань": "hainan", "в": "in", "санье": "sanya", "марта": "march", "года": "of",
    "стороны": "sides", "подписали": "signed", "соглашения": "agreements", "на": "worth",
    "сумму": "on", "миллионов": "million", "тенге": "tenge", "региональная": "regional",
    "прокуратура": "office", "открыла": "opened", "горячую": "hotline", "линию": "for",
    "по": "about", "жалобам": "complaints", "тарифы": "tariffs", "жкх": "utility",
    "алматы": "almaty", "за": "were", "первую": "first", "неделю": "week",
    "поступило": "received", "звонков": "calls",
    # Kazakh
    "бас": "general", "санья": "sanya", "қаласында": "in", "наурыз": "march",
    "жылы": "of", "провинциясының": "province", "делегациясымен": "delegation",
    "кездесті": "met", "тараптар": "sides", "миллион": "million", "теңгеге": "tenge",
    "келісімге": "agreements", "қол": "signed", "қойды": "worth", "облыстық": "regional",
    "алматыда": "almaty", "коммуналдық": "utility", "тарифтер": "tariffs",
    "бойынша": "about", "шағымдарға": "complaints", "арналған": "for", "жедел": "hotline",
    "желі": "opened", "ашты": "office", "бірінші": "first", "аптада": "week",
    "қоңырау": "calls", "түсті": "received",
}


class BilingualFake(FakeEmbedder):
    """The hashing embedder reading glossary words as their English equivalents."""

    name = "fake-bilingual-embedder"

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        def english(text: str) -> str:
            return re.sub(r"\w+", lambda m: GLOSSARY.get(m.group().lower(), m.group()), text)

        return super().embed([english(t) for t in texts])


class EnglishFake(FakeEmbedder):
    """The hashing embedder claiming, like all-MiniLM-L6-v2, to know English only."""

    languages = frozenset({"en"})


SANYA = {
    "en": ("Prosecutor General Asanov met a Hainan delegation in Sanya",
           "Prosecutor General Asanov met the delegation of the Hainan province in Sanya on "
           "12 March 2024. The sides signed 3 agreements worth 450 million tenge."),
    "ru": ("Генеральный прокурор Асанов встретился с делегацией Хайнаня",
           "Генеральный прокурор Асанов встретился с делегацией провинции Хайнань в Санье "
           "12 марта 2024 года. Стороны подписали 3 соглашения на сумму 450 миллионов тенге."),
    "kk": ("Бас прокурор Асанов Хайнань делегациясымен кездесті",
           "Бас прокурор Асанов Санья қаласында 12 наурыз 2024 жылы Хайнань провинциясының "
           "делегациясымен кездесті. Тараптар 450 миллион теңгеге 3 келісімге қол қойды."),
}
HOTLINE = {
    "en": ("A hotline on utility tariffs in Almaty",
           "The regional prosecutor's office opened a hotline for complaints about utility "
           "tariffs in Almaty; 1200 calls were received in the first week."),
    "ru": ("Горячая линия по тарифам ЖКХ в Алматы",
           "Региональная прокуратура открыла горячую линию по жалобам на тарифы ЖКХ в "
           "Алматы; за первую неделю поступило 1200 звонков."),
    "kk": ("Алматыда коммуналдық тарифтер бойынша жедел желі",
           "Облыстық прокуратура Алматыда коммуналдық тарифтер бойынша шағымдарға арналған "
           "жедел желі ашты; бірінші аптада 1200 қоңырау түсті."),
}

CORRECTED = {"id": "sanya-en-corrected", "title": SANYA["en"][0] + " (corrected)",
             "text": SANYA["en"][1].replace("450 million", "540 million"), "date": "2024-03-13",
             "lang": "en", "url": "https://prosecutor.example/en/sanya-corrected"}
"""The English Sanya release posted again a day later with a figure corrected."""


def _records(release: dict[str, tuple[str, str]], name: str, date: str) -> list[dict[str, str]]:
    return [{"id": f"{name}-{lang}", "title": title, "text": text, "date": date, "lang": lang,
             "url": f"https://prosecutor.example/{lang}/{name}"}
            for lang, (title, text) in release.items()]


def _export(folder: Path, records: list[dict[str, str]], name: str = "site.jsonl") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    # The hotline release a day later: a translation may appear on another day than its
    # original, and the window must not pair it with the Sanya release of the day before.
    return _export(tmp_path / "corpus", _records(SANYA, "sanya", "2024-03-12")
                   + _records(HOTLINE, "hotline", "2024-03-13"))


def _groups(bot: Assistant) -> set[frozenset[str]]:
    store = bot._reader()
    found = store.versions.groups(d for d, _ in store.document_hashes().items())
    return {frozenset(m.doc_id for m in members) for members in found.values()}


def test_translations_are_linked_at_indexing(
        make_assistant: AssistantFactory, archive: Path) -> None:
    bot = make_assistant([archive], embedder=BilingualFake())
    assert _groups(bot) == {frozenset({"sanya-en", "sanya-ru", "sanya-kk"}),
                            frozenset({"hotline-en", "hotline-ru", "hotline-kk"})}


def test_a_release_in_three_languages_is_cited_once_in_the_questions_language(
        make_assistant: AssistantFactory, archive: Path) -> None:
    bot = make_assistant([archive], embedder=BilingualFake())
    for question, lang in (("Who did Prosecutor General Asanov meet in Sanya?", "en"),
                           ("С кем встретился прокурор Асанов в Санье?", "ru"),
                           ("Асанов Санья қаласында кіммен кездесті?", "kk")):
        hits = bot.search(question, k=5)
        sanya = [h for h in hits if h.doc_id.startswith("sanya")]
        assert [h.doc_id for h in sanya] == [f"sanya-{lang}"], question
        assert {v.lang for v in sanya[0].versions} == {"en", "ru", "kk"} - {lang}
        answer = bot.ask(question)
        cited = {c.doc_id for c in answer.citations}
        assert cited == {f"sanya-{lang}"}, (question, answer.text)
        assert {v.doc_id for v in answer.citations[0].versions} == {
            f"sanya-{other}" for other in ("en", "ru", "kk") if other != lang}


def test_a_language_filter_keeps_its_version(
        make_assistant: AssistantFactory, archive: Path) -> None:
    bot = make_assistant([archive], embedder=BilingualFake())
    hits = bot.search("Who did Prosecutor General Asanov meet in Sanya?", k=3,
                      languages=("kk",))
    assert hits and {h.doc_id for h in hits} <= {"sanya-kk", "hotline-kk"}
    assert hits[0].doc_id == "sanya-kk"


def test_an_english_model_links_reposts_but_not_translations(
        make_assistant: AssistantFactory, tmp_path: Path) -> None:
    export = _export(tmp_path / "corpus", [
        *_records(SANYA, "sanya", "2024-03-12"),
        CORRECTED])
    bot = make_assistant(embedder=EnglishFake())
    report = bot.index([export])
    assert _groups(bot) == {frozenset({"sanya-en", "sanya-en-corrected"})}
    # The newest posting is the one cited; the first one is offered beside it.
    answer = bot.ask("How much were the agreements Asanov signed in Sanya worth?")
    assert answer.citations and answer.citations[0].doc_id == "sanya-en-corrected"
    assert [v.doc_id for v in answer.citations[0].versions] == ["sanya-en"]
    # Said once, naming the languages and the flag that builds a multilingual index.
    assert len(report.notes) == 1
    assert "русский (ru)" in report.notes[0] and "қазақша (kk)" in report.notes[0]
    assert "--model multilingual-e5-small" in report.notes[0]


def test_a_new_translation_joins_its_release_on_a_later_run(
        make_assistant: AssistantFactory, tmp_path: Path) -> None:
    folder = tmp_path / "corpus"
    records = _records(SANYA, "sanya", "2024-03-12")
    _export(folder, records[:2])
    bot = make_assistant([folder], embedder=BilingualFake())
    assert _groups(bot) == {frozenset({"sanya-en", "sanya-ru"})}
    _export(folder, records[2:], "later.jsonl")
    bot.index([folder])
    assert _groups(bot) == {frozenset({"sanya-en", "sanya-ru", "sanya-kk"})}
    # A removed version leaves the others linked.
    (folder / "later.jsonl").unlink()
    bot.index([folder])
    assert _groups(bot) == {frozenset({"sanya-en", "sanya-ru"})}


def test_the_card_offers_the_other_versions(
        make_assistant: AssistantFactory, archive: Path) -> None:
    from assistant.web.formatting import format_sources

    bot = make_assistant([archive], embedder=BilingualFake())
    answer = bot.ask("С кем встретился прокурор Асанов в Санье?")
    html = format_sources(answer, turn=1)
    assert "на других языках:" in html
    assert 'hreflang="kk"' in html and ">қазақша</a>" in html and ">English</a>" in html
    assert 'href="https://prosecutor.example/en/sanya"' in html


def test_the_signals() -> None:
    assert numbers("Rs. 1,250.5 million on 23 September, item 4") == {"12505", "23"}
    assert numbers_agree(frozenset({"12", "450", "2024"}), frozenset({"12", "450", "2024"}))
    assert not numbers_agree(frozenset({"12", "450", "2024"}), frozenset({"77", "88", "99"}))
    assert numbers_agree(frozenset({"12"}), frozenset({"77", "88", "99"}))  # too few to tell
    a = shingles("the sides signed three agreements worth four hundred and fifty million")
    assert a == shingles("The sides signed three agreements worth four hundred and fifty million.")


def test_a_list_names_a_reposted_release_once(
        make_assistant: AssistantFactory, tmp_path: Path) -> None:
    export = _export(tmp_path / "corpus", [
        *_records({"en": SANYA["en"]}, "sanya", "2024-03-12"),
        *_records({"en": HOTLINE["en"]}, "hotline", "2024-03-13"),
        CORRECTED])
    bot = make_assistant([export], embedder=EnglishFake())
    answer = bot.ask("List all releases that mention the Hainan delegation")
    assert answer.count == 1, answer.text
    assert [c.doc_id for c in answer.citations] == ["sanya-en-corrected"]
