"""txtai's default hybrid index, an anchor of benchmarks/index_speed.py:
``txtai.Embeddings(path=<local MiniLM folder>, content=True, hybrid=True)``, everything else
txtai's default (its own mean pooling over transformers, faiss vectors, its BM25 keyword
scoring, SQLite content, hybrid search), indexed and saved to disk. Runs in the anchors' own
virtual environment (benchmarks/index_speed.py makes it), never imports the project.

    python txtai_index.py --model PATH --out DIR FILE.jsonl...   # prints one JSON line
    python txtai_index.py --model PATH --out DIR --beir BEIR_DIR --run RUN.json

Rows: each record's paragraphs, one row each, as txtai's documentation indexes documents
(its ``Segmentation(paragraphs=True)`` pipeline splits the text at blank lines and collapses
spaces), with the title on the first line of the text, like the plain pipeline. Chosen over
whole records because a release is longer than the model's window (txtai would truncate
it), and over sentence rows because paragraphs are the unit the plain pipeline embeds, so the
two anchors differ in their libraries, not in what they embed. Row ids are
``<record id>#<paragraph number>``.

The first form indexes press-release exports (JSONL with ``id``, ``title``, ``text``): from
process start (the caller times the process) to an index saved on disk. The second indexes a
BEIR corpus (``_id``, ``title``, ``text``) the same way, then answers each query with txtai's
hybrid search (top 50 rows), documents ranked by their best row; it writes {query id: {doc id:
score}} (top 10 documents) for the caller to score.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

# The exports read exactly as the plain pipeline reads them (its directory is on sys.path:
# both run as scripts from benchmarks/anchors/).
from plain_pipeline import arguments, beir_queries, read

CANDIDATES = 50  # rows read per query, as the project's evaluation reads 50 passages


def main() -> None:
    args = arguments(__doc__)
    started = time.perf_counter()
    from txtai import Embeddings
    from txtai.pipeline import Segmentation

    segment = Segmentation(paragraphs=True)
    records = read([str(args.beir / "corpus.jsonl")], id_field="_id") if args.beir else read(args.files)
    rows = []
    for record in records:
        text = f"{record['title'].strip()}\n{record['text']}" if record["title"].strip() else record["text"]
        rows.extend((f"{record['id']}#{n}", paragraph, None) for n, paragraph in enumerate(segment(text)))
    embeddings = Embeddings(path=args.model, content=True, hybrid=True)
    embeddings.index(rows)
    embeddings.save(str(args.out))
    seconds = time.perf_counter() - started
    # What the model reads of each row: txtai truncates at its pooling model's maxlength (the
    # tokenizer's model_max_length when the config sets none), which holds [CLS] and [SEP].
    pooling = embeddings.model.model
    limit = pooling.maxlength - 2
    texts = [text for _, text, _ in rows]
    lengths = [len(ids) for ids in pooling.tokenizer(texts, add_special_tokens=False)["input_ids"]]
    tokens = sum(min(n, limit) for n in lengths)
    print(json.dumps({"documents": len(records), "chunks": len(rows), "tokens": tokens,
                      "tokens_untruncated": sum(lengths),
                      "window": pooling.maxlength, "seconds_inside": seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    if args.beir:
        answer_beir(args, embeddings)


def answer_beir(args: argparse.Namespace, embeddings) -> None:  # type: ignore[no-untyped-def]
    queries = beir_queries(args.beir)
    ids = list(queries)
    results = embeddings.batchsearch([queries[q] for q in ids], CANDIDATES)
    run: dict[str, dict[str, float]] = {}
    for qid, hits in zip(ids, results, strict=True):
        best: dict[str, float] = {}
        for hit in hits:  # best first
            best.setdefault(str(hit["id"]).rsplit("#", 1)[0], float(hit["score"]))
            if len(best) == 10:
                break
        run[qid] = best
    args.run.write_text(json.dumps(run), encoding="utf-8")


if __name__ == "__main__":
    main()
