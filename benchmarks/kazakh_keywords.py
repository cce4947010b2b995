"""Kazakh words for the keyword index: which reduction of a word lets BM25 find the passage.

KazQAD (BEIR layout: 764 Kazakh questions, 697 passages) ranked by BM25 computed as the
project's FTS5 index computes it (``bm25(chunks_fts, 0.5, 1.0)``: title and text weighted
0.5 and 1, k1 1.2, b 0.75, the document's length over both columns), whole passages, with
each way of reducing a word to an index term:

- ``russian``: what the index did before (the standard library's ``\\w+``, every Cyrillic
  word through the Russian Snowball stemmer);
- ``none``: words lower-cased, nothing removed;
- ``strip-mN``: :func:`assistant.lexical.kazakh_stem`, endings off while N letters remain;
- ``prefixN``: the word's first N letters;
- ``strip-mN-prefixK``: both;
- ``ngramN``: each word's character N-grams (FTS5's trigram tokenizer, within words).

Then the rules that pick a word's treatment in a mixed archive (Kazakh shares Cyrillic with
Russian): ``per-word`` (a word with a letter only Kazakh has is Kazakh, another Cyrillic word
Russian) and ``per-text`` (a text with such letters in over a share of its words is Kazakh:
all its Cyrillic words are), and ``lexical.stems`` itself, what the index now does.

The questions are split by their position in queries.jsonl: even ones tune (the choice is
made on them), odd ones are held out. Query words pass :func:`lexical.stopwords` as the
keyword search does.

    .venv/bin/python benchmarks/kazakh_keywords.py [--data DIR] [--markdown FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant import lexical

DATA = Path(__file__).resolve().parent.parent.parent / "shared/data/kazqad_kk/beir_from_rc_validation"
K1, B = 1.2, 0.75
TITLE_WEIGHT, TEXT_WEIGHT = 0.5, 1.0

Tokenize = Callable[[str], list[str]]


def load(folder: Path) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]],
                                 dict[str, dict[str, int]]]:
    corpus = {}
    for line in (folder / "corpus.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        corpus[row["_id"]] = (row.get("title", ""), row["text"])
    queries = [(row["_id"], row["text"]) for row in
               map(json.loads, (folder / "queries.jsonl").open(encoding="utf-8"))]
    qrels: dict[str, dict[str, int]] = {}
    for n, line in enumerate((folder / "qrels/test.tsv").open(encoding="utf-8")):
        if n == 0:
            continue
        qid, did, score = line.rstrip("\n").split("\t")
        qrels.setdefault(qid, {})[did] = int(score)
    return corpus, queries, qrels


class FtsBm25:
    """BM25 as SQLite's FTS5 ``bm25()`` scores it: per query term, the columns' weighted
    counts summed, the row's length over all columns, idf log((N - n + .5) / (n + .5)) with
    a floor of 1e-6."""

    def __init__(self, docs: dict[str, tuple[list[str], list[str]]]) -> None:
        self.ids = list(docs)
        self.freqs: list[Counter[str]] = []
        self.lengths: list[int] = []
        df: Counter[str] = Counter()
        for title, text in docs.values():
            counts: Counter[str] = Counter()
            for term in title:
                counts[term] += TITLE_WEIGHT
            for term in text:
                counts[term] += TEXT_WEIGHT
            self.freqs.append(counts)
            self.lengths.append(len(title) + len(text))
            df.update(counts.keys())
        n = len(self.ids)
        self.avg = sum(self.lengths) / n
        self.idf = {t: max(1e-6, math.log((n - c + 0.5) / (c + 0.5))) for t, c in df.items()}
        self.postings: dict[str, list[int]] = {}
        for i, counts in enumerate(self.freqs):
            for term in counts:
                self.postings.setdefault(term, []).append(i)

    def top(self, terms: list[str], k: int = 10) -> dict[str, float]:
        scores: dict[int, float] = {}
        for term in dict.fromkeys(terms):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i in self.postings[term]:
                f = self.freqs[i][term]
                scores[i] = scores.get(i, 0.0) + idf * f * (K1 + 1) / (
                    f + K1 * (1 - B + B * self.lengths[i] / self.avg))
        best = sorted(scores.items(), key=lambda p: (-p[1], p[0]))[:k]
        return {self.ids[i]: s for i, s in best}


def evaluate(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> tuple[float, float]:
    """Median-free means over the questions: nDCG@10 and Recall@5 (trec_eval's, as `eval`)."""
    import pytrec_eval

    wanted = {q: qrels[q] for q in run}
    measures = pytrec_eval.RelevanceEvaluator(wanted, {"ndcg_cut.10", "recall.5"}).evaluate(run)
    return (statistics.fmean(m["ndcg_cut_10"] for m in measures.values()),
            statistics.fmean(m["recall_5"] for m in measures.values()))


# -- ways of reducing words ----------------------------------------------------------------

_OLD_WORD = re.compile(r"\w+")
_CYRILLIC = re.compile(r"[а-яёәғқңөұүһі]")


def russian(text: str) -> list[str]:
    """What the index did before: every Cyrillic word through the Russian stemmer."""
    english, russian_ = lexical._stemmer("english"), lexical._stemmer("russian")
    return [(russian_ if _CYRILLIC.search(w) else english).stemWord(w)
            for w in _OLD_WORD.findall(text.lower())]


def by_word(reduce: Callable[[str], str]) -> Tokenize:
    return lambda text: [reduce(w) for w in lexical.words(text)]


def ngrams(n: int) -> Tokenize:
    def grams(text: str) -> list[str]:
        out = []
        for w in lexical.words(text):
            out.extend([w] if len(w) <= n else [w[i:i + n] for i in range(len(w) - n + 1)])
        return out
    return grams


def kazakh(w: str) -> str:
    """The chosen Kazakh reduction (lexical's constants)."""
    return lexical.kazakh_stem(w, min_stem=lexical.KAZAKH_MIN_STEM)[:lexical.KAZAKH_STEM_LETTERS]


def per_word() -> Tokenize:
    """A word with a Kazakh-only letter is Kazakh; another Cyrillic word Russian."""
    ru = lexical._stemmer("russian")

    def reduce(w: str) -> str:
        if lexical._KAZAKH_LETTER.search(w):
            return kazakh(w)
        return ru.stemWord(w) if _CYRILLIC.search(w) else w
    return by_word(reduce)


def per_text(share: float) -> Tokenize:
    """A text whose Cyrillic words have a Kazakh-only letter in over ``share`` of them is
    Kazakh: all its Cyrillic words are; else all are Russian."""
    ru = lexical._stemmer("russian")

    def tokens(text: str) -> list[str]:
        words = lexical.words(text)
        cyrillic = [w for w in words if _CYRILLIC.search(w)]
        n = sum(1 for w in cyrillic if lexical._KAZAKH_LETTER.search(w))
        is_kazakh = bool(cyrillic) and n > share * len(cyrillic)
        return [(kazakh(w) if is_kazakh else ru.stemWord(w)) if _CYRILLIC.search(w) else w
                for w in words]
    return tokens


def variants() -> dict[str, Tokenize]:
    found: dict[str, Tokenize] = {"russian": russian, "none": by_word(lambda w: w)}
    for m in (2, 3, 4, 5):
        found[f"strip-m{m}"] = by_word(lambda w, m=m: lexical.kazakh_stem(w, min_stem=m))
    for k in (4, 5, 6, 7, 8):
        found[f"prefix{k}"] = by_word(lambda w, k=k: w[:k])
    for m in (3, 4):
        for k in (6, 7, 8):
            found[f"strip-m{m}-prefix{k}"] = by_word(
                lambda w, m=m, k=k: lexical.kazakh_stem(w, min_stem=m)[:k])
    for n in (3, 4, 5):
        found[f"ngram{n}"] = ngrams(n)
    return found


def rules() -> dict[str, Tokenize]:
    return {
        "per-word": per_word(),
        "per-text (share 0.02)": per_text(0.02),
        "per-text (share 0.10)": per_text(0.10),
        "lexical.stems, no label: per-text (lower-case words, the first, function words),"
        " else per-word": lexical.stems,
    }


def measure(tokenize: Tokenize, corpus: dict[str, tuple[str, str]], queries: list[tuple[str, str]],
            qrels: dict[str, dict[str, int]], stop: frozenset[str],
            passages: Tokenize | None = None) -> dict[str, tuple[float, float]]:
    """nDCG@10 and R@5 of each half and of all questions; the query's words in ``stop``
    are dropped first (as :func:`lexical.stems` does, deciding the text's language before).
    ``passages`` reduces the passages' words when they are read otherwise than questions."""
    reduce = passages or tokenize
    bm25 = FtsBm25({d: (reduce(title), reduce(text)) for d, (title, text) in corpus.items()})
    runs: dict[str, dict[str, dict[str, float]]] = {"tune": {}, "held-out": {}, "all": {}}
    for n, (qid, text) in enumerate(queries):
        if qid not in qrels:
            continue
        # Stop words are dropped before stemming, as lexical.stems(drop_stopwords=True) does.
        if tokenize is lexical.stems:
            terms = [t for w, t in zip(lexical.words(text), lexical.stems(text), strict=True)
                     if w not in stop]
        else:
            terms = tokenize(" ".join(w for w in lexical.words(text) if w not in stop))
        found = bm25.top(terms) or {"-": 0.0}
        runs["tune" if n % 2 == 0 else "held-out"][qid] = found
        runs["all"][qid] = found
    return {part: evaluate(run, qrels) for part, run in runs.items()}


def table(rows: dict[str, dict[str, tuple[float, float]]]) -> str:
    lines = ["| words reduced by | tune nDCG@10 | tune R@5 | held-out nDCG@10 | held-out R@5 "
             "| all nDCG@10 | all R@5 |", "|---|---|---|---|---|---|---|"]
    for name, parts in rows.items():
        cells = " | ".join(f"{parts[p][0]:.3f} | {parts[p][1]:.3f}" for p in ("tune", "held-out", "all"))
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args()
    corpus, queries, qrels = load(args.data)
    stop = lexical.stopwords()
    out = [f"KazQAD {args.data.name}: {len(queries)} questions "
           f"({sum(1 for n, _ in enumerate(queries) if n % 2 == 0)} tune, the rest held out), "
           f"{len(corpus)} passages; BM25 as FTS5 scores it.", "", "### Ways of reducing a word", "",
           "Every word of passage and question reduced alike; the question's stop words "
           "(English, Russian and Kazakh: lexical.stopwords) dropped first, but in the first row.", ""]
    from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_RUSSIAN

    english_russian = frozenset(STOPWORDS_EN_PLUS) | frozenset(STOPWORDS_RUSSIAN)
    # The index before, as a whole: the Russian stemmer and its stop words (no Kazakh ones).
    rows = {"russian, English and Russian stop words (before)":
            measure(russian, corpus, queries, qrels, english_russian)}
    for name, tok in variants().items():
        rows[name] = measure(tok, corpus, queries, qrels, stop)
        print(name, rows[name], file=sys.stderr, flush=True)
    out.append(table(rows))
    best = max(rows, key=lambda name: rows[name]["tune"][0])
    out += ["", f"Best on the tune half (nDCG@10): **{best}**.", "",
            f"### Which words are Kazakh (each: strip-m{lexical.KAZAKH_MIN_STEM}-prefix"
            f"{lexical.KAZAKH_STEM_LETTERS})", ""]
    ruled = {name: measure(tok, corpus, queries, qrels, stop) for name, tok in rules().items()}
    # What the index does: a passage is stemmed with its document's language, which the
    # reader detects (py3langid: "kk" for 694 of KazQAD's 697 passages), a question without.
    ruled["lexical.stems, passages labelled kk (the index's own)"] = measure(
        lexical.stems, corpus, queries, qrels, stop, passages=lambda text: lexical.stems(text, lang="kk"))
    out.append(table(ruled))
    out += ["", "### Stop words dropped from the question (lexical.stems, passages labelled kk)", ""]

    def labelled(text: str) -> list[str]:
        return lexical.stems(text, lang="kk")
    out.append(table({
        "English and Russian (bm25s)": measure(lexical.stems, corpus, queries, qrels, english_russian,
                                               passages=labelled),
        f"and {len(lexical.KAZAKH_STOPWORDS)} Kazakh function words (lexical.KAZAKH_STOPWORDS)":
            measure(lexical.stems, corpus, queries, qrels, stop, passages=labelled),
    }))
    text = "\n".join(out) + "\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
