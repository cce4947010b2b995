"""Making a :class:`~assistant.documents.Document`: ids, titles, dates and language, and the
checks PDF and Word text share (meaningful metadata titles, unreadable legacy fonts)."""

from __future__ import annotations

import datetime as dt
import re

from assistant.cleaning import normalize_text, safe_label, text_damage
from assistant.dates import date_in_name, find_date
from assistant.documents import Document
from assistant.errors import ReadError
from assistant.languages import detect_language
from assistant.readers.files import _Origin

_TITLE_MAX = 300

# Lines that label a document rather than name it ("PRESS RELEASE" above the headline).
_GENERIC_TITLES = frozenset({
    "press release", "media release", "news release", "for immediate release", "statement",
    "press statement", "news", "пресс-релиз", "сообщение для прессы", "заявление",
    "баспасөз релизі", "мәлімдеме",
})
# Meaningless titles that PDF and Word producers fill in.
_JUNK_META_TITLE = re.compile(
    r"^(?:untitled|title|document\d*|scanned document|press release|microsoft word\b.*"
    r"|.*\.(?:docx?|pdf|rtf|odt|txt|indd|qxd))$",
    re.IGNORECASE,
)


def _document(
    origin: _Origin, text: str, *, title: str | None, date: dt.date | None,
    pages: tuple[int, ...] = (),
) -> Document:
    return Document(
        id=origin.label,
        title=(_tidy_title(title) if title else "") or _guess_title(text),
        text=text,
        date=date or document_date(text, name=origin.file.name),
        url=str(origin.file),
        lang=detect_language(text),
        pages=pages,
        source=origin.source,
        collection=origin.collection,
    )


def _tidy_title(title: str) -> str:
    """One line of at most ``_TITLE_MAX`` characters, fit to show (see safe_label): every
    title passes here."""
    title = " ".join(safe_label(normalize_text(title)).split())
    if len(title) > _TITLE_MAX:
        title = title[:_TITLE_MAX].rsplit(" ", 1)[0] + "…"
    return title


def _guess_title(text: str) -> str:
    """The first line that names the release: not a label like "PRESS RELEASE", not a bare
    date, and of a few words; else simply the first line."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    for line in lines[:15]:
        words = [w for w in line.split() if any(ch.isalpha() for ch in w)]
        if len(words) < 3 or line.strip(" .:-").casefold() in _GENERIC_TITLES:
            continue
        return _tidy_title(line)
    return _tidy_title(lines[0]) if lines else ""


def document_date(text: str, *, name: str = "") -> dt.date | None:
    """A release's date: its dateline, else a ``YYYY-MM-DD`` in its file name, else any date
    near the top (a date inside a sentence is often about something else: a deadline)."""
    return (find_date(text, header_only=True) or date_in_name(name)
            or find_date(text))


def _language_code(value: str | None) -> str | None:
    if not value:
        return None
    code = re.split(r"[-_]", value.strip().lower())[0]
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None


def _meaningful_title(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    title = " ".join(normalize_text(raw).split())
    if len(title) < 4 or not any(ch.isalpha() for ch in title):
        return None
    return None if _JUNK_META_TITLE.match(title) else title


def _check_readable(text: str, problem: str, remedy: str) -> None:
    """ReadError when ``text`` is mostly garbage from a broken font mapping."""
    damage = text_damage(text)
    if damage.unreadable:
        font = f"legacy {damage.script} font" if damage.script not in {"", "Latin"} else "legacy font"
        raise ReadError(f"{problem} ({font}); {remedy} ({damage.symptom()})")
