#!/usr/bin/env python3
"""The Sri Lankan presidential media archive (every release in English, Sinhala and Tamil):
40 questions of ours (benchmarks/questions/lk_pmd_multilingual.jsonl, 20 tune / 20 held-out)
asked in English, Sinhala and Tamil, against the whole archive indexed with each model.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/lk_pmd_multilingual.py \\
        [--model multilingual-e5-small --model all-MiniLM-L6-v2] [--limit N]
    .venv/bin/python benchmarks/lk_pmd_multilingual.py --speed 200   # indexing, s a release

Per model and language of the question:
- *cites the English version* (English questions): the answer's first citation is the
  English version of the gold release (issue 19: ≥ 0.95);
- *rank 1, any version*: the first search hit is a version (any language) of the gold
  release (Sinhala and Tamil questions: ≥ 0.80);
- *cites its language*: the first citation is the version in the question's language;
- *answer-hit*: the answer's text holds an answer keyword of the cited version's language;
- the versions linking: of the 40 gold releases, how many have exactly their three
  versions grouped (recall), and how many groups hold a version of another release
  (precision, over every group of the archive, judged by the gold set where it knows).
Indexes are built once in .eval/lk_pmd-<model> and reused. Results:
docs/quality/lk-pmd-report.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "srilanka_pmd_press_releases" / "press_releases.jsonl"
QUESTIONS = ROOT / "benchmarks" / "questions" / "lk_pmd_multilingual.jsonl"
LANGS = ("en", "si", "ta")


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _normalised(text: str) -> str:
    return " ".join(text.lower().split())


def evaluate(model: str, questions: list[dict[str, Any]], limit: int | None) -> dict[str, Any]:
    from assistant import Assistant, Settings

    folder = ROOT / ".eval" / f"lk_pmd-{model}"
    settings = Settings.from_env(index_dir=folder, model=model)
    bot = Assistant.open(settings=settings, create=True)
    started = time.perf_counter()
    report = bot.index([DATA])
    indexing = time.perf_counter() - started
    rows: dict[str, dict[str, list[bool]]] = {}
    latencies: list[float] = []
    for q in questions[:limit]:
        versions = q["translations"]
        for lang in LANGS:
            question = q["question" if lang == "en" else f"question_{lang}"]
            asked = time.perf_counter()
            hits = bot.search(question, k=5)
            answer = bot.ask(question)
            latencies.append(time.perf_counter() - asked)
            first = answer.citations[0].doc_id if answer.citations else None
            key = f"{lang} {q['split']}"
            row = rows.setdefault(key, {"rank1_any": [], "cites_english": [],
                                        "cites_own_language": [], "answer_hit": []})
            row["rank1_any"].append(bool(hits) and hits[0].doc_id in versions.values())
            row["cites_english"].append(first == versions["en"])
            row["cites_own_language"].append(first == versions[lang])
            cited_lang = next((lg for lg, d in versions.items() if d == first), None)
            wanted = (q["answer_keywords"] if cited_lang == "en" else
                      q.get(f"answer_keywords_{cited_lang}", [])) if cited_lang else []
            row["answer_hit"].append(bool(wanted) and all(
                _normalised(k) in _normalised(answer.text) for k in wanted))
    linking = _linking(bot, questions)
    info = bot.info()
    bot.close()
    return {"model": model, "documents": info.documents, "chunks": info.chunks,
            "indexing_seconds": round(indexing, 1), "indexed_now": len(report.added),
            "ask_median_ms": round(1000 * statistics.median(latencies), 1),
            "scores": {k: {m: _share(v) for m, v in row.items()} for k, row in sorted(rows.items())},
            "linking": linking}


def speed(models: list[str], count: int) -> list[dict[str, Any]]:
    """Index the archive's first ``count`` releases into a fresh folder with each model, in
    turn, twice (models alternating): seconds a release, the median of the two runs. The
    model is loaded (and, for an ONNX build, built) before the clock starts."""
    import tempfile

    from assistant import Assistant, Settings
    from assistant.embedders.factory import load_embedder

    with tempfile.TemporaryDirectory() as tmp:
        subset = Path(tmp) / "releases.jsonl"
        with DATA.open(encoding="utf-8") as lines:
            subset.write_text("".join(line for _, line in zip(range(count), lines, strict=False)),
                              encoding="utf-8")
        embedders = {m: load_embedder(m) for m in models}
        times: dict[str, list[float]] = {m: [] for m in models}
        chunks: dict[str, int] = {}
        for run in range(2):
            for model in models:
                folder = Path(tmp) / f"{model}-{run}"
                bot = Assistant.open(settings=Settings(index_dir=folder, model=model),
                                     embedder=embedders[model], create=True)
                started = time.perf_counter()
                report = bot.index([subset])
                times[model].append(time.perf_counter() - started)
                chunks[model] = report.chunks_embedded
                bot.close()
    return [{"model": m, "releases": count, "chunks": chunks[m],
             "seconds_per_release": round(statistics.median(times[m]) / count, 3),
             "runs_seconds": [round(t, 1) for t in times[m]]} for m in models]


def _linking(bot: Any, questions: list[dict[str, Any]]) -> dict[str, Any]:
    store = bot._reader()
    groups = store.versions.groups(d for q in questions for d in q["translations"].values())
    exact = 0
    wrong = 0
    for q in questions:
        ids = set(q["translations"].values())
        found = {m.doc_id for m in groups.get(q["translations"]["en"], [])}
        exact += found == ids
        wrong += bool(found - ids)
    return {"gold_releases": len(questions), "all_three_grouped": exact,
            "grouped_with_another_release": wrong,
            "groups_in_archive": store.versions.count_groups()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", dest="models",
                        help="embedding model (repeatable; default: multilingual-e5-small "
                             "and all-MiniLM-L6-v2)")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--speed", type=int, metavar="N",
                        help="only time indexing the first N releases with each model")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "quality" / "lk-pmd-report")
    args = parser.parse_args()
    if not DATA.is_file():
        sys.exit(f"{DATA} is absent: this benchmark reads ../shared/data")
    questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()
                 if line.strip()]
    models = args.models or ["multilingual-e5-small", "all-MiniLM-L6-v2"]
    if args.speed:
        timed = speed(models, args.speed)
        ratio = timed[0]["seconds_per_release"] / max(timed[-1]["seconds_per_release"], 1e-9)
        print(json.dumps(timed, indent=2))
        print(f"{timed[0]['model']} / {timed[-1]['model']}: {ratio:.2f}x the time a release")
        return
    results = [evaluate(m, questions, args.limit) for m in models]
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=2, ensure_ascii=False),
                                             encoding="utf-8")
    lines = ["# Sri Lanka PMD archive: questions in English, Sinhala and Tamil", "",
             "```", "$ OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/lk_pmd_multilingual.py "
             + " ".join(sys.argv[1:]), "```", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; the questions: "
             f"`{QUESTIONS.relative_to(ROOT)}` ({len(questions)} releases, each asked in three "
             "languages; `tune` questions were looked at while the linking and fusion were "
             "chosen, `heldout` ones only measured).", ""]
    for result in results:
        lines += [f"## {result['model']}", "",
                  f"{result['documents']} releases, {result['chunks']} passages; ask median "
                  f"{result['ask_median_ms']} ms. Versions linking over the gold releases: "
                  f"{result['linking']}.", "",
                  "| question language, split | rank 1 any version | cites English | "
                  "cites its language | answer-hit |", "|---|---|---|---|---|"]
        for key, row in result["scores"].items():
            lines.append(f"| {key} | {row['rank1_any']} | {row['cites_english']} | "
                         f"{row['cites_own_language']} | {row['answer_hit']} |")
        lines.append("")
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
