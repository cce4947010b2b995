"""What each part of the chunk plan buys (issue 20): the sentence splitter, the chunk size,
the overlap and the title carried into every chunk, against the word pieces embedded per
release and the retrieval and answer quality they give.

Each variant runs in a process of its own: it indexes every press archive into
``.eval/chunk_plan/<variant>/press`` (timed; the machine's other load shows in that column,
the tokens do not move), asks the press sets there (hybrid, the shipped pipeline; tune and
held-out halves apart), then indexes XQuAD-en's 240 paragraphs and asks its 1,190 questions
(dense and hybrid). Figures go to ``.eval/chunk_plan/<variant>.json``; with ``--write`` the
table of all variants measured so far goes to docs/quality/chunk-plan.md.

    .venv/bin/python benchmarks/chunk_plan.py                      # every variant (~1 h)
    .venv/bin/python benchmarks/chunk_plan.py today sx-256-0-48    # some
    .venv/bin/python benchmarks/chunk_plan.py --write              # only the table
    .venv/bin/python benchmarks/chunk_plan.py --repeats            # text that repeats

A variant is ``<splitter>-<chunk tokens>-<overlap tokens>-<title tokens>``; "today" is
``pysbd-200-40-48``, the plan every index was built with before issue 20.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / ".eval" / "chunk_plan"
ARCHIVES = ["mn_ag_press_releases/press_releases.jsonl", "kremlin_ukraine_press_releases_en/putin.jsonl",
            "kremlin_ukraine_press_releases_en/zelenskyy.jsonl",
            "srilanka_pmd_press_releases/press_releases.jsonl", "fomc_statements/fomc_statements.jsonl"]
QUESTIONS = ROOT / "benchmarks" / "questions"
PRESS_SETS = ["press_qa.jsonl", "reporter_qa.jsonl", "mn_ag_known_items.jsonl", "unanswerable.jsonl"]
SPLITTERS = {"pysbd": "pysbd", "sx": "sentencex"}
VARIANTS = ["today", "sx-200-40-48", "sx-200-0-48", "sx-256-40-48", "sx-256-0-48", "sx-256-0-0",
            "sx-200-0-0"]


def parse(variant: str) -> tuple[str, int, int, int]:
    if variant == "today":
        variant = "pysbd-200-40-48"
    splitter, size, overlap, title = variant.split("-")
    return SPLITTERS[splitter], int(size), int(overlap), int(title)


def measure(variant: str) -> dict[str, object]:
    """One variant, in this (fresh) process."""
    splitter, size, overlap, title = parse(variant)
    os.environ["PRESS_ASSISTANT_SENTENCES"] = splitter
    import assistant.indexing as indexing
    from assistant import Assistant, Settings
    from assistant.evaluation import run_eval

    tokens = [0]
    embed_chunks = indexing.embed_chunks

    def counted(embedder, batch):  # type: ignore[no-untyped-def]
        # The word pieces the model reads: each chunk's embedded text, cut at its window.
        texts = [c.embedding_text for _, chunks, _ in batch for c in chunks]
        tokens[0] += sum(min(n, embedder.max_tokens) for n in embedder.count_tokens(texts))
        return embed_chunks(embedder, batch)

    indexing.embed_chunks = counted  # type: ignore[assignment]
    work = OUT / variant
    settings = Settings.from_env(index_dir=work / "press", chunk_tokens=size, overlap_tokens=overlap,
                                 title_tokens=title)
    bot = Assistant.open(settings=settings, create=True)
    started = time.perf_counter()
    report = bot.index([DATA / a for a in ARCHIVES])
    seconds = time.perf_counter() - started
    documents = len(report.added) + len(report.updated)
    result: dict[str, object] = {
        "variant": variant, "splitter": splitter, "chunk_tokens": size, "overlap_tokens": overlap,
        "title_tokens": title, "documents": documents, "chunks": report.chunks_embedded,
        "tokens": tokens[0], "index_seconds": round(seconds, 1)}
    press = run_eval(qa=[QUESTIONS / s for s in PRESS_SETS], settings=settings, work_dir=work,
                     embedder=bot.embedder)
    for found in press.sets:
        hybrid = found.scores["hybrid"]
        result[found.name] = {"all": hybrid, **{split: found.by_kind[f"all [{split}]"]["hybrid"]
                                                 for split in ("tune", "heldout")
                                                 if f"all [{split}]" in found.by_kind}}
    xquad = run_eval(beir=[DATA / "xquad_en_ru" / "beir_en"], settings=settings, work_dir=work,
                     baseline=True, embedder=bot.embedder)
    result["xquad_en"] = {mode: xquad.sets[0].scores[mode] for mode in ("dense", "hybrid")}
    return result


def _pooled(result: dict, name: str, split: str) -> tuple[float, float]:  # type: ignore[type-arg]
    """Answer-hit and citation precision over press_qa and reporter_qa together (weighted by
    their answerable questions), for one half."""
    hits = precision = weight = 0.0
    for set_name in ("press_qa", "reporter_qa"):
        scores = result[set_name][split]
        n = scores["answerable"]
        hits += (scores["answer_hit"] or 0) * n
        precision += (scores["citation_precision"] or 0) * n
        weight += n
    return hits / weight, precision / weight


def table() -> str:
    rows = []
    found = {p.stem: json.loads(p.read_text()) for p in OUT.glob("*.json")}
    order = [v for v in VARIANTS if v in found] + sorted(set(found) - set(VARIANTS))
    base = found.get("today")
    for name in order:
        r = found[name]
        per = r["tokens"] / r["documents"]
        x = r["xquad_en"]["hybrid"]
        dense = r["xquad_en"]["dense"]
        tune = _pooled(r, "press", "tune")
        held = _pooled(r, "press", "heldout")
        known = r["mn_ag_known_items"]["all"]
        absent = r["unanswerable"]["all"]["abstained_when_unanswerable"]
        cut = f"{1 - per / (base['tokens'] / base['documents']):+.0%}" if base else ""
        rows.append(
            f"| {name} | {r['chunks'] / r['documents']:.2f} | {per:,.0f} ({cut}) | {r['index_seconds']:.0f} "
            f"| {x['recall_5']:.3f} / {x['ndcg_10']:.3f} | {dense['recall_5']:.3f} / {dense['ndcg_10']:.3f} "
            f"| {tune[0]:.3f} / {tune[1]:.3f} | {held[0]:.3f} / {held[1]:.3f} "
            f"| {known['answer_hit']:.3f} / {known['citation_precision']:.3f} | {absent:.3f} |")
    return "\n".join([
        "| variant (splitter-size-overlap-title) | chunks a release | word pieces a release (vs today) "
        "| index s (machine shared) | XQuAD-en hybrid R@5 / nDCG@10 | dense R@5 / nDCG@10 "
        "| press tune: answer-hit / citation precision | press held out: answer-hit / citation precision "
        "| MN AG known items hit / precision | off-topic abstained |",
        "|---|---|---|---|---|---|---|---|---|---|", *rows])


def repeats() -> str:
    """How much of what the shipped plan embeds repeats across releases: the word pieces of
    chunks whose embedded text (title and passage) was met before in the same archive, which
    a vector cache keyed by that text would not embed again. Boilerplate shorter than a chunk
    cannot be reused this way: a chunk's vector, and the sentence vectors pooled from the
    same forward pass, depend on every word around it."""
    from assistant import Document, Settings
    from assistant.chunking import chunk_document
    from assistant.embedders.factory import load_embedder
    from assistant.readers import read_path

    settings = Settings()
    embedder = load_embedder("all-MiniLM-L6-v2")
    rows = ["| archive | releases | chunks | word pieces | in chunks met before |", "|---|---|---|---|---|"]
    for archive in ARCHIVES:
        documents = [d for d in read_path(DATA / archive) if isinstance(d, Document)]
        texts = [c.embedding_text for d in documents for c in chunk_document(
            d, count_tokens=embedder.count_tokens, title_tokens=settings.title_tokens,
            max_tokens=min(settings.chunk_tokens, embedder.max_tokens),
            overlap_tokens=settings.overlap_tokens)]
        counts = embedder.count_tokens(texts)
        seen: set[str] = set()
        repeated = 0
        for text, count in zip(texts, counts, strict=True):
            repeated += count if text in seen else 0
            seen.add(text)
        rows.append(f"| {archive} | {len(documents):,} | {len(texts):,} | {sum(counts):,} "
                    f"| {repeated:,} ({repeated / sum(counts):.1%}) |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variants", nargs="*", help=f"default: {' '.join(VARIANTS)}")
    parser.add_argument("--write", action="store_true", help="write docs/quality/chunk-plan.md")
    parser.add_argument("--repeats", action="store_true",
                        help="how much of the embedded text repeats across releases")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.repeats:
        print(repeats())
        return
    if args.worker:
        result = measure(args.worker)
        (OUT / f"{args.worker}.json").write_text(json.dumps(result, indent=1))
        return
    if not DATA.exists():
        sys.exit(f"{DATA} is absent: this benchmark reads the shared archives")
    OUT.mkdir(parents=True, exist_ok=True)
    variants = args.variants or ([] if args.write else VARIANTS)
    for variant in variants:
        parse(variant)  # a typo fails before an hour of work, not after
    for variant in variants:
        print(f"{variant} …", flush=True)
        subprocess.run([sys.executable, __file__, "--worker", variant], check=True)
    print(table())
    if args.write:
        command = "python benchmarks/chunk_plan.py " + " ".join(sys.argv[1:])
        (ROOT / "docs" / "quality" / "chunk-plan.md").write_text(
            f"# The chunk plan against its cost (issue 20)\n\n`{command}`; press sets: "
            f"{', '.join(PRESS_SETS)} over the five press archives, hybrid; \"press\" pools press_qa "
            "and reporter_qa (weighted by answerable questions).\n\n" + table() + "\n")


if __name__ == "__main__":
    main()
