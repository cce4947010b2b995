#!/usr/bin/env bash
# XQuAD-en questions against their 240 paragraphs hidden among every press archive in
# ../shared/data and Reuters-21578 (about 27,000 documents), BM25 alone, dense alone and the
# full pipeline in one run, plus the extractive-answer metric. Results:
# docs/quality/haystack-report.{md,json}.
#
# The press archives are the ones benchmarks/press_qa.sh indexes into .eval/press; when that
# index exists it is copied as the starting point, so only Reuters and the paragraphs are
# embedded here (the copy is incremental like any index: unchanged releases are skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
mkdir -p docs/quality .eval
if [ ! -e .eval/beir_en-haystack/manifest.json ] && [ -e .eval/press/manifest.json ]; then
  cp -r .eval/press .eval/beir_en-haystack
fi
.venv/bin/press-assistant eval --beir "$DATA/xquad_en_ru/beir_en" --baseline --answers --work .eval \
  --distractors "$DATA/mn_ag_press_releases/press_releases.jsonl" \
  --distractors "$DATA/kremlin_ukraine_press_releases_en/putin.jsonl" \
  --distractors "$DATA/kremlin_ukraine_press_releases_en/zelenskyy.jsonl" \
  --distractors "$DATA/srilanka_pmd_press_releases/press_releases.jsonl" \
  --distractors "$DATA/fomc_statements/fomc_statements.jsonl" \
  --distractors "$DATA/reuters21578/reuters21578.jsonl" \
  --json docs/quality/haystack-report.json --markdown docs/quality/haystack-report.md
