"""Measuring answer quality: retrieval sets in BEIR layout and question-answer sets.

Retrieval metrics come from pytrec_eval (trec_eval's own code), not from hand-written
formulas. Every set can be run with the full pipeline and, with ``baseline``, with keyword
(BM25) and dense retrieval alone, in the same run, so the figures are comparable.

QA sets are JSONL, one question a line::

    {"id": "q1", "question": "...", "gold_doc_ids": ["doc-7"], "answer_keywords": ["$1.2 million"],
     "follows": null, "kind": "factoid"}

An empty ``gold_doc_ids`` marks a question the archive cannot answer.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Settings
from .errors import ConfigError

if TYPE_CHECKING:
    from .embedders.protocols import Embedder
    from .service import Assistant

MODES = ("keyword", "dense", "hybrid")
_DOC_CANDIDATES = 50  # passages read to rank documents: several passages may share one


@dataclass(frozen=True, slots=True)
class RetrievalScores:
    queries: int
    recall_1: float
    recall_5: float
    recall_10: float
    mrr_10: float
    ndcg_10: float


@dataclass(frozen=True, slots=True)
class QAScores:
    questions: int
    answerable: int
    unanswerable: int
    answer_hit: float | None
    """Answerable questions whose answer holds every keyword (case and spacing ignored)."""
    citation_precision: float | None
    """Mean share of the cited documents that are gold, over answered answerable questions."""
    answered_when_answerable: float | None
    abstained_when_unanswerable: float | None
    seconds_per_question: float
    gold_recall: float | None = None
    """Mean share of a question's gold releases among its citations (what list questions need)."""
    cited_in_period: float | None = None
    """Of answered questions that name a period, the share whose first citation is dated in it."""
    parts_answered: float | None = None
    """Of questions with ``part_keywords`` (one list per part), the share whose answer holds
    every part's keywords and cites a gold release."""
    answered_as_release_list: float | None = None
    """Of answerable questions that ask a fact (no ``list`` kind), the share answered with a
    list or count of releases instead: what "how many" about a number must never get."""
    written: float | None = None
    """With a language model (``--llm``): the share of questions it was asked about whose
    shown answer it wrote (at least one sentence passed the check)."""
    fallback_rate: float | None = None
    """With a language model: the share of questions it was asked about that got the
    extractive answer instead (server failure, or no sentence passed the check)."""
    dropped_sentences: float | None = None
    """With a language model: generated sentences the check removed, of all it wrote."""


@dataclass(frozen=True, slots=True)
class SetResult:
    name: str
    kind: str  # "retrieval" or "qa"
    scores: dict[str, Any]  # mode -> RetrievalScores | QAScores as dicts
    by_kind: dict[str, dict[str, Any]] = field(default_factory=dict)  # question kind -> mode -> scores


@dataclass(frozen=True, slots=True)
class EvalReport:
    sets: tuple[SetResult, ...]
    model: str
    started_at: str
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Progress = Callable[[str, int, int], None]


def _doc_ranking(bot: Assistant, query: str, k: int = 10) -> dict[str, float]:
    """Documents ranked by their best passage."""
    best: dict[str, float] = {}
    for hit in bot.search(query, k=_DOC_CANDIDATES):
        if hit.doc_id not in best:
            best[hit.doc_id] = hit.score
        if len(best) == k:
            break
    return best


def retrieval_scores(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> RetrievalScores:
    """Recall@1/5/10, MRR@10 and nDCG@10 by pytrec_eval. ``run`` must hold each query's top
    10 only, so that its reciprocal rank is MRR@10."""
    import pytrec_eval

    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"recall.1,5,10", "recip_rank", "ndcg_cut.10"})
    # A query the system returned nothing for still counts, as a zero.
    per_query = evaluator.evaluate({q: run.get(q) or {"\x00none": 0.0} for q in qrels})
    n = len(per_query) or 1

    def mean(key: str) -> float:
        return round(sum(m[key] for m in per_query.values()) / n, 4)

    return RetrievalScores(len(per_query), mean("recall_1"), mean("recall_5"), mean("recall_10"),
                           mean("recip_rank"), mean("ndcg_cut_10"))


