r"""The web chat: a Gradio app over :class:`~assistant.service.Assistant`, formatting and events only.

Everything a release says reaches the browser as *text*: the Chatbot renders Markdown (for
the blockquotes and the source links), so every piece of document text is escaped twice over,
once for HTML (``<``, ``>``, ``&``) and once for Markdown (every ASCII punctuation character
gets a backslash), and only ``http``/``https`` URLs become links. Gradio's own sanitizer stays
on as a second line of defence, not the first.

>>> from assistant.web import escape_text
>>> escape_text("<b>*[1]*</b>")
'&lt;b&gt;\\*\\[1\\]\\*&lt;\\/b&gt;'
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import os
import re
import shutil
import string
import tempfile
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .config import MAX_QUESTION_CHARS, Settings
from .dates import parse_filter_date
from .documents import Answer, Citation, Document, Hit, Turn
from .errors import AssistantError, ConfigError, QueryError

if TYPE_CHECKING:
    import gradio as gr

    from .service import Assistant
    from .uploads import Uploader, UploadStatus

log = logging.getLogger(__name__)
_T = TypeVar("_T")

TITLE = "Press release archive"
SUBTITLE = ("Ask a question: the answer quotes the releases word for word, and every sentence "
            "names its source.")
EXAMPLES = (
    "Who attended the Sanya meeting?",
    "What did the Prosecutor General say about terrorism?",
    "When did the meeting of SCO general prosecutors take place?",
)
AUTH_ENV = "PRESS_ASSISTANT_AUTH"
ALLOWED_HOSTS_ENV = "PRESS_ASSISTANT_ALLOWED_HOSTS"
# Characters that mean something to HTML: turned into entities, which Markdown decodes back
# into the literal character on display.
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Everything else CommonMark may treat as syntax ([link](...), **, `, #, |, $, ...): a
# backslash before any ASCII punctuation character makes it a literal one.
_MARKDOWN = frozenset(string.punctuation) - frozenset(_HTML)
_WHOLE_LIMIT = 200_000
"""Characters of a release shown when its card is expanded; the source link has the rest."""

_CSS = """
.card, .hit { margin: 0.4em 0 0.8em 0; padding: 0.4em 0.7em; border-left: 3px solid #c7d2fe;
              border-radius: 4px; background: rgba(199, 210, 254, 0.12); }
