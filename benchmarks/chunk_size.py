"""Chunking against answer quality: the Minnesota AG archive indexed three ways — 200/40
tokens (the default), 120/24, and 200/40 with the publication date carried into each chunk's
title line (embedded and keyword-indexed) — each asked the press set's Minnesota questions and
the Minnesota known items, hybrid. Indexes go to .eval/mnag_<variant>; figures to
.eval/chunk_size.json.

    .venv/bin/python benchmarks/chunk_size.py                 # all three, ~20 min on 2 cores
    .venv/bin/python benchmarks/chunk_size.py c200 c200date   # some
"""

import dataclasses
import json
import sys
import time
from pathlib import Path

import assistant.indexing
from assistant import Assistant, Settings
from assistant.evaluation import evaluate_qa

VARIANTS = {"c200": (200, 40, False), "c120": (120, 24, False), "c200date": (200, 40, True)}
_chunk_document = assistant.indexing.chunk_document


def _dated_chunks(doc, **kwargs):  # type: ignore[no-untyped-def]
    """The default chunks, with the release's date after the title: "… — 2019-03-13"."""
    chunks = _chunk_document(doc, **kwargs)
    if doc.date is None:
        return chunks
    return [dataclasses.replace(c, title=f"{c.title} — {doc.date:%d %B %Y} ({doc.date.isoformat()})")
            for c in chunks]


ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT.parent / "shared" / "data" / "mn_ag_press_releases" / "press_releases.jsonl"
MNAG = ROOT / ".eval" / "mnag_qa.jsonl"
MNAG.parent.mkdir(exist_ok=True)
MNAG.write_text("".join(line + "\n" for line in
                        (ROOT / "benchmarks" / "questions" / "press_qa.jsonl").read_text().splitlines()
                        if '"archive": "mn_ag"' in line))
out = {}
for name in sys.argv[1:] or list(VARIANTS):
    tokens, overlap, dated = VARIANTS[name]
    assistant.indexing.chunk_document = _dated_chunks if dated else _chunk_document
    folder = ROOT / ".eval" / f"mnag_{name}"
    settings = Settings.from_env().with_(index_dir=folder, chunk_tokens=tokens, overlap_tokens=overlap)
    bot = Assistant.open(settings=settings, create=True)
    started = time.perf_counter()
    report = bot.index([SRC])
    print(name, report.summary(), round(time.perf_counter() - started), flush=True)
    for qa in (MNAG, ROOT / "benchmarks" / "questions" / "mn_ag_known_items.jsonl"):
        res = evaluate_qa(Path(qa), {"hybrid": bot})
        out[f"{name}:{Path(qa).stem}"] = res.scores["hybrid"]
        print(name, Path(qa).stem, json.dumps(res.scores["hybrid"]), flush=True)
    bot.close()
(ROOT / ".eval" / "chunk_size.json").write_text(json.dumps(out, indent=1))
