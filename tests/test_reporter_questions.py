"""Each class of miss that questions written by others exposed (issue 17), replayed on real
releases: the tune half of benchmarks/questions/reporter_qa.jsonl, asked of an index of the
gold releases and a fixed sample of their archives, with the real model. The figures over
every question, and over the held-out half only, are in docs/QUALITY.md."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from assistant import Answer, Assistant
from assistant.answer_spans import SPAN_TYPES
from assistant.dates import dateline_at
from tests.helpers import ROOT, SHARED_DATA

pytestmark = [pytest.mark.shared_data, pytest.mark.real_model]

ARCHIVES = {
    "mn_ag": ["mn_ag_press_releases/press_releases.jsonl"],
    "kremlin": ["kremlin_ukraine_press_releases_en/putin.jsonl",
                "kremlin_ukraine_press_releases_en/zelenskyy.jsonl"],
    "fomc": ["fomc_statements/fomc_statements.jsonl"],
}
SAMPLE = 12
"""Every this-many-th release of each archive is indexed beside the gold ones: distractors
on the same subjects, written the same way."""
QUESTIONS = {q["id"]: q for q in (json.loads(line) for line in (
    ROOT / "benchmarks" / "questions" / "reporter_qa.jsonl").read_text(encoding="utf-8").splitlines()
    if line.strip())}
USED = ("rq-hm-003", "rq-hm-009", "rq-hm-026", "rq-tp-003", "rq-tp-025", "rq-lg-003", "rq-lg-011",
        "rq-wc-001", "rq-wc-011", "rq-wh-003")


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, real_embedder: object) -> Iterator[Assistant]:
    if not SHARED_DATA.exists():
        pytest.skip(f"{SHARED_DATA} is absent: the real-data tests run where ../shared/data exists (CI)")
    assert all(QUESTIONS[q]["split"] == "tune" for q in USED), "tests use the tune half only"
    gold = {d for q in USED for d in QUESTIONS[q]["gold_doc_ids"]}
    folder = tmp_path_factory.mktemp("reporter")
    export = folder / "releases.jsonl"
    with export.open("w", encoding="utf-8") as out:
        for files in ARCHIVES.values():
            for name in files:
                lines = (SHARED_DATA / name).read_text(encoding="utf-8").splitlines()
                for number, line in enumerate(lines):
                    record = json.loads(line)
                    if record["id"] in gold or number % SAMPLE == 0:
                        out.write(line + "\n")
    assistant = Assistant.open(folder / "index", create=True,
                               embedder=real_embedder)  # type: ignore[arg-type]
    assistant.index([export])
    yield assistant
    assistant.close()


def ask(bot: Assistant, qid: str) -> tuple[dict[str, Any], Answer]:
    record = QUESTIONS[qid]
    return record, bot.ask(record["question"])


def holds(answer: Answer, keywords: list[str]) -> bool:
    text = " ".join(answer.text.lower().split())
    return all(k.lower() in text for k in keywords)


def cites_gold(record: dict[str, Any], answer: Answer) -> bool:
    return bool(answer.citations) and answer.citations[0].doc_id in record["gold_doc_ids"]


@pytest.mark.parametrize("qid", ["rq-hm-003", "rq-hm-009", "rq-hm-026"])
def test_how_many_about_a_number_in_a_release_is_answered_with_it(bot: Assistant, qid: str) -> None:
    """Not "2 releases match": the number the release states, marked in its quote."""
    record, answer = ask(bot, qid)
    assert bot.plan(record["question"]).intent == "fact"
    assert answer.count is None and not answer.abstained
    assert cites_gold(record, answer) and holds(answer, record["answer_keywords"])
    assert any(record["answer_keywords"][0].lower() in s.text.lower() for s in answer.answer_spans)


@pytest.mark.parametrize("qid", ["rq-tp-003", "rq-tp-025"])
def test_both_parts_of_a_two_part_question_are_answered(bot: Assistant, qid: str) -> None:
    record, answer = ask(bot, qid)
    parts = bot.plan(record["question"]).parts
    assert len(parts) == 2
    assert not answer.abstained and not answer.unanswered and cites_gold(record, answer)
    for part in record["part_keywords"]:
        assert holds(answer, part), part
    # Each part that asks for a number, amount, date or name has its words marked.
    typed = {n for n, p in enumerate(parts) if p.answer_type in SPAN_TYPES}
    assert typed and {s.part for s in answer.answer_spans} >= typed


@pytest.mark.parametrize("qid", ["rq-lg-003", pytest.param("rq-lg-011", marks=pytest.mark.xfail(
    strict=True, reason="issue 20: with chunks of 256 and no overlap the judge declines this "
    "one, refitted on those chunks too (confidence 0.16, threshold 0.37): the release says "
    "'tourist inflow' and 'increase' where the question says 'visitors' and 'grown', and "
    "never names the Kremlin, so its rarest word and half its names are missing"))])
def test_long_questions_with_context_are_answered(bot: Assistant, qid: str) -> None:
    record, answer = ask(bot, qid)
    assert 25 <= len(record["question"].split()) <= 45
    assert not answer.abstained and cites_gold(record, answer)
    assert holds(answer, record["answer_keywords"])


UNANSWERABLE = [q for q, r in QUESTIONS.items() if r["kind"] == "unanswerable"
                and r["split"] == "tune" and r["archive"] in ARCHIVES and not r["follows"]]
DECLINED_AT_LEAST = 0.8
"""The share of them declined, at least (the held-out half's figure is in docs/QUALITY.md)."""


def test_close_to_topic_questions_no_release_answers_are_declined(bot: Assistant) -> None:
    """Menards' rebates, Coinbase's settlement, the Tehran summit...: each close to releases
    the archive holds (settlements, refunds, summits), none answered there. Declined, with
    the reason said."""
    answered = []
    for qid in UNANSWERABLE:
        _, answer = ask(bot, qid)
        if answer.abstained:
            assert answer.reason
        else:
            answered.append((qid, answer.confidence))
    assert len(UNANSWERABLE) >= 8
    assert 1 - len(answered) / len(UNANSWERABLE) >= DECLINED_AT_LEAST, answered


@pytest.mark.parametrize("qid", ["rq-wc-001", "rq-wc-011"])
def test_which_firms_of_one_release_are_a_fact_not_a_list(bot: Assistant, qid: str) -> None:
    record, answer = ask(bot, qid)
    assert bot.plan(record["question"]).intent == "fact" and answer.count is None
    assert cites_gold(record, answer) and holds(answer, record["answer_keywords"])


def test_no_quote_starts_with_a_dateline_or_stops_at_a_wrapped_line(bot: Assistant) -> None:
    """Datelines ("Saint Paul, January 22, 2024 —") are never glued to the first sentence,
    and hard-wrapped FOMC statements are quoted in whole sentences."""
    for qid in USED:
        _, answer = ask(bot, qid)
        for citation in answer.citations:
            found = dateline_at(citation.quote)
            assert found is None or not citation.quote[found.end:].strip(), citation.quote
            if citation.doc_id.startswith("fomc-"):
                assert re.search(r"[.!?;:)\"”]$", citation.quote.rstrip()), citation.quote


def test_a_when_question_marks_the_date(bot: Assistant) -> None:
    record, answer = ask(bot, "rq-wh-003")
    assert not answer.abstained and cites_gold(record, answer)
    dates = [s for s in answer.answer_spans if s.answer_type == "date"]
    assert dates and record["answer_keywords"][0] in dates[0].text

