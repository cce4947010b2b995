"""Linking versions of one release: translations (the same release published in Kazakh,
Russian and English, or in English, Sinhala and Tamil) and near-duplicates in one language (a
correction, a re-post).

Run when an indexing run ends, over the documents no run has linked yet, against everything
stored within a few days of them. Two documents are versions of one release when:

- *in one language*: their texts share most of their word sequences (5-word shingles,
  Jaccard ≥ :data:`NEAR_DUPLICATE`), what a correction or a re-post keeps;
- *in two languages*: the index's model is multilingual, they are dated within
  :data:`WINDOW_DAYS`, each is the other's closest document of its language in the model's
  space (mutual best: a day with several releases pairs each with its own translation), the
  two are close enough (cosine ≥ :data:`TRANSLATION_MIN`), and the numbers they state do
  not contradict each other (figures survive translation).

An English-only model cannot compare a Sinhala text with an English one, so without a
multilingual model only near-duplicates are linked. The groups are kept by
:class:`assistant.index_store.versions.VersionTable`; answering cites one version of each
(:func:`preferred`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from .index_store import Store
    from .index_store.versions import Member, Profile

WINDOW_DAYS = 2
"""How far apart in publication date two versions may be: a translation often appears a day
after the original."""

NEAR_DUPLICATE = 0.6
"""5-word-shingle Jaccard at or above which two texts in one language are one release: a
correction changes a figure or a name (a few shingles), while two different releases of one
office share their boilerplate paragraphs only (measured in docs/quality/versions.md)."""

TRANSLATION_MIN = 0.80
"""Cosine of the two documents' mean vectors below which even mutual best matches are not
translations (a Sinhala release with no English version on that day still has a closest
English one). Chosen on the tune half of benchmarks/questions/lk_pmd_multilingual.jsonl
(docs/quality/versions.md)."""

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class LinkReport:
    """What a linking pass did."""

    looked_at: int
    groups: int
    """Groups of two or more versions that the documents looked at belong to now."""


def numbers(text: str) -> frozenset[str]:
    """The figures a text states, separators dropped ("1,250.5" and "1250.5" alike); single
    digits are left out (list numbering, days of the month written alike anyway)."""
    found = (re.sub(r"[.,]", "", n) for n in _NUMBER.findall(text))
    return frozenset(n for n in found if len(n) > 1)


def shingles(text: str, size: int = 5) -> frozenset[int]:
    """Hashes of the text's runs of ``size`` words, lower-cased."""
    words = _WORD.findall(text.lower())
    if len(words) < size:
        return frozenset({hash(" ".join(words))}) if words else frozenset()
    return frozenset(hash(" ".join(words[i:i + size])) for i in range(len(words) - size + 1))


