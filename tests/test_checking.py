"""The check of generated sentences (assistant/checking.py): splitting a model's output, every
drop reason, the kept path with its verbatim quote, renumbering, the review's findings (control
and bidi characters, accented names, numbers in words, other scripts, a denial in a neighbour),
and a seeded mutation run on real releases (benchmarks/check_mutations.py) where no changed
number (in digits or words) and no out-of-range citation may get through."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from assistant.checking import check_answer, split_generated
from assistant.chunking import split_sentences
from assistant.documents import Passage
from assistant.embedders.protocols import Embedder
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent

# Releases written for these tests (fictional): passages start inside their document, so the
# offsets checked below are absolute, not relative to the passage.
FRAUD = ("Saint Paul, March 3, 2021\n\n"
         "Attorney General Maria Delgado today sued Northstar Lending over hidden loan fees. "
         "The lawsuit says Northstar charged 1,200 Minnesota borrowers fees of up to 45 percent. "
         "Borrowers paid $1.2 million in fees between 2017 and 2019. "
         "Delgado asked the court to order refunds to every borrower.")
SUMMIT = ("The summit in Almaty ended on 12 May 2022. "
          "President Arman Seitov met Prime Minister Lena Holm to discuss grain exports. "
          "They signed three agreements on rail transport and customs.")
FLOOD = ("Heavy rain flooded the river valley overnight. "
         "Rescue teams evacuated 340 residents from the village of Ostrov. "
         "No injuries were reported.")


def passage(n: int, doc_id: str, text: str, *, skip: int = 0, title: str = "",
            date: dt.date | None = None) -> Passage:
    """Passage ``n``: ``text`` from its sentence ``skip`` on, with absolute sentence spans."""
    spans = split_sentences(text)[skip:]
    start, end = spans[0][0], spans[-1][1]
    return Passage(n=n, doc_id=doc_id, title=title or doc_id.title(), date=date,
                   url=f"https://example.org/{doc_id}", text=text[start:end], start=start,
                   end=end, sentences=tuple(spans), page=2 if n == 1 else None, score=0.5)


PASSAGES = (passage(1, "fraud", FRAUD, skip=1, title="Delgado sues Northstar Lending",
                    date=dt.date(2021, 3, 3)),
            passage(2, "summit", SUMMIT),
            passage(3, "flood", FLOOD))


def reasons(text: str, passages: Sequence[Passage] = PASSAGES, *,
            embedder: Embedder | None = None) -> list[str]:
    return [d.reason for d in check_answer(text, passages, embedder=embedder).dropped]


# ------------------------------------------------------------------------------ splitting


@pytest.mark.parametrize(("text", "expected"), [
    ("It rained [1]. It poured. [2] It stopped [1][3].",
     ["It rained [1].", "It poured. [2]", "It stopped [1][3]."]),
    ("Mr. Li left in 2019 [1, 2]. He came back [1] [3].",
     ["Mr. Li left in 2019 [1, 2].", "He came back [1] [3]."]),
    ("The fund paid out.\n[2]\nNext one [1].", ["The fund paid out. [2]", "Next one [1]."]),
    ("Answer: Assanov met\nCao Jianming in Sanya [1].\n\nNext one [2].",
     ["Assanov met Cao Jianming in Sanya [1].", "Next one [2]."]),
    ("## The meeting\nAssanov met Cao [1].", ["The meeting", "Assanov met Cao [1]."]),
])
def test_markers_stay_with_their_sentence(text: str, expected: list[str]) -> None:
    assert split_generated(text) == expected


def test_formatting_is_stripped_and_the_sources_list_is_one_item() -> None:
    text = ("## Answer\n"
            "- **Delgado** sued *Northstar* [1].\n"
            "2. Rescue teams evacuated `340` residents [3].\n"
            "See [the release](https://example.org/x) for more [1].\n\n"
            "**Sources:**\n[1]: Delgado sues Northstar Lending\n[3]: Flood")
    assert split_generated(text) == [
        "Answer", "Delgado sued Northstar [1].", "Rescue teams evacuated 340 residents [3].",
        "See the release for more [1].",
        "**Sources:**\n[1]: Delgado sues Northstar Lending\n[3]: Flood"]


def test_formatting_junk_is_dropped_with_reasons_and_the_claims_kept() -> None:
    text = ("# Northstar\n- **Attorney General Maria Delgado** sued **Northstar Lending** over "
            "hidden loan fees [1].\n\nSources:\n[1]: Delgado sues Northstar Lending")
    answer = check_answer(text, PASSAGES)
    assert answer.text == ("Attorney General Maria Delgado sued Northstar Lending over hidden "
                           "loan fees. [1]")
    assert [(d.sentence, d.reason) for d in answer.dropped] == [
        ("Northstar", "no citation"),
        ("Sources:\n[1]: Delgado sues Northstar Lending",
         "a list of sources, not a sentence of the answer")]


def test_a_reference_list_without_heading_is_dropped() -> None:
    answer = check_answer("No injuries were reported [3].\n[3]: Flood, https://example.org/flood",
                          PASSAGES)
    assert answer.text == "No injuries were reported. [1]"
    assert [d.reason for d in answer.dropped] == [
        "a list of sources, not a sentence of the answer"]


# ------------------------------------------------------------------------------ kept path


def test_a_kept_sentence_is_quoted_verbatim_with_absolute_offsets() -> None:
    answer = check_answer("Borrowers paid 1.2 million dollars in fees between 2017 and 2019 [1].",
                          PASSAGES)
    assert answer.dropped == ()
    assert answer.text == "Borrowers paid 1.2 million dollars in fees between 2017 and 2019. [1]"
    (citation,) = answer.citations
    quote = "Borrowers paid $1.2 million in fees between 2017 and 2019."
    assert citation.quote == quote
    assert FRAUD[citation.start:citation.end] == quote
    assert PASSAGES[0].sentence_text((citation.start, citation.end)) == quote
    assert (citation.n, citation.doc_id, citation.title, citation.date, citation.url,
            citation.page) == (1, "fraud", "Delgado sues Northstar Lending", dt.date(2021, 3, 3),
                               "https://example.org/fraud", 2)
    assert citation.score == pytest.approx(1.0)
    assert answer.kept[0].citations == (1,)


def test_citations_are_renumbered_in_order_of_first_appearance() -> None:
    text = ("Rescue teams evacuated 340 residents from Ostrov [3]. "
            "Seitov met Holm to discuss grain exports [2]. "
            "The teams evacuated 340 residents of Ostrov village [3]. "
            "Delgado sued Northstar Lending over hidden fees, and no injuries were reported "
            "[1][3].")
    answer = check_answer(text, PASSAGES)
    assert answer.dropped == ()
    assert [(c.n, c.doc_id) for c in answer.citations] == [
        (1, "flood"), (2, "summit"), (3, "fraud"), (4, "flood")]
    assert answer.citations[3].quote == "No injuries were reported."
    assert answer.text == (
        "Rescue teams evacuated 340 residents from Ostrov. [1] "
        "Seitov met Holm to discuss grain exports. [2] "
        "The teams evacuated 340 residents of Ostrov village. [1] "
        "Delgado sued Northstar Lending over hidden fees, and no injuries were reported. [3][4]")
    assert [k.citations for k in answer.kept] == [(1,), (2,), (1,), (3, 4)]


@pytest.mark.parametrize("sentence", [
    "The lawsuit says Northstar charged 1200 Minnesota borrowers fees [1].",
    "The lawsuit says Northstar charged 1 200 Minnesota borrowers fees [1].",
    "Borrowers paid 1,200,000 dollars in fees [1].",
    "Borrowers paid $1.2M in fees [1].",
    "Northstar charged fees of up to 45% [1].",
    "They signed 3 agreements on rail transport and customs [2].",
    "The summit in Almaty ended in May 2022 [2].",
    "Delgado sued Northstar Lending in March 2021 [1].",  # the month and year of the release
    "Rescue teams evacuated 340 residents from Ostrov’s valley [3].",
])
def test_numbers_dates_and_names_written_another_way_are_kept(sentence: str) -> None:
    assert reasons(sentence) == []


# ---------------------------------------------------------------------------- drop reasons


@pytest.mark.parametrize(("sentence", "reason"), [
    ("Rescue teams evacuated 340 residents.", "no citation"),
    ("Rescue teams evacuated 340 residents [9].", "cites [9], but only [1]–[3] were given"),
    ("Rescue teams evacuated 340 residents [3][4].", "cites [4], but only [1]–[3] were given"),
    ("Northstar charged fees of up to 46 percent [1].", "the number 46 is not in [1]"),
    ("Borrowers paid $1.5 million in fees [1].", "the number 1.5 million is not in [1]"),
    ("Borrowers paid fees between 2016 and 2019 [1].", "the number 2016 is not in [1]"),
    ("The summit in Almaty ended on 13 May 2022 [2].", "the number 13 is not in [2]"),
    ("The summit in Almaty ended in June 2022 [2].", "the month June is not in [2]"),
    ("President Arman Seitov met Prime Minister Lena Smith [2].",
     "the name Smith is not in [2]"),
    ("John Smith met Lena Holm to discuss grain exports [2].", "the name John is not in [2]"),
    ("Rescue teams evacuated 340 residents from Ostrov [1].", "the number 340 is not in [1]"),
    ("The court ordered refunds to every borrower [3].",
     "[3] does not support it (support 0.00)"),
    ("Heavy rain flooded the river valley and teams evacuated residents near Almaty [3][2].",
     "[2] does not support it (support 0.10)"),
    ("Rescue teams did not evacuate 340 residents from Ostrov [3].",
     "the negation “not” is not in [3]"),
    ("Rescue teams never evacuated 340 residents from Ostrov [3].",
     "the negation “never” is not in [3]"),
    ("[2]", "no words, only citation markers"),
])
def test_every_drop_reason(sentence: str, reason: str) -> None:
    assert reasons(sentence) == [reason]


def test_a_sentence_opening_word_is_not_a_name() -> None:
    # "Officials" is capitalised only because it opens the sentence.
    assert reasons("Officials said rescue teams evacuated 340 residents from Ostrov [3].") == []
    # Before another capitalised word it may open a name ("Vladimir Putin"): the passage's
    # lower-case "village" still vouches for it, nothing vouches for "Mayor".
    assert reasons("Village Ostrov residents were evacuated, 340 of them [3].") == []
    assert reasons("Mayor Ostrov evacuated 340 residents from the village [3].") == [
        "the name Mayor is not in [3]"]


def test_no_passages_at_all() -> None:
    assert reasons("Rescue teams evacuated 340 residents [1].", ()) == [
        "cites [1], but no passages were given"]


# ----------------------------------------------------------------------- review findings


@pytest.mark.parametrize("junk", ["\x1b[H\x1b[J", "\u202e", "\u200b", "\x07", "\u2066"])
def test_control_and_bidi_characters_are_removed_before_the_check(junk: str) -> None:
    answer = check_answer(f"Rescue teams evacuated 340{junk} residents from Ostrov [3].", PASSAGES)
    assert answer.text == "Rescue teams evacuated 340 residents from Ostrov. [1]"
    assert split_generated(f"It{junk} rained [1].\tIt poured [2].") == [
        "It rained [1].", "It poured [2]."]


def test_what_is_checked_is_what_is_shown() -> None:
    # U+202E shows "043" as "340": the check must read the characters the reader sees.
    assert reasons("Rescue teams evacuated \u202e043\u202c residents from Ostrov [3].") == [
        "the number 043 is not in [3]"]
    # NFKC: full-width digits are the digits they show.
    assert reasons("Rescue teams evacuated ３５０ residents from Ostrov [3].") == [
        "the number 350 is not in [3]"]


def test_normalising_the_sentence_does_not_change_what_it_claims() -> None:
    # NFKC would make "№" "No", a negation the passage does not hold.
    decree = passage(1, "decree", "Zelenskyy signed Decree № 74/2022 on awarding the title of "
                                  "Hero of Ukraine to sapper Vitaliy Skakun.")
    assert reasons("Zelenskyy signed Decree № 74/2022 on awarding the title of Hero of Ukraine "
                   "[1].", [decree]) == []


@pytest.mark.parametrize(("sentence", "reason"), [
    ("Rescue teams led by Ólafur evacuated 340 residents from Ostrov [3].",
     "the name Ólafur is not in [3]"),
    ("Rescue teams from Şanlıurfa evacuated 340 residents from Ostrov [3].",
     "the name Şanlıurfa is not in [3]"),
    ("Rescue teams led by Ærøskøbing evacuated 340 residents from Ostrov [3].",
     "the name Ærøskøbing is not in [3]"),
])
def test_names_with_accented_capitals_are_checked(sentence: str, reason: str) -> None:
    assert reasons(sentence) == [reason]


@pytest.mark.parametrize(("sentence", "reason"), [
    ("Rescue teams evacuated three hundred residents from Ostrov [3].",
     "the number three hundred is not in [3]"),
    ("Rescue teams evacuated twenty-five residents from Ostrov [3].",
     "the number twenty-five is not in [3]"),
    ("Rescue teams evacuated three hundred and forty-one residents from Ostrov [3].",
     "the number three hundred and forty-one is not in [3]"),
    ("They signed four agreements on rail transport and customs [2].",
     "the number four is not in [2]"),
    ("Borrowers paid two million dollars in fees [1].", "the number two million is not in [1]"),
])
def test_numbers_in_words_are_checked(sentence: str, reason: str) -> None:
    assert reasons(sentence) == [reason]


@pytest.mark.parametrize("sentence", [
    "Rescue teams evacuated three hundred and forty residents from Ostrov [3].",
    "Rescue teams evacuated three hundred forty residents from Ostrov [3].",
    "They signed three agreements on rail transport and customs [2].",
    "One of the rescue teams evacuated 340 residents from Ostrov [3].",
    "Rescue teams evacuated 340 residents from Ostrov in one night [3].",
    "The lawsuit says Northstar charged twelve hundred Minnesota borrowers fees [1].",
    "Borrowers paid about half a million dollars in fees, 1.2 million in all [1].",
])
def test_numbers_in_words_that_the_passage_holds_are_kept(sentence: str) -> None:
    assert reasons(sentence) == []


@pytest.mark.parametrize("sentence", [
    "救援队从奥斯特罗夫村疏散了340名居民 [3]。",
    "Οι ομάδες διάσωσης απομάκρυναν 340 κατοίκους από το χωριό [3].",
    "أجلت فرق الإنقاذ 340 من السكان من القرية [3].",
    "மீட்புக் குழுக்கள் 340 குடியிருப்பாளர்களை வெளியேற்றின [3].",
    "බේරාගැනීමේ කණ්ඩායම් පදිංචිකරුවන් 340 ක් ඉවත් කළහ [3].",
])
def test_other_scripts_are_another_language(sentence: str) -> None:
    assert reasons(sentence) == [
        "cannot check a sentence in another language than its source without a "
        "multilingual model"]
    assert reasons(sentence, embedder=_Alike()) == []
    # An English-only model is not trusted across scripts.
    assert len(reasons(sentence, embedder=_Alike(frozenset({"en"})))) == 1


def test_a_neighbour_that_denies_the_same_words_carries_the_negation() -> None:
    answer = check_answer(
        "Rescue teams evacuated 340 residents from Ostrov, and no injuries were reported [3].",
        PASSAGES)
    assert answer.dropped == ()
    # A neighbour's denial does not vouch for a denial of other words.
    assert reasons("Heavy rain flooded the valley and teams did not evacuate the residents of "
                   "Ostrov [3].") == ["the negation “not” is not in [3]"]


# ------------------------------------------------------------------------------ embedders


class _Alike:
    """An embedder that finds the texts holding "340" identical (cosine 1) and unlike all
    others (cosine 0): what a multilingual model does to a translation, made certain."""

    name = "alike"
    dimension = 2
    max_tokens = 100

    def __init__(self, languages: frozenset[str] | None = None) -> None:
        self.languages = languages

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(t.split()) for t in texts]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if "340" in t else [0.0, 1.0] for t in texts],
                        dtype=np.float32)


RUSSIAN = "Спасатели эвакуировали 340 жителей из села Остров [3]."


def test_another_language_needs_a_multilingual_embedder() -> None:
    reason = ("cannot check a sentence in another language than its source without a "
              "multilingual model")
    assert reasons(RUSSIAN) == [reason]
    assert reasons(RUSSIAN, embedder=_Alike(frozenset({"en"}))) == [reason]
    answer = check_answer(RUSSIAN, PASSAGES, embedder=_Alike())
    assert answer.dropped == ()
    assert answer.citations[0].quote == "Rescue teams evacuated 340 residents from the village of Ostrov."


def test_another_language_still_has_its_numbers_checked() -> None:
    assert reasons("Спасатели эвакуировали 350 жителей [3].", embedder=_Alike()) == [
        "the number 350 is not in [3]"]
    assert reasons("Саммит в Алматы завершился 12 июня 2022 года [2].", embedder=_Alike()) == [
        "the month июня is not in [2]"]


def test_another_language_far_from_the_passage_is_dropped() -> None:
    # The hashing fake shares no words across scripts: similarity is near 0.
    (reason,) = reasons(RUSSIAN, embedder=FakeEmbedder())
    assert reason.startswith("[3] does not support it (similarity ")


def test_the_embedder_can_rescue_a_paraphrase_with_few_shared_words() -> None:
    # 3 of 7 content stems (rescue, residents, Ostrov): 0.43, under the word threshold.
    sentence = "Rescue crews moved 340 residents out of endangered Ostrov homes [3]."
    assert reasons(sentence) == ["[3] does not support it (support 0.43)"]
    assert reasons(sentence, embedder=_Alike()) == []
    assert reasons(sentence, embedder=_Alike(frozenset({"en"}))) == []
    # A Russian-only model is not trusted with English sentences.
    assert reasons(sentence, embedder=_Alike(frozenset({"ru"}))) == [
        "[3] does not support it (support 0.43)"]
    (reason,) = reasons(sentence, embedder=FakeEmbedder())
    assert reason.startswith("[3] does not support it (support 0.43, similarity ")


# ------------------------------------------------------------------------- mutations, real data


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_mutations", ROOT / "benchmarks" / "check_mutations.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.shared_data
def test_seeded_mutations_of_real_answers(shared_data: Path) -> None:
    """1,000 random mutations of correct answers from real releases (numbers changed, in
    digits or in words, names swapped, citations renumbered or out of range or gone, another
    release's sentence, a negation): none with a changed number or an impossible citation gets
    through. Whether a changed number is wrong is judged by the benchmark, not the check. The counts
    per kind are printed (``pytest -s``); docs/QUALITY.md has the benchmark's full run."""
    bench = _benchmark()
    report = bench.run(bench.load_documents(limit=200, seed=3), mutations=1000, seed=3)
    print({kind: f"{report.through[kind]}/{tried}" for kind, tried in report.tried.items()},
          f"false drops {report.false_drops}/{report.correct}")
    assert sum(report.tried.values()) == 1000
    assert report.tried["number"] >= 120 and report.tried["out_of_range"] >= 120
    assert report.tried["number_words"] >= 120
    assert report.through["number"] == 0
    assert report.through["number_words"] == 0
    assert report.through["out_of_range"] == 0
    assert report.through["no_citation"] == 0
    assert report.false_drops <= report.correct // 50
