"""How many wrong generated sentences get through the check (assistant/checking.py), and how
many right ones it drops.

Correct answers are built from real releases: five passages of five different releases are
numbered [1]-[5] as a model would see them; a sentence of one passage is lightly paraphrased
(a clause cut off, an opener or an adverb dropped, a verb swapped for a synonym, the marker
before or after the full stop) and cited correctly. Each correct sentence is checked (a drop
is a false drop), then mutated one random way and checked again (kept = got through):

- number: a number changed to a value the cited passage does not hold (a change that lands on
  another number of the same passage is beyond any presence check, so it is not drawn);
- number_words: a number changed the same way and written in words ("340" -> "three hundred
  and forty-five");
- name: a capitalised name swapped for one from another given passage that the cited passage
  does not hold (in the forms the check takes for one name: "Russia" and "Russian");
- renumber: the citation moved to another given passage;
- out_of_range: a citation of a passage that was not given ([6]-[9]);
- no_citation: the marker removed;
- other_release: the sentence replaced by one from a release that was not given, citation kept;
- negation: "not" put after the first auxiliary verb ("was" -> "was not") of a sentence that
  denied nothing.

Whether a changed number is wrong is judged here, not by the check's own parser: the new value
must appear nowhere in the cited passage, its title or its date, neither as a run of digits
(commas, points and spaces inside a figure ignored, each run also on its own) nor as a number
word (:func:`_held_numbers`). A gap in the check's reading of numbers then shows as a mutation
that got through.

Releases are read from corpus/ and, when present, ../shared/data (Minnesota AG, Kremlin and
Zelenskyy press releases); nothing of them is stored in the project.

    .venv/bin/python benchmarks/check_mutations.py                      # 1,000 mutations, seed 7
    .venv/bin/python benchmarks/check_mutations.py --sweep              # word-support thresholds
    .venv/bin/python benchmarks/check_mutations.py --embedder           # with all-MiniLM-L6-v2
    .venv/bin/python benchmarks/check_mutations.py --embedder --sweep   # similarity thresholds
    .venv/bin/python benchmarks/check_mutations.py --embedder --similarities  # their spread
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from assistant import checking  # noqa: E402
from assistant.chunking import split_sentences  # noqa: E402
from assistant.documents import Document, Passage  # noqa: E402

if TYPE_CHECKING:
    from assistant.embedders.protocols import Embedder

SHARED = ROOT.parent / "shared" / "data"
ARCHIVES = (SHARED / "mn_ag_press_releases" / "press_releases.jsonl",
            SHARED / "kremlin_ukraine_press_releases_en" / "putin.jsonl",
            SHARED / "kremlin_ukraine_press_releases_en" / "zelenskyy.jsonl")
KINDS = ("number", "number_words", "name", "renumber", "out_of_range", "no_citation",
         "other_release", "negation")
PASSAGES = 5
PASSAGE_SENTENCES = 5

_SYNONYMS = {"said": "stated", "announced": "said", "filed": "brought", "help": "assist",
             "about": "around", "received": "got", "began": "started", "held": "had",
             "discussed": "talked about", "also": "", "today": "", "further": ""}
_FRAMES = ("According to the release, {}", "The statement says that {}", "It was reported that {}",
           "{}, the release notes")
_OPENER = re.compile(r"^(?:Today|Yesterday|On \w+day|In addition|Additionally|However|Also),\s+")
_AUXILIARY = re.compile(r"\b(?:is|was|were|are|has|have|had|will|can|would|could|should)\b")
_DIGITS = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")


def load_documents(limit: int = 400, seed: int = 7) -> list[Document]:
    """The seed corpus and up to ``limit`` releases sampled from the shared archives."""
    docs = []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        title, _, text = path.read_text(encoding="utf-8").partition("\n")
        docs.append(Document(id=path.stem, title=title.strip(), text=text.strip()))
    records: list[dict[str, str]] = []
    for path in ARCHIVES:
        if path.exists():
            with path.open(encoding="utf-8") as lines:
                records.extend(json.loads(line) for line in lines if line.strip())
    rng = random.Random(seed)
    for record in rng.sample(records, min(limit, len(records))):
        docs.append(Document(id=str(record["id"]), title=str(record.get("title") or ""),
                             text=str(record.get("text") or "")))
    return [d for d in docs if len(d.text) > 400]


@dataclass
class _Release:
    doc: Document
    spans: list[tuple[int, int]]


def _good(text: str) -> bool:
    """A sentence worth answering with: 8-50 words, ends like a sentence, no line break, not a
    list item ("1. Sumy - ..."), and one sentence to the check too (a quotation the release's
    splitter kept whole may hold two: a model would cite each)."""
    words = len(text.split())
    return (8 <= words <= 50 and text[-1:] in ".!?" and "\n" not in text
            and not re.match(r"\d+[.)]\s", text) and len(checking.split_generated(text)) == 1)


def _passage(release: _Release, rng: random.Random, n: int) -> Passage | None:
    """Five consecutive sentences of a release, holding at least one good sentence."""
    spans = release.spans
    starts = list(range(max(1, len(spans) - PASSAGE_SENTENCES + 1)))
    rng.shuffle(starts)
    for first in starts[:5]:
        chosen = tuple(spans[first:first + PASSAGE_SENTENCES])
        text = release.doc.text
        if any(_good(text[a:b]) for a, b in chosen):
            start, end = chosen[0][0], chosen[-1][1]
            return Passage(n=n, doc_id=release.doc.id, title=release.doc.title,
                           date=release.doc.date, url=release.doc.url, text=text[start:end],
                           start=start, end=end, sentences=chosen)
    return None


def paraphrase(sentence: str, rng: random.Random) -> str:
    """A light paraphrase: what a model asked to answer from the passage would write."""
    words = sentence.rstrip(".!?").split()
    if rng.random() < 0.4 and len(words) > 14:
        # Cut after a clause: the model answers with the part that matters.
        cut = next((i for i in range(9, len(words) - 3) if words[i].endswith(",")), None)
        if cut is not None:
            words = words[:cut + 1]
            words[-1] = words[-1].rstrip(",")
    text = _OPENER.sub("", " ".join(words))
    if rng.random() < 0.25:
        # Words of the model's own around the release's: they lower word support.
        text = rng.choice(_FRAMES).format(text[:1].lower() + text[1:] if text[1:2].islower()
                                          else text)
    text = text[:1].upper() + text[1:]
    out = []
    for word in text.split():
        swap = _SYNONYMS.get(word.lower())
        if swap is not None and rng.random() < 0.7:
            if swap:
                out.append(swap)
        else:
            out.append(word)
    return " ".join(out)


def cite(text: str, markers: str, rng: random.Random) -> str:
    """The sentence with its markers before or after the full stop."""
    if not markers:
        return f"{text}."
    return f"{text} {markers}." if rng.random() < 0.5 else f"{text}. {markers}"


_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")


def in_words(n: int) -> str:
    """``n`` (0 to 999,999) in English words: 345 -> "three hundred and forty-five"."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else "")
    if n < 1000:
        rest = f" and {in_words(n % 100)}" if n % 100 else ""
        return f"{_ONES[n // 100]} hundred{rest}"
    low = n % 1000
    tail = "" if not low else (f" and {in_words(low)}" if low < 100 else f" {in_words(low)}")
    return f"{in_words(n // 1000)} thousand{tail}"