def jaccard(a: frozenset[object], b: frozenset[object]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def numbers_agree(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two texts' figures could be one release's: when both state several, some
    must be shared."""
    if len(a) < 3 or len(b) < 3:
        return True
    return jaccard(a, b) >= 0.2


class _Groups:
    """Union-find over document ids, remembering which languages each group holds."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, doc_id: str) -> str:
        self.parent.setdefault(doc_id, doc_id)
        root = doc_id
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[doc_id] != root:  # path compression
            self.parent[doc_id], doc_id = root, self.parent[doc_id]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def members(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for doc_id in self.parent:
            out.setdefault(self.find(doc_id), []).append(doc_id)
        return out


def link(store: Store, *, multilingual: bool,
         progress: Callable[[int, int], None] | None = None) -> LinkReport:
    """Link the documents no run has linked yet with their other versions in ``store``
    (open for writing). ``multilingual``: the index's model places languages in one space,
    so translations can be found."""
    table = store.versions
    pending = table.unlinked()
    if not pending:
        return LinkReport(0, 0)
    groups = _Groups()
    undated: list[str] = []
    days: dict[dt.date, list[str]] = {}
    for doc_id in pending:
        profile = table.profile(doc_id)
        if profile is None:
            continue
        if profile.date is None:
            undated.append(doc_id)  # nothing to pair it by: a group of one
        else:
            days.setdefault(profile.date, []).append(doc_id)
    done = 0
    for day in sorted(days):
        window = table.profiles(day - dt.timedelta(days=WINDOW_DAYS),
                                day + dt.timedelta(days=WINDOW_DAYS))
        _link_window(window, set(days[day]), groups, table.document_vectors(
            [p.doc_id for p in window]), multilingual=multilingual)
        done += len(days[day])
        if progress is not None:
            progress(done, len(pending))
    if progress is not None:  # the undated ones, looked at too
        progress(len(pending), len(pending))
    for doc_id in pending:
        groups.find(doc_id)
    rows: dict[str, str] = {}
    grown = 0
    for _root, members in groups.members().items():
        if not any(m in pending or m in rows for m in members):
            continue
        group_id = min(members)
        rows.update(dict.fromkeys(members, group_id))
        grown += len(members) > 1
    table.save(rows)
    return LinkReport(looked_at=len(pending), groups=grown)


def _link_window(window: Sequence[Profile], new: set[str], groups: _Groups,
                 vectors: dict[str, np.ndarray], *, multilingual: bool) -> None:
    """Link the ``new`` documents of one day with the documents of its window."""
    import numpy as np

    for profile in window:  # existing groups first: new links join them
        if profile.group_id is not None:
            groups.union(profile.doc_id, profile.group_id)
    by_id = {p.doc_id: p for p in window}
    ids = [p.doc_id for p in window if p.doc_id in vectors]
    if not ids:
        return
    matrix = np.stack([vectors[d] for d in ids])
    full = matrix @ matrix.T  # every pair of the window: a few hundred documents at most
    position = {d: i for i, d in enumerate(ids)}
    new_ids = [d for d in ids if d in new]
    texts: dict[str, frozenset[int]] = {}

    def shingled(doc_id: str) -> frozenset[int]:
        if doc_id not in texts:
            texts[doc_id] = shingles(by_id[doc_id].text)
        return texts[doc_id]

    # Near-duplicates first (same language): they may share a group's language slot. The
    # cosine only spares the shingling of pairs that cannot be near-duplicates; the pairs
    # past it are found in numpy (a day of a newswire holds hundreds of documents).
    rows = [position[d] for d in new_ids]
    for row, column in np.argwhere(full[rows] >= 0.85):
        doc_id, other_id = new_ids[row], ids[column]
        if other_id == doc_id or by_id[other_id].lang != by_id[doc_id].lang:
            continue
        if jaccard(shingled(doc_id), shingled(other_id)) >= NEAR_DUPLICATE:
            groups.union(doc_id, other_id)
    if not multilingual:
        return
    figures = {d: numbers(by_id[d].text) for d in ids}

    def best_in(lang: str | None, of: str) -> str | None:
        """The document of ``lang`` in the window closest to ``of``."""
        row = full[position[of]]
        found = [(float(row[position[d]]), d) for d in ids if by_id[d].lang == lang and d != of]
        return max(found)[1] if found else None

    for doc_id in new_ids:
        me = by_id[doc_id]
        if me.lang is None:
            continue
        for lang in sorted({by_id[d].lang for d in ids if by_id[d].lang not in (None, me.lang)},
                           key=str):
            match = best_in(lang, doc_id)
            if match is None or best_in(me.lang, match) != doc_id:
                continue
            if float(full[position[doc_id], position[match]]) < TRANSLATION_MIN:
                continue
            if not numbers_agree(figures[doc_id], figures[match]):
                continue
            if _languages(groups, doc_id, by_id) & _languages(groups, match, by_id):
                continue  # each group holds one version per language (besides re-posts)
            groups.union(doc_id, match)


def _languages(groups: _Groups, doc_id: str, by_id: dict[str, Profile]) -> set[str | None]:
    root = groups.find(doc_id)
    return {by_id[d].lang for d in groups.parent if d in by_id and groups.find(d) == root}


def preferred(members: Iterable[Member], *, language: str | None, found: str) -> str:
    """Which version of a release to cite: the newest in the question's ``language``, else
    the newest in the language of the version retrieval ``found``."""
    versions = list(members)

    def newest(lang: str | None) -> str | None:
        fitting = [m for m in versions if m.lang == lang]
        if not fitting:
            return None
        return max(fitting, key=lambda m: (m.date or dt.date.min, m.indexed_at, m.doc_id)).doc_id

    found_lang = next((m.lang for m in versions if m.doc_id == found), None)
    return newest(language) or newest(found_lang) or found



def one_per_release(doc_ids: Sequence[str], store: Store, question: str) -> list[str]:
    """``doc_ids`` (documents a list question matched) with one version of each release:
    of the versions that matched, the one :func:`preferred` picks, in the place of the
    first. A release posted twice is one row and counts once."""
    from .languages import question_language

    groups = store.versions.groups(doc_ids)
    if not groups:
        return list(doc_ids)
    present = set(doc_ids)
    language = question_language(question, {m.lang for ms in groups.values() for m in ms})
    out: list[str] = []
    seen: set[str] = set()
    for doc_id in doc_ids:
        members = groups.get(doc_id)
        if members is None:
            out.append(doc_id)
            continue
        group = min(m.doc_id for m in members)
        if group not in seen:
            seen.add(group)
            out.append(preferred([m for m in members if m.doc_id in present],
                                 language=language, found=doc_id))
    return out
