#!/usr/bin/env python3
"""How often the question planner reads a question right, per question set and split.

    .venv/bin/python benchmarks/planner_eval.py [--markdown FILE]

No index and no model: the plan is a function of the question. Gold comes from the sets'
own labels:

* intent: a ``list`` question wants every matching release (a list, or a count when it asks
  how many); every other answerable or unanswerable question asks a fact;
* parts: a ``twopart`` question has two parts; a question of any other kind, one;
* answer type: the reporter set labels each question (``answer_type``, a list for two parts).

The rules were written against the press set (and the issue's examples); the reporter set's
held-out half was never looked at while writing them. Both halves are reported.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant.planning import plan_question  # noqa: E402

QUESTIONS = ROOT / "benchmarks" / "questions"
SETS = ("press_qa", "reporter_qa", "mn_ag_known_items", "unanswerable")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    tallies: dict[tuple[str, str, str], Counter[str]] = defaultdict(Counter)
    wrong: list[str] = []
    for name in SETS:
        for line in (QUESTIONS / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            kind, split = record.get("kind") or name, record.get("split", "-")
            plan = plan_question(record["question"])
            want_list = kind == "list"
            got_list = plan.intent != "fact"
            for key in ((name, split, "all"), (name, split, kind)):
                tally = tallies[key]
                tally["questions"] += 1
                tally["intent right"] += want_list == got_list
                tally["count of releases asked for a fact"] += (
                    plan.intent == "count" and not want_list)
                want_parts = 2 if kind == "twopart" else 1
                tally["parts right"] += (len(plan.parts) == want_parts) if kind == "twopart" or \
                    name == "reporter_qa" else 0
                tally["parts judged"] += kind == "twopart" or name == "reporter_qa"
                if "answer_type" in record:
                    gold = record["answer_type"]
                    gold = gold if isinstance(gold, list) else [gold]
                    got = [p.answer_type for p in plan.parts]
                    tally["types judged"] += 1
                    tally["types right"] += got == gold
            if want_list != got_list:
                wrong.append(f"{name}:{record['id']} [{split}] {kind} -> {plan.intent}: "
                             f"{record['question']}")
    lines = ["| set | split | kind | questions | intent right | fact read as a count of "
             "releases | parts right | answer types right |", "|---|---|---|---|---|---|---|---|"]
    for (name, split, kind), t in sorted(tallies.items()):
        def share(hit: str, total: str, t: Counter[str] = t) -> str:
            return f"{t[hit] / t[total]:.3f}" if t[total] else "–"
        lines.append(f"| {name} | {split} | {kind} | {t['questions']} | "
                     f"{share('intent right', 'questions')} | "
                     f"{t['count of releases asked for a fact']} | "
                     f"{share('parts right', 'parts judged')} | "
                     f"{share('types right', 'types judged')} |")
    report = "\n".join(lines) + "\n\nIntent wrong:\n" + "\n".join(f"- {w}" for w in wrong) + "\n"
    print(report)
    if args.markdown:
        args.markdown.write_text(report, encoding="utf-8")


if __name__ == "__main__":
    main()
