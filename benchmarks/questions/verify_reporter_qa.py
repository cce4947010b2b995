#!/usr/bin/env python3
"""Verify the reporter-style development question set reporter_qa.jsonl against the real archives.

Run from the project root:  .venv/bin/python benchmarks/questions/verify_reporter_qa.py [path]
(add --partial to skip the minimum-count checks while the set is being written)

The archives are read (never copied) from ../shared/data relative to the project root; only the
short answer keywords of the questions come from them. Exits non-zero on any failure and prints
the counts per kind, archive and split.

Record fields: id, archive, kind, question, gold_doc_ids, answer_keywords, answer_type, follows,
period, split; plus "explicit" on follow-up questions and "part_keywords" on "twopart" questions.

Kinds (id prefix rq-<code>-NNN): howmany (hm), twopart (tp), long (lg), when (wh),
unanswerable (un), ru_en (ru), which (wc), followup (fu).  A follow-up question is any question
with follows set; its kind is "followup" for a generic follow-up, or the kind it also is
(e.g. a "How much did they pay?" follow-up is kind howmany).

Checks (each failure makes the script exit non-zero):

* every line is a JSON object with exactly the expected fields and types; ids unique and of the
  form rq-<code>-NNN with the code of the kind; archive mn_ag | kremlin | srilanka | fomc;
* answer_type is one of number, amount, date, person, organisation, place, yes_no, free
  (a list of two such values for twopart); howmany questions are number/amount, when questions
  date;
* every gold id exists in its archive (Sri Lanka: only English records, lang == "en");
  unanswerable: gold ids and keywords empty; the others: 1 gold id (twopart, ru_en, followup:
  1-2) and 1-3 short keywords (twopart: 2-6);
* every answer keyword occurs literally (case-insensitive) in the `text` of EVERY gold release;
* twopart: part_keywords is two non-empty keyword lists whose union is answer_keywords;
* long: 25 to 45 words (whitespace-separated tokens); howmany contains "how many"/"how much";
  when contains "when" and its keyword looks like a date (month name or year); which contains
  "which"; ru_en is written in Russian (mostly Cyrillic letters) and its keywords are not;
* period is null or an inclusive [start, end] ISO date pair containing every gold release's date;
* follows is null or the id of an EARLIER question of the same archive that is not unanswerable
  and is not itself a follow-up; a follow-up has a non-empty "explicit" variant (the same
  question spelled out without needing the history), others have none; kind "followup" must
  follow something;
* own words: no run of 5 consecutive words of a question (or its explicit variant) occurs in the
  title, subtitle, summary or text of any of its gold releases (for a follow-up, also of the
  gold releases of the question it follows);
* no reuse of press_qa.jsonl: no question may share a gold release AND an answer keyword with a
  press_qa.jsonl question, nor have a word-set overlap (Jaccard) >= 0.6 with a press_qa question;
  the number of questions touching a press_qa gold release at all is reported;
* every unanswerable question has an entry in UNANSWERABLE_ABSENT, and no release in any archive
  contains all the terms of any of its term groups;
* minimum counts per kind, >= 10 follow-up pairs, >= 2 follow-ups of each of howmany, twopart,
  long, when, ru_en, which; >= 170 questions; every kind but followup has questions from all
  four archives;
* split rule (deterministic, stratified by kind): take the questions with follows == null,
  group them by kind, sort each group by id, and assign "tune", "heldout", "tune", ... in that
  order; a follow-up takes the split of the question it follows (pairs stay together). The
  split field must equal this rule, and within every kind (follow-ups included)
  |tune - heldout| <= 2.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve()
PROJECT_ROOT = HERE.parents[2]
sys.path.insert(0, str(HERE.parent))
# The archives, their loading and the own-words helpers are the press set checker's.
from verify_questions import (  # noqa: E402
    ARCHIVE_FILES,
    NGRAM,
    load_archives,
    ngrams,
    norm_quotes,
    parse_date,
    release_fulltext,
    words,
)

from assistant.planning import ANSWER_TYPES as PLANNED_TYPES  # noqa: E402

QFILE = HERE.with_name("reporter_qa.jsonl")
PRESS_QA = HERE.with_name("press_qa.jsonl")

KIND_CODES = {"howmany": "hm", "twopart": "tp", "long": "lg", "when": "wh",
              "unanswerable": "un", "ru_en": "ru", "which": "wc", "followup": "fu"}
KINDS = list(KIND_CODES)
ANSWER_TYPES = set(PLANNED_TYPES)  # what the planner can say a question wants
REQUIRED = ["id", "archive", "kind", "question", "gold_doc_ids", "answer_keywords", "answer_type",
            "follows", "period", "split"]
MIN_COUNTS = {"howmany": 25, "twopart": 25, "long": 20, "when": 20, "unanswerable": 25,
              "ru_en": 20, "which": 10}
MIN_FOLLOWUP_PAIRS = 10
MIN_FOLLOWUPS_OF_KIND = {"howmany": 2, "twopart": 2, "long": 2, "when": 2, "ru_en": 2, "which": 2}
MIN_TOTAL = 170
LONG_WORDS = (25, 45)
MAX_SPLIT_GAP = 2
MAX_KEYWORD_CHARS = 40
REUSE_JACCARD = 0.6
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")

# For each unanswerable question: groups of terms; a release containing ALL terms of a group
# (case-insensitive) would mean the archives may answer it after all.
UNANSWERABLE_ABSENT: dict[str, list[list[str]]] = {
    "rq-un-001": [["Menards", "rebate"]],
    "rq-un-002": [["Polaris"]],
    "rq-un-003": [["Hy-Vee"]],
    "rq-un-004": [["Best Buy"]],
    "rq-un-005": [["Sun Country"]],
    "rq-un-006": [["Hormel"]],
    "rq-un-007": [["Coinbase"]],
    "rq-un-008": [["Ardern"], ["New Zealand", "Putin", "telephone"]],
    "rq-un-009": [["Truss"]],
    "rq-un-010": [["Grand Prix"], ["Sochi Autodrom"]],
    "rq-un-011": [["Tsikhanouskaya"], ["Tsikhanovskaya"], ["Tikhanovskaya"]],
    "rq-un-012": [["Crimean bridge"], ["Kerch", "explosion"]],
    "rq-un-013": [["Tehran", "summit"], ["Raisi", "Erdogan", "Syria"]],
    "rq-un-014": [["Mattala"]],
    "rq-un-015": [["Lotus Tower"]],
    "rq-un-016": [["Hikkaduwa"]],
    "rq-un-017": [["Sigiriya"]],
    "rq-un-018": [["Port City", "casino"]],
    "rq-un-019": [["Wickremesinghe", "arrest"], ["Ranil", "arrest"]],
    "rq-un-020": [["Federal Open Market Committee", "2017"]],
    "rq-un-021": [["negative interest"], ["Federal Open Market Committee", "below zero"]],
    "rq-un-022": [["yield curve control"]],
    "rq-un-023": [["Brexit"], ["Federal Open Market Committee", "referendum"]],
    "rq-un-024": [["1987", "federal funds"], ["Black Monday"]],
    "rq-un-025": [["Lehman Brothers"]],
    "rq-un-026": [["Arctic Cat"]],
    "rq-un-027": [["Minnesota Vikings"]],
}

# Multi-word proper names that may legitimately be repeated verbatim (stripped before the
# 5-word check). Keep this list short.
ALLOWED_NAME_RUNS: list[str] = [
]


CYR = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z]")


def load_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def expected_splits(questions: list[dict]) -> dict[str, str]:
    """The split rule: alternate tune/heldout within each kind over the questions that follow
    nothing, sorted by id; a follow-up takes the split of the question it follows."""
    out: dict[str, str] = {}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for q in questions:
        if q.get("follows") is None:
            by_kind[str(q.get("kind"))].append(str(q.get("id")))
    for ids in by_kind.values():
        for i, qid in enumerate(sorted(ids)):
            out[qid] = "tune" if i % 2 == 0 else "heldout"
    ids = {str(q.get("id")): q for q in questions}
    for q in questions:
        qid, root, hops = str(q.get("id")), q, 0
        while root.get("follows") is not None and root.get("follows") in ids and hops < 10:
            root, hops = ids[root["follows"]], hops + 1
        if root.get("follows") is None and str(root.get("id")) in out:
            out[qid] = out[str(root.get("id"))]
    return out


def strip_names(s: str) -> str:
    s = norm_quotes(s)
    for name in ALLOWED_NAME_RUNS:
        s = re.sub(re.escape(name), " ", s, flags=re.I)
    return s


def main(argv: list[str]) -> int:
    paths = [a for a in argv[1:] if not a.startswith("--")]
    qfile = Path(paths[0]) if paths else QFILE
    archives = load_archives()
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

    # press_qa.jsonl: gold ids -> keyword sets, and question word sets (no-reuse rule)
    press = load_jsonl(PRESS_QA) if PRESS_QA.exists() else []
    press_gold_kws: dict[tuple[str, str], set[str]] = defaultdict(set)
    for p in press:
        for g in p.get("gold_doc_ids") or []:
            press_gold_kws[(p.get("archive"), g)] |= {k.lower() for k in p.get("answer_keywords") or []}
    press_wordsets = [(p.get("id"), set(words(p.get("question") or ""))) for p in press]

    seen: dict[str, dict] = {}
    order: dict[str, int] = {}
    for i, q in enumerate(questions):
        qid = str(q.get("id"))
        for f in REQUIRED:
            if f not in q:
                bad(qid, f"missing field {f!r}")
        allowed = set(REQUIRED) | {"explicit", "part_keywords"}
        extra = set(q) - allowed
        if extra:
            bad(qid, f"unexpected fields {sorted(extra)}")
        if qid in seen:
            bad(qid, "duplicate id")
        seen[qid] = q
        order[qid] = i

    counts: Counter = Counter()
    per_archive_kind: Counter = Counter()
    split_counts: Counter = Counter()
    followup_pairs = 0
    followups_of_kind: Counter = Counter()
    touching_press = 0
    splits = expected_splits(questions)

    for q in questions:
        qid = str(q.get("id"))
        arch, kind = q.get("archive"), q.get("kind")
        if arch not in archives:
            bad(qid, f"unknown archive {arch!r}")
            continue
        if kind not in KIND_CODES:
            bad(qid, f"unknown kind {kind!r}")
            continue
        if not re.fullmatch(rf"rq-{KIND_CODES[kind]}-\d{{3}}", qid):
            bad(qid, f"id must look like rq-{KIND_CODES[kind]}-NNN for kind {kind}")
        counts[kind] += 1
        per_archive_kind[(arch, kind)] += 1
        docs = archives[arch]
        question = q.get("question")
        if not isinstance(question, str) or len(question.strip()) < 10:
            bad(qid, "question missing or too short")
            question = ""
        ql = question.lower()
        gold = q.get("gold_doc_ids")
        kws = q.get("answer_keywords")
        if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
            bad(qid, "gold_doc_ids must be a list of strings")
            gold = []
        if not isinstance(kws, list) or not all(isinstance(k, str) and k.strip() for k in kws):
            bad(qid, "answer_keywords must be a list of non-empty strings")
            kws = []
        if len(set(gold)) != len(gold):
            bad(qid, "duplicate gold ids")
        if len({k.lower() for k in kws}) != len(kws):
            bad(qid, "duplicate keywords")
        for k in kws:
            if len(k) > MAX_KEYWORD_CHARS:
                bad(qid, f"keyword too long (> {MAX_KEYWORD_CHARS} chars): {k!r}")

        # answer_type
        at = q.get("answer_type")
        if kind == "twopart":
            if not (isinstance(at, list) and len(at) == 2 and all(a in ANSWER_TYPES for a in at)):
                bad(qid, f"twopart answer_type must be a list of two of {sorted(ANSWER_TYPES)}")
        elif at not in ANSWER_TYPES:
            bad(qid, f"answer_type {at!r} not one of {sorted(ANSWER_TYPES)}")
        if kind == "howmany" and at not in ("number", "amount"):
            bad(qid, "howmany answer_type must be number or amount")
        if kind == "when" and at != "date":
            bad(qid, "when answer_type must be date")

        # shape per kind
        if kind == "unanswerable":
            if gold or kws:
                bad(qid, "unanswerable question must have empty gold_doc_ids and answer_keywords")
        else:
            max_gold = 2 if kind in ("twopart", "ru_en", "followup") else 1
            if not 1 <= len(gold) <= max_gold:
                bad(qid, f"{kind} needs 1-{max_gold} gold ids, has {len(gold)}")
            lo, hi = (2, 6) if kind == "twopart" else (1, 3)
            if not lo <= len(kws) <= hi:
                bad(qid, f"{kind} needs {lo}-{hi} keywords, has {len(kws)}")

        if kind == "twopart":
            pk = q.get("part_keywords")
            if (not isinstance(pk, list) or len(pk) != 2
                    or not all(isinstance(p, list) and p and all(isinstance(k, str) for k in p) for p in pk)):
                bad(qid, "part_keywords must be a list of two non-empty keyword lists")
            else:
                union = {k.lower() for p in pk for k in p}
                if union != {k.lower() for k in kws}:
                    bad(qid, "answer_keywords must be the union of part_keywords")
        elif "part_keywords" in q:
            bad(qid, "part_keywords only belongs on twopart questions")

        # surface form per kind
        if kind == "long":
            n = len(question.split())
            if not LONG_WORDS[0] <= n <= LONG_WORDS[1]:
                bad(qid, f"long question has {n} words, needs {LONG_WORDS[0]}-{LONG_WORDS[1]}")
        if kind == "howmany" and "how many" not in ql and "how much" not in ql:
            bad(qid, "howmany question must ask 'how many' or 'how much'")
        if kind == "when":
            if "when" not in words(question):
                bad(qid, "when question must ask 'when'")
            if not any(re.search(rf"\b({'|'.join(MONTHS)})\b|\b1[89]\d\d\b|\b20\d\d\b", k.lower())
                       for k in kws):
                bad(qid, "when question needs a date keyword (month name or year)")
        if kind == "which" and "which" not in words(question):
            bad(qid, "which question must ask 'which'")
        if kind == "ru_en":
            cyr, lat = len(CYR.findall(question)), len(LATIN.findall(question))
            if cyr < 3 * max(lat, 1):
                bad(qid, f"ru_en question must be in Russian (cyrillic {cyr}, latin {lat})")
            for k in kws:
                if CYR.search(k):
                    bad(qid, f"ru_en keyword must be English as in the release: {k!r}")

        # gold ids exist, keywords in every gold text
        gold_docs = []
        for g in gold:
            r = docs.get(g)
            if r is None:
                bad(qid, f"gold id {g!r} not in archive {arch}")
                continue
            if arch == "srilanka" and r.get("lang") != "en":
                bad(qid, f"gold id {g!r} is not an English record (lang={r.get('lang')!r})")
            gold_docs.append(r)
        for r in gold_docs:
            text = (r.get("text") or "").lower()
            for k in kws:
                if k.lower() not in text:
                    bad(qid, f"keyword {k!r} not in text of {r['id']}")

        # no reuse of press_qa.jsonl
        if any((arch, g) in press_gold_kws for g in gold):
            touching_press += 1
            for g in gold:
                shared = press_gold_kws.get((arch, g), set()) & {k.lower() for k in kws}
                if shared:
                    bad(qid, f"reuses a press_qa fact: gold {g} with keywords {sorted(shared)}")
        qset = set(words(question))
        for pid, pset in press_wordsets:
            if qset and pset and len(qset & pset) / len(qset | pset) >= REUSE_JACCARD:
                bad(qid, f"question too close to press_qa {pid}")

        # period
        period = q.get("period")
        if period is not None:
            if (not isinstance(period, list) or len(period) != 2
                    or not all(isinstance(p, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", p) for p in period)):
                bad(qid, f"period must be null or ['YYYY-MM-DD','YYYY-MM-DD'], got {period!r}")
            else:
                try:
                    start, end = parse_date(period[0]), parse_date(period[1])
                except ValueError as e:
                    bad(qid, f"bad period date: {e}")
                else:
                    if start > end:
                        bad(qid, "period start after end")
                    for r in gold_docs:
                        d = parse_date(r["date"])
                        if not start <= d <= end:
                            bad(qid, f"gold {r['id']} dated {d} outside period {period}")

        # follow-ups
        follows = q.get("follows")
        prev_docs: list[dict] = []
        if follows is not None:
            prev = seen.get(follows)
            if prev is None:
                bad(qid, f"follows unknown id {follows!r}")
            else:
                if order[follows] >= order[qid]:
                    bad(qid, "follows a question that comes later in the file")
                if prev.get("follows") is not None:
                    bad(qid, "follows a question that is itself a follow-up")
                if prev.get("kind") == "unanswerable":
                    bad(qid, "follows an unanswerable question")
                if prev.get("archive") != arch:
                    bad(qid, "follows a question of another archive")
                prev_docs = [docs[g] for g in prev.get("gold_doc_ids") or [] if g in docs]
            explicit = q.get("explicit")
            if not isinstance(explicit, str) or len(explicit.strip()) < 10:
                bad(qid, "follow-up question needs an 'explicit' variant")
            followup_pairs += 1
            if kind != "followup":
                followups_of_kind[kind] += 1
        else:
            if kind == "followup":
                bad(qid, "kind followup must set follows")
            if "explicit" in q:
                bad(qid, "'explicit' only belongs on follow-up questions")

        # own words: no 5-word run from the gold releases (or the followed question's releases)
        src_docs = gold_docs + prev_docs
        if src_docs:
            src: set = set()
            for r in src_docs:
                src |= ngrams(words(release_fulltext(r)))
            for label, s in (("question", question), ("explicit", q.get("explicit") or "")):
                hits = ngrams(words(strip_names(s))) & src
                if hits:
                    bad(qid, f"{label} copies a {NGRAM}-word run from a gold release: "
                             + "; ".join(" ".join(h) for h in sorted(hits)[:3]))

        # unanswerable really absent
        if kind == "unanswerable":
            groups = UNANSWERABLE_ABSENT.get(qid)
            if not groups:
                bad(qid, "no absence terms registered in UNANSWERABLE_ABSENT")
            else:
                for group in groups:
                    for aname, adocs in archives.items():
                        hit = next((r for r in adocs.values()
                                    if all(t.lower() in release_fulltext(r).lower() for t in group)), None)
                        if hit is not None:
                            bad(qid, f"absence terms {group} found in {aname}:{hit['id']}")

        # split
        sp = q.get("split")
        if sp not in ("tune", "heldout"):
            bad(qid, f"split must be tune or heldout, got {sp!r}")
        elif splits.get(qid) != sp:
            bad(qid, f"split {sp!r} breaks the rule (expected {splits.get(qid)!r})")
        split_counts[(kind, sp)] += 1

    for qid in UNANSWERABLE_ABSENT:
        if qid not in seen:
            bad(qid, "listed in UNANSWERABLE_ABSENT but not in the question file")

    # counts
    complete = "--partial" not in argv
    if complete:
        for kind, m in MIN_COUNTS.items():
            if counts[kind] < m:
                problems.append(f"count: {kind} has {counts[kind]}, needs >= {m}")
        if followup_pairs < MIN_FOLLOWUP_PAIRS:
            problems.append(f"count: {followup_pairs} follow-up pairs, needs >= {MIN_FOLLOWUP_PAIRS}")
        for kind, m in MIN_FOLLOWUPS_OF_KIND.items():
            if followups_of_kind[kind] < m:
                problems.append(f"count: {followups_of_kind[kind]} follow-ups of kind {kind}, needs >= {m}")
        if len(questions) < MIN_TOTAL:
            problems.append(f"count: {len(questions)} questions, needs >= {MIN_TOTAL}")
        for kind in KINDS:
            if kind == "followup":
                continue
            for arch in ARCHIVE_FILES:
                if per_archive_kind[(arch, kind)] == 0:
                    problems.append(f"count: kind {kind} has no question from {arch}")
    for kind in KINDS:
        t, h = split_counts[(kind, "tune")], split_counts[(kind, "heldout")]
        if abs(t - h) > MAX_SPLIT_GAP:
            problems.append(f"split: kind {kind} has tune {t} vs heldout {h} (gap > {MAX_SPLIT_GAP})")

    # report
    print(f"{len(questions)} questions in {qfile.name}  (follow-up pairs: {followup_pairs}; "
          f"follow-ups by kind: {dict(sorted(followups_of_kind.items()))})")
    print(f"{'kind':13s} " + " ".join(f"{a:>9s}" for a in ARCHIVE_FILES)
          + f" {'tune':>6s} {'heldout':>8s} {'total':>6s}")
    for kind in KINDS:
        row = [per_archive_kind[(a, kind)] for a in ARCHIVE_FILES]
        print(f"{kind:13s} " + " ".join(f"{v:9d}" for v in row)
              + f" {split_counts[(kind, 'tune')]:6d} {split_counts[(kind, 'heldout')]:8d} {counts[kind]:6d}")
    tt = sum(v for (k, s), v in split_counts.items() if s == "tune")
    th = sum(v for (k, s), v in split_counts.items() if s == "heldout")
    arow = [sum(per_archive_kind[(a, k)] for k in KINDS) for a in ARCHIVE_FILES]
    print(f"{'all':13s} " + " ".join(f"{v:9d}" for v in arow) + f" {tt:6d} {th:8d} {len(questions):6d}")
    print(f"questions touching a press_qa.jsonl gold release (different facts): {touching_press}")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  -", p)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
