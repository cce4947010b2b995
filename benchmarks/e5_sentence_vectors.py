"""Sentence vectors pooled out of a passage's own pass (E5OnnxEmbedder.embed_with_regions,
centred as it centres them: e5_onnx.SENTENCE_CENTRE) against each sentence embedded alone
(passage role): cosine per sentence, by language.

Paragraphs from ../shared/data: XQuAD (English, Russian), KazQAD (Kazakh), the Sri Lanka PMD
releases (Sinhala, Tamil); each paragraph's sentences as the indexer splits them (its title
line before it, as the indexer embeds a chunk). Prints medians and lowest per language.

    OMP_WAIT_POLICY=PASSIVE nice -n 10 .venv/bin/python benchmarks/e5_sentence_vectors.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from assistant.chunking import split_sentences
from assistant.embedders.e5_onnx import E5OnnxEmbedder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PER_LANGUAGE = 20  # sentences


def paragraphs() -> dict[str, list[tuple[str, str]]]:
    """(title, paragraph) per language, in file order."""
    out: dict[str, list[tuple[str, str]]] = {}
    for lang in ("en", "ru"):
        squad = json.loads((DATA / "xquad_en_ru" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        out[lang] = [(a["title"], p["context"]) for a in squad["data"] for p in a["paragraphs"]]
    with (DATA / "kazqad_kk" / "kazqad-reading-comprehension-v1.0-kk-validation.jsonl").open() as f:
        seen: set[str] = set()
        out["kk"] = []
        for line in f:
            row = json.loads(line)
            if row["context"] not in seen:
                seen.add(row["context"])
                out["kk"].append((row["title"], row["context"]))
    with (DATA / "srilanka_pmd_press_releases" / "press_releases.jsonl").open() as f:
        for line in f:
            row = json.loads(line)
            if row["lang"] in ("si", "ta"):
                # The release's first paragraph (a chunk's worth), under its title.
                first = next((p for p in row["text"].split("\n\n") if len(p) > 200), None)
                if first:
                    out.setdefault(row["lang"], []).append((row["title"], first))
    return out


def main() -> None:
    embedder = E5OnnxEmbedder()
    report: dict[str, list[float]] = {}
    for lang, items in paragraphs().items():
        cosines: list[float] = []
        # Every 7th paragraph, a few sentences of each, until PER_LANGUAGE sentences.
        for title, paragraph in items[::7]:
            if len(cosines) >= PER_LANGUAGE:
                break
            text = f"{title}\n{paragraph}"
            shift = len(title) + 1
            spans = [(a + shift, b + shift) for a, b in split_sentences(paragraph, lang)][:4]
            if len(spans) < 2:
                continue
            _, pooled = embedder.embed_with_regions([text], [spans])
            sums, counts = pooled[0]
            pooled_vectors = sums / np.maximum(counts, 1)[:, None]
            pooled_vectors /= np.linalg.norm(pooled_vectors, axis=1, keepdims=True)
            alone = embedder.embed([text[a:b] for a, b in spans])
            cosines.extend(np.sum(pooled_vectors * alone, axis=1).tolist())
        report[lang] = cosines[:PER_LANGUAGE]
    every = [c for cs in report.values() for c in cs]
    for lang, cs in report.items():
        print(f"{lang}: {len(cs)} sentences, median {np.median(cs):.3f}, lowest {min(cs):.3f}")
    print(f"all: {len(every)} sentences, median {np.median(every):.3f}, lowest {min(every):.3f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
