"""Re-indexing an unchanged archive: every shared press archive (~4,800 releases) indexed
again into an index that already holds them. The first run after the index was built by
another version reads every file (and remembers what it read); later runs compare each
file's size and modification time and read nothing. Appends to docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/noop.py                 # the index of benchmarks/press_qa.sh
    .venv/bin/python benchmarks/noop.py --index DIR --runs 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from indexing import DATA, SETS, cpu_flags  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=str(ROOT / ".eval" / "press"),
                        help="an index holding the press archives (benchmarks/press_qa.sh builds it)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    paths = [DATA / p for p in SETS["all"]]
    if not all(p.exists() for p in paths):
        sys.exit(f"{DATA} (the shared press archives) is absent: nothing to measure")
    if not (Path(args.index) / "manifest.json").exists():
        sys.exit(f"{args.index} holds no index: run benchmarks/press_qa.sh first (it builds it)")

    from assistant import Assistant, Settings

    with tempfile.TemporaryDirectory(prefix="bench-noop-") as tmp:
        folder = Path(tmp) / "index"
        shutil.copytree(args.index, folder)  # the original stays as it was
        bot = Assistant.open(folder, settings=Settings.from_env(index_dir=folder))
        bot.embedder.embed(["warm up"])  # the model loaded: not part of a re-index
        first = bot.index(paths)
        runs = [bot.index(paths) for _ in range(args.runs)]
        bot.close()
    assert all(r.chunks_embedded == 0 for r in [first, *runs]), "the archive changed under the index"
    noop = statistics.median(r.seconds for r in runs)
    line = (f"| {len(runs[0].unchanged):,} | {len(runs[0].skipped)} | {first.seconds:.2f} | {noop:.2f} | "
            f"{max(r.seconds for r in runs):.2f} |")
    print(line)
    if not args.no_write:
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        text = [f"\n## Re-indexing the unchanged press archives ({when})\n",
                f"`python benchmarks/noop.py {' '.join(sys.argv[1:])}`".replace(" `", "`")
                + f" on {platform.machine()}, {os.cpu_count()} cores (CPU flags: {cpu_flags()}); "
                f"{', '.join(dict.fromkeys(p.parent.name for p in paths))}; model loaded first. The first "
                f"run reads every file (the index did not know them yet); the next {args.runs} "
                "compare sizes and modification times only.\n",
                "| releases unchanged | records skipped (unreadable) | first run (s) | no-op median (s) | "
                "no-op max (s) |", "|---|---|---|---|---|", line,
                "\nTarget: no-op re-index of the ~5,000 shared press releases ≤ 5 s."]
        with (ROOT / "docs" / "BENCHMARKS.md").open("a", encoding="utf-8") as out:
            out.write("\n".join(text) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
