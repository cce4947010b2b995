"""The evaluation harness: metrics by pytrec_eval, QA scoring, the CLI and its report."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.config import Settings
from assistant.documents import Answer, Citation
from assistant.evaluation import qa_scores, retrieval_scores, run_eval, to_markdown
from tests.fakes import FakeEmbedder


def test_retrieval_scores_match_hand_computed_values() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    run = {"q1": {"a": 0.9, "x": 0.5}, "q2": {"x": 0.9, "y": 0.8, "b": 0.1}}
    scores = retrieval_scores(qrels, run)
    assert scores.recall_1 == 0.5 and scores.recall_5 == 1.0
    assert scores.mrr_10 == round((1 + 1 / 3) / 2, 4)
    assert scores.ndcg_10 == round((1 + 0.5) / 2, 4)  # 1/log2(3+1) = 0.5
    assert retrieval_scores(qrels, {}).recall_10 == 0.0  # nothing returned counts as zero


def _answer(text: str, docs: list[str], abstained: bool = False) -> Answer:
    cites = tuple(Citation(n=i + 1, doc_id=d, title="", date=None, url=None, quote="q", start=0,
                           end=1, score=1.0) for i, d in enumerate(docs))
    return Answer(question="", text=text, abstained=abstained, citations=cites)


def test_qa_scores() -> None:
    records = [
        {"question": "a", "gold_doc_ids": ["d1"], "answer_keywords": ["Acme Corp", "$5"]},
        {"question": "b", "gold_doc_ids": ["d2"], "answer_keywords": ["Lind"]},
        {"question": "c", "gold_doc_ids": [], "answer_keywords": []},
        {"question": "d", "gold_doc_ids": [], "answer_keywords": []},
    ]
    answers = [_answer("ACME  corp paid $5 [1]", ["d1", "d9"]), _answer("nothing", [], True),
               _answer("x", [], True), _answer("y [1]", ["d3"])]
    s = qa_scores(records, answers, seconds=4.0)
    assert (s.answer_hit, s.citation_precision) == (0.5, 0.5)
    assert (s.answered_when_answerable, s.abstained_when_unanswerable) == (0.5, 0.5)


def test_run_eval_on_a_small_beir_set_and_qa_set(tmp_path: Path) -> None:
    beir = tmp_path / "mini"
    (beir / "qrels").mkdir(parents=True)
    docs = {"p1": "The harbour bridge reopened after repairs on Monday.",
            "p2": "The museum appointed Maria Lind as its new director.",
            "p3": "A flood warning was issued for the river valley."}
    (beir / "corpus.jsonl").write_text("\n".join(json.dumps({"_id": k, "title": "", "text": v})
                                                 for k, v in docs.items()))
    (beir / "queries.jsonl").write_text("\n".join(json.dumps({"_id": f"q{k}", "text": t, "metadata": {
        "answers": [a]}}) for k, t, a in
                                                  [("p1", "bridge repairs", "Monday"),
                                                   ("p2", "museum director", "Maria Lind"),
                                                   ("p3", "river flood warning", "river valley")]))
    (beir / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n" +
                                             "\n".join(f"q{k}\t{k}\t1" for k in docs))
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"id": "1", "kind": "factoid", "question": "Who is the museum director?",
                              "gold_doc_ids": ["p2"], "answer_keywords": ["Maria Lind"]}) + "\n")
    settings = Settings(index_dir=tmp_path / "work" / "mini")  # the QA set asks the BEIR index
    report = run_eval(beir=[beir], qa=[qa], settings=settings, work_dir=tmp_path / "work",
                      baseline=True, answers=True, embedder=FakeEmbedder())
    retrieval, answers = report.sets
    assert set(retrieval.scores) == {"keyword", "dense", "hybrid"}
    assert retrieval.scores["keyword"]["recall_1"] == 1.0
    assert retrieval.scores["hybrid"]["first_sentence_has_answer"] == 1.0
    assert answers.scores["hybrid"]["answer_hit"] == 1.0
    assert answers.by_kind["factoid"]["hybrid"]["citation_precision"] == 1.0
    table = to_markdown(report)
    assert "| mini | keyword | 3 |" in table and "| qa | factoid | hybrid | 1 |" in table


def test_cli_eval_needs_something_to_do() -> None:
    from click.testing import CliRunner

    from assistant.cli import main

    result = CliRunner().invoke(main, ["eval"])
    assert result.exit_code == 1 and "nothing to evaluate" in result.stderr


