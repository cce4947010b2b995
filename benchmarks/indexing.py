"""Indexing throughput against a plain baseline, in one run: documents/s, chunks/s and
tokens/s of `Assistant.index` (read, clean, chunk, embed, store) into a fresh folder, beside
sentence-transformers `encode` with torch on the same chunks' texts, batch 32 (the usual
pipeline's cost: the forward pass). Appends the figures, the machine and the command to
docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/indexing.py                    # the Minnesota AG archive, 1 run
    .venv/bin/python benchmarks/indexing.py --runs 3 --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


def _cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")
    return ", ".join(f for f in wanted if f in flags) or "none of " + ", ".join(wanted)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*",
                        default=[str(DATA / "mn_ag_press_releases" / "press_releases.jsonl")])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()

    from assistant import Assistant, Document, Settings
    from assistant.chunking import chunk_document
    from assistant.config import DEFAULT_MODEL
    from assistant.embedding import SentenceTransformerEmbedder, resolve_model
    from assistant.readers import read_path

    embedder = SentenceTransformerEmbedder()
    documents = [d for p in args.paths for d in read_path(Path(p)) if isinstance(d, Document)]
    settings = Settings.from_env()
    max_tokens = min(settings.chunk_tokens, embedder.max_tokens)
    chunks = [c for d in documents for c in chunk_document(
        d, count_tokens=embedder.count_tokens, max_tokens=max_tokens,
        overlap_tokens=settings.overlap_tokens)]
    texts = [c.embedding_text for c in chunks]
    tokens = sum(embedder.count_tokens(texts))

    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(str(resolve_model(DEFAULT_MODEL)), device="cpu")
    baseline, ours = [], []
    for _ in range(args.runs):
        started = time.perf_counter()
        plain.encode(texts, batch_size=32)
        baseline.append(time.perf_counter() - started)
        with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
            bot = Assistant.open(Path(tmp) / "index", create=True, embedder=embedder,
                                 settings=settings.with_(index_dir=Path(tmp) / "index"))
            started = time.perf_counter()
            report = bot.index([Path(p) for p in args.paths])
            ours.append(time.perf_counter() - started)
            bot.close()
            assert report.chunks_embedded == len(chunks), (report.chunks_embedded, len(chunks))
    base, mine = statistics.median(baseline), statistics.median(ours)
    rows = [("plain sentence-transformers encode (torch, batch 32), embedding only", base),
            ("press-assistant index (read, clean, chunk, embed, store)", mine)]
    lines = [f"| {name} | {len(documents) / s:.1f} | {len(chunks) / s:.1f} | {tokens / s:,.0f} | "
             f"{s:.1f} |" for name, s in rows]
    print("\n".join(lines))
    print(f"ratio (ours / baseline, chunks/s): {base / mine:.2f}")
    if not args.no_write:
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        names = ", ".join(Path(p).parent.name for p in args.paths)
        text = [
            f"\n## Indexing throughput ({when})\n",
            f"`python benchmarks/indexing.py {' '.join(sys.argv[1:])}`".replace(" `", "`")
            + f" on {platform.machine()}, {os.cpu_count()} cores (CPU flags: {_cpu_flags()}); "
            f"{names}: {len(documents):,} documents, {len(chunks):,} chunks, {tokens:,} tokens; "
            f"median of {args.runs} run(s) each, both in the same run.\n",
            "| pipeline | documents/s | chunks/s | tokens/s | seconds |",
            "|---|---|---|---|---|",
            *lines,
            f"\nRatio, ours to the baseline, in chunks/s: **{base / mine:.2f}** (target ≥ 2.5).",
        ]
        with (ROOT / "docs" / "BENCHMARKS.md").open("a", encoding="utf-8") as out:
            out.write("\n".join(text) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
