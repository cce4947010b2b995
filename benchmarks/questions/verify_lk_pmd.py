#!/usr/bin/env python3
"""Verify the trilingual Sri Lanka PMD known-item set lk_pmd_multilingual.jsonl (issue 19).

Run from anywhere:  python benchmarks/questions/verify_lk_pmd.py [path/to/lk_pmd_multilingual.jsonl]

The archive is read (never copied) from
../shared/data/srilanka_pmd_press_releases/press_releases.jsonl relative to the project root.
Every question is asked three times (English, Sinhala, Tamil) about one release that the archive
publishes in the three languages under three ids. Checks, each of which makes the script exit
non-zero when it fails:

* every line is valid JSON with exactly the expected fields; ids lkpmd-NN are unique;
  archive == "lk_pmd"; split is "tune" or "heldout" and the two halves are equal in size;
* gold_doc_ids == [translations["en"]]; every translation id exists, carries the language code
  of its key (en/si/ta), and all versions of one question share the same date; a version may be
  null only when the release has no version in that language (then its keywords must be empty);
  no release is the translation of two questions;
* the translations really are one release: the numbers (digit strings) of each Sinhala/Tamil
  version overlap those of its English version at least as much as those of any other English
  release of the same date, and by at least MIN_NUM_OVERLAP when both have numbers;
* every answer keyword occurs verbatim (exact substring, NFC) in the title or text of the version
  in its language; English keywords are required (1-3), Sinhala/Tamil ones are optional (0-3);
* own words: no run of NGRAM consecutive words of a question occurs in the title or text of the
  version in the same language (Sinhala and Tamil are tokenised on whole words, keeping their
  vowel signs and virama, which Python's \\w alone would split on).

Informational (not a failure): how many English releases contain each English keyword, to spot
facts shared by many releases.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve()
PROJECT_ROOT = HERE.parents[2]
ARCHIVE = PROJECT_ROOT.parent / "shared" / "data" / "srilanka_pmd_press_releases" / "press_releases.jsonl"
QFILE = HERE.with_name("lk_pmd_multilingual.jsonl")

LANGS = ("en", "si", "ta")
QUESTION_FIELD = {"en": "question", "si": "question_si", "ta": "question_ta"}
KEYWORD_FIELD = {"en": "answer_keywords", "si": "answer_keywords_si", "ta": "answer_keywords_ta"}
FIELDS = {"id", "archive", "question", "question_si", "question_ta", "gold_doc_ids", "translations",
          "answer_keywords", "answer_keywords_si", "answer_keywords_ta", "split"}
SPLITS = {"tune", "heldout"}
MIN_QUESTIONS = 30          # the target is stated over 30 English questions
NGRAM = 6
MIN_NUM_OVERLAP = 0.3

# Word characters plus the Sinhala (U+0D80-0DFF) and Tamil (U+0B80-0BFF) blocks and the
# zero-width (non-)joiners used in Sinhala conjuncts: a vowel sign or virama is not \w in
# Python, so \w+ alone would cut "ජනාධිපති" into fragments and miss copied runs.
WORD = re.compile(r"[\w\u0B80-\u0BFF\u0D80-\u0DFF\u200c\u200d]+(?:'[\w\u0B80-\u0BFF\u0D80-\u0DFF]+)*")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def norm(s: str) -> str:
    s = unicodedata.normalize("NFC", s)
    return s.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


def words(s: str) -> list[str]:
    return WORD.findall(norm(s).lower())


def ngrams(ws: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def fulltext(r: dict) -> str:
    return norm(f"{r.get('title') or ''}\n{r.get('text') or ''}")


def numbers(r: dict) -> Counter:
    return Counter(NUMBER.findall(r.get("text") or ""))


def num_overlap(a: Counter, b: Counter) -> float | None:
    union = sum((a | b).values())
    return None if union == 0 else sum((a & b).values()) / union


def load_archive() -> dict[str, dict]:
    if not ARCHIVE.exists():
        sys.exit(f"archive file missing: {ARCHIVE} (the data lives in ../shared/data)")
    docs: dict[str, dict] = {}
    with ARCHIVE.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                docs[r["id"]] = r
    return docs


def main(argv: list[str]) -> int:
    qfile = Path(argv[1]) if len(argv) > 1 else QFILE
    docs = load_archive()
    en_by_date: dict[str, list[dict]] = defaultdict(list)
    for r in docs.values():
        if r.get("lang") == "en":
            en_by_date[r["date"]].append(r)
    problems: list[str] = []

    def bad(qid: str, msg: str) -> None:
        problems.append(f"{qid}: {msg}")

    questions: list[dict] = []
    with qfile.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                bad(f"line {n}", "empty line")
                continue
            try:
                q = json.loads(line)
            except json.JSONDecodeError as e:
                bad(f"line {n}", f"invalid JSON: {e}")
                continue
            if not isinstance(q, dict):
                bad(f"line {n}", "not a JSON object")
                continue
            questions.append(q)

    seen_ids: set[str] = set()
    used_versions: dict[str, str] = {}
    splits: Counter = Counter()
    missing_versions: list[str] = []
    shared_report: list[tuple[int, str, str]] = []

    for q in questions:
        qid = str(q.get("id"))
        if set(q) != FIELDS:
            bad(qid, f"fields differ: missing {sorted(FIELDS - set(q))}, "
                     f"unexpected {sorted(set(q) - FIELDS)}")
            continue
        if not re.fullmatch(r"lkpmd-\d{2,3}", qid):
            bad(qid, "id must look like lkpmd-NN")
        if qid in seen_ids:
            bad(qid, "duplicate id")
        seen_ids.add(qid)
        if q["archive"] != "lk_pmd":
            bad(qid, f"archive must be 'lk_pmd', got {q['archive']!r}")
        if q["split"] not in SPLITS:
            bad(qid, f"split must be one of {sorted(SPLITS)}")
        splits[q["split"]] += 1

        tr = q["translations"]
        if not isinstance(tr, dict) or set(tr) != set(LANGS):
            bad(qid, "translations must map exactly en, si, ta to ids (or null)")
            continue
        if not isinstance(tr["en"], str):
            bad(qid, "translations.en must be an id")
            continue
        if q["gold_doc_ids"] != [tr["en"]]:
            bad(qid, "gold_doc_ids must be [translations.en]")

        versions: dict[str, dict] = {}
        for lang in LANGS:
            vid = tr[lang]
            if vid is None:
                missing_versions.append(f"{qid} {lang}")
                continue
            r = docs.get(vid)
            if r is None:
                bad(qid, f"{lang} id {vid!r} not in the archive")
                continue
            if r.get("lang") != lang:
                bad(qid, f"{lang} id {vid!r} has lang {r.get('lang')!r}")
            if vid in used_versions:
                bad(qid, f"{vid} is already the {lang} version of {used_versions[vid]}")
            used_versions[vid] = qid
            versions[lang] = r
        if "en" not in versions:
            continue
        en = versions["en"]
        for lang, r in versions.items():
            if r["date"] != en["date"]:
                bad(qid, f"{lang} version dated {r['date']}, English {en['date']}")

        # the Sinhala/Tamil version belongs to this English release, not a same-day neighbour
        en_nums = numbers(en)
        for lang in ("si", "ta"):
            r = versions.get(lang)
            if r is None:
                continue
            mine = num_overlap(en_nums, numbers(r))
            if mine is None:
                continue
            if mine < MIN_NUM_OVERLAP:
                bad(qid, f"{lang} version shares few numbers with the English one ({mine:.2f})")
            for other in en_by_date[en["date"]]:
                if other["id"] == en["id"]:
                    continue
                theirs = num_overlap(numbers(other), numbers(r))
                if theirs is not None and theirs > mine:
                    bad(qid, f"{lang} version {r['id']} matches {other['id']} better "
                             f"({theirs:.2f} > {mine:.2f})")

        for lang in LANGS:
            kws = q[KEYWORD_FIELD[lang]]
            question = q[QUESTION_FIELD[lang]]
            if not isinstance(kws, list) or not all(isinstance(k, str) and k.strip() for k in kws):
                bad(qid, f"{KEYWORD_FIELD[lang]} must be a list of non-empty strings")
                kws = []
            lo = 1 if lang == "en" else 0
            if not lo <= len(kws) <= 3:
                bad(qid, f"{KEYWORD_FIELD[lang]} needs {lo}-3 keywords, has {len(kws)}")
            if not isinstance(question, str) or len(question.strip()) < 10:
                bad(qid, f"{QUESTION_FIELD[lang]} missing or too short")
                continue
            r = versions.get(lang)
            if r is None:
                if kws:
                    bad(qid, f"{KEYWORD_FIELD[lang]} given but there is no {lang} version")
                continue
            text = fulltext(r)
            for k in kws:
                if norm(k) not in text:
                    bad(qid, f"{lang} keyword {k!r} not verbatim in {r['id']}")
            hits = ngrams(words(question)) & ngrams(words(text))
            if hits:
                bad(qid, f"{QUESTION_FIELD[lang]} copies a {NGRAM}-word run from {r['id']}: "
                         + "; ".join(" ".join(h) for h in sorted(hits)[:2]))
            if lang == "en":
                for k in kws:
                    n_docs = sum(norm(k) in fulltext(d) for d in docs.values() if d.get("lang") == "en")
                    shared_report.append((n_docs, qid, k))

    if len(questions) < MIN_QUESTIONS:
        problems.append(f"count: {len(questions)} questions, needs >= {MIN_QUESTIONS}")
    if splits["tune"] != splits["heldout"]:
        problems.append(f"split: {splits['tune']} tune vs {splits['heldout']} heldout, must be equal")

    print(f"{len(questions)} questions in {qfile.name}: {splits['tune']} tune, {splits['heldout']} heldout")
    dates = sorted(docs[q["translations"]["en"]]["date"] for q in questions
                   if isinstance(q.get("translations"), dict) and q["translations"].get("en") in docs)
    if dates:
        print(f"dates {dates[0]} .. {dates[-1]}, months covered: {len({d[:7] for d in dates})}")
    print("versions missing: " + (", ".join(missing_versions) if missing_versions else "none"))
    common = sorted(shared_report, reverse=True)[:5]
    print("English keywords found in most English releases (informational): "
          + ", ".join(f"{k!r} {n} ({qid})" for n, qid, k in common))
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  -", p)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
