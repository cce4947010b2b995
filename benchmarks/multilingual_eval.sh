#!/usr/bin/env bash
# Issue 19's retrieval targets with the multilingual model, full pipeline beside BM25 alone and
# dense alone: XQuAD Russian questions against the English paragraphs (ru→en), XQuAD en→en and
# ru→ru, and KazQAD; then the same split into a tune half (even question numbers: fusion
# settings were chosen on these) and a held-out half (odd ones: only measured).
# Results: docs/quality/multilingual-report.{md,json} and multilingual-halves-report.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE
DATA=../shared/data
SETS=.eval/sets
WORK=.eval/e5
mkdir -p "$SETS/xquad_ru_en/qrels" "$WORK" docs/quality
# ru→en: the English corpus and qrels with the Russian questions (same ids), linked, not copied.
ln -sf "$(realpath $DATA/xquad_en_ru/beir_en/corpus.jsonl)" "$SETS/xquad_ru_en/corpus.jsonl"
ln -sf "$(realpath $DATA/xquad_en_ru/beir_ru/queries.jsonl)" "$SETS/xquad_ru_en/queries.jsonl"
ln -sf "$(realpath $DATA/xquad_en_ru/beir_en/qrels/test.tsv)" "$SETS/xquad_ru_en/qrels/test.tsv"
declare -A FOLDER=([xquad_ru_en]="$SETS/xquad_ru_en" [beir_en]="$DATA/xquad_en_ru/beir_en"
                   [beir_ru]="$DATA/xquad_en_ru/beir_ru"
                   [beir_from_rc_validation]="$DATA/kazqad_kk/beir_from_rc_validation")
NAMES=(xquad_ru_en beir_en beir_ru beir_from_rc_validation)
.venv/bin/press-assistant eval --model multilingual-e5-small --baseline --work "$WORK" \
  $(for n in "${NAMES[@]}"; do echo --beir "${FOLDER[$n]}"; done) \
  --json docs/quality/multilingual-report.json --markdown docs/quality/multilingual-report.md
# The halves: their own queries and qrels, the corpus linked; their index is the whole set's.
for n in "${NAMES[@]}"; do
  .venv/bin/python - "${FOLDER[$n]}" "$SETS/$n" <<'PY'
import json, sys
from pathlib import Path
source, target = Path(sys.argv[1]), sys.argv[2]
queries = [l for l in (source / "queries.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
qrels = (source / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()
for part, keep in (("tune", 0), ("heldout", 1)):
    out = Path(f"{target}-{part}")
    (out / "qrels").mkdir(parents=True, exist_ok=True)
    mine = [q for i, q in enumerate(queries) if i % 2 == keep]
    ids = {json.loads(q)["_id"] for q in mine}
    (out / "queries.jsonl").write_text("\n".join(mine) + "\n", encoding="utf-8")
    (out / "qrels" / "test.tsv").write_text(
        "\n".join([qrels[0]] + [l for l in qrels[1:] if l.split("\t")[0] in ids]) + "\n",
        encoding="utf-8")
    corpus = out / "corpus.jsonl"
    corpus.unlink(missing_ok=True)
    corpus.symlink_to((source / "corpus.jsonl").resolve())
PY
  for p in tune heldout; do ln -sfn "$n" "$WORK/$n-$p"; done
done
.venv/bin/press-assistant eval --model multilingual-e5-small --baseline --work "$WORK" \
  $(for n in "${NAMES[@]}"; do for p in tune heldout; do echo --beir "$SETS/$n-$p"; done; done) \
  --json docs/quality/multilingual-halves-report.json --markdown docs/quality/multilingual-halves-report.md
