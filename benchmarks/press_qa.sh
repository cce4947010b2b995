#!/usr/bin/env bash
# The project's own questions over four press archives (benchmarks/questions/press_qa.jsonl,
# the reporter-style set reporter_qa.jsonl, the Minnesota known-item and off-topic sets),
# asked with BM25 alone, dense alone and the full pipeline. Indexes the archives into
# .eval/press first (incremental: a second run embeds nothing). Results:
# docs/quality/press_qa-report.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data
mkdir -p docs/quality
.venv/bin/python benchmarks/questions/verify_questions.py
.venv/bin/python benchmarks/questions/verify_reporter_qa.py
.venv/bin/press-assistant index --index .eval/press \
  "$DATA/mn_ag_press_releases/press_releases.jsonl" \
  "$DATA/kremlin_ukraine_press_releases_en/putin.jsonl" \
  "$DATA/kremlin_ukraine_press_releases_en/zelenskyy.jsonl" \
  "$DATA/srilanka_pmd_press_releases/press_releases.jsonl" \
  "$DATA/fomc_statements/fomc_statements.jsonl"
.venv/bin/press-assistant eval --index .eval/press --baseline \
  --qa benchmarks/questions/press_qa.jsonl --qa benchmarks/questions/mn_ag_known_items.jsonl \
  --qa benchmarks/questions/unanswerable.jsonl --qa benchmarks/questions/reporter_qa.jsonl \
  --json docs/quality/press_qa-report.json --markdown docs/quality/press_qa-report.md
