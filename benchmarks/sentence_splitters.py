"""Sentence splitters against today's (issue 20, part 3): speed per release and boundary
agreement, per language, on the shared archives.

Every candidate is routed through :func:`assistant.chunking.split_sentences` (the paragraph
cut, the unwrapping of hard-wrapped lines, the datelines, the blocks, the lone-initial join),
by standing in for ``chunking._segmenter``: what is timed is what indexing would pay. The
reference is today's segmenter (pysbd for English, Russian and Kazakh; sentencex for Sinhala
and Tamil). Agreement is on sentence end offsets (precision, recall, F1 against the
reference, micro-averaged over the releases). Agreement is not correctness: ``--dump DIR``
writes a seeded random sample of the disagreements of each candidate and language, with their
context, for reading by hand (outside the project: they hold the archives' text).

The candidates install from PyPI with no model download; the ones not installed are skipped
(``pip install blingfire syntok spacy`` into the venv for the benchmark only: they are not
the project's dependencies).

    .venv/bin/python benchmarks/sentence_splitters.py                       # all, ~8 min
    .venv/bin/python benchmarks/sentence_splitters.py --candidates sentencex --archives mn_ag
    .venv/bin/python benchmarks/sentence_splitters.py --candidates sentencex \
        --dump /tmp/sentence_disagreements    # 30 per language, for reading

The ``sentencex`` candidate is ``chunking._Sentencex`` for every language: what
``PRESS_ASSISTANT_SENTENCES=sentencex`` uses for English (the option keeps pysbd for the
other languages pysbd has rules for). Figures and verdicts: docs/quality/sentence-splitters.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant import chunking

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"


@dataclass(frozen=True)
class Release:
    archive: str
    id: str
    lang: str
    text: str


def _jsonl(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def releases(limit: int | None) -> list[Release]:
    """The archives' releases with the language their split is asked in (the archive's, or the
    Sri Lankan release's own field); at most ``limit`` of each archive and language."""
    sources: list[tuple[str, Path, str | None, str]] = [
        ("mn_ag", DATA / "mn_ag_press_releases" / "press_releases.jsonl", "en", "id"),
        ("kremlin_putin", DATA / "kremlin_ukraine_press_releases_en" / "putin.jsonl", "en", "id"),
        ("kremlin_zelenskyy", DATA / "kremlin_ukraine_press_releases_en" / "zelenskyy.jsonl", "en", "id"),
        ("fomc", DATA / "fomc_statements" / "fomc_statements.jsonl", "en", "id"),
        ("lk_pmd", DATA / "srilanka_pmd_press_releases" / "press_releases.jsonl", None, "id"),
        ("kazqad", DATA / "kazqad_kk" / "beir_from_rc_validation" / "corpus.jsonl", "kk", "_id"),
        ("xquad_ru", DATA / "xquad_en_ru" / "beir_ru" / "corpus.jsonl", "ru", "_id"),
    ]
    out: list[Release] = []
    for archive, path, lang, key in sources:
        if not path.is_file():
            sys.exit(f"{path} is absent: this benchmark reads the shared archives in ../shared/data")
        taken: dict[str, int] = {}
        for row in _jsonl(path):
            row_lang = lang or row["lang"]
            name = archive if lang else f"{archive}_{row_lang}"
            if limit is not None and taken.get(name, 0) >= limit:
                continue
            taken[name] = taken.get(name, 0) + 1
            out.append(Release(name, row[key], row_lang, row["text"]))
    return out


# --- the candidates: each a factory of a pysbd-like ``segment(text) -> list[str]`` per language


class _ByLine:
    """A line break ends a sentence, as for pysbd and chunking._Sentencex: the wrapping ones
    were made spaces before (chunking._unwrap)."""

    def __init__(self, split: Callable[[str], list[str]]) -> None:
        self.split = split

    def segment(self, text: str) -> list[str]:
        return [s for line in text.split("\n") if line.strip() for s in self.split(line)]


def _current(lang: str) -> chunking.Segmenter:
    """Today's: pysbd for the languages it has rules for, sentencex for the others."""
    import pysbd

    if lang in chunking._PYSBD_LANGS:
        segmenter: chunking.Segmenter = pysbd.Segmenter(language=lang, clean=False)
        return segmenter
    return chunking._Sentencex(lang)