def _held_numbers(passage: Passage) -> set[int]:
    """Every whole number the passage shows, read without the check's parser: each run of
    digits, each figure with its separators removed ("1,200", "1 200", "1.5" -> 15), the day
    and year of its date, and the values of the number words 0-99 it holds. Generous on
    purpose: a value held in any reading is not drawn as a wrong one."""
    text = f"{passage.title}\n{passage.text}"
    held = {int(run) for run in re.findall(r"\d+", text)}
    held.update(int(re.sub(r"\D", "", f)) for f in re.findall(r"\d+(?:[,. \u00a0]\d+)+", text))
    if passage.date is not None:
        held.update((passage.date.day, passage.date.year))
    lower = text.lower()
    held.update(n for n in range(100) if re.search(rf"(?<![\w-]){in_words(n)}(?![\w-])", lower))
    return held


def _changed_number(text: str, passage: Passage, rng: random.Random,
                    words: bool = False) -> str | None:
    """``text`` with one figure changed to a whole number the passage does not hold (in words
    when ``words``)."""
    figures = list(_DIGITS.finditer(text))
    if not figures:
        return None
    m = rng.choice(figures)
    held = _held_numbers(passage)
    value = int(re.sub(r"\D", "", m.group(0))[:6] or "0")
    for _ in range(20):
        new = rng.choice([value + rng.randint(1, 9), max(0, value - rng.randint(1, 9)),
                          value * 10, value + 100, rng.randint(2, 99)])
        if new == value or new in held or new > 999_999 or (words and new < 2):
            continue
        # The figure's neighbours must not join it into another figure ("1 200": "200").
        before, after = text[:m.start()], text[m.end():]
        if re.search(r"\d[ \u00a0,.]?$", before) or re.match(r"[ \u00a0,.]?\d", after):
            return None
        if words and (re.search(r"[\w-]$", before) or re.match(r"[\w-]", after)):
            return None  # "COVID-19", "5G": a label, not a figure to write in words
        return before + (in_words(new) if words else str(new)) + after
    return None


