"""The plain pipeline a developer writes in an afternoon, as the anchor of
benchmarks/indexing.py: each release's paragraphs (blank-line separated) are its chunks,
sentence-transformers ``encode`` with torch embeds them (batch 32, the library's default),
FAISS holds the vectors (exact inner product) and bm25s the keywords. Runs in the anchors'
own virtual environment (benchmarks/indexing.py makes it), never imports the project.

    python plain_pipeline.py --model PATH --out DIR FILE.jsonl...   # prints one JSON line

From process start (the caller times the process) to an index on disk that answers.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import time
from pathlib import Path


def read(paths: list[str]) -> list[dict[str, str]]:
    """The exports' records with a text; nothing cleaned (a plain pipeline trusts them)."""
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    record = json.loads(line)
                    if (record.get("text") or "").strip():
                        out.append(record)
    return out


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a local sentence-transformers folder")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    started = time.perf_counter()
    import bm25s
    import faiss
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(args.model, device="cpu")
    records = read(args.files)
    chunks = [(r.get("id", ""), p) for r in records for p in paragraphs(r["text"])]
    texts = [t for _, t in chunks]
    vectors = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    args.out.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(args.out / "vectors.faiss"))
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    retriever.save(str(args.out / "bm25"))
    (args.out / "chunks.pkl").write_bytes(pickle.dumps(chunks))
    tokenizer = model.tokenizer
    limit = model.max_seq_length
    tokens = sum(min(len(ids), limit) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"])
    print(json.dumps({"documents": len(records), "chunks": len(texts), "tokens": tokens,
                      "seconds_inside": time.perf_counter() - started,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
