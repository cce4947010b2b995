"""Load run: concurrent clients asking the served HTTP API while a re-index writes to the same
index. Reports errors, throughput and latency percentiles, and appends them with the command
to docs/BENCHMARKS.md.

    .venv/bin/python benchmarks/load.py                # 20 clients, 60 s, .eval/press
    .venv/bin/python benchmarks/load.py --clients 5 --seconds 20 --no-write

The index (by default .eval/press, all press archives of ../shared/data, built by
benchmarks/press_qa.sh) is copied first, so the run never changes it. During the run a
`press-assistant index` of the press archives plus Reuters-21578 writes into the copy:
Reuters' documents, new to the index, are embedded and committed batch by batch while the
clients ask; it is stopped when the clients stop (a stopped run loses nothing by design).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from indexing import SETS  # noqa: E402  (the press archives, listed once)

DATA = ROOT.parent / "shared" / "data"
# Reuters first: its documents are new to the press index, so the run starts writing soon.
ARCHIVES = ("reuters21578/reuters21578.jsonl", *SETS["all"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(url: str, server: subprocess.Popen[bytes], timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            if httpx.get(f"{url}api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not come up in {timeout:.0f}s")


async def _client(url: str, questions: list[str], until: float, offset: int,
                  latencies: list[float], errors: list[str]) -> None:
    import httpx

    async with httpx.AsyncClient(timeout=120) as http:
        n = offset
        while time.monotonic() < until:
            question = questions[n % len(questions)]
            n += 1
            started = time.perf_counter()
            try:
                reply = await http.post(f"{url}api/ask", json={"question": question})
                if reply.status_code != 200:
                    errors.append(f"{reply.status_code}: {reply.text[:200]}")
                    continue
                body = reply.json()
                if "citations" not in body:
                    errors.append(f"no citations field: {str(body)[:200]}")
                    continue
            except Exception as exc:  # a refused connection, a timeout: all count
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append(time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default=str(ROOT / ".eval" / "press"))
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--questions", default=str(ROOT / "benchmarks" / "questions" / "press_qa.jsonl"))
    parser.add_argument("--no-reindex", action="store_true", help="Ask without a re-index running.")
    parser.add_argument("--no-write", action="store_true", help="Do not append to docs/BENCHMARKS.md.")
    args = parser.parse_args()
    import httpx

    source = Path(args.index)
    if not (source / "manifest.json").exists():
        raise SystemExit(f"no index at {source}: run benchmarks/press_qa.sh first")
    questions = [json.loads(line)["question"] for line in
                 Path(args.questions).read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory(prefix="load-") as tmp:
        index = Path(tmp) / "index"
        shutil.copytree(source, index)
        port = _free_port()
        url = f"http://127.0.0.1:{port}/"
        env = {k: v for k, v in os.environ.items() if k != "PRESS_ASSISTANT_AUTH"}
        log = (Path(tmp) / "server.log").open("wb")  # closed in the finally below
        server = subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--index", str(index),
                                   "--port", str(port), "--no-uploads"],
                                  cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        indexer = None
        try:
            _wait(url, server, timeout=180)
            documents = json.loads(
                httpx.get(f"{url}api/health", timeout=10).text)["documents"]
            if not args.no_reindex:
                paths = [str(DATA / a) for a in ARCHIVES if (DATA / a).exists()]
                indexer = subprocess.Popen([sys.executable, "-m", "assistant", "index", "--index",
                                            str(index), *paths], cwd=ROOT, env=env,
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                # The clients start once the re-index commits its first batch, so that its
                # writes land while they ask (reading Reuters and embedding a first batch of
                # 64 documents takes a minute or two here).
                deadline = time.monotonic() + 600
                while time.monotonic() < deadline and indexer.poll() is None:
                    if httpx.get(f"{url}api/health", timeout=30).json()["documents"] > documents:
                        break
                    time.sleep(2)
                documents = httpx.get(f"{url}api/health", timeout=30).json()["documents"]
            latencies: list[float] = []
            errors: list[str] = []
            started = time.monotonic()
            until = started + args.seconds

            async def run() -> None:
                await asyncio.gather(*(_client(url, questions, until, i * 7, latencies, errors)
                                       for i in range(args.clients)))

            asyncio.run(run())
            elapsed = time.monotonic() - started
            reindexing = indexer is not None and indexer.poll() is None
            after = json.loads(httpx.get(f"{url}api/health", timeout=30).text)
        finally:
            if indexer is not None and indexer.poll() is None:
                indexer.terminate()
                indexer.wait(timeout=60)
            server.terminate()
            server.wait(timeout=30)
            log.close()

    latencies.sort()
    p50 = statistics.median(latencies) if latencies else float("nan")
    p95 = latencies[max(0, int(0.95 * len(latencies)) - 1)] if latencies else float("nan")
    result = {
        "clients": args.clients, "seconds": round(elapsed, 1), "answers": len(latencies),
        "errors": len(errors), "answers_per_second": round(len(latencies) / elapsed, 2),
        "p50_s": round(p50, 3), "p95_s": round(p95, 3),
        "max_s": round(latencies[-1], 3) if latencies else None,
        "documents_at_start": documents, "documents_at_end": after["documents"],
        "reindex": not args.no_reindex, "reindex_running_at_end": reindexing,
    }
    print(json.dumps(result, indent=2))
    for error in errors[:10]:
        print("error:", error, file=sys.stderr)
    if not args.no_write:
        command = "python benchmarks/load.py " + " ".join(sys.argv[1:])
        _append(command.strip(), result)
    return 1 if errors else 0


def _append(command: str, result: dict[str, object]) -> None:
    path = ROOT / "docs" / "BENCHMARKS.md"
    if not path.exists():
        path.write_text("# Benchmarks\n\nSpeed and load figures, each with the command that "
                        "produced it. Machine noise is real: compare figures of one run.\n",
                        encoding="utf-8")
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    during = "while a re-index runs" if result["reindex"] else "(no re-index)"
    clients = f"{result['clients']} client{'' if result['clients'] == 1 else 's'}"
    lines = [
        f"\n## Load: {clients} asking over HTTP {during} ({when})\n",
        f"`{command}` on {platform.machine()}, {os.cpu_count()} cores; index: all press "
        f"archives plus what the re-index had committed ({result['documents_at_start']:,} "
        f"documents when the clients started, {result['documents_at_end']:,} when they stopped)."
        "\n",
        "| clients | seconds | answers | errors | answers/s | p50 (s) | p95 (s) | max (s) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {result['clients']} | {result['seconds']} | {result['answers']} | {result['errors']} | "
        f"{result['answers_per_second']} | {result['p50_s']} | {result['p95_s']} | {result['max_s']} |",
    ]
    with path.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
