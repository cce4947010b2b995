"""What the chat shows, as text: answers with their quote markers, source cards, search hits,
a release, upload statuses and errors. Pure functions over the pipeline's dataclasses (the
tests call them directly); every piece of a release's text passes :func:`escape_text`.
"""

from __future__ import annotations

import html
import logging
import re
import string
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, TypeVar

from ..config import MAX_QUESTION_CHARS
from ..dates import parse_filter_date
from ..documents import Answer, AnswerSpan, Citation, Document, Hit, Turn
from ..errors import AssistantError
from ..i18n import language_of
from ..i18n import text as say

if TYPE_CHECKING:
    from ..service import Assistant
    from ..uploads import UploadStatus

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# The page's own words are in assistant.i18n, by the browser's language; these are English.
TITLE = say("page.title")
SUBTITLE = say("page.subtitle")
EXAMPLES = (
    "Who attended the Sanya meeting?",
    "What did the Prosecutor General say about terrorism?",
    "When did the meeting of SCO general prosecutors take place?",
)
# Characters that mean something to HTML: turned into entities, which Markdown decodes back
# into the literal character on display.
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Everything else CommonMark may treat as syntax ([link](...), **, `, #, |, $, ...): a
# backslash before any ASCII punctuation character makes it a literal one.
_MARKDOWN = frozenset(string.punctuation) - frozenset(_HTML)
_WHOLE_LIMIT = 200_000
"""Characters of a release shown when its card is expanded; the source link has the rest."""

# -- formatting (pure functions: the tests call them directly) -----------------------------


def escape_text(text: str) -> str:
    """``text`` as Markdown that displays exactly ``text``: no tag, link, emphasis, heading,
    list, table or formula of the source survives. Whitespace runs (line breaks included)
    become one space, so a release cannot start a Markdown block of its own either."""
    flat = " ".join(text.split())
    return "".join(_HTML.get(ch) or (f"\\{ch}" if ch in _MARKDOWN else ch) for ch in flat)


def safe_url(url: str | None) -> str | None:
    """``url`` fit for a Markdown link destination when it is an absolute http(s) URL, else None
    (``javascript:``, ``data:``, ``file:`` and relative paths never become links)."""
    if not url:
        return None
    url = url.strip()
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return None  # browsers drop control characters, which can smuggle another scheme in
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return None
    # Percent-encode what could end the destination or start Markdown/HTML syntax inside it;
    # reserved URL characters stay as they are so the link still points at the same place.
    return urllib.parse.quote(url, safe=";/?:@&=+$,-_.!~*'()#%[]")


def _attr(text: str) -> str:
    """``text`` for HTML content or a quoted attribute value: shown as it is, never markup."""
    return html.escape(text, quote=True)


def _flat(text: str) -> str:
    # One line: a blank line would end the HTML block and hand the rest to Markdown.
    return " ".join(text.split())


def _paragraphs(text: str) -> str:
    """A release's text as escaped ``<p>`` elements, one per blank-line-separated paragraph,
    each flattened to one line."""
    return "".join(f"<p>{_attr(_flat(p))}</p>" for p in text.split("\n\n") if p.strip())


def source_href(citation: Citation) -> tuple[str, str]:
    """Where a card's source link points, and what it shows: the release's web page, or the
    file it was read from, opened through the server (which serves indexed files only)."""
    url = safe_url(citation.url)
    if url is not None:
        return url, citation.url or ""
    where = citation.url or citation.doc_id
    return f"source/{urllib.parse.quote(citation.doc_id, safe='')}", where


def _also_in(citation: Citation, lang: str) -> str:
    """"also in: қазақша, English": the release's other versions, each named in its own
    language and linked; postings in one language are told apart by their dates."""
    from ..languages import ENDONYMS

    langs = [v.lang for v in citation.versions]
    links = []
    for version in citation.versions:
        href, _ = source_href(Citation(n=0, doc_id=version.doc_id, title=version.title,
                                       date=version.date, url=version.url, quote="", start=0,
                                       end=0, score=0.0))
        name = ENDONYMS.get(version.lang, version.lang) if version.lang else version.title
        if version.date and (langs.count(version.lang) > 1 or not version.lang):
            name = f"{name} {version.date.isoformat()}"
        target = (' target="_blank" rel="noopener noreferrer nofollow"'
                  if href.startswith("http") else "")
        links.append(f'<a class="card-version" href="{_attr(href)}"'
                     f' hreflang="{_attr(version.lang or "")}"{target}>{_attr(_flat(name))}</a>')
    return ('<span class="card-versions">'
            f'{say("card.also_in", lang, languages=", ".join(links))}</span>')


def _context(doc: Document | None, citation: Citation, around: int) -> tuple[str, str]:
    """Up to ``around`` sentences of the release before and after the quote."""
    if doc is None or doc.text[citation.start:citation.end] != citation.quote:
        return "", ""
    from ..answering import _split

    spans = _split(doc.id, doc.text, doc.lang)
    before = [a for a, b in spans if b <= citation.start][-around:]
    after = [b for a, b in spans if a >= citation.end][:around]
    start = before[0] if before else citation.start
    end = after[-1] if after else citation.end
    return doc.text[start:citation.start], doc.text[citation.end:end]


def _quote_spans(citation: Citation, spans: Sequence[AnswerSpan]) -> list[tuple[int, int]]:
    """Where ``spans`` (document offsets) fall in the citation's quote as shown, flattened
    to one line (:func:`_flat`): ``(start, end)`` in that flattened text, in order, apart."""
    shown = _flat(citation.quote)
    found: list[tuple[int, int]] = []
    for span in sorted(spans, key=lambda s: s.start):
        if not citation.start <= span.start < span.end <= citation.end:
            continue
        text = _flat(citation.quote[span.start - citation.start:span.end - citation.start])
        before = citation.quote[:span.start - citation.start]
        near = len(_flat(before)) + (1 if before[-1:].isspace() and before.strip() else 0)
        # Where it is in the flattened quote: exactly there, or one further when the span
        # starts with white space; never an earlier copy of the same words.
        at = next((p for p in (near, near + 1) if shown.startswith(text, p)), -1)
        if text and at >= 0 and (not found or at >= found[-1][1]):
            found.append((at, at + len(text)))
    return found


def _with_spans(text: str, marks: Sequence[tuple[int, int]], escape: Callable[[str], str],
                open_tag: str, close_tag: str) -> str:
    """``text`` escaped by ``escape``, each of ``marks`` wrapped in the tags."""
    def kept(piece: str) -> str:
        # escape_text trims the ends of what it is given: the space beside a mark stays.
        inner = escape(piece)
        lead = " " if piece[:1].isspace() and not inner.startswith(" ") else ""
        trail = " " if piece[-1:].isspace() and piece.strip() and not inner.endswith(" ") else ""
        return lead + inner + trail

    pieces, position = [], 0
    for start, end in marks:
        pieces += [kept(text[position:start]), open_tag, escape(text[start:end]), close_tag]
        position = end
    pieces.append(kept(text[position:]))
    return "".join(pieces)


def format_card(citation: Citation, *, turn: int, doc: Document | None = None,
                same_as: int | None = None, around: int = 2,
                spans: Sequence[AnswerSpan] = (), lang: str = "en") -> str:
    """One source card (HTML on one line): number, title, date, link or file, page; the
    quoted sentence highlighted among ``around`` sentences each side, the words that answer
    the question (``spans``) in bold; the whole release behind a "Whole release" toggle.
    Every piece of document text is escaped; the card's own words are in ``lang``."""
    anchor = f"src-{turn}-{citation.n}"
    if same_as is not None:
        link = f'<a href="#src-{turn}-{same_as}">[{same_as}]</a>'
        head = (f'<span class="card-n">[{citation.n}]</span> '
                f'{say("card.same_release", lang, link=link)}')
    else:
        href, shown = source_href(citation)
        external = href.startswith("http")
        target = ' target="_blank" rel="noopener noreferrer nofollow"'
        date = citation.date.isoformat() if citation.date else say("card.undated", lang)
        title = _attr(_flat(citation.title)) or say("card.untitled", lang)
        head = (f'<span class="card-n">[{citation.n}]</span> '
                f'<span class="card-title">{title}</span>'
                f' — <span class="card-date">{date}</span>'
                f' — <a class="card-link{"" if external else " source-path"}" href="{_attr(href)}"'
                f'{target}>{_attr(_flat(shown))}</a>')
    if citation.page:
        head += f" — {say('card.page', lang, page=citation.page)}"
    if citation.ocr:  # a scan: the quote's words are what OCR read, errors and all
        head += (f' — <span class="card-ocr" title="{_attr(say("card.ocr_note", lang))}">'
                 f'{say("card.ocr", lang)}</span>')
    if citation.versions and same_as is None:
        head += f" — {_also_in(citation, lang)}"
    before, after = _context(doc, citation, around)
    quote = _with_spans(_flat(citation.quote), _quote_spans(citation, spans), _attr,
                        '<strong class="answer-span">', "</strong>")
    body = (f'<p class="card-context">{_attr(_flat(before))} <mark>{quote}'
            f"</mark> {_attr(_flat(after))}</p>")
    whole = ""
    if doc is not None and same_as is None:
        text = doc.text if len(doc.text) <= _WHOLE_LIMIT else doc.text[:_WHOLE_LIMIT] + " …"
        whole = (f'<details class="card-whole"><summary>{say("card.whole", lang)}</summary>'
                 f"{_paragraphs(text)}</details>")
    return f'<div class="card" id="{anchor}"><div class="card-head">{head}</div>{body}{whole}</div>'


def format_sources(answer: Answer, *, turn: int,
                   documents: Mapping[str, Document | None] | None = None) -> str:
    """The source cards of ``answer`` as one HTML block; a release quoted twice is named once."""
    documents = documents or {}
    lang = language_of(answer.question)
    first: dict[str, int] = {}
    cards = []
    for citation in answer.citations:
        cards.append(format_card(citation, turn=turn, doc=documents.get(citation.doc_id),
                                 same_as=first.get(citation.doc_id),
                                 spans=[s for s in answer.answer_spans if s.n == citation.n],
                                 lang=lang))
        first.setdefault(citation.doc_id, citation.n)
    return f'<div class="sources">{"".join(cards)}</div>'


def _markers(answer: Answer) -> list[list[tuple[int, int, int]]]:
    """Where the answerer's own citation markers are in each line of ``answer.text``:
    ``(start, end, n)`` spans, in order. The answerer writes every quote as its flattened text
    followed by `` [n]`` (sentences joined by spaces; a list answer ends each row with one),
    so a marker counts only right after its own citation's quote, read from the end of the
    line backwards; a "[1]" a release itself contains is never one."""
    lines = answer.text.split("\n")
    pending = sorted(answer.citations, key=lambda c: c.n)
    found: list[list[tuple[int, int, int]]] = [[] for _ in lines]
    for number in range(len(lines) - 1, -1, -1):
        end = len(lines[number])
        while pending:
            citation = pending[-1]
            marker = f"[{citation.n}]"
            needle = f"{_flat(citation.quote)} {marker}"
            if not lines[number].endswith(needle, 0, end):
                break
            found[number].insert(0, (end - len(marker), end, citation.n))
            pending.pop()
            end -= len(needle)
            if end and lines[number][end - 1] == " ":
                end -= 1  # the space between two quoted sentences
    return found


def _format_answer_text(answer: Answer, turn: int) -> str:
    """The answer sentences, escaped, with the citation markers ``[n]`` in bold, each a link
    to its card, and the words that answer the question (``answer.answer_spans``) in bold.
    Only the markers the answerer placed count (:func:`_markers`): a "[3]" inside a quoted
    release is its own text. A list answer's rows (lines starting "- ", written by the
    assistant, not by a release) stay a Markdown list."""
    by_n = {c.n: c for c in answer.citations}
    lines = []
    for line, spans in zip(answer.text.split("\n"), _markers(answer), strict=True):
        # Only a list answer has rows; a quote may itself begin with "- ".
        row = answer.count is not None and line.startswith("- ")
        pieces: list[str] = []
        position = 2 if row else 0
        for start, end, n in spans:
            citation = by_n[n]
            quoted = _flat(citation.quote)
            begins = start - 1 - len(quoted)  # the quote, a space, then its marker
            marks = _quote_spans(citation, [s for s in answer.answer_spans if s.n == n])
            if marks and begins >= position and line[begins:start - 1] == quoted:
                before = escape_text(line[position:begins])
                pieces.append((f"{before} " if before else "")
                              + _with_spans(quoted, marks, escape_text,
                                            '<strong class="answer-span">', "</strong>"))
                position = start
            else:
                pieces.append(escape_text(line[position:start]))
            pieces.append(f"[**\\[{n}\\]**](#src-{turn}-{n})")
            position = end
        pieces.append(escape_text(line[position:]))
        joined = " ".join(piece for piece in pieces if piece)
        lines.append(f"- {joined}" if row else joined)
    return "\n".join(lines) if len(lines) > 1 else lines[0]


_MARKER = re.compile(r"(\[\d+\])")


def _format_written_text(answer: Answer, turn: int) -> str:
    """A language model's checked answer: its sentences escaped like any other text (a model
    can be made to write Markdown or HTML), each ``[n]`` the check placed a link to its card."""
    known = {c.n for c in answer.citations}
    pieces = []
    for piece in _MARKER.split(" ".join(answer.text.split())):
        n = int(piece[1:-1]) if _MARKER.fullmatch(piece) else None
        if n in known:
            pieces.append(f"[**\\[{n}\\]**](#src-{turn}-{n})")
        elif piece.strip():  # escape_text trims: the spaces around a marker are put back
            pieces.append((" " if piece[0] == " " else "") + escape_text(piece)
                          + (" " if piece[-1] == " " else ""))
        else:
            pieces.append(piece)
    return "".join(pieces)


def provenance(answer: Answer) -> str:
    """Who answered, when a language model is configured: the model (and how many of its
    sentences the check removed), or why the extractive answer is shown instead."""
    lang = language_of(answer.question)
    if answer.generator:
        dropped = len(answer.dropped)
        removed = say("answer.dropped", lang, n=dropped) if dropped else ""
        return ("\n\n*" + say("answer.written_by", lang, model=escape_text(answer.generator),
                               dropped=removed) + "*")
    if answer.fallback:
        return f"\n\n*{say('answer.extractive', lang, why=escape_text(answer.fallback))}*"
    return ""


def format_draft(text: str, lang: str = "en") -> str:
    """The language model's answer while it is being written, marked as unchecked."""
    return f"*{say('answer.draft', lang)}*\n\n{escape_text(text)}"


def format_answer(answer: Answer, *, turn: int = 0,
                  documents: Mapping[str, Document | None] | None = None,
                  sources: bool = True) -> str:
    """One chat message for ``answer``: its text (Markdown), what was searched, then the
    source cards (HTML) unless ``sources`` is off. ``turn`` keeps the cards' anchors apart
    between the answers of one conversation; ``documents`` (by id) give the cards their
    surrounding sentences and whole text. Its own words are in the question's language."""
    lang = language_of(answer.question)
    searched = (f"\n\n*{say('answer.searched', lang, searched=escape_text(answer.searched))}*"
                if answer.searched else "")
    if answer.abstained or not answer.citations:
        # Why it declined, in the assistant's words: a name the archive never mentions, or
        # releases that do not match well enough.
        why = (f"\n\n*{say('answer.why', lang, reason=escape_text(answer.reason))}*"
               if answer.reason else "")
        return escape_text(answer.text) + why + searched + provenance(answer)
    text = (_format_written_text(answer, turn) if answer.generator
            else _format_answer_text(answer, turn)) + searched + provenance(answer)
    if not sources:
        return text
    sources_html = format_sources(answer, turn=turn, documents=documents)
    return f"{text}\n\n**{say('answer.sources', lang)}**\n\n{sources_html}"


def format_error(error: Exception, lang: str = "en") -> str:
    """A library error as a chat message: its message (which says what to do), no traceback;
    the page's own words in ``lang``."""
    if isinstance(error, AssistantError):
        return f"**{say('error.sorry', lang)}** {escape_text(str(error))}"
    return f"**{say('error.sorry', lang)}** {say('error.server', lang)}"


def _ask(assistant: Assistant, question: str, since: str | None, until: str | None,
         collections: Sequence[str] | None, languages: Sequence[str] | None,
         turns: Sequence[Turn]) -> Answer:
    return assistant.ask(question or "", since=parse_filter_date(since, "since"),
                         until=parse_filter_date(until, "until"), collections=tuple(collections or ()),
                         languages=tuple(languages or ()), history=turns)


def ask_events(assistant: Assistant, question: str, since: str | None, until: str | None,
               collections: Sequence[str] | None, languages: Sequence[str] | None,
               turns: Sequence[Turn], *, lang: str = "en") -> Iterator[str | Answer]:
    """:meth:`Assistant.ask_stream` with the page's filters: the language model's draft as it
    is written (``str``), then the answer; an error's chat message (in ``lang``, the page's
    language) comes as an :class:`AnswerError` raised from the iteration."""
    try:
        yield from assistant.ask_stream(
            question or "", since=parse_filter_date(since, "since"),
            until=parse_filter_date(until, "until"), collections=tuple(collections or ()),
            languages=tuple(languages or ()), history=turns)
    except Exception as exc:
        if not isinstance(exc, AssistantError):
            log.exception("answering %r failed", question)
        raise AnswerError(format_error(exc, lang)) from exc


class AnswerError(Exception):
    """Answering failed; the message is the chat message that says so."""


def _documents(assistant: Assistant, answer: Answer) -> dict[str, Document | None]:
    return {doc_id: assistant.document(doc_id)
            for doc_id in dict.fromkeys(c.doc_id for c in answer.citations)}


def _answer_or_error(question: str, work: Callable[[], _T]) -> _T | str:
    """What ``work`` (answering ``question``) returns, or, when it raises, the chat message
    for the error: a library error's own message, for anything else a generic one. ``work``
    must not return a ``str`` itself: that is how the caller tells the two apart."""
    try:
        return work()
    except Exception as exc:
        if not isinstance(exc, AssistantError):
            # A bug must not reach the page as a traceback; the log keeps it.
            log.exception("answering %r failed", question)
        return format_error(exc)


def reply(assistant: Assistant, question: str, since: str | None = None,
          until: str | None = None, turns: Sequence[Turn] = (), *,
          collections: Sequence[str] | None = None, languages: Sequence[str] | None = None,
          turn: int = 0) -> tuple[str, Turn | None]:
    """The assistant's chat message for ``question`` (an answer with its source cards, an
    abstention or an error), and the turn to remember for follow-ups (None after an error)."""

    def answered() -> tuple[str, Turn]:
        answer = _ask(assistant, question, since, until, collections, languages, turns)
        return (format_answer(answer, turn=turn, documents=_documents(assistant, answer)),
                Turn.of(answer))

    result = _answer_or_error(question, answered)
    return (result, None) if isinstance(result, str) else result


def format_hits(hits: Sequence[Hit], lang: str = "en") -> str:
    """The search view's results: rank, score, title, date, collection and passage, as text;
    its own words in ``lang``."""
    if not hits:
        return f"<p>{say('search.no_match', lang)}</p>"
    rows = []
    for rank, hit in enumerate(hits, start=1):
        date = hit.date.isoformat() if hit.date else say("card.undated", lang)
        title = _attr(_flat(hit.title)) or say("card.untitled", lang)
        score = say("search.score", lang, score=f"{hit.score:.3f}")
        rows.append(
            f'<div class="hit"><div class="card-head"><span class="card-n">{rank}.</span> '
            f'<span class="card-title">{title}</span> — '
            f'<span class="card-date">{date}</span> — {_attr(hit.collection)} — '
            f'<code>{_attr(hit.doc_id)}</code> — {score}</div>'
            f'<p class="card-context">{_attr(_flat(hit.text))}</p></div>')
    return f'<div class="hits">{"".join(rows)}</div>'


def format_document(doc: Document | None, lang: str = "en") -> str:
    """A release opened from the library: its metadata and whole text, as text."""
    if doc is None:
        return f"<p>{say('doc.gone', lang)}</p>"
    date = doc.date.isoformat() if doc.date else say("card.undated", lang)
    url = safe_url(doc.url)
    link = (f' — <a href="{_attr(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{_attr(doc.url or '')}</a>" if url else "")
    title = _attr(_flat(doc.title)) or say("card.untitled", lang)
    return (f'<div class="document"><h3>{title}</h3>'
            f"<p>{date} — {_attr(doc.collection)} — <code>{_attr(doc.id)}</code>{link}</p>"
            f"{_paragraphs(doc.text)}</div>")


def format_upload_status(status: UploadStatus) -> str:
    """The upload panel's progress bar and, when a run ended, its report."""
    if status.running:
        percent = round(100 * status.fraction)
        return (f'<div class="upload-status"><progress max="100" value="{percent}"></progress> '
                f"{_attr(status.stage)} {status.done}/{status.total}</div>")
    if not status.stage:
        return ""
    lines = [f"<p>{_attr(status.message)}</p>"]
    if status.report is not None and status.report.skipped:
        lines.append("<ul>" + "".join(
            f"<li><code>{_attr(item.path)}</code>: {_attr(item.reason)}</li>"
            for item in status.report.skipped) + "</ul>")
    return f'<div class="upload-status">{"".join(lines)}</div>'


def _shorten(question: str) -> str:
    """A question as the chat echoes it: one that is too long to be asked (refused with a
    message right below) is not repeated in full."""
    return question if len(question) <= MAX_QUESTION_CHARS else question[:200] + " …"


