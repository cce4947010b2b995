"""ONNX Runtime int8 against torch, same answers? Both embedding backends index the same
sets and answer the same questions, in one run:

- agreement: cosine between the two backends' vectors of every Minnesota AG chunk;
- XQuAD-en retrieval (nDCG@10, dense and hybrid) and extractive answers (first sentence);
- the press set's Minnesota questions and the Minnesota known items (answer-hit, hybrid).

Indexes go to .eval/backend-<name>/ (reused by later runs). Appends to docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/backends.py
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

from assistant import Assistant, Settings
from assistant.embedders.factory import load_embedder
from assistant.evaluation import evaluate_qa, run_eval
from assistant.index_store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
MNAG = DATA / "mn_ag_press_releases" / "press_releases.jsonl"
QUESTIONS = ROOT / "benchmarks" / "questions"


def _vectors(folder: Path) -> dict[tuple[str, int], np.ndarray]:
    store = Store.open(folder)
    try:
        rows = store.database.query("SELECT doc_id, ordinal, vector FROM chunks")
    finally:
        store.close()
    return {(r[0], r[1]): np.frombuffer(r[2], dtype=np.float32) for r in rows}


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="torch,onnx",
                        help="comma-separated; the comparison needs both (one: its scores only)")
    args = parser.parse_args()
    if not MNAG.exists():
        sys.exit(f"{DATA} (the shared data) is absent: nothing to measure")
    work = ROOT / ".eval"
    work.mkdir(exist_ok=True)
    mnag_qa = work / "mnag_qa.jsonl"
    mnag_qa.write_text("".join(line + "\n" for line in (QUESTIONS / "press_qa.jsonl").read_text().splitlines()
                               if '"archive": "mn_ag"' in line))
    scores: dict[str, dict[str, float]] = {}
    backends: dict[str, str] = {}
    for backend in args.backends.split(","):
        started = time.perf_counter()
        embedder = load_embedder(backend=backend)
        backends[backend] = getattr(embedder, "backend", backend)
        folder = work / f"backend-{backend}"
        report = run_eval(beir=[DATA / "xquad_en_ru" / "beir_en"], settings=Settings(), work_dir=folder,
                          baseline=True, embedder=embedder, answers=True)
        xquad = report.sets[0].scores
        bot = Assistant.open(folder / "mnag", settings=Settings(index_dir=folder / "mnag"),
                             embedder=embedder, create=True)
        bot.index([MNAG])
        row = {"xquad nDCG@10 dense": xquad["dense"]["ndcg_10"],
               "xquad nDCG@10 hybrid": xquad["hybrid"]["ndcg_10"],
               "xquad first sentence (hybrid)": xquad["hybrid"]["first_sentence_has_answer"]}
        for qa in (mnag_qa, QUESTIONS / "mn_ag_known_items.jsonl"):
            result = evaluate_qa(qa, {"hybrid": bot}).scores["hybrid"]
            row[f"{qa.stem} answer-hit"] = result["answer_hit"]
            row[f"{qa.stem} citation precision"] = result["citation_precision"]
        bot.close()
        scores[backend] = row
        print(backend, json.dumps(row), f"{time.perf_counter() - started:.0f} s", flush=True)

    if set(scores) != {"torch", "onnx"}:
        return 0
    torch_vectors = _vectors(work / "backend-torch" / "mnag")
    onnx_vectors = _vectors(work / "backend-onnx" / "mnag")
    shared = sorted(set(torch_vectors) & set(onnx_vectors))
    cosines = np.array([float(torch_vectors[k] @ onnx_vectors[k]) for k in shared])
    lines = ["| measure | torch | ONNX int8 | difference (points) |", "|---|---|---|---|"]
    worst = 0.0
    for measure in scores["torch"]:
        a, b = scores["torch"][measure], scores["onnx"][measure]
        worst = max(worst, abs(a - b) * 100)
        lines.append(f"| {measure} | {a:.3f} | {b:.3f} | {100 * (b - a):+.1f} |")
    summary = (f"Agreement on {len(shared):,} Minnesota AG chunks: mean cosine **{cosines.mean():.4f}**, "
               f"5th percentile {np.percentile(cosines, 5):.4f}, min {cosines.min():.4f} (bar: mean ≥ 0.99). "
               f"Largest move on the evaluation sets: **{worst:.1f} points** (bar: ≤ 1).")
    print("\n".join(lines))
    print(summary)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = [f"\n## Embedding backends: ONNX int8 against torch ({when})\n",
            f"`python benchmarks/backends.py`; torch: {backends['torch']}; ONNX: {backends['onnx']}. "
            "Each backend indexes XQuAD-en and the Minnesota AG archive itself and answers with its "
            "own query vectors.\n", *lines, "", summary]
    with (ROOT / "docs" / "BENCHMARKS.md").open("a", encoding="utf-8") as out:
        out.write("\n".join(text) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
