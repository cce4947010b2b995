#!/usr/bin/env python3
"""Verify the hand-written gold question set press_qa.jsonl against the real archives.

Run from anywhere:  python benchmarks/questions/verify_questions.py [path/to/press_qa.jsonl]

The archives are read (never copied) from ../shared/data relative to the project root.
Checks, each of which makes the script exit non-zero when it fails:

* every line is valid JSON with the expected fields and types; ids are unique;
* archive is one of mn_ag | kremlin | srilanka | fomc, kind one of the six kinds;
* every gold id exists in its archive (Sri Lanka: only English records, lang == "en");
* gold/keyword shape per kind (unanswerable: both empty; list: 2-25 gold ids, 0-3 keywords;
  the others: >= 1 gold id and 1-3 keywords);
* every answer keyword occurs literally (case-insensitive) in the `text` field of EVERY gold release;
* period is null or an inclusive [start, end] ISO date pair containing every gold release's date;
  "dated" questions must have one;
* follows is null or points to an earlier "followup" question of the same archive that itself has
  follows == null; every follow-up second question has a non-empty "explicit" variant;
* no run of 5 consecutive words of a question (or of its "explicit" variant) occurs in the title,
  subtitle, summary or text of any of its gold releases (own-words rule);
* every unanswerable question has an entry in UNANSWERABLE_ABSENT, and no release in any archive
  contains all the terms of any of its term groups (the key entity/event is really absent);
* minimum counts per kind (and >= 20 factoid questions per archive).

Paraphrase questions additionally get an informational lexical-overlap figure (not a failure).
"""
from __future__ import annotations

import datetime as dt
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve()
PROJECT_ROOT = HERE.parents[2]
DATA = PROJECT_ROOT.parent / "shared" / "data"
QFILE = HERE.with_name("press_qa.jsonl")

ARCHIVE_FILES = {
    "mn_ag": ["mn_ag_press_releases/press_releases.jsonl"],
    "kremlin": ["kremlin_ukraine_press_releases_en/putin.jsonl",
                "kremlin_ukraine_press_releases_en/zelenskyy.jsonl"],
    "srilanka": ["srilanka_pmd_press_releases/press_releases.jsonl"],
    "fomc": ["fomc_statements/fomc_statements.jsonl"],
}
KINDS = {"factoid", "paraphrase", "unanswerable", "followup", "dated", "list"}
REQUIRED = ["id", "archive", "kind", "question", "gold_doc_ids", "answer_keywords", "follows", "period"]
MIN_COUNTS = {"factoid": 100, "paraphrase": 20, "unanswerable": 20, "dated": 20, "list": 15}
MIN_FOLLOWUP_PAIRS = 20
MIN_FACTOID_PER_ARCHIVE = 20
NGRAM = 5

# For each unanswerable question: groups of terms; a release containing ALL terms of a group
# (case-insensitive) would mean the archives may answer it after all.
UNANSWERABLE_ABSENT = {
    "mnag-u01": [["Kroger"]],
    "mnag-u02": [["Kwik Trip"]],
    "mnag-u03": [["Theranos"]],
    "mnag-u04": [["Twin Cities Marathon"]],
    "mnag-u05": [["Boelter"]],
    "mnag-u06": [["Dakota Access"]],
    "krem-u01": [["Samarkand"]],
    "krem-u02": [["Grain Initiative"], ["grain", "Istanbul", "signed"]],
    "krem-u03": [["Kim Jong"]],
    "krem-u04": [["Sunak"]],
    "krem-u05": [["Wimbledon"]],
    "krem-u06": [["Mbapp"]],
    "lk-u01": [["Ditwah"]],
    "lk-u02": [["Osaka"]],
    "lk-u03": [["CHOGM"], ["Apia"], ["Commonwealth Heads of Government"]],
    "lk-u04": [["Pidurutalagala"]],
    "lk-u05": [["Hasaranga"]],
    "lk-u06": [["City of Dreams"]],
    "fomc-u01": [["Federal Open Market Committee", "2020"]],
    "fomc-u02": [["Federal Open Market Committee", "2018"]],
    "fomc-u03": [["October 8, 2008"], ["8 October 2008"], ["federal funds", "October 8"]],
    "fomc-u04": [["Federal Open Market Committee", "December 2016"], ["December 14, 2016"]],
    "fomc-u05": [["Monetary Policy Committee"], ["Bank Rate", "March 2009"]],
    "fomc-u06": [["Volcker"], ["Federal Open Market Committee", "1979"]],
}

