"""The plain pipeline a developer writes in an afternoon, an anchor of benchmarks/index_speed.py:
a record's title and text (title on the first line) are cut at
blank lines into paragraphs, its chunks; sentence-transformers ``encode`` with torch embeds
them (batch 32, the library's default); FAISS holds the vectors (exact inner product) and
bm25s the keywords. Runs in the anchors' own virtual environment (benchmarks/index_speed.py
makes it), never imports the project.

    python plain_pipeline.py --model PATH --out DIR FILE.jsonl...   # prints one JSON line
    python plain_pipeline.py --model PATH --out DIR --beir BEIR_DIR --run RUN.json

The first form indexes press-release exports (JSONL with ``id``, ``title``, ``text``): from
process start (the caller times the process) to an index on disk that answers. The second
indexes a BEIR corpus (``_id``, ``title``, ``text``) the same way, then answers each query as a
developer would: the FAISS and bm25s rankings (top 50 chunks each) fused by reciprocal rank
fusion, documents ranked by their best chunk; it writes {query id: {doc id: score}} (top 10
documents) for the caller to score.
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import time
from pathlib import Path

CANDIDATES = 50  # chunks read from each ranking, as the project's evaluation reads 50 passages
RRF_K = 60  # the constant of the reciprocal rank fusion paper, what everyone uses


def read(paths: list[str], id_field: str = "id") -> list[dict[str, str]]:
    """The exports' records with a text; nothing cleaned (a plain pipeline trusts them)."""
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    record = json.loads(line)
                    if (record.get("text") or "").strip():
                        out.append({"id": str(record.get(id_field, "")), "title": record.get("title") or "",
                                    "text": record["text"]})
    return out


def paragraphs(record: dict[str, str]) -> list[str]:
    # The title joins the first paragraph (one newline), so it is embedded once, with context.
    text = f"{record['title'].strip()}\n{record['text']}" if record["title"].strip() else record["text"]
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def arguments(doc: str | None) -> argparse.Namespace:
    """The command line both anchors take (txtai_index.py parses it here too)."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--model", required=True, help="a local sentence-transformers folder")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--beir", type=Path, help="index this BEIR folder's corpus and answer its queries")
    parser.add_argument("--run", type=Path, help="with --beir: where to write the ranking")
    parser.add_argument("files", nargs="*")
    return parser.parse_args()


def beir_queries(folder: Path) -> dict[str, str]:
    """A BEIR folder's queries: id -> text."""
    queries = {}
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            queries[record["_id"]] = record["text"]
    return queries


def main() -> None:
    args = arguments(__doc__)
    started = time.perf_counter()
    import bm25s
    import faiss
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(args.model, device="cpu")
    records = read([str(args.beir / "corpus.jsonl")], id_field="_id") if args.beir else read(args.files)
    chunks = [(r["id"], p) for r in records for p in paragraphs(r)]
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
    seconds = time.perf_counter() - started
    # What the model reads of each chunk: its word pieces up to the window, which holds
    # [CLS] and [SEP] too (special tokens are not counted).
    limit = model.max_seq_length - 2
    lengths = [len(ids) for ids in model.tokenizer(texts, add_special_tokens=False)["input_ids"]]
    tokens = sum(min(n, limit) for n in lengths)
    print(json.dumps({"documents": len(records), "chunks": len(texts), "tokens": tokens,
                      "tokens_untruncated": sum(lengths),
                      "seconds_inside": seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    if args.beir:
        answer_beir(args, model, index, retriever, chunks)


def answer_beir(args: argparse.Namespace, model, index, retriever, chunks) -> None:  # type: ignore[no-untyped-def]
    import bm25s

    queries = beir_queries(args.beir)
    ids = list(queries)
    k = min(CANDIDATES, len(chunks))
    vectors = model.encode([queries[q] for q in ids], batch_size=32, normalize_embeddings=True,
                           convert_to_numpy=True)
    _, dense = index.search(vectors, k)
    keyword, _ = retriever.retrieve(bm25s.tokenize([queries[q] for q in ids], stopwords="en",
                                                   show_progress=False), k=k, show_progress=False)
    run: dict[str, dict[str, float]] = {}
    for row, qid in enumerate(ids):
        fused: dict[int, float] = {}
        for ranking in (dense[row], keyword[row]):
            for rank, chunk in enumerate(ranking):
                if chunk >= 0:
                    fused[int(chunk)] = fused.get(int(chunk), 0.0) + 1.0 / (RRF_K + rank + 1)
        best: dict[str, float] = {}
        for chunk, score in sorted(fused.items(), key=lambda item: -item[1]):
            best.setdefault(chunks[chunk][0], score)
            if len(best) == 10:
                break
        run[qid] = best
    args.run.write_text(json.dumps(run), encoding="utf-8")


if __name__ == "__main__":
    main()
