"""The versions table: which stored releases are one release (translations of each other, a
correction or a re-post), as groups of document ids.

Linking is decided by :mod:`assistant.versions` when an indexing run ends; this part only
keeps the groups. A document with a row has been looked at (a group of one: no other
version); one without a row is linked by the next run. Rows go with their documents (ON
DELETE CASCADE): a changed release is linked again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..documents import Version
from .database import Database

if TYPE_CHECKING:
    import numpy as np

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS versions (doc_id TEXT PRIMARY KEY REFERENCES documents(id)"
    " ON DELETE CASCADE, group_id TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS versions_group ON versions(group_id)",
)


@dataclass(frozen=True, slots=True)
class Member:
    """One version of a release, as a group lists it."""

    doc_id: str
    lang: str | None
    date: dt.date | None
    title: str
    url: str | None
    indexed_at: str

    def version(self) -> Version:
        """As a citation or hit lists it among a release's other versions."""
        return Version(self.doc_id, self.lang, self.title, self.url, self.date)


@dataclass(frozen=True, slots=True)
class Profile:
    """What linking compares of a document."""

    doc_id: str
    lang: str | None
    date: dt.date | None
    title: str
    text: str
    group_id: str | None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class VersionTable:
    """Groups of documents that are one release."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Like the database's own schema: an index made before versions were linked gets
        # the table when opened, and its documents are linked by the next indexing run.
        for statement in SCHEMA:
            db.query(statement)

    def unlinked(self) -> list[str]:
        """Documents no linking run has looked at yet."""
        return [r[0] for r in self.db.query(
            "SELECT d.id FROM documents d LEFT JOIN versions v ON v.doc_id = d.id"
            " WHERE v.doc_id IS NULL ORDER BY d.id")]

    def profiles(self, since: dt.date, until: dt.date) -> list[Profile]:
        """Every document dated within ``since``..``until``, with its group when linked."""
        rows = self.db.query(
            "SELECT d.id, d.lang, d.date, d.title, d.text, v.group_id FROM documents d"
            " LEFT JOIN versions v ON v.doc_id = d.id WHERE d.date BETWEEN ? AND ?",
            (since.isoformat(), until.isoformat()))
        return [Profile(r[0], r[1], _date(r[2]), r[3], r[4], r[5]) for r in rows]

    def profile(self, doc_id: str) -> Profile | None:
        rows = self.db.query(
            "SELECT d.id, d.lang, d.date, d.title, d.text, v.group_id FROM documents d"
            " LEFT JOIN versions v ON v.doc_id = d.id WHERE d.id = ?", (doc_id,))
        return Profile(rows[0][0], rows[0][1], _date(rows[0][2]), rows[0][3], rows[0][4],
                       rows[0][5]) if rows else None

    def document_vectors(self, doc_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Each document's vector: the mean of its chunks' vectors, normalised (what the
        release is about as a whole, in the index's own embedding space)."""
        import numpy as np

        sums: dict[str, np.ndarray] = {}
        for start in range(0, len(doc_ids), 500):
            part = list(doc_ids[start:start + 500])
            rows = self.db.query(
                f"SELECT doc_id, vector FROM chunks WHERE doc_id IN ({','.join('?' * len(part))})",
                tuple(part))
            for doc_id, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                sums[doc_id] = sums[doc_id] + vector if doc_id in sums else vector.copy()
        return {d: v / max(float(np.linalg.norm(v)), 1e-12) for d, v in sums.items()}

    def best_chunk(self, doc_id: str, query: np.ndarray) -> tuple[int, float] | None:
        """The chunk of ``doc_id`` closest to ``query`` (id, cosine): the passage of a version
        that retrieval did not bring up, when that version is the one to cite."""
        import numpy as np

        rows = self.db.query("SELECT id, vector FROM chunks WHERE doc_id = ?", (doc_id,))
        if not rows:
            return None
        scores = np.stack([np.frombuffer(blob, dtype=np.float32) for _, blob in rows]) @ query
        best = int(np.argmax(scores))
        return int(rows[best][0]), float(scores[best])

    def save(self, groups: Mapping[str, str]) -> None:
        """Set the group of each document (doc id -> group id) in one transaction."""
        if not groups:
            return
        with self.db.transaction() as db:
            db.executemany(
                "INSERT INTO versions(doc_id, group_id) VALUES (?, ?) ON CONFLICT(doc_id)"
                " DO UPDATE SET group_id = excluded.group_id",
                [(d, g) for d, g in groups.items()])

    def groups(self, doc_ids: Iterable[str]) -> dict[str, list[Member]]:
        """For each of ``doc_ids`` that has other versions: every version of its release
        (itself included), in one list per document."""
        wanted = list(dict.fromkeys(doc_ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self.db.query(
            "SELECT v.doc_id AS asked, m.doc_id, d.lang, d.date, d.title, d.url, d.indexed_at"
            " FROM versions v JOIN versions m ON m.group_id = v.group_id"
            " JOIN documents d ON d.id = m.doc_id"
            f" WHERE v.doc_id IN ({marks}) ORDER BY m.doc_id", tuple(wanted))
        out: dict[str, list[Member]] = {}
        for asked, doc_id, lang, date, title, url, indexed_at in rows:
            out.setdefault(asked, []).append(
                Member(doc_id, lang, _date(date), title, url, indexed_at))
        return {d: members for d, members in out.items() if len(members) > 1}

    def count_groups(self) -> int:
        """Releases held in more than one version."""
        row = self.db.query("SELECT count(*) FROM (SELECT group_id FROM versions"
                            " GROUP BY group_id HAVING count(*) > 1)")
        return int(row[0][0])