def load_answers(folder: Path) -> dict[str, list[str]]:
    """Gold answer spans of a BEIR set's queries (``metadata.answers``), where it has them."""
    spans = {}
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            answers = (record.get("metadata") or {}).get("answers")
            if answers:
                spans[record["_id"]] = [str(a) for a in answers]
    return spans


def load_beir(folder: Path) -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    """(query id -> text, qrels) of a BEIR folder; queries without judgments are left out."""
    qrels: dict[str, dict[str, int]] = {}
    qrels_file = folder / "qrels" / "test.tsv"
    if not qrels_file.exists():
        raise ConfigError(f"{folder} is not a BEIR folder: {qrels_file} is missing")
    for number, line in enumerate(qrels_file.read_text(encoding="utf-8").splitlines()):
        parts = line.split("\t")
        if number == 0 and parts[0] == "query-id":
            continue
        if len(parts) >= 3 and int(parts[2]) > 0:
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    queries = {}
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            if record["_id"] in qrels:
                queries[record["_id"]] = record["text"]
    return queries, qrels


def evaluate_beir(folder: Path, bots: dict[str, Assistant], progress: Progress | None = None,
                  extra_corpora: Sequence[Path] = (), answers: bool = False,
                  answers_sample: int | None = None) -> SetResult:
    """Index ``folder/corpus.jsonl`` (and distractor corpora) into the bots' index, then score
    every query in every mode."""
    from .service import Assistant

    report = progress or (lambda *_: None)
    first = next(iter(bots.values()))
    # BEIR names the id field "_id"; distractor archives use "id".
    beir_reader = Assistant.open(settings=first.settings.with_(field_map={"id": "_id"}),
                                 embedder=first.embedder, create=True)
    beir_reader.index([folder / "corpus.jsonl"], progress=report)
    if extra_corpora:
        first.index(list(extra_corpora), progress=report)
    queries, qrels = load_beir(folder)
    scores: dict[str, Any] = {}
    for mode, bot in bots.items():
        run = {}
        for done, (qid, text) in enumerate(queries.items(), start=1):
            run[qid] = _doc_ranking(bot, text)
            if done % 50 == 0 or done == len(queries):
                report(f"{folder.name} {mode}", done, len(queries))
        scores[mode] = asdict(retrieval_scores(qrels, run))
        # Answers are the full pipeline's business; the baselines are retrieval yardsticks.
        if answers and mode.startswith("hybrid") and (spans := load_answers(folder)):
            scores[mode].update(_span_rates(bot, queries, spans, mode, report,
                                            sample=answers_sample))
    return SetResult(name=folder.name, kind="retrieval", scores=scores)