# Multi-word proper names that may legitimately be repeated verbatim (stripped before the
# 5-word check). Keep this list short.
ALLOWED_NAME_RUNS: list[str] = [
    "Tamim bin Hamad Al Thani",
    "Ronald Reagan Freedom Award",
]


def norm_quotes(s: str) -> str:
    return s.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')


WORD = re.compile(r"\w+(?:'\w+)*", re.UNICODE)


def words(s: str) -> list[str]:
    return WORD.findall(norm_quotes(s).lower())


def ngrams(ws: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    return {tuple(ws[i:i + n]) for i in range(len(ws) - n + 1)}


def release_fulltext(r: dict) -> str:
    return " ".join(str(r.get(k) or "") for k in ("title", "subtitle", "summary", "text"))


def load_archives() -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for name, files in ARCHIVE_FILES.items():
        docs: dict[str, dict] = {}
        for rel in files:
            path = DATA / rel
            if not path.exists():
                sys.exit(f"archive file missing: {path}")
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    if line.strip():
                        r = json.loads(line)
                        docs[r["id"]] = r
        out[name] = docs
    return out


def parse_date(s: str) -> dt.date:
    return dt.date.fromisoformat(s[:10])


def main(argv: list[str]) -> int:
    qfile = Path(argv[1]) if len(argv) > 1 else QFILE
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

    seen: dict[str, dict] = {}
    order: dict[str, int] = {}
    for i, q in enumerate(questions):
        qid = str(q.get("id"))
        for f in REQUIRED:
            if f not in q:
                bad(qid, f"missing field {f!r}")
        extra = set(q) - set(REQUIRED) - {"explicit", "split"}
        if extra:
            bad(qid, f"unexpected fields {sorted(extra)}")
        if qid in seen:
            bad(qid, "duplicate id")
        seen[qid] = q
        order[qid] = i

    counts: Counter = Counter()
    per_archive_kind: Counter = Counter()
    followup_pairs = 0
    overlap_report: list[tuple[float, str]] = []

    for q in questions:
        qid = str(q.get("id"))
        arch, kind = q.get("archive"), q.get("kind")
        if arch not in archives:
            bad(qid, f"unknown archive {arch!r}")
            continue
        if kind not in KINDS:
            bad(qid, f"unknown kind {kind!r}")
            continue
        counts[kind] += 1
        per_archive_kind[(arch, kind)] += 1
        docs = archives[arch]
        question = q.get("question")
        if not isinstance(question, str) or len(question.strip()) < 10:
            bad(qid, "question missing or too short")
            question = ""
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

        # shape per kind
        if kind == "unanswerable":
            if gold or kws:
                bad(qid, "unanswerable question must have empty gold_doc_ids and answer_keywords")
        elif kind == "list":
            if not 2 <= len(gold) <= 25:
                bad(qid, f"list question needs 2-25 gold ids, has {len(gold)}")
            if len(kws) > 3:
                bad(qid, "at most 3 keywords")
        else:
            if not gold:
                bad(qid, "needs at least one gold id")
            if not 1 <= len(kws) <= 3:
                bad(qid, f"needs 1-3 keywords, has {len(kws)}")

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
        elif kind == "dated":
            bad(qid, "dated question needs a period")

        # follow-ups
        follows = q.get("follows")
        if follows is not None:
            prev = seen.get(follows)
            if kind != "followup":
                bad(qid, "only followup questions may set follows")
            if prev is None:
                bad(qid, f"follows unknown id {follows!r}")
            else:
                if order[follows] >= order[qid]:
                    bad(qid, "follows a question that comes later in the file")
                if prev.get("kind") != "followup" or prev.get("follows") is not None:
                    bad(qid, "follows must point to a first followup question (kind followup, follows null)")
                if prev.get("archive") != arch:
                    bad(qid, "follows a question of another archive")
            explicit = q.get("explicit")
            if not isinstance(explicit, str) or len(explicit.strip()) < 10:
                bad(qid, "second follow-up question needs an 'explicit' variant")
            followup_pairs += 1
        else:
            if "explicit" in q:
                bad(qid, "'explicit' only belongs on second follow-up questions")
        if kind == "followup" and follows is None and not any(
                o.get("follows") == qid for o in questions):
            bad(qid, "first follow-up question has no second question")

        # own words: no 5-word run from the gold releases
        if gold_docs:
            src = set()
            for r in gold_docs:
                src |= ngrams(words(release_fulltext(r)))
            for label, s in (("question", question), ("explicit", q.get("explicit") or "")):
                s2 = norm_quotes(s)
                for name in ALLOWED_NAME_RUNS:
                    s2 = re.sub(re.escape(name), " ", s2, flags=re.I)
                hits = ngrams(words(s2)) & src
                if hits:
                    bad(qid, f"{label} copies a {NGRAM}-word run from a gold release: "
                             + "; ".join(" ".join(h) for h in sorted(hits)[:3]))
            if kind == "paraphrase":
                qw = [w for w in words(question) if len(w) > 3]
                gw = set(words(" ".join(release_fulltext(r) for r in gold_docs)))
                if qw:
                    overlap_report.append((sum(w in gw for w in qw) / len(qw), qid))

        # unanswerable really absent
        if kind == "unanswerable":
            groups = UNANSWERABLE_ABSENT.get(qid)
            if not groups:
                bad(qid, "no absence terms registered in UNANSWERABLE_ABSENT")
            else:
                for group in groups:
                    for aname, adocs in archives.items():
                        for r in adocs.values():
                            t = release_fulltext(r).lower()
                            if all(term.lower() in t for term in group):
                                bad(qid, f"absence terms {group} found in {aname}:{r['id']}")
                                break

    for qid in UNANSWERABLE_ABSENT:
        if qid not in seen:
            bad(qid, "listed in UNANSWERABLE_ABSENT but not in the question file")

    for kind, m in MIN_COUNTS.items():
        if counts[kind] < m:
            problems.append(f"count: {kind} has {counts[kind]}, needs >= {m}")
    if followup_pairs < MIN_FOLLOWUP_PAIRS:
        problems.append(f"count: {followup_pairs} follow-up pairs, needs >= {MIN_FOLLOWUP_PAIRS}")
    for arch in ARCHIVE_FILES:
        if per_archive_kind[(arch, "factoid")] < MIN_FACTOID_PER_ARCHIVE:
            problems.append(f"count: {arch} has {per_archive_kind[(arch, 'factoid')]} factoid, "
                            f"needs >= {MIN_FACTOID_PER_ARCHIVE}")

    # report
    kinds = ["factoid", "paraphrase", "unanswerable", "followup", "dated", "list"]
    print(f"{len(questions)} questions in {qfile.name}  (follow-up pairs: {followup_pairs})")
    print(f"{'archive':10s} " + " ".join(f"{k:>12s}" for k in kinds) + f" {'total':>7s}")
    for arch in ARCHIVE_FILES:
        row = [per_archive_kind[(arch, k)] for k in kinds]
        print(f"{arch:10s} " + " ".join(f"{v:12d}" for v in row) + f" {sum(row):7d}")
    print(f"{'all':10s} " + " ".join(f"{counts[k]:12d}" for k in kinds) + f" {len(questions):7d}")
    if overlap_report:
        vals = sorted(overlap_report)
        mean = sum(v for v, _ in vals) / len(vals)
        print(f"paraphrase lexical overlap with gold (content words >3 chars): mean {mean:.2f}, "
              f"max {vals[-1][0]:.2f} ({vals[-1][1]})")
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for p in problems:
            print("  -", p)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