.card-n { font-weight: 700; }
.card-title { font-weight: 600; }
.card-context { margin: 0.3em 0 0.2em 0; }
.card mark { background: #fef08a; color: inherit; padding: 0 0.1em; }
.card .source-path { font-family: monospace; font-size: 0.9em; }
.card-whole summary { cursor: pointer; font-size: 0.9em; }
.card:target { outline: 2px solid #6366f1; }
"""


def _ensure_no_analytics() -> None:
    # Read by gradio at import time, so this must run before the first `import gradio`.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


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


def _context(doc: Document | None, citation: Citation, around: int) -> tuple[str, str]:
    """Up to ``around`` sentences of the release before and after the quote."""
    if doc is None or doc.text[citation.start:citation.end] != citation.quote:
        return "", ""
    from .answering import _split

    spans = _split(doc.id, doc.text, doc.lang)
    before = [a for a, b in spans if b <= citation.start][-around:]
    after = [b for a, b in spans if a >= citation.end][:around]
    start = before[0] if before else citation.start
    end = after[-1] if after else citation.end
    return doc.text[start:citation.start], doc.text[citation.end:end]


def format_card(citation: Citation, *, turn: int, doc: Document | None = None,
                same_as: int | None = None, around: int = 2) -> str:
    """One source card (HTML on one line): number, title, date, link or file, page; the
    quoted sentence highlighted among ``around`` sentences each side; the whole release
    behind a "Whole release" toggle. Every piece of document text is escaped."""
    anchor = f"src-{turn}-{citation.n}"
    if same_as is not None:
        head = (f'<span class="card-n">[{citation.n}]</span> same release as '
                f'<a href="#src-{turn}-{same_as}">[{same_as}]</a>')
    else:
        href, shown = source_href(citation)
        external = href.startswith("http")
        target = ' target="_blank" rel="noopener noreferrer nofollow"'
        date = citation.date.isoformat() if citation.date else "undated"
        head = (f'<span class="card-n">[{citation.n}]</span> '
                f'<span class="card-title">{_attr(_flat(citation.title)) or "untitled"}</span>'
                f' — <span class="card-date">{date}</span>'
                f' — <a class="card-link{"" if external else " source-path"}" href="{_attr(href)}"'
                f'{target}>{_attr(_flat(shown))}</a>')
    if citation.page:
        head += f" — page {citation.page}"
    before, after = _context(doc, citation, around)
    body = (f'<p class="card-context">{_attr(_flat(before))} <mark>{_attr(_flat(citation.quote))}'
            f"</mark> {_attr(_flat(after))}</p>")
    whole = ""
    if doc is not None and same_as is None:
        text = doc.text if len(doc.text) <= _WHOLE_LIMIT else doc.text[:_WHOLE_LIMIT] + " …"
        whole = (f'<details class="card-whole"><summary>Whole release</summary>'
                 f"{_paragraphs(text)}</details>")
    return f'<div class="card" id="{anchor}"><div class="card-head">{head}</div>{body}{whole}</div>'


def format_sources(answer: Answer, *, turn: int,
                   documents: Mapping[str, Document | None] | None = None) -> str:
    """The source cards of ``answer`` as one HTML block; a release quoted twice is named once."""
    documents = documents or {}
    first: dict[str, int] = {}
    cards = []
    for citation in answer.citations:
        cards.append(format_card(citation, turn=turn, doc=documents.get(citation.doc_id),
                                 same_as=first.get(citation.doc_id)))
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
    to its card. Only the markers the answerer placed count (:func:`_markers`): a "[3]"
    inside a quoted release is its own text. A list answer's rows (lines starting "- ",
    written by the assistant, not by a release) stay a Markdown list."""
    lines = []
    for line, spans in zip(answer.text.split("\n"), _markers(answer), strict=True):
        row = line.startswith("- ")
        pieces: list[str] = []
        position = 2 if row else 0
        for start, end, n in spans:
            pieces.append(escape_text(line[position:start]))
            pieces.append(f"[**\\[{n}\\]**](#src-{turn}-{n})")
            position = end
        pieces.append(escape_text(line[position:]))
        joined = " ".join(piece for piece in pieces if piece)
        lines.append(f"- {joined}" if row else joined)
    return "\n".join(lines) if len(lines) > 1 else lines[0]


def format_answer(answer: Answer, *, turn: int = 0,
                  documents: Mapping[str, Document | None] | None = None,
                  sources: bool = True) -> str:
    """One chat message for ``answer``: its text (Markdown), what was searched, then the
    source cards (HTML) unless ``sources`` is off. ``turn`` keeps the cards' anchors apart
    between the answers of one conversation; ``documents`` (by id) give the cards their
    surrounding sentences and whole text."""
    searched = f"\n\n*Searched {escape_text(answer.searched)}.*" if answer.searched else ""
    if answer.abstained or not answer.citations:
        return escape_text(answer.text) + searched
    text = _format_answer_text(answer, turn) + searched
    if not sources:
        return text
    return f"{text}\n\n**Sources**\n\n{format_sources(answer, turn=turn, documents=documents)}"


def format_error(error: Exception) -> str:
    """A library error as a chat message: its message (which says what to do), no traceback."""
    if isinstance(error, AssistantError):
        return f"**Sorry:** {escape_text(str(error))}"
    return "**Sorry:** something went wrong on the server; the details are in its log."


def _ask(assistant: Assistant, question: str, since: str | None, until: str | None,
         collections: Sequence[str] | None, languages: Sequence[str] | None,
         turns: Sequence[Turn]) -> Answer:
    return assistant.ask(question or "", since=parse_filter_date(since, "since"),
                         until=parse_filter_date(until, "until"), collections=tuple(collections or ()),
                         languages=tuple(languages or ()), history=turns)


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


def format_hits(hits: Sequence[Hit]) -> str:
    """The search view's results: rank, score, title, date, collection and passage, as text."""
    if not hits:
        return "<p>No passage matches.</p>"
    rows = []
    for rank, hit in enumerate(hits, start=1):
        date = hit.date.isoformat() if hit.date else "undated"
        rows.append(
            f'<div class="hit"><div class="card-head"><span class="card-n">{rank}.</span> '
            f'<span class="card-title">{_attr(_flat(hit.title)) or "untitled"}</span> — '
            f'<span class="card-date">{date}</span> — {_attr(hit.collection)} — '
            f'<code>{_attr(hit.doc_id)}</code> — score {hit.score:.3f}</div>'
            f'<p class="card-context">{_attr(_flat(hit.text))}</p></div>')
    return f'<div class="hits">{"".join(rows)}</div>'


def format_document(doc: Document | None) -> str:
    """A release opened from the library: its metadata and whole text, as text."""
    if doc is None:
        return "<p>This document is no longer in the index.</p>"
    date = doc.date.isoformat() if doc.date else "undated"
    url = safe_url(doc.url)
    link = (f' — <a href="{_attr(url)}" target="_blank" rel="noopener noreferrer nofollow">'
            f"{_attr(doc.url or '')}</a>" if url else "")
    return (f'<div class="document"><h3>{_attr(_flat(doc.title)) or "untitled"}</h3>'
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


def uploaded_file(item: Any, cache: Path, uploaded: Collection[str] | None) -> Path:
    """The file behind ``item`` (a ``gr.File`` value) when it is one that Gradio's upload route
    of this server stored: a regular file inside ``cache`` (the server's own upload folder),
    reached without a symbolic link, and, when Gradio lists them (``uploaded``), one of the
    files it received. Anything else, whatever path a client put in the event's data, raises
    :class:`QueryError` and is never read."""
    raw = str(getattr(item, "path", None) or getattr(item, "name", None) or item)
    path, root = Path(os.path.abspath(raw)), Path(os.path.abspath(cache))
    refused = QueryError(f"{Path(raw).name}: not a file uploaded to this page")
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        raise refused from None
    current = root
    for part in parts:  # a link inside the cache could still lead anywhere
        current = current / part
        if current.is_symlink():
            raise refused
    if not parts or not path.is_file() or not path.resolve().is_relative_to(root.resolve()):
        raise refused
    # Membership tests only: Gradio adds to the set from another thread meanwhile.
    if uploaded is not None and raw not in uploaded and str(path) not in uploaded:
        raise refused
    return path


# -- the app -------------------------------------------------------------------------------


def build_app(assistant: Assistant, *, uploader: Uploader | None = None) -> gr.Blocks:
    """The page: the chat, the search view and the library (with uploads through
    ``uploader``, when given), and the filters beside them. Events call the assistant and
    the formatters above."""
    _ensure_no_analytics()
    import gradio as gr
    from gradio.events import api  # gr.api, which gradio's __all__ leaves out

    # Aliased: `remove` names the page's button below.
    from .uploads import MAX_UPLOAD_BYTES, allowed_suffixes
    from .uploads import remove as remove_with_upload

    uploads = uploader.folder if uploader is not None else None

    def choices() -> tuple[list[str], list[str]]:
        try:
            info = assistant.info()
        except AssistantError:
            return [], []
        return list(info.collections), list(info.languages)

    def respond(question: str, history: list[dict[str, Any]] | None, turns: list[Turn] | None,
                since: str, until: str, collections: list[str] | None,
                languages: list[str] | None) -> Iterator[tuple[list[dict[str, Any]], str, list[Turn]]]:
        # The question shows at once and the box empties; the answer's sentences come next,
        # then its source cards.
        turns = list(turns or [])
        shown = escape_text(_shorten(question or "")) or "*(empty question)*"
        history = [*(history or []), {"role": "user", "content": shown}]
        yield [*history, {"role": "assistant", "content": "*Searching the archive…*"}], "", turns
        turn = len(history)
        answer = _answer_or_error(question, lambda: _ask(assistant, question, since, until,
                                                         collections, languages, turns))
        if isinstance(answer, str):  # the error's message
            yield [*history, {"role": "assistant", "content": answer}], "", turns
            return
        text = format_answer(answer, turn=turn, sources=False)
        yield [*history, {"role": "assistant", "content": text}], "", turns
        message = format_answer(answer, turn=turn, documents=_documents(assistant, answer))
        # The last few turns are all a follow-up leans on; older ones would only cost memory.
        yield ([*history, {"role": "assistant", "content": message}], "",
               [*turns, Turn.of(answer)][-6:])

    def run_search(query: str, since: str, until: str, collections: list[str] | None,
                   languages: list[str] | None) -> str:
        try:
            hits = assistant.search(query or "", k=20, since=parse_filter_date(since, "since"),
                                    until=parse_filter_date(until, "until"),
                                    collections=tuple(collections or ()),
                                    languages=tuple(languages or ()))
        except AssistantError as exc:
            return f"<p>Sorry: {_attr(str(exc))}</p>"
        return format_hits(hits)

    def library(contains: str) -> tuple[str, list[list[str]], list[str]]:
        try:
            info = assistant.info()
            page = assistant.list_documents(contains=contains or "", limit=200)
        except AssistantError as exc:
            return f"*{escape_text(str(exc))}*", [], []
        stats = (f"**{info.documents:,}** documents, **{info.chunks:,}** passages — model "
                 f"`{escape_text(info.model)}` — updated {escape_text(info.updated_at or 'never')}"
                 f" — showing {len(page.documents)} of {page.total:,}")
        rows = [[d.date.isoformat() if d.date else "", d.title, d.collection, d.id]
                for d in page.documents]
        return stats, rows, [d.id for d in page.documents]

    def open_document(ids: list[str], event: gr.SelectData) -> tuple[str, str]:
        row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        if not isinstance(row, int) or not 0 <= row < len(ids):
            return "", ""
        return format_document(assistant.document(ids[row])), ids[row]

    def remove_document(doc_id: str, contains: str) -> tuple[str, str, str, list[list[str]], list[str]]:
        if not doc_id:
            return "<p>Open a document first.</p>", "", *library(contains)
        try:
            doc, deleted = remove_with_upload(assistant, doc_id, uploads)
        except AssistantError as exc:
            return f"<p>Sorry: {_attr(str(exc))}</p>", doc_id, *library(contains)
        note = ("Its uploaded file was deleted too." if deleted else
                "It stays out until its folder is indexed again with the file still there.")
        return (f"<p>Removed <b>{_attr(_flat(doc.title))}</b> from the index. {note}</p>", "",
                *library(contains))

    def upload(files: list[Any] | None) -> str:
        if uploader is None or uploads is None:
            return "<p>Uploads are off for this server.</p>"
        sources, refused = [], []
        for item in files or []:
            try:
                # Only a file this server's upload route stored: the event's data is the
                # client's word, and a client can name any path in it.
                sources.append(uploaded_file(item, Path(app.GRADIO_CACHE),
                                             getattr(app, "upload_file_set", None)))
            except AssistantError as exc:
                refused.append(str(exc))
        saved: list[str] = []
        if sources and not refused:
            try:
                # All or none, within the uploads quota, as the API's uploads are. Gradio
                # keeps an upload as <cache>/<hash>/<the name it was sent with>.
                saved = [p.name for p in uploader.save([(s, s.name) for s in sources])]
            except AssistantError as exc:
                refused.append(str(exc))
            for source in sources if saved else ():  # copied: the cache need not keep it
                source.unlink(missing_ok=True)
        elif sources:
            refused.append("nothing was saved: send the files again without the refused ones")
        if saved:
            uploader.start()
        lines = [f"<p>Saved {', '.join(map(_attr, saved))}; indexing…</p>"] if saved else []
        lines += [f"<p>Refused: {_attr(r)}</p>" for r in refused]
        return "".join(lines) or "<p>Choose files first.</p>"

    def poll(seen: float | None) -> tuple[Any, Any, Any, float | None]:
        # Cheap while nothing happens: the page changes only while a run goes on and once
        # when it ends (then the filters learn the new collections and languages).
        status = uploader.status if uploader is not None else None
        if status is None or (not status.running and status.finished_at == seen):
            return gr.update(), gr.update(), gr.update(), seen
        if status.running:
            return format_upload_status(status), gr.update(), gr.update(), seen
        collections, languages = choices()
        return (format_upload_status(status), gr.update(choices=collections),
                gr.update(choices=languages), status.finished_at)

    # Gradio passes event data to a parameter annotated with the SelectData class itself;
    # `from __future__ import annotations` left a string there, which it cannot resolve.
    open_document.__annotations__["event"] = gr.SelectData

    def pick_example(event: gr.SelectData) -> str:
        value = event.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    pick_example.__annotations__["event"] = gr.SelectData

    collections0, languages0 = choices()
    # The page's own events stay out of the API description: programs call "/ask".
    hidden = "undocumented"
    # fill_height: the conversation takes whatever height the window has left.
    app = gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True)
    with app:  # gradio's untyped __enter__ returns the same Blocks
        gr.Markdown(f"## {TITLE}\n{SUBTITLE}")
        with gr.Row():
            with gr.Column(scale=4), gr.Tabs():
                with gr.Tab("Chat", id="chat-tab"):
                    chatbot = gr.Chatbot(
                        elem_id="chat", show_label=False,
                        # Grows with the conversation up to most of the window, then
                        # scrolls inside, so the question box stays in view.
                        scale=1, height=None, min_height=420, max_height="75vh",
                        # Kept on: our escaping is the first defence, the browser-side
                        # sanitizer the second.
                        sanitize_html=True, render_markdown=True,
                        # No custom tags and no LaTeX: a release's "<thinking>" or
                        # "$$...$$" is text.
                        allow_tags=False, latex_delimiters=[],
                        # Nothing records likes; "share" would post the chat to Hugging Face.
                        feedback_options=None, buttons=["copy", "copy_all"],
                        examples=[{"text": q} for q in EXAMPLES],
                        placeholder="Ask about the press releases in the archive.")
                    with gr.Row(equal_height=True):
                        question = gr.Textbox(
                            elem_id="question", show_label=False, scale=8, autofocus=True,
                            max_length=MAX_QUESTION_CHARS,
                            placeholder="Your question, e.g. Who attended the Sanya meeting?")
                        ask = gr.Button("Ask", elem_id="ask", variant="primary", scale=1,
                                        min_width=80)
                        clear = gr.Button("Clear", elem_id="clear", scale=1, min_width=80)
                with gr.Tab("Search", id="search-tab"):
                    with gr.Row(equal_height=True):
                        query = gr.Textbox(elem_id="search-query", show_label=False, scale=8,
                                           max_length=MAX_QUESTION_CHARS,
                                           placeholder="Words or a question: the passages "
                                                       "that match best, ranked")
                        find = gr.Button("Search", elem_id="search", scale=1, min_width=80)
                    results = gr.HTML(elem_id="search-results")
                with gr.Tab("Library", id="library-tab"):
                    stats = gr.Markdown(elem_id="library-stats")
                    contains = gr.Textbox(elem_id="library-filter", show_label=False,
                                          placeholder="Filter by title or id")
                    table = gr.Dataframe(headers=["Date", "Title", "Collection", "Id"],
                                         elem_id="library-table", interactive=False,
                                         wrap=True, max_height=400)
                    ids = gr.State([])
                    opened_id = gr.State("")
                    with gr.Row():
                        remove = gr.Button("Remove the opened document", elem_id="remove",
                                           variant="stop", scale=0)
                    removed = gr.HTML(elem_id="remove-result")
                    opened = gr.HTML(elem_id="document")
                    if uploads is not None:
                        gr.Markdown(
                            f"**Add releases** ({', '.join(sorted(allowed_suffixes()))}; "
                            f"up to {MAX_UPLOAD_BYTES // 2**20} MB each): they are saved "
                            f"in {escape_text(str(uploads))} and indexed in the "
                            "background; the chat answers meanwhile.")
                        files = gr.File(elem_id="upload", file_count="multiple",
                                        file_types=sorted(allowed_suffixes()),
                                        label="Files to add")
                        add = gr.Button("Add to the archive", elem_id="add")
                        upload_note = gr.HTML(elem_id="upload-note")
                    upload_status = gr.HTML(elem_id="upload-status")
            with gr.Column(scale=1, min_width=220, elem_id="filters"):
                gr.Markdown("**Filters** (for the next question)")
                since = gr.Textbox(elem_id="since", label="Since (published on or after)",
                                   placeholder="YYYY-MM-DD", max_lines=1)
                until = gr.Textbox(elem_id="until", label="Until (published on or before)",
                                   placeholder="YYYY-MM-DD", max_lines=1)
                collections = gr.Dropdown(collections0, value=[], multiselect=True,
                                          label="Collections", elem_id="collections")
                languages = gr.Dropdown(languages0, value=[], multiselect=True,
                                        label="Languages", elem_id="languages")

        # The conversation's turns (question, releases cited), for follow-up questions.
        turns = gr.State([])
        chat_in = [question, chatbot, turns, since, until, collections, languages]
        chat_out = [chatbot, question, turns]
        # Several people ask at once: answers share one index and model (both thread-safe),
        # so a few run side by side instead of queueing behind each other.
        gr.on(triggers=[ask.click, question.submit], fn=respond, inputs=chat_in,
              outputs=chat_out, api_visibility=hidden, concurrency_limit=4,
              concurrency_id="answers")
        chatbot.example_select(pick_example, None, question, api_visibility=hidden).then(
            respond, inputs=chat_in, outputs=chat_out, api_visibility=hidden,
            concurrency_id="answers")
        clear.click(lambda: ([], "", []), None, chat_out, queue=False, api_visibility=hidden)
        gr.on(triggers=[find.click, query.submit], fn=run_search,
              inputs=[query, since, until, collections, languages], outputs=results,
              api_visibility=hidden, concurrency_id="answers")
        gr.on(triggers=[app.load, contains.submit, contains.change], fn=library,
              inputs=contains, outputs=[stats, table, ids], api_visibility=hidden)
        table.select(open_document, inputs=ids, outputs=[opened, opened_id],
                     api_visibility=hidden)
        remove.click(remove_document, inputs=[opened_id, contains],
                     outputs=[removed, opened_id, stats, table, ids], api_visibility=hidden)
        if uploads is not None:
            add.click(upload, inputs=files, outputs=upload_note, api_visibility=hidden)
        # The progress bar, the library and the filter choices follow background indexing.
        timer = gr.Timer(1.0, active=uploader is not None)
        finished = gr.State(None)
        timer.tick(poll, finished, [upload_status, collections, languages, finished],
                   api_visibility=hidden,
                   queue=False)
        api(_client_ask(assistant), api_name="ask",
            api_description="The answer as `press-assistant ask --json` prints it.")
    return app


def _client_ask(assistant: Assistant) -> Any:
    """The chat's endpoint for ``gradio_client``: ``Client(url).predict(question, since,
    until, api_name="/ask")`` returns the answer as a dict (``Answer.to_json``)."""
    import gradio as gr

    def ask(question: str, since: str = "", until: str = "") -> dict[str, Any]:
        try:
            if question is not None and not isinstance(question, str):
                raise QueryError("question: expected text")
            return assistant.ask(question or "", since=parse_filter_date(since, "since"),
                                 until=parse_filter_date(until, "until")).to_json()
        except AssistantError as exc:
            # The client's mistake, said in its message: no traceback in the server log.
            raise gr.Error(str(exc), print_exception=False) from exc

    # gr.api reads the parameter types to describe the endpoint: real classes, not the
    # strings `from __future__ import annotations` leaves.
    ask.__annotations__ = {"question": str, "since": str, "until": str, "return": dict}
    return ask


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def launch_auth(host: str) -> tuple[str, str] | None:
    """The credentials from ``PRESS_ASSISTANT_AUTH`` (``user:password``); required when
    ``host`` is reachable from other machines, because the chat has no other access control."""
    raw = os.environ.get(AUTH_ENV, "")
    if raw:
        user, sep, password = raw.partition(":")
        if not sep or not user or not password:
            raise ConfigError(f"{AUTH_ENV} must look like user:password")
        return user, password
    if not _is_loopback(host):
        raise ConfigError(
            f"serving on {host} makes the chat reachable from other machines: set "
            f"{AUTH_ENV}=user:password to require a login, or bind 127.0.0.1")
    return None


_EVENT_ROUTE = re.compile(
    r"^/gradio_api/(?:(?P<join>queue/join)|(?P<kind>run|api|call|call/v2)/(?P<name>[^/]+))/?$")
_UPLOAD_ROUTES = frozenset({"/gradio_api/upload", "/gradio_api/upload/"})


def _event_index(value: Any) -> int | None:
    """An event number as Gradio's request model would read it (3, 3.0, "3"), or None."""
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if number == value or str(value).strip() == str(number) else None


class _NonFinite(ValueError):
    pass


def _non_finite(name: str) -> float:
    raise _NonFinite(name)


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NonFinite(text)
    return value


class GradioRequestChecks:
    """Requests that Gradio's own routes would answer with a 500, answered with a 4xx: what the
    client sent is wrong, not the server (pure ASGI, inside :func:`assistant.guard.protect`,
    so bodies are already bounded). POSTs under ``/gradio_api/`` only:

    * A JSON body with a number JSON cannot write back (``1e400``, ``NaN``), or nested past
      Python's recursion limit: Gradio's answer to its validation error would fail to quote it.
    * An event call (``/gradio_api/queue/join``, ``run/``, ``api/``, ``call/<name>``) naming an
      event the page does not have (Gradio indexes its table with it: a KeyError), or none.
    * A ``gr.Error`` from an endpoint called directly (``/gradio_api/run/ask``): Gradio answers
      500 with the error's message; our errors are all the request's fault, so 400.
    * Whatever else these routes raise while taking the request apart (a TypeError for a
      keyword the endpoint has no parameter for, a KeyError for a hidden one, a
      UnicodeEncodeError for a lone surrogate quoted back, an upload part that is no file):
      400. These routes only read the request and queue it, so such an error is the
      request's; the server log keeps the traceback all the same.
    """

    CLIENT_FAULTS = (TypeError, LookupError, ValueError, RecursionError)

    def __init__(self, app: Any, blocks: Any) -> None:
        self.app, self.blocks = app, blocks

    def problem(self, route: re.Match[str] | None, body: bytes) -> tuple[int, str] | None:
        """What is wrong with a JSON request to Gradio (an event call when ``route`` says
        which), as (status, message); None to let Gradio answer (its request models refuse
        malformed JSON and wrong types with a 422 themselves)."""
        try:
            data = json.loads(body, parse_constant=_non_finite, parse_float=_finite)
        except _NonFinite:
            return 400, "the request has a number out of range (NaN, Infinity or past 1e308)"
        except RecursionError:
            return 400, "the request's JSON is nested too deeply"
        except ValueError:
            return None
        if route is None or not isinstance(data, dict):
            return None
        fns = getattr(self.blocks, "fns", {})
        given = data.get("fn_index")
        if not str(route["kind"]).startswith("call") and given is not None:
            index = _event_index(given)
            if index is None:
                return None
            if index not in fns:
                return 400, f"fn_index {index} names no event of this page"
            return None
        if route["join"]:
            return 400, "fn_index is missing: the number of one of this page's events"
        if route["name"] not in {getattr(fn, "api_name", None) for fn in fns.values()}:
            return 404, f"no endpoint named {route['name']!r} (see /gradio_api/info)"
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        from .guard import refuse

        path = scope.get("path", "") if scope["type"] == "http" else ""
        if scope["type"] != "http" or scope["method"] != "POST" or \
                not path.startswith("/gradio_api/"):
            await self.app(scope, receive, send)
            return
        if path in _UPLOAD_ROUTES:  # files: streamed through, never held here
            await self._run(scope, receive, send, direct=False,
                            refusal="not an upload: send multipart/form-data whose \"files\" "
                                    "parts are files with names")
            return
        messages = []
        while True:  # the whole body: bounded by the guard outside
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        route = _EVENT_ROUTE.match(path)
        problem = self.problem(route, body)
        if problem is not None:
            await refuse(scope, receive, send, *problem)
            return

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        await self._run(scope, replay, send,
                        direct=route is not None and route["kind"] in {"run", "api"},
                        refusal="this request does not fit the route: /gradio_api/info "
                                "describes the endpoints and their parameters")

    async def _run(self, scope: Any, receive: Any, send: Any, *, direct: bool,
                   refusal: str) -> None:
        """Run the request, holding back a 500 until it is known whether the request caused
        it (then 400 with ``refusal``) or, for a direct call (``direct``), whether it carries
        a ``gr.Error``'s message (then 400 with it)."""
        from .guard import refuse

        held: list[Any] = []
        started = False

        async def holding(message: Any) -> None:
            nonlocal started
            if held or (message["type"] == "http.response.start" and message["status"] == 500):
                held.append(message)
            else:
                started = started or message["type"] == "http.response.start"
                await send(message)

        try:
            await self.app(scope, receive, holding)
        except self.CLIENT_FAULTS:
            if started:
                raise
            await refuse(scope, receive, send, 400, refusal)
            return
        except Exception:
            await self._release(held, send, direct=False)
            raise
        await self._release(held, send, direct=direct)

    @staticmethod
    async def _release(held: list[Any], send: Any, *, direct: bool) -> None:
        if not held:
            return
        body = b"".join(m.get("body", b"") for m in held[1:] if m["type"] == "http.response.body")
        start = held[0]
        if direct:
            # Gradio's payload for a gr.Error has its message; a bug's has {"error": null}.
            try:
                said = json.loads(body).get("error")
            except (ValueError, AttributeError):
                said = None
            if isinstance(said, str) and said:
                start = {**start, "status": 400}
        await send(start)
        await send({"type": "http.response.body", "body": body})


def allowed_hosts(given: Sequence[str] = ()) -> list[str]:
    """The host names the server answers for besides its ``--host`` and the localhost names:
    ``given`` (``serve --allowed-host``) and those in ``PRESS_ASSISTANT_ALLOWED_HOSTS``
    (separated by commas or spaces), e.g. its public name behind a reverse proxy; ``*`` turns
    the check off."""
    from_env = os.environ.get(ALLOWED_HOSTS_ENV, "").replace(",", " ").split()
    return list(dict.fromkeys([*given, *from_env]))


def host_policy(host: str, extra: Sequence[str] = ()) -> Any:
    """The :class:`~assistant.guard.HostPolicy` for a server bound to ``host``; a name that is
    not one raises :class:`ConfigError`."""
    from .guard import HostPolicy

    try:
        return HostPolicy.serving(host, extra)
    except ValueError as exc:
        raise ConfigError(f"allowed hosts (--allowed-host, {ALLOWED_HOSTS_ENV}): {exc}") from None


def build_server(assistant: Assistant, *, host: str = "127.0.0.1",
                 auth: tuple[str, str] | None = None, uploader: Uploader | None = None,
                 extra_hosts: Sequence[str] = (), login_delay: float = 0.5) -> Any:
    """The whole ASGI app :func:`serve` runs: the JSON API with the chat mounted on it at
    ``/``, both behind :func:`assistant.guard.protect` (host and origin checks, body limits,
    login throttling, security headers). Gradio's upload folder is read from
    ``GRADIO_TEMP_DIR`` now: set it first (:func:`serve` does)."""
    _ensure_no_analytics()
    import gradio as gr

    from .api import build_api
    from .guard import MULTIPART_SLACK, protect
    from .uploads import MAX_REQUEST_BYTES, MAX_UPLOAD_BYTES

    policy = host_policy(host, extra_hosts)
    blocks = build_app(assistant, uploader=uploader)
    app = gr.mount_gradio_app(build_api(assistant, auth=auth, uploader=uploader), blocks,
                              path="/", auth=auth, show_error=False, ssr_mode=False, css=_CSS,
                              max_file_size=MAX_UPLOAD_BYTES)
    # Gradio checks that a file named in an event's data is one its upload route stored
    # (processing_utils._check_allowed) only once the app "has launched", which only
    # Blocks.launch() records: mounted, every path a client names would be read.
    blocks.has_launched = True
    app = GradioRequestChecks(app, blocks)
    # An upload request carries a few files (the per-request limit of uploads.py); every
    # other body is small, however it is sent.
    return protect(app, policy=policy, upload_limit=MAX_REQUEST_BYTES + MULTIPART_SLACK,
                   login_delay=login_delay)


@contextmanager
def upload_cache() -> Iterator[Path]:
    """Gradio's upload folder for this server: ``GRADIO_TEMP_DIR`` when it is set, else a new
    private folder (mode 0700) removed at exit. Gradio's default, /tmp/gradio, is shared by
    every Gradio app on the machine, and anything another user put there would count as
    uploaded to this one."""
    given = os.environ.get("GRADIO_TEMP_DIR")
    if given:
        yield Path(given)
        return
    folder = Path(tempfile.mkdtemp(prefix="press-assistant-uploads-"))
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    try:
        yield folder
    finally:
        os.environ.pop("GRADIO_TEMP_DIR", None)
        shutil.rmtree(folder, ignore_errors=True)


def serve(*, settings: Settings, host: str = "127.0.0.1", port: int = 7860,
          corpus: Path | None = None, extra_hosts: Sequence[str] = (),
          quota_bytes: int | None = None, quota_files: int | None = None) -> None:
    """Open the index, load the model, and serve the chat at ``/`` and the JSON API at
    ``/api`` (:mod:`assistant.api`) until interrupted; both behind the same credentials and
    the protections of :mod:`assistant.guard`. ``corpus``: the indexed folder files added
    from the web are saved under, in its uploads folder (None: no uploads). ``extra_hosts``:
    host names served besides ``host`` and localhost (see :func:`allowed_hosts`, which adds
    ``PRESS_ASSISTANT_ALLOWED_HOSTS``). ``quota_bytes``, ``quota_files``: what the uploads
    folder may hold (None: the defaults of :mod:`assistant.uploads`)."""
    import uvicorn

    from .service import Assistant

    # Before the slow part: a refused configuration fails at once.
    auth = launch_auth(host)
    extra = allowed_hosts(extra_hosts)
    host_policy(host, extra)
    assistant = Assistant.open(settings=settings)
    try:
        assistant.warm_up()  # the model, the vectors, the catalog: not on the first question
        from .uploads import QUOTA_BYTES, QUOTA_FILES, Uploader

        uploader = (Uploader(assistant, corpus, quota_bytes=quota_bytes or QUOTA_BYTES,
                             quota_files=quota_files or QUOTA_FILES)
                    if corpus is not None else None)
        with upload_cache():
            app = build_server(assistant, host=host, auth=auth, uploader=uploader,
                               extra_hosts=extra)
            shown = f"[{host}]" if ":" in host else host
            print(f"Serving the chat on http://{shown}:{port}/ and the API on "
                  f"http://{shown}:{port}/api (Ctrl+C stops)", flush=True)
            uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        assistant.close()