def _span_rates(bot: Assistant, queries: dict[str, str], spans: dict[str, list[str]], mode: str,
                report: Progress, sample: int | None = None) -> dict[str, float]:
    """``first_sentence_has_answer``: the share of questions whose answer's first quoted
    sentence holds a gold answer span. ``marked``: the share whose answer marks a span (a
    question that wants a number, date, name or place); ``marked_span_has_answer``: of those,
    the share whose first marked span equals or contains a gold answer;
    ``..._when_sentence_has``: the same over the questions whose first quoted sentence holds
    the answer and carries the mark (the span's own accuracy, apart from sentence choice)."""
    found = marked = marked_right = found_marked = found_marked_right = in_text = 0
    asked = [q for q in queries if q in spans]
    if sample and sample < len(asked):
        # Evenly spread over the set (its questions come grouped by paragraph), the same
        # questions on every run: what a slow generator can be measured on.
        asked = asked[::len(asked) // sample][:sample]
    answers = []
    for done, qid in enumerate(asked, start=1):
        answer = bot.ask(queries[qid])
        answers.append(answer)
        in_text += not answer.abstained and any(_norm(span) in _norm(answer.text)
                                                for span in spans[qid])
        first = _norm(answer.citations[0].quote) if answer.citations else ""
        gold = [_norm(span) for span in spans[qid]]
        holds = any(span in first for span in gold)
        found += holds
        if answer.answer_spans:
            marked += 1
            shown = _norm(answer.answer_spans[0].text)
            right = any(span in shown for span in gold)
            marked_right += right
            if holds and answer.answer_spans[0].n == 1:
                found_marked += 1
                found_marked_right += right
        if done % 50 == 0 or done == len(asked):
            report(f"answers {mode}", done, len(asked))
    total = max(1, len(asked))
    return {"answers_asked": len(asked),
            "first_sentence_has_answer": round(found / total, 4),
            "marked": round(marked / total, 4),
            "marked_span_has_answer": round(marked_right / max(1, marked), 4),
            "marked_span_has_answer_when_sentence_has": round(
                found_marked_right / max(1, found_marked), 4),
            "answer_has_gold": round(in_text / total, 4),
            **{k: v for k, v in generation_rates(answers).items() if v is not None}}


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def load_qa(path: Path) -> list[dict[str, Any]]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            record["question"], record["gold_doc_ids"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}:{number}: not a question record ({exc})") from exc
        questions.append(record)
    return questions


def qa_scores(records: Sequence[dict[str, Any]], answers: Sequence[Any], seconds: float) -> QAScores:
    answerable = [(r, a) for r, a in zip(records, answers, strict=True) if r["gold_doc_ids"]]
    unanswerable = [(r, a) for r, a in zip(records, answers, strict=True) if not r["gold_doc_ids"]]
    hits = 0
    precisions = []
    recalls = []
    in_period = []
    parts = []
    facts = [a for r, a in answerable if r.get("kind") != "list"]
    for record, answer in answerable:
        if record.get("part_keywords"):
            text = _norm(answer.text)
            cited = {c.doc_id for c in answer.citations}
            parts.append(not answer.abstained and bool(cited & set(record["gold_doc_ids"]))
                         and all(_norm(k) in text for group in record["part_keywords"]
                                 for k in group))
        if record.get("period") and answer.citations:
            first, last = (dt.date.fromisoformat(d) for d in record["period"])
            date = answer.citations[0].date
            in_period.append(date is not None and first <= date <= last)
        text = _norm(answer.text)
        keywords = record.get("answer_keywords") or []
        if not answer.abstained and all(_norm(k) in text for k in keywords):
            hits += 1
        cited = {c.doc_id for c in answer.citations}
        if cited:
            precisions.append(len(cited & set(record["gold_doc_ids"])) / len(cited))
        recalls.append(len(cited & set(record["gold_doc_ids"])) / len(set(record["gold_doc_ids"])))

    def share(count: int, total: int) -> float | None:
        return round(count / total, 4) if total else None

    return QAScores(
        questions=len(records), answerable=len(answerable), unanswerable=len(unanswerable),
        answer_hit=share(hits, len(answerable)),
        citation_precision=round(sum(precisions) / len(precisions), 4) if precisions else None,
        answered_when_answerable=share(sum(not a.abstained for _, a in answerable), len(answerable)),
        abstained_when_unanswerable=share(sum(a.abstained for _, a in unanswerable), len(unanswerable)),
        seconds_per_question=round(seconds / max(1, len(records)), 3),
        gold_recall=round(sum(recalls) / len(recalls), 4) if recalls else None,
        cited_in_period=share(sum(in_period), len(in_period)),
        parts_answered=share(sum(parts), len(parts)),
        answered_as_release_list=share(sum(a.count is not None for a in facts), len(facts)),
        **generation_rates(answers))


def generation_rates(answers: Sequence[Any]) -> dict[str, float | None]:
    """``written``, ``fallback_rate`` and ``dropped_sentences`` (see :class:`QAScores`) over
    the answers a language model was asked for; all None without one."""
    from .i18n import LANGUAGES
    from .i18n import text as say

    # Not the model's failures: answers no model was asked for (a list, a declined question),
    # in whichever language the question was asked.
    unasked = {say(key, lang) for key in ("fallback.list", "fallback.declined")
               for lang in LANGUAGES}
    asked = [a for a in answers if a.generator is not None or (
        a.fallback is not None and a.fallback not in unasked)]
    if not asked:
        return {"written": None, "fallback_rate": None, "dropped_sentences": None}
    from .checking import split_generated

    kept = sum(len(split_generated(a.text)) for a in asked if a.generator is not None)
    dropped = sum(len(a.dropped) for a in asked)
    return {"written": round(sum(a.generator is not None for a in asked) / len(asked), 4),
            "fallback_rate": round(sum(a.generator is None for a in asked) / len(asked), 4),
            "dropped_sentences": round(dropped / max(1, kept + dropped), 4)}


def evaluate_qa(path: Path, bots: dict[str, Assistant], progress: Progress | None = None) -> SetResult:
    """Ask every question of ``path`` in every mode; score overall and per question kind.

    A question that ``follows`` another is asked with that question's turn (as this run
    answered it) as history, like a user's follow-up. One that also has an ``explicit``
    variant (the same question with its subject spelled out) is asked that way too, alone,
    and scored as the kind "<kind> (spelled out)", for comparison."""
    from .documents import Turn

    report = progress or (lambda *_: None)
    records = load_qa(path)
    scores: dict[str, Any] = {}
    by_kind: dict[str, dict[str, Any]] = {}
    for mode, bot in bots.items():
        started = time.perf_counter()
        answers = []
        by_id: dict[str, Any] = {}
        for done, record in enumerate(records, start=1):
            before = by_id.get(record.get("follows") or "")
            history = [Turn.of(before)] if before is not None else []
            answer = bot.ask(record["question"], history=history)
            answers.append(answer)
            by_id[str(record.get("id"))] = answer
            if done % 10 == 0 or done == len(records):
                report(f"{path.stem} {mode}", done, len(records))
        elapsed = time.perf_counter() - started
        scores[mode] = asdict(qa_scores(records, answers, elapsed))
        # A set split into a part tuned on and a part only measured on (``split``: "tune" or
        # "heldout") is scored per part too, overall and per kind.
        for split in sorted({str(r.get("split") or "") for r in records} - {""}):
            picked = [(r, a) for r, a in zip(records, answers, strict=True)
                      if r.get("split") == split]
            by_kind.setdefault(f"all [{split}]", {})[mode] = asdict(qa_scores(
                [r for r, _ in picked], [a for _, a in picked],
                elapsed * len(picked) / len(records)))
            for kind in sorted({str(r.get("kind") or "") for r, _ in picked} - {""}):
                mine = [(r, a) for r, a in picked if r.get("kind") == kind]
                by_kind.setdefault(f"{kind} [{split}]", {})[mode] = asdict(qa_scores(
                    [r for r, _ in mine], [a for _, a in mine],
                    elapsed * len(mine) / len(records)))
        kinds = sorted({str(r.get("kind") or "") for r in records} - {""})
        for kind in kinds:
            picked = [(r, a) for r, a in zip(records, answers, strict=True) if r.get("kind") == kind]
            by_kind.setdefault(kind, {})[mode] = asdict(qa_scores(
                [r for r, _ in picked], [a for _, a in picked], elapsed * len(picked) / len(records)))
            explicit = [r for r, _ in picked if r.get("explicit")]
            if explicit:
                asked = time.perf_counter()
                plain = [bot.ask(r["explicit"]) for r in explicit]
                follow = [a for r, a in picked if r.get("explicit")]
                by_kind.setdefault(f"{kind} (with history)", {})[mode] = asdict(qa_scores(
                    explicit, follow, elapsed * len(explicit) / len(records)))
                by_kind.setdefault(f"{kind} (spelled out)", {})[mode] = asdict(qa_scores(
                    explicit, plain, time.perf_counter() - asked))
    return SetResult(name=path.stem, kind="qa", scores=scores, by_kind=by_kind)


def make_bots(settings: Settings, *, baseline: bool,
              embedder: Embedder | None = None) -> dict[str, Assistant]:
    """One assistant per retrieval mode, sharing one index and one loaded model. With a
    reranker in ``settings``, "hybrid" is the first stage alone and "hybrid+rerank" the
    full pipeline; the baselines never rerank."""
    from .service import Assistant

    modes = MODES if baseline else ("hybrid",)
    plain = settings.with_(reranker=None)
    bots: dict[str, Assistant] = {}
    for mode in modes:
        bots[mode] = Assistant.open(settings=plain.with_(retrieval=mode), embedder=embedder,
                                    create=True)
        embedder = embedder or bots[mode].embedder
    if settings.reranker:
        bots["hybrid+rerank"] = Assistant.open(settings=settings.with_(retrieval="hybrid"),
                                               embedder=embedder, create=True)
    return bots


def run_eval(*, beir: Sequence[Path] = (), qa: Sequence[Path] = (), settings: Settings,
             work_dir: Path, baseline: bool = False, embedder: Embedder | None = None,
             distractors: Sequence[Path] = (), answers: bool = False,
             answers_sample: int | None = None,
             progress: Progress | None = None) -> EvalReport:
    """Score BEIR sets (each indexed into its own folder under ``work_dir``, reused across
    runs) and QA sets (asked against ``settings.index_dir``)."""

    started = time.perf_counter()
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    results: list[SetResult] = []
    model = embedder.name if embedder else None
    for folder in beir:
        name = folder.name + ("-haystack" if distractors else "")
        bots = make_bots(settings.with_(index_dir=work_dir / name), baseline=baseline,
                         embedder=embedder)
        embedder = embedder or next(iter(bots.values())).embedder
        results.append(evaluate_beir(folder, bots, progress, extra_corpora=distractors,
                                     answers=answers, answers_sample=answers_sample))
    if qa:
        bots = make_bots(settings, baseline=baseline, embedder=embedder)
        embedder = embedder or next(iter(bots.values())).embedder
        for path in qa:
            results.append(evaluate_qa(path, bots, progress))
    return EvalReport(sets=tuple(results), model=model or (embedder.name if embedder else ""),
                      started_at=stamp, seconds=round(time.perf_counter() - started, 1))


def _fmt(value: object) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def to_markdown(report: EvalReport) -> str:
    """Tables with BM25 alone, dense alone and the full pipeline side by side."""
    lines = [f"Model: `{report.model}`; run at {report.started_at}, {report.seconds:.0f} s.", ""]
    retrieval = [s for s in report.sets if s.kind == "retrieval"]
    if retrieval:
        lines += ["| set | retrieval | queries | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 | "
                  "first sentence has the answer | span marked | marked span has the answer | "
                  "… when the sentence has it |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for result in retrieval:
            for mode, m in result.scores.items():
                lines.append(f"| {result.name} | {mode} | {m['queries']} | {_fmt(m['recall_1'])} | "
                             f"{_fmt(m['recall_5'])} | {_fmt(m['recall_10'])} | {_fmt(m['mrr_10'])} | "
                             f"{_fmt(m['ndcg_10'])} | {_fmt(m.get('first_sentence_has_answer'))} | "
                             f"{_fmt(m.get('marked'))} | {_fmt(m.get('marked_span_has_answer'))} | "
                             f"{_fmt(m.get('marked_span_has_answer_when_sentence_has'))} |")
        lines.append("")
    qa = [s for s in report.sets if s.kind == "qa"]
    if qa:
        lines += ["| set | kind | retrieval | questions | answer-hit | citation precision | "
                  "answered (answerable) | abstained (unanswerable) | gold recall | "
                  "cited in period | all parts answered | fact answered as a release list | "
                  "s/question |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for result in qa:
            rows = [("all", result.scores), *sorted(result.by_kind.items())]
            for kind, per_mode in rows:
                for mode, m in per_mode.items():
                    lines.append(
                        f"| {result.name} | {kind} | {mode} | {m['questions']} | {_fmt(m['answer_hit'])} | "
                        f"{_fmt(m['citation_precision'])} | {_fmt(m['answered_when_answerable'])} | "
                        f"{_fmt(m['abstained_when_unanswerable'])} | {_fmt(m.get('gold_recall'))} | "
                        f"{_fmt(m.get('cited_in_period'))} | {_fmt(m.get('parts_answered'))} | "
                        f"{_fmt(m.get('answered_as_release_list'))} | "
                        f"{_fmt(m['seconds_per_question'])} |")
        lines.append("")
    generated = [(result.name, kind, mode, m) for result in report.sets
                 for kind, per_mode in [("all", result.scores), *sorted(result.by_kind.items())]
                 for mode, m in per_mode.items() if m.get("fallback_rate") is not None]
    if generated:
        lines += ["Answers written by the language model (`--llm`), over the questions it was "
                  "asked about (not lists, not declined ones):", "",
                  "| set | kind | retrieval | written (checked) | fallback to extractive | "
                  "generated sentences dropped | answer text holds the gold span |",
                  "|---|---|---|---|---|---|---|"]
        for name, kind, mode, m in generated:
            lines.append(f"| {name} | {kind} | {mode} | {_fmt(m.get('written'))} | "
                         f"{_fmt(m.get('fallback_rate'))} | {_fmt(m.get('dropped_sentences'))} | "
                         f"{_fmt(m.get('answer_has_gold'))} |")
        lines.append("")
    return "\n".join(lines)
