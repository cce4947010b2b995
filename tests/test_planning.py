"""The question planner: what is asked, its parts and the answer each part wants. Invented
questions in the styles reporters use; the planner's figures on questions it was not written
against are in docs/QUALITY.md (``benchmarks/planner_eval.py``)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from assistant.documents import Turn
from assistant.languages import language_of_text
from assistant.planning import answer_type_of, intent_of, plan_question, split_parts


@pytest.mark.parametrize("question", [
    "How many cases were opened after the inspection?",
    "How many people were detained during the raids in Almaty?",
    "How much did the company agree to pay to settle the lawsuit?",
    "How many agencies does the new law merge?",
    "How many meetings were held during the two-day summit?",
    "How many times higher was the fine than the year before?",
    "Which two pharmacies agreed to refund their customers?",
    "Which firms signed the supply agreement at the forum?",
    "When did the President meet the Emir in 2021?",
    "When did the minister first meet his Turkish counterpart?",
    "Сколько человек было задержано?",
])
def test_numbers_inside_a_release_are_facts(question: str) -> None:
    assert intent_of(question) == "fact"


@pytest.mark.parametrize(("question", "intent"), [
    ("How many statements in 2008 mention the housing market?", "count"),
    ("How many times did the two presidents speak by phone?", "count"),
    ("How many calls did the Chancellor have with the President in March?", "count"),
    ("How often did the committee dissent in 2010?", "count"),
    ("How many press releases announced settlements with car dealers?", "count"),
    ("Сколько раз президенты встречались в 2022 году?", "count"),
    ("List every release about the harbour crane.", "list"),
    ("Which releases report on the state visit to Vietnam?", "list"),
    ("In which 2010 statements did the governor dissent?", "list"),
    ("At which meetings did the Committee cut its target?", "list"),
    ("Which landlords did the Attorney General sue for unsafe housing?", "list"),
    ("When did the President meet the Emir?", "list"),
    ("Перечислите все встречи с премьер-министром.", "list"),
])
def test_questions_about_the_archive_are_lists_or_counts(question: str, intent: str) -> None:
    assert intent_of(question) == intent


@pytest.mark.parametrize(("question", "parts"), [
    ("Who chaired the meeting, and what did it decide?",
     [("Who chaired the meeting", "person"), ("what did it decide?", "free")]),
    ("When was the law signed, and how many agencies does it merge?",
     [("When was the law signed", "date"), ("how many agencies does it merge?", "number")]),
    ("How much did the dealer pay and which county court approved it?",
     [("How much did the dealer pay", "amount"), ("which county court approved it?", "place")]),
    ("Which company bought the plant? When did the sale close?",
     [("Which company bought the plant?", "organisation"), ("When did the sale close?", "date")]),
    ("Кто возглавил делегацию, и о чём договорились стороны?",
     [("Кто возглавил делегацию", "person"), ("о чём договорились стороны?", "free")]),
])
def test_two_questions_in_one_are_two_parts(question: str, parts: list[tuple[str, str]]) -> None:
    planned = split_parts(question)
    assert [(p.text, p.answer_type) for p in planned] == parts
    assert all(question[p.start:p.end] == p.text for p in planned)


@pytest.mark.parametrize("question", [
    "Which officer did the gunman shoot, who had served for ten years?",
    "Under the settlement, how many borrowers had their loans cancelled?",
    "In May 1994, to what level did the Board lift the discount rate?",
    "What did the Kremlin and the Elysee say about the talks?",
    "Did the court approve the settlement and the refunds?",
    "Why did the minister resign after meeting the unions and the employers?",
])
def test_one_question_with_commas_or_ands_stays_one_part(question: str) -> None:
    assert len(split_parts(question)) == 1


@pytest.mark.parametrize(("question", "kind"), [
    ("How much restitution will the dealer pay back?", "amount"),
    ("What civil penalty did the retailer pay?", "amount"),
    ("What was the total settlement amount?", "amount"),
    ("How many felony counts was she charged with?", "number"),
    ("What share of its gas came from abroad?", "number"),
    ("To what level did the Committee lower the target?", "number"),
    ("For how many pensioners?", "number"),
    ("When was the agreement signed?", "date"),
    ("In what year did the plant close?", "date"),
    ("Who signed for the Bank?", "person"),
    ("Which Albert Lea police officer was hurt?", "person"),
    ("Which state's attorney general led the coalition?", "person"),
    ("Which Illinois laboratory did the office sue?", "organisation"),
    ("Through which business did he bill the programme?", "organisation"),
    ("Where did the President cast his vote?", "place"),
    ("In which county was the judgment filed?", "place"),
    ("Did the court approve the settlement?", "yes_no"),
    ("What did the two leaders agree on?", "free"),
    ("What device did the head of state promise to give away?", "free"),
    ("Кто подписал соглашение?", "person"),
    ("Когда открылся новый терминал?", "date"),
    ("Сколько человек пострадало?", "number"),
    ("Где прошла встреча?", "place"),
])
def test_answer_types(question: str, kind: str) -> None:
    assert answer_type_of(question) == kind


def test_the_plan_carries_period_language_and_follow_up() -> None:
    plan = plan_question("How many people did the raids in March 2021 detain?",
                         newest=dt.date(2022, 1, 1))
    assert plan.intent == "fact" and not plan.wants_releases
    assert plan.period is not None and plan.period.since == dt.date(2021, 3, 1)
    assert plan.language == "en" and not plan.follow_up
    history = [Turn(question="Which company settled the overbilling case?", cited=("doc-7",))]
    follow = plan_question("How much did it pay?", history)
    assert follow.follow_up and follow.prefer == ("doc-7",)
    assert follow.context == history[0].question and history[0].question in follow.query
    assert follow.parts[0].answer_type == "amount"
    assert plan_question("Сколько раз они встречались?").language == "ru"
    assert language_of_text("Президент қашан келді?") == "kk"
    assert language_of_text("12345 ?") is None


def test_planning_stays_linear_on_hostile_questions() -> None:
    """The planner reads whatever a client sends (up to the 2,000-character cap): runs that
    would make a backtracking pattern re-split them take milliseconds."""
    hostile = ["how many " * 220, "which " * 330, "and who " * 250, "a, and " * 285,
               "when did " * 220 + "meet", "what " * 400 + "cost", " " * 1990 + "how many",
               "Which " + "big " * 400 + "companies did"]
    for text in hostile:
        began = time.perf_counter()
        plan_question(text[:2000])
        assert time.perf_counter() - began < 1.0, text[:30]


def test_the_parties_of_one_occasion_are_a_fact() -> None:
    assert intent_of("Which leaders did the President meet at the Tehran summit?") == "fact"
    assert intent_of("Which leaders did the President meet during his visit to Tehran?") == "fact"
    assert intent_of("Which landlords did the Attorney General sue over mould?") == "list"
