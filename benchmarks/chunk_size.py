"""Chunk size against answer quality: the Minnesota AG archive indexed twice (200/40 tokens,
the default, and 120/24), each asked the press set's Minnesota questions and the Minnesota
known items, hybrid. Indexes go to .eval/mnag_c<tokens>; figures to .eval/chunk_size.json.

    .venv/bin/python benchmarks/chunk_size.py          # about 15 minutes on 2 cores
"""

import json
import time
from pathlib import Path

from assistant import Assistant, Settings
from assistant.evaluation import evaluate_qa

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT.parent / "shared" / "data" / "mn_ag_press_releases" / "press_releases.jsonl"
MNAG = ROOT / ".eval" / "mnag_qa.jsonl"
MNAG.parent.mkdir(exist_ok=True)
MNAG.write_text("".join(line + "\n" for line in
                        (ROOT / "benchmarks" / "questions" / "press_qa.jsonl").read_text().splitlines()
                        if '"archive": "mn_ag"' in line))
out = {}
for tokens, overlap in ((200, 40), (120, 24)):
    folder = ROOT / ".eval" / f"mnag_c{tokens}"
    settings = Settings.from_env().with_(index_dir=folder, chunk_tokens=tokens, overlap_tokens=overlap)
    bot = Assistant.open(settings=settings, create=True)
    started = time.perf_counter()
    report = bot.index([SRC])
    print(tokens, report.summary(), round(time.perf_counter() - started), flush=True)
    for qa in (MNAG, ROOT / "benchmarks" / "questions" / "mn_ag_known_items.jsonl"):
        res = evaluate_qa(Path(qa), {"hybrid": bot})
        out[f"{tokens}:{Path(qa).stem}"] = res.scores["hybrid"]
        print(tokens, Path(qa).stem, json.dumps(res.scores["hybrid"]), flush=True)
    bot.close()
(ROOT / ".eval" / "chunk_size.json").write_text(json.dumps(out, indent=1))
