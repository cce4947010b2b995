"""Indexing throughput against a plain baseline, in one run: documents/s, chunks/s and
tokens/s of `Assistant.index` (read, clean, chunk, embed, store; the default embedding
backend) into a fresh folder, beside sentence-transformers `encode` with torch on the same
chunks' texts, batch 32 (the usual pipeline's cost: the forward pass). Then the no-op
re-index of the same archive. Each measurement runs in its own process, so its peak RSS is
its own; model loading is outside the timed part on both sides. Appends the figures, the
machine and the command to docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/indexing.py                     # Minnesota AG archive, 3 runs
    .venv/bin/python benchmarks/indexing.py --set all --runs 1  # every press archive
    .venv/bin/python benchmarks/indexing.py --runs 1 --no-write
    .venv/bin/python benchmarks/indexing.py --runs 2 --embedder-alone  # and the embedder's ceiling
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
SETS = {
    "mnag": ["mn_ag_press_releases/press_releases.jsonl"],
    # The press archives of the shared data (Reuters newswire is not press releases).
    "all": ["mn_ag_press_releases/press_releases.jsonl", "kremlin_ukraine_press_releases_en/putin.jsonl",
            "kremlin_ukraine_press_releases_en/zelenskyy.jsonl",
            "srilanka_pmd_press_releases/press_releases.jsonl", "fomc_statements/fomc_statements.jsonl"],
}


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    shown = ", ".join(f for f in wanted if f in flags) or "none of " + ", ".join(wanted)
    # Under benchmarks/avx2_emulation.py the flags are the masked ones: say so in the report.
    return shown + (" (AVX2 emulated: CPUID masked)" if "cpuid_mask" in os.environ.get(
        "LD_PRELOAD", "") else "")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(kind: str, paths: list[Path]) -> dict[str, float | str]:
    """One measurement in this (fresh) process."""
    from assistant import Assistant, Document, Settings
    from assistant.chunking import chunk_document
    from assistant.embedders.factory import load_embedder
    from assistant.embedders.models import resolve_model
    from assistant.embedders.torch_embedder import SentenceTransformerEmbedder
    from assistant.readers import read_path

    settings = Settings.from_env()
    if kind in ("baseline", "embed"):
        counter = SentenceTransformerEmbedder()
        documents = [d for p in paths for d in read_path(p) if isinstance(d, Document)]
        texts = [c.embedding_text for d in documents for c in chunk_document(
            d, count_tokens=counter.count_tokens, max_tokens=min(settings.chunk_tokens, counter.max_tokens),
            overlap_tokens=settings.overlap_tokens)]
        tokens = sum(counter.count_tokens(texts))
    if kind == "embed":  # the shipped embedder's forward passes alone: the pipeline's ceiling
        embedder = load_embedder(settings.model or "all-MiniLM-L6-v2", backend=settings.backend)
        embedder.embed(texts[:64])
        started = time.perf_counter()
        embedder.embed(texts)
        return {"seconds": time.perf_counter() - started, "documents": len(documents),
                "chunks": len(texts), "tokens": tokens, "peak_mb": _peak_mb(),
                "backend": getattr(embedder, "backend", "?")}
    if kind == "baseline":
        from sentence_transformers import SentenceTransformer

        plain = SentenceTransformer(str(resolve_model(settings.model or "all-MiniLM-L6-v2")), device="cpu")
        plain.encode(texts[:64], batch_size=32)  # warm, like a pipeline that has loaded its model
        started = time.perf_counter()
        plain.encode(texts, batch_size=32)
        return {"seconds": time.perf_counter() - started, "documents": len(documents),
                "chunks": len(texts), "tokens": tokens, "peak_mb": _peak_mb(), "backend": "torch"}
    embedder = load_embedder(settings.model or "all-MiniLM-L6-v2", backend=settings.backend)
    embedder.embed(["warm up"])
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        folder = Path(tmp) / "index"
        bot = Assistant.open(folder, create=True, embedder=embedder,
                             settings=settings.with_(index_dir=folder))
        started = time.perf_counter()
        report = bot.index(paths)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = bot.index(paths)  # nothing changed: hashes compared, nothing embedded
        noop = time.perf_counter() - started
        documents, chunks = bot.info().documents, bot.info().chunks
        bot.close()
    assert again.chunks_embedded == 0 and not again.added and not again.updated, again
    assert report.chunks_embedded == chunks
    return {"seconds": seconds, "documents": documents, "chunks": chunks, "noop_seconds": noop,
            "peak_mb": _peak_mb(), "backend": getattr(embedder, "backend", "?")}


def _measure(kind: str, paths: list[Path]) -> dict[str, float | str]:
    out = subprocess.run([sys.executable, __file__, "--worker", kind, *map(str, paths)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", help="instead of --set: files or folders to index")
    parser.add_argument("--set", choices=sorted(SETS), default="mnag")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--no-baseline", action="store_true",
                        help="ours only (documents/s, no-op re-index), no ratio")
    parser.add_argument("--embedder-alone", action="store_true",
                        help="also time the default embedder's embed() alone on the baseline's "
                             "chunks: how far the forward passes alone go")
    parser.add_argument("--worker", choices=("baseline", "ours", "embed"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    paths = [Path(p) for p in args.paths] or [DATA / p for p in SETS[args.set]]
    if args.worker:
        print(json.dumps(_worker(args.worker, paths)))
        return 0
    if not all(p.exists() for p in paths):
        sys.exit(f"{DATA} (the shared press archives) is absent: nothing to measure")

    base_runs, our_runs, alone_runs = [], [], []
    for n in range(args.runs):  # alternated, so drift in the machine's speed hits both
        if not args.no_baseline:
            base_runs.append(_measure("baseline", paths))
        our_runs.append(_measure("ours", paths))
        if args.embedder_alone:
            alone_runs.append(_measure("embed", paths))
        print(f"run {n + 1}: baseline {base_runs[-1]['seconds'] if base_runs else '-'} s, "
              f"ours {our_runs[-1]['seconds']:.1f} s (no-op {our_runs[-1]['noop_seconds']:.2f} s)",
              flush=True)
    if args.no_baseline:
        return _ours_only(our_runs, paths, args)
    base = statistics.median(float(r["seconds"]) for r in base_runs)
    mine = statistics.median(float(r["seconds"]) for r in our_runs)
    noop = statistics.median(float(r["noop_seconds"]) for r in our_runs)
    docs, chunks, tokens = (base_runs[0][k] for k in ("documents", "chunks", "tokens"))
    assert our_runs[0]["chunks"] == chunks, (our_runs[0]["chunks"], chunks)
    rows = [
        ("plain sentence-transformers encode (torch, batch 32), embedding only", base,
         max(float(r["peak_mb"]) for r in base_runs)),
        (f"press-assistant index (read, clean, chunk, embed, store; {our_runs[0]['backend']})", mine,
         max(float(r["peak_mb"]) for r in our_runs)),
    ]
    if alone_runs:
        rows.append((f"its embedder alone, `embed()` on the baseline's chunks ({alone_runs[0]['backend']})",
                     statistics.median(float(r["seconds"]) for r in alone_runs),
                     max(float(r["peak_mb"]) for r in alone_runs)))
    lines = [f"| {name} | {float(docs) / s:.1f} | {float(chunks) / s:.1f} | {float(tokens) / s:,.0f} | "
             f"{s:.1f} | {mb:,.0f} |" for name, s, mb in rows]
    ratio = base / mine
    print("\n".join(lines))
    print(f"ratio (ours / baseline, chunks/s): {ratio:.2f}; no-op re-index {noop:.2f} s")
    if alone_runs:
        print(f"ratio (embedder alone / baseline, chunks/s): {base / rows[-1][1]:.2f}")
    if not args.no_write:
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        names = ", ".join(dict.fromkeys(p.parent.name for p in paths))
        text = [
            f"\n## Indexing throughput ({when})\n",
            f"`python benchmarks/indexing.py {' '.join(sys.argv[1:])}`".replace(" `", "`")
            + f" on {platform.machine()}, {os.cpu_count()} cores (CPU flags: {cpu_flags()}); "
            f"{names}: {int(docs):,} documents, {int(chunks):,} chunks, {int(tokens):,} tokens; "
            f"median of {args.runs} run(s) each, alternated in the same run; each in its own "
            "process (model loaded and warmed before the clock starts).\n",
            "| pipeline | documents/s | chunks/s | tokens/s | seconds | peak RSS (MB) |",
            "|---|---|---|---|---|---|",
            *lines,
            f"\nRatio, ours to the baseline, in chunks/s: **{ratio:.2f}** (target ≥ 2.5). "
            f"No-op re-index of the same {int(docs):,} documents: **{noop:.2f} s** (target ≤ 5 s "
            "for the ~5,000 press releases).",
        ]
        if alone_runs:
            text.append(f"The embedder alone reaches **{base / rows[-1][1]:.2f}** times the baseline's "
                        "chunks/s on the same chunks: the ceiling of the whole pipeline on this CPU.")
        with (ROOT / "docs" / "BENCHMARKS.md").open("a", encoding="utf-8") as out:
            out.write("\n".join(text) + "\n")
    return 0


def _ours_only(runs: list[dict[str, float | str]], paths: list[Path], args: argparse.Namespace) -> int:
    mine = statistics.median(float(r["seconds"]) for r in runs)
    noop = statistics.median(float(r["noop_seconds"]) for r in runs)
    docs, chunks = int(runs[0]["documents"]), int(runs[0]["chunks"])
    peak = max(float(r["peak_mb"]) for r in runs)
    line = (f"| press-assistant index ({runs[0]['backend']}) | {docs / mine:.1f} | {chunks / mine:.1f} | "
            f"{mine:.1f} | {peak:,.0f} | {noop:.2f} |")
    print(line)
    if not args.no_write:
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        names = ", ".join(dict.fromkeys(p.parent.name for p in paths))
        text = [f"\n## Indexing, ours alone ({when})\n",
                f"`python benchmarks/indexing.py {' '.join(sys.argv[1:])}` on {platform.machine()}, "
                f"{os.cpu_count()} cores (CPU flags: {cpu_flags()}); {names}: {docs:,} documents, "
                f"{chunks:,} chunks; median of {args.runs} run(s); no baseline in this run.\n",
                "| pipeline | documents/s | chunks/s | seconds | peak RSS (MB) | no-op re-index (s) |",
                "|---|---|---|---|---|---|", line]
        with (ROOT / "docs" / "BENCHMARKS.md").open("a", encoding="utf-8") as out:
            out.write("\n".join(text) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