def _pysbd_char_span(lang: str) -> chunking.Segmenter:
    import pysbd

    if lang not in chunking._PYSBD_LANGS:
        lang = "en"
    segmenter = pysbd.Segmenter(language=lang, clean=False, char_span=True)
    return _ByLine(lambda text: [span.sent for span in segmenter.segment(text)])


def _sentencex(lang: str) -> chunking.Segmenter:
    return chunking._Sentencex(lang)


def _blingfire(lang: str) -> chunking.Segmenter:
    import blingfire

    def split(line: str) -> list[str]:
        _, offsets = blingfire.text_to_sentences_and_offsets(line)
        return [line[a:b] for a, b in offsets]

    return _ByLine(split)


def _syntok(lang: str) -> chunking.Segmenter:
    from syntok import segmenter

    def split(line: str) -> list[str]:
        return [line[s[0].offset:s[-1].offset + len(s[-1].value)]
                for paragraph in segmenter.analyze(line) for s in paragraph if s]

    return _ByLine(split)


def _spacy(lang: str) -> chunking.Segmenter:
    import spacy

    try:
        nlp = spacy.blank(lang)
    except ImportError:  # no rules for the language (Kazakh): the multilingual tokenizer
        nlp = spacy.blank("xx")
    nlp.add_pipe("sentencizer")
    return _ByLine(lambda line: [s.text for s in nlp(line).sents])


def _nothing(lang: str) -> chunking.Segmenter:
    """No splitting at all: what the wrapper alone (paragraphs, lines, datelines) costs."""
    return _ByLine(lambda line: [line])


CANDIDATES: dict[str, tuple[str | None, Callable[[str], chunking.Segmenter]]] = {
    "current": ("pysbd", _current),
    "pysbd_char_span": ("pysbd", _pysbd_char_span),
    "sentencex": ("sentencex", _sentencex),
    "blingfire": ("blingfire", _blingfire),
    "syntok": ("syntok", _syntok),
    "spacy_sentencizer": ("spacy", _spacy),
    "wrapper_only": (None, _nothing),
}


@dataclass
class Tally:
    times: list[float] = field(default_factory=list)
    both: int = 0
    only_ref: int = 0
    only_cand: int = 0
    disagreements: list[tuple[str, str, int, str]] = field(default_factory=list)  # archive, id, offset, side

    def scores(self) -> tuple[float, float, float]:
        p = self.both / (self.both + self.only_cand) if self.both + self.only_cand else 1.0
        r = self.both / (self.both + self.only_ref) if self.both + self.only_ref else 1.0
        return p, r, 2 * p * r / (p + r) if p + r else 0.0


def run(names: list[str], docs: list[Release]) -> dict[str, dict[str, Tally]]:
    """Every candidate on every release, one after another on the same release (the machine is
    shared: a busy spell slows them all alike); ``{candidate: {archive: Tally}}``. The first
    of ``names`` is the reference."""
    segmenters: dict[tuple[str, str], chunking.Segmenter] = {}

    def use(name: str) -> None:
        def segmenter_for(lang: str) -> chunking.Segmenter:
            if (name, lang) not in segmenters:
                segmenters[name, lang] = CANDIDATES[name][1](lang)
            return segmenters[name, lang]

        chunking._segmenter = segmenter_for  # type: ignore[assignment]

    original = chunking._segmenter
    tallies: dict[str, dict[str, Tally]] = {name: {} for name in names}
    try:
        for name in names:  # warm: imports and rule tables
            use(name)
            for lang in sorted({d.lang for d in docs}):
                chunking.split_sentences("Warm up. Twice.", lang)
        for doc in docs:
            reference: set[int] = set()
            for name in names:
                use(name)
                started = time.perf_counter()
                spans = chunking.split_sentences(doc.text, doc.lang)
                elapsed = time.perf_counter() - started
                tally = tallies[name].setdefault(doc.archive, Tally())
                tally.times.append(elapsed)
                ends = {b for _, b in spans}
                if name == names[0]:
                    reference = ends
                tally.both += len(reference & ends)
                tally.only_ref += len(reference - ends)
                tally.only_cand += len(ends - reference)
                tally.disagreements += [(doc.archive, doc.id, b, "reference")
                                        for b in sorted(reference - ends)]
                tally.disagreements += [(doc.archive, doc.id, b, name) for b in sorted(ends - reference)]
    finally:
        chunking._segmenter = original  # type: ignore[assignment]
    return tallies