def _swapped_name(text: str, passage: Passage, others: Sequence[Passage],
                  rng: random.Random) -> str | None:
    names = checking._names(text)
    if not names:
        return None
    held = checking._Source.of(passage).name_keys
    names = [w for w in names if len(w) > 3]  # "Mr" and "Dr" are titles, not names
    if not names:
        return None
    pool = [w for p in others for w in checking._names(p.text) if w.isalpha() and len(w) > 3
            and not any(checking._same_name(checking._name_key(w), key) for key in held)]
    if not pool:
        return None
    name = rng.choice(names)
    return re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", rng.choice(pool), text, count=1)


@dataclass
class Report:
    tried: Counter[str] = field(default_factory=Counter)
    through: Counter[str] = field(default_factory=Counter)
    correct: int = 0
    false_drops: int = 0
    false_reasons: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def table(self) -> str:
        rows = ["| mutation | mutated sentences | got through | share |", "|---|---:|---:|---:|"]
        for kind in KINDS:
            tried, through = self.tried[kind], self.through[kind]
            rows.append(f"| {kind} | {tried} | {through} | {through / max(tried, 1):.1%} |")
        rows.append(f"| **all mutations** | {sum(self.tried.values())} | "
                    f"{sum(self.through.values())} | "
                    f"{sum(self.through.values()) / max(sum(self.tried.values()), 1):.1%} |")
        rows.append(f"| correct sentences wrongly dropped | {self.correct} | {self.false_drops} | "
                    f"{self.false_drops / max(self.correct, 1):.1%} |")
        return "\n".join(rows)


def run(docs: Sequence[Document], mutations: int = 1000, seed: int = 7,
        embedder: Embedder | None = None) -> Report:
    """Check ``mutations`` mutated sentences, each with its correct original."""
    rng = random.Random(seed)
    releases = [_Release(d, split_sentences(d.text)) for d in docs]
    releases = [r for r in releases if len(r.spans) >= 2]
    report = Report()
    kinds = [KINDS[i % len(KINDS)] for i in range(mutations)]
    rng.shuffle(kinds)
    for kind in kinds:
        for _ in range(50):  # draw until the kind applies (a number needs a sentence with one)
            chosen = rng.sample(releases, PASSAGES + 1)
            passages = [_passage(r, rng, n) for n, r in enumerate(chosen[:PASSAGES], start=1)]
            if any(p is None for p in passages):
                continue
            given = [p for p in passages if p is not None]
            target = rng.choice(given)
            goods = [s for s in target.sentences if _good(target.sentence_text(s))]
            words = paraphrase(target.sentence_text(rng.choice(goods)), rng)
            if len(checking.split_generated(words)) != 1:
                continue  # a cut quotation that now reads as two sentences
            mutated = _mutate(kind, words, target, given, chosen[PASSAGES], rng)
            if mutated is None:
                continue
            correct = cite(words, f"[{target.n}]", rng)
            result = checking.check_answer(correct, given, embedder=embedder)
            report.correct += 1
            if result.dropped:
                report.false_drops += 1
                reason = re.sub(r"[\d.]+|\[\d+\]|(?<=the )(number|name|month) \S+", "…",
                                result.dropped[0].reason)
                report.false_reasons[reason] += 1
                report.examples.setdefault("false drop", []).append(
                    f"{correct} -- {result.dropped[0].reason}")
            report.tried[kind] += 1
            if checking.check_answer(mutated, given, embedder=embedder).kept:
                report.through[kind] += 1
                report.examples.setdefault(kind, []).append(mutated)
            break
    return report


def _mutate(kind: str, words: str, target: Passage, given: list[Passage], outside: _Release,
            rng: random.Random) -> str | None:
    marker = f"[{target.n}]"
    others = [p for p in given if p.n != target.n]
    if kind in ("number", "number_words"):
        changed = _changed_number(words, target, rng, words=kind == "number_words")
        return None if changed is None else cite(changed, marker, rng)
    if kind == "name":
        swapped = _swapped_name(words, target, others, rng)
        return None if swapped is None else cite(swapped, marker, rng)
    if kind == "renumber":
        return cite(words, f"[{rng.choice(others).n}]", rng)
    if kind == "out_of_range":
        return cite(words, f"[{rng.randint(PASSAGES + 1, 9)}]", rng)
    if kind == "no_citation":
        return cite(words, "", rng)
    if kind == "negation":
        verb = _AUXILIARY.search(words)
        if verb is None or checking._NEGATION.search(words):
            return None
        return cite(f"{words[:verb.end()]} not{words[verb.end():]}", marker, rng)
    goods = [(a, b) for a, b in outside.spans if _good(outside.doc.text[a:b])]
    if not goods:
        return None
    a, b = rng.choice(goods)
    return cite(paraphrase(outside.doc.text[a:b], rng), marker, rng)


