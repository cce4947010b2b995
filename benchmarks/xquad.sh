#!/usr/bin/env bash
# XQuAD retrieval (English and Russian questions against their 240 paragraphs), BM25 alone,
# dense alone and the full pipeline in one run; with --answers also the extractive-answer
# metric (first quoted sentence holds the gold span). Results: docs/quality/xquad-report.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data/xquad_en_ru
mkdir -p docs/quality
.venv/bin/press-assistant eval --beir "$DATA/beir_en" --beir "$DATA/beir_ru" --baseline --answers \
  --work .eval --json docs/quality/xquad-report.json --markdown docs/quality/xquad-report.md
