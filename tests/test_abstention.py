"""The judge that decides whether to answer, and the answer parts it leaves to the answerer:
spans marked in the quotes, parts the archive does not answer named. Fake embedder, invented
releases: the judge's figures on held-out questions are in docs/QUALITY.md."""

from __future__ import annotations

import json

import pytest

from assistant import Settings
from assistant.abstention import FEATURES, Judge, decide, load_judge
from assistant.documents import Evidence
from tests.helpers import AssistantFactory

RAID = ("Customs raid at the river port\n\n4 March 2021\n\n"
        "Customs officers detained 37 smugglers at the river port on Tuesday. "
        "The operation was led by Colonel Marat Seitkali of the border service. "
        "Investigators opened 12 criminal cases after the raid.\n")
CRANE = ("Harbour crane delivered\n\n12 May 2019\n\nThe new harbour crane lifts forty tonnes. "
         "It was delivered by ship from the manufacturer in Rotterdam.\n")


def evidence(**values: float) -> Evidence:
    base = dict.fromkeys(FEATURES, 0.0)
    base.update(values)
    return Evidence(**base)


def test_the_judge_round_trips_and_weighs_its_features() -> None:
    judge = Judge(embedder="m", mean=tuple(0.0 for _ in FEATURES),
                  scale=tuple(1.0 for _ in FEATURES),
                  coef=tuple(2.0 if n == "weighted_release" else 0.0 for n in FEATURES),
                  intercept=-1.0, threshold=0.5)
    again = Judge.from_json(json.loads(json.dumps(judge.to_json())))
    assert again == judge
    strong, weak = evidence(weighted_release=1.0), evidence(weighted_release=0.0)
    assert judge.confidence(strong) > 0.7 > 0.3 > judge.confidence(weak)
    assert decide(strong, judge=judge, min_relevance=0.9).answer
    verdict = decide(weak, judge=judge, min_relevance=0.0)
    assert not verdict.answer and verdict.reason and "confidence" in verdict.reason


def test_a_judge_for_another_model_is_not_used() -> None:
    assert load_judge("some-other-model") is None


@pytest.mark.parametrize(("values", "word", "kind", "says"), [
    ({"names_missing": 1.0}, None, None, "lack most of the names"),
    ({"missing_rare": 0.9}, "Bellingham", None, "mentions “Bellingham”"),
    ({"typed": 1.0, "type_found": 0.0}, None, "amount", "do not state an amount"),
    ({}, None, None, "do not match the question well enough"),
])
def test_a_declined_answer_says_why(values: dict[str, float], word: str | None,
                                    kind: str | None, says: str) -> None:
    verdict = decide(evidence(best_score=0.1, **values), judge=None, min_relevance=0.44,
                     missing_word=word, wanted_type=kind)
    assert not verdict.answer and verdict.reason is not None and says in verdict.reason


def test_unknown_names_are_declined_with_the_name(make_assistant: AssistantFactory) -> None:
    bot = make_assistant({"raid.txt": RAID, "crane.txt": CRANE})
    answer = bot.ask("How much did Zorblatt Industries pay for the river port raid?")
    assert answer.abstained and answer.reason == "the archive never mentions “Zorblatt”"
    assert answer.to_json()["reason"] == answer.reason


def test_the_judge_off_never_declines_on_evidence(make_assistant: AssistantFactory) -> None:
    bot = make_assistant({"raid.txt": RAID, "crane.txt": CRANE},
                         settings=Settings(judge="off", min_relevance=0.99))
    answer = bot.ask("How many smugglers were detained at the river port?")
    assert not answer.abstained and answer.evidence is not None
    assert 0.0 <= answer.evidence.weighted_release <= 1.0


def test_numbers_and_names_are_marked_in_their_quotes(make_assistant: AssistantFactory) -> None:
    bot = make_assistant({"raid.txt": RAID, "crane.txt": CRANE})
    answer = bot.ask("How many smugglers were detained at the river port?")
    assert not answer.abstained and answer.count is None  # a number in a release, not a count
    span = answer.answer_spans[0]
    assert span.text == "37 smugglers" and span.answer_type == "number"
    doc = bot.document(answer.citations[span.n - 1].doc_id)
    assert doc is not None and doc.text[span.start:span.end] == span.text


