"""Indexing with `--ray` against a local run, in one run: the same archive indexed into fresh
folders, each in its own process, once embedding here and once on a Ray instance started on
this machine (the issue 20 target: Ray on one machine within 15 % of the local throughput,
its overhead bounded). Reports wall time from process start (model load, and Ray's start and
its workers' model load on the Ray side, included), the indexing run's own time, chunks/s of
the indexing run, and peak RSS of the driver. Appends the figures, the machine and the
command to docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/ray_indexing.py                    # Minnesota AG archive
    .venv/bin/python benchmarks/ray_indexing.py --archive fomc --no-write
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
ARCHIVES = {"mnag": DATA / "mn_ag_press_releases" / "press_releases.jsonl",
            "fomc": DATA / "fomc_statements" / "fomc_statements.jsonl"}


def _worker(kind: str, archive: Path, folder: Path) -> dict[str, float | int]:
    """One measurement in this (fresh) process; the clock starts at the process's start."""
    started = time.perf_counter() - _process_age()
    from assistant import Assistant

    ray_start = 0.0
    if kind == "ray":
        import ray

        begin = time.perf_counter()
        ray.init(num_cpus=len(os.sched_getaffinity(0)), include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - begin
    bot = Assistant.open(folder, create=True)
    report = bot.index([archive], ray="auto" if kind == "ray" else None)
    wall = time.perf_counter() - started
    return {"wall_s": wall, "index_s": report.seconds, "ray_start_s": ray_start,
            "documents": len(report.added), "chunks": report.chunks_embedded,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _process_age() -> float:
    """Seconds since this process started (interpreter start-up included in the wall time)."""
    ticks = os.sysconf("SC_CLK_TCK")
    start = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19]) / ticks
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return max(0.0, uptime - start)


def measure(kind: str, archive: Path, work: Path) -> dict[str, float | int]:
    folder = work / kind
    out = subprocess.run([sys.executable, __file__, "--worker", kind, str(archive), str(folder)],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{out.stderr[-3000:]}")
    result: dict[str, float | int] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", choices=sorted(ARCHIVES), default="mnag")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md")
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "ARCHIVE", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, archive, folder = args.worker
        print(json.dumps(_worker(kind, Path(archive), Path(folder))))
        return
    archive = ARCHIVES[args.archive]
    if not archive.is_file():
        raise SystemExit(f"{archive} is absent: the benchmark needs ../shared/data")
    with tempfile.TemporaryDirectory(prefix="ray-indexing-") as tmp:
        local = measure("local", archive, Path(tmp))
        remote = measure("ray", archive, Path(tmp))
    rows = []
    for name, r in (("local (`index`)", local), ("Ray, 1 machine (`index --ray`)", remote)):
        rows.append(f"| {name} | {r['documents']} | {r['chunks']} | {r['wall_s']:.1f} | "
                    f"{r['index_s']:.1f} | {r['chunks'] / r['index_s']:.1f} | "
                    f"{r['documents'] / r['wall_s']:.2f} | {r['peak_rss_mb']:.0f} |")
    ratio = (remote["chunks"] / remote["index_s"]) / (local["chunks"] / local["index_s"])
    wall_ratio = local["wall_s"] / remote["wall_s"]
    command = "python benchmarks/ray_indexing.py"
    if args.archive != "mnag":
        command += f" --archive {args.archive}"
    cores = len(os.sched_getaffinity(0))
    text = "\n".join([
        f"\n## Indexing on Ray against a local run, {archive.parent.name} ({dt.date.today()})\n",
        f"`{command}` on {platform.processor() or platform.machine()}, {cores} cores (shared "
        "machine: one run each), each run in its own process into a fresh folder, the default "
        "backend (ONNX int8); the Ray run starts a local Ray instance of as many CPUs as cores "
        "and one actor of the driver's cores (the default: the local run's forward passes). "
        "Wall: from process start to a queryable index (model load; Ray's start "
        f"({remote['ray_start_s']:.1f} s) and its actor's model load on the Ray side); "
        "index: the indexing run itself (report.seconds).\n",
        "| run | releases | chunks | wall s | index s | chunks/s (index) | releases/s (wall) "
        "| driver peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"Ray on one machine: {ratio:.2f}× the local chunks/s of the indexing run, {wall_ratio:.2f}× "
        "its releases/s from process start (target: within 15 %, i.e. ≥ 0.85×).\n",
    ])
    print(text)
    if not args.no_write:
        with (ROOT / "docs" / "BENCHMARKS.md").open("a", encoding="utf-8") as out:
            out.write(text)


if __name__ == "__main__":
    main()