def similarities(docs: Sequence[Document], trials: int, seed: int, embedder: Embedder) -> str:
    """Where the embedder's threshold can sit: for correct sentences and for wrong ones (a
    sentence of another release, or a correct one cited to another passage), the word support
    and the best similarity to a sentence of the cited passage; and how many of each the
    embedder's rule would keep among those whose word support falls short."""
    rng = random.Random(seed)
    releases = [r for r in (_Release(d, split_sentences(d.text)) for d in docs) if len(r.spans) >= 2]
    rows: dict[str, list[tuple[float, float]]] = {"correct": [], "other_release": [], "renumber": []}
    while len(rows["correct"]) < trials:
        chosen = rng.sample(releases, 3)
        target, other = _passage(chosen[0], rng, 1), _passage(chosen[1], rng, 2)
        if target is None or other is None:
            continue
        goods = [sp for sp in target.sentences if _good(target.sentence_text(sp))]
        outside = [(a, b) for a, b in chosen[2].spans if _good(chosen[2].doc.text[a:b])]
        if not outside:
            continue
        words = paraphrase(target.sentence_text(rng.choice(goods)), rng)
        a, b = rng.choice(outside)
        alien = paraphrase(chosen[2].doc.text[a:b], rng)
        for kind, sentence, passage in (("correct", words, target), ("other_release", alien, target),
                                        ("renumber", words, other)):
            source = checking._Source.of(passage)
            wanted = checking._support_stems(sentence)
            best = max(len(wanted & st) for st in source.span_stems) / max(1, len(wanted))
            cosine = max(checking._cosines(embedder, sentence, [source])[0])
            rows[kind].append((best, cosine))
    lines = ["| sentences | median similarity | 95th percentile | 99th percentile | "
             + " | ".join(f"kept at {t} (of word support < {checking.WORD_SUPPORT_MIN})"
                          for t in (0.65, 0.75, 0.85)) + " |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, pairs in rows.items():
        cosines = sorted(c for _, c in pairs)
        short = [(w, c) for w, c in pairs if w < checking.WORD_SUPPORT_MIN]
        kept = [sum(1 for w, c in short if c >= t and w >= checking.EMBED_WORD_FLOOR)
                for t in (0.65, 0.75, 0.85)]
        lines.append(f"| {kind} | {cosines[len(cosines) // 2]:.2f} | "
                     f"{cosines[int(len(cosines) * 0.95)]:.2f} | {cosines[int(len(cosines) * 0.99)]:.2f} | "
                     + " | ".join(f"{k} / {len(short)}" for k in kept) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mutations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--releases", type=int, default=400)
    parser.add_argument("--embedder", action="store_true", help="with all-MiniLM-L6-v2")
    parser.add_argument("--sweep", action="store_true", help="try word-support thresholds")
    parser.add_argument("--examples", action="store_true", help="print what got through")
    parser.add_argument("--similarities", action="store_true",
                        help="with --embedder: similarity of right and wrong sentences")
    args = parser.parse_args(argv)
    docs = load_documents(args.releases, args.seed)
    embedder = None
    if args.embedder:
        from assistant.embedders.factory import load_embedder

        embedder = load_embedder()
    command = "    .venv/bin/python benchmarks/check_mutations.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    print(f"{command.rstrip()}\n\n{len(docs)} releases, seed {args.seed}, "
          f"embedder: {embedder.name if embedder else 'none'}\n")
    if args.similarities and embedder is not None:
        print(similarities(docs, args.mutations, args.seed, embedder))
        return
    # Without an embedder the sweep is over word support; with one, over the similarity that
    # lets the embedder keep a sentence whose word support falls short.
    name = "EMBED_SIMILARITY_MIN" if embedder else "WORD_SUPPORT_MIN"
    sweep = [0.55, 0.65, 0.75, 0.85] if embedder else [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    for threshold in sweep if args.sweep else [getattr(checking, name)]:
        setattr(checking, name, threshold)
        report = run(docs, args.mutations, args.seed, embedder)
        print(f"{name} = {threshold}\n\n{report.table()}\n")
        if report.false_reasons:
            print("False drops by reason: " + "; ".join(
                f"{reason} ({count})" for reason, count in report.false_reasons.most_common()))
        if args.examples:
            for kind, sentences in report.examples.items():
                print(f"\n{kind}:")
                for sentence in sentences[:8]:
                    print(f"  {sentence}")
        print()


if __name__ == "__main__":
    main()