def test_each_part_of_a_two_part_question_is_answered(make_assistant: AssistantFactory) -> None:
    bot = make_assistant({"raid.txt": RAID, "crane.txt": CRANE})
    answer = bot.ask("How many smugglers were detained at the river port, and who led the "
                     "operation?")
    assert not answer.abstained and not answer.unanswered
    assert "37 smugglers" in answer.text and "Marat Seitkali" in answer.text
    kinds = {s.part: s.answer_type for s in answer.answer_spans}
    assert kinds == {0: "number", 1: "person"}


def test_a_part_the_archive_does_not_answer_is_named(make_assistant: AssistantFactory) -> None:
    bot = make_assistant({"raid.txt": RAID, "crane.txt": CRANE})
    answer = bot.ask("How many smugglers were detained at the river port, and when will the "
                     "trial start?")
    assert not answer.abstained and "37 smugglers" in answer.text
    assert answer.unanswered == ("when will the trial start?",)
    assert "The archive does not say: when will the trial start?" in answer.text


def test_the_chat_says_why_it_declined() -> None:
    from assistant.documents import NO_ANSWER, Answer
    from assistant.web import format_answer

    declined = Answer(question="Who is Zorblatt?", text=NO_ANSWER, abstained=True,
                      reason="the archive never mentions “Zorblatt*”")
    shown = format_answer(declined)
    assert shown.startswith(NO_ANSWER.replace(".", "\\."))
    assert "*Why: the archive never mentions “Zorblatt\\*”.*" in shown  # escaped, then italic


def test_span_offsets_hold_after_an_opener_with_spaces() -> None:
    from assistant.answer_spans import find_span

    for sentence in ("Today  John Smith met the press.", "Today\nJohn Smith met the press."):
        span = find_span("person", sentence, "Who met the press?")
        assert span is not None and sentence[span.start:span.end] == span.text == "John Smith"


def test_each_part_is_marked_by_what_it_asks_for() -> None:
    from assistant.answer_spans import find_span

    question = "How long was he jailed, and what percentage of the vote did he get?"
    sentence = "He was jailed for 5 years after winning 60% of the vote."
    first = find_span("number", sentence, question, part="How long was he jailed")
    second = find_span("number", sentence, question, part="what percentage of the vote did he get?")
    assert (first and first.text, second and second.text) == ("5 years", "60%")


def test_one_sentence_answering_both_parts_marks_both(make_assistant: AssistantFactory) -> None:
    bot = make_assistant({"law.txt": "Agencies merged\n\n10 May 2021\n\nThe reform law was signed "
                                     "on 4 May 2021 and merges four agencies into one ministry.\n"})
    answer = bot.ask("When was the reform law signed, and how many agencies does it merge?")
    assert not answer.abstained and not answer.unanswered
    assert [(s.part, s.text) for s in answer.answer_spans] == [(0, "4 May 2021"),
                                                               (1, "four agencies")]


def test_marks_survive_an_unanswered_part_and_a_quote_that_looks_like_a_list() -> None:
    from assistant.documents import Answer, AnswerSpan, Citation
    from assistant.web import format_answer

    def shown(quote: str, at: int, text: str, extra: str = "") -> str:
        cited = Citation(n=1, doc_id="d", title="T", date=None, url=None, quote=quote, start=0,
                         end=len(quote), score=1.0)
        span = AnswerSpan(n=1, start=at, end=at + len(text), text=text)
        return format_answer(Answer(question="q", text=f"{quote} [1]{extra}", abstained=False,
                                    citations=(cited,), answer_spans=(span,)), sources=False)

    bold = '<strong class="answer-span">\\$1\\.2 million</strong>'
    with_note = shown("The firm will pay $1.2 million.", 18, "$1.2 million",
                      "\nThe archive does not say: when was it signed?")
    assert bold in with_note and "[**\\[1\\]**](#src-0-1)" in with_note
    listed = shown("- The firm will pay $1.2 million.", 20, "$1.2 million")
    assert listed.startswith("\\- The firm") and bold in listed  # the release's dash, escaped
    assert shown("a!a", 2, "a").startswith('a\\!<strong class="answer-span">a</strong>')