def dump(folder: Path, name: str, lang: str, tally: Tally, texts: dict[tuple[str, str], str],
         sample: int) -> None:
    """``sample`` disagreements, seeded, each with 160 characters either side and ``‖`` where
    one of the two splitters ends a sentence and the other does not."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20)
    picked = rng.sample(tally.disagreements, min(sample, len(tally.disagreements)))
    with (folder / f"{name}__{lang}.txt").open("w", encoding="utf-8") as out:
        for number, (archive, doc_id, offset, side) in enumerate(picked, 1):
            text = texts[archive, doc_id]
            context = text[max(0, offset - 160):offset] + " ‖ " + text[offset:offset + 160]
            out.write(f"#{number} {archive} {doc_id} @{offset}: boundary only in {side}\n"
                      f"{context!r}\n\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, help="at most this many releases per archive and language")
    parser.add_argument("--candidates", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--dump", type=Path, help="write sampled disagreements here (not the project)")
    parser.add_argument("--sample", type=int, default=30)
    parser.add_argument("--archives", nargs="*", help="only these (mn_ag, kremlin_putin, "
                        "kremlin_zelenskyy, fomc, lk_pmd_en, lk_pmd_si, lk_pmd_ta, kazqad, xquad_ru)")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()
    docs = [d for d in releases(args.limit) if not args.archives or d.archive in args.archives]
    texts = {(d.archive, d.id): d.text for d in docs}
    names = ["current", *[n for n in args.candidates if n != "current"]]
    results: dict[str, dict[str, object]] = {}
    available = []
    for name in names:
        module = CANDIDATES[name][0]
        if module and importlib.util.find_spec(module) is None:
            print(f"{name}: skipped ({module} is not installed)", file=sys.stderr)
        else:
            available.append(name)
    tallies = run(available, docs)
    for archive in dict.fromkeys(d.archive for d in docs):
        for name in available:
            tally = tallies[name][archive]
            p, r, f1 = tally.scores()
            row = {"releases": len(tally.times),
                   "median_ms": 1000 * statistics.median(tally.times),
                   "mean_ms": 1000 * statistics.mean(tally.times),
                   "precision": p, "recall": r, "f1": f1,
                   "disagreements": len(tally.disagreements)}
            results.setdefault(archive, {})[name] = row
            print(f"{archive:20} {name:18} n={row['releases']:5} median {row['median_ms']:7.2f} ms"
                  f"  mean {row['mean_ms']:7.2f} ms  P {p:.3f} R {r:.3f} F1 {f1:.3f}"
                  f"  disagreements {row['disagreements']}", flush=True)
    # Per language, over its archives: the pooled releases and boundaries (and the sample of
    # disagreements, drawn from the pool: an archive weighs what its disagreements do).
    for lang in sorted({d.lang for d in docs}):
        archives = sorted({d.archive for d in docs if d.lang == lang})
        for name in available:
            pooled = Tally()
            for archive in archives:
                tally = tallies[name][archive]
                pooled.times += tally.times
                pooled.both += tally.both
                pooled.only_ref += tally.only_ref
                pooled.only_cand += tally.only_cand
                pooled.disagreements += tally.disagreements
            p, r, f1 = pooled.scores()
            row = {"releases": len(pooled.times),
                   "median_ms": 1000 * statistics.median(pooled.times),
                   "mean_ms": 1000 * statistics.mean(pooled.times),
                   "precision": p, "recall": r, "f1": f1,
                   "disagreements": pooled.only_ref + pooled.only_cand}
            results.setdefault(f"all_{lang}", {})[name] = row
            print(f"{'all_' + lang:20} {name:18} n={row['releases']:5} median {row['median_ms']:7.2f} ms"
                  f"  mean {row['mean_ms']:7.2f} ms  P {p:.3f} R {r:.3f} F1 {f1:.3f}"
                  f"  disagreements {row['disagreements']}", flush=True)
            if args.dump and name not in ("current", "wrapper_only"):
                dump(args.dump, name, lang, pooled, texts, args.sample)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
