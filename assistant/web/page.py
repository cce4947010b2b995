"""The Gradio page (chat, search, library, filters) and its events, wired to an
:class:`~assistant.service.Assistant`; the formatting lives in :mod:`.formatting`, the
server around the page in :mod:`.serving`.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import MAX_QUESTION_CHARS
from ..dates import parse_filter_date
from ..documents import Answer, Turn
from ..errors import AssistantError, QueryError
from ..i18n import Language, browser_language, language_of, translations
from ..i18n import text as say
from ..languages import describe_model_languages
from .formatting import (
    EXAMPLES,
    TITLE,
    AnswerError,
    _attr,
    _documents,
    _flat,
    _shorten,
    ask_events,
    escape_text,
    format_answer,
    format_document,
    format_draft,
    format_hits,
    format_upload_status,
)

if TYPE_CHECKING:
    import gradio as gr

    from ..service import Assistant
    from ..uploads import Uploader


_DRAFT_EVERY = 0.1
"""Seconds between updates of a language model's draft on the page."""

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


_I18N_MARK = re.compile(r"__i18n__(\{[^{}]*\})")
"""How gradio marks a translatable word in a component's property: ``gr.I18n(key)`` becomes
``__i18n__{"__type__": "translation_metadata", "key": ...}`` inside the string."""


def _language(request: Any) -> Language:
    """The page's language for the browser behind ``request`` (a ``gr.Request``)."""
    headers = getattr(request, "headers", None)
    return browser_language(headers.get("accept-language") if headers is not None else None)


def _ensure_no_analytics() -> None:
    # Read by gradio at import time, so this must run before the first `import gradio`.
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"



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
    the formatters above.

    The page's own words follow the browser's language (English, Russian, Kazakh:
    :mod:`assistant.i18n`). Labels go through ``gr.I18n``, which the browser translates at
    once; Gradio's browser side only picks among the languages it ships words of itself
    (Russian but not Kazakh in Gradio 6) and reads only the first language a browser
    prefers, so on load the server sends every label again in the language it chose from
    ``Accept-Language``. What events write (statuses, errors) is in that language too; an
    answer's own sentences are in the question's."""
    _ensure_no_analytics()
    import gradio as gr
    from gradio.events import api  # gr.api, which gradio's __all__ leaves out

    # Aliased: `remove` names the page's button below.
    from ..uploads import MAX_UPLOAD_BYTES, allowed_suffixes
    from ..uploads import remove as remove_with_upload

    uploads = uploader.folder if uploader is not None else None
    words = translations(
        "page.", suffixes=", ".join(sorted(allowed_suffixes())),
        megabytes=MAX_UPLOAD_BYTES // 2**20, folder=escape_text(str(uploads or "")))
    for own in words.values():  # title and subtitle in one Markdown, as one word
        own["page.heading"] = f"## {own['page.title']}\n{own['page.subtitle']}"
    ui = gr.I18n(**words)

    def choices() -> tuple[list[str], list[str]]:
        try:
            info = assistant.info()
        except AssistantError:
            return [], []
        return list(info.collections), list(info.languages)

    def respond(question: str, history: list[dict[str, Any]] | None, turns: list[Turn] | None,
                since: str, until: str, collections: list[str] | None,
                languages: list[str] | None, request: gr.Request
                ) -> Iterator[tuple[list[dict[str, Any]], str, list[Turn]]]:
        # The question shows at once and the box empties; the answer's sentences come next,
        # then its source cards.
        lang = _language(request)
        turns = list(turns or [])
        shown = (escape_text(_shorten(question or ""))
                 or f"*{escape_text(say('page.empty_question', lang))}*")
        history = [*(history or []), {"role": "user", "content": shown}]
        yield ([*history, {"role": "assistant", "content": f"*{say('page.searching', lang)}*"}],
               "", turns)
        turn = len(history)
        answer: Answer | None = None
        draft, shown_at = "", 0.0
        try:
            for event in ask_events(assistant, question, since, until, collections, languages,
                                    turns, lang=lang):
                if isinstance(event, Answer):
                    answer = event
                    continue
                # A language model's draft, as it is written; sent at most ten times a
                # second (each update carries the whole conversation to the page).
                draft += event
                if time.monotonic() - shown_at >= _DRAFT_EVERY:
                    shown_at = time.monotonic()
                    content = format_draft(draft, language_of(question))
                    yield [*history, {"role": "assistant", "content": content}], "", turns
        except AnswerError as exc:
            yield [*history, {"role": "assistant", "content": str(exc)}], "", turns
            return
        assert answer is not None  # ask_stream ends with the answer
        text = format_answer(answer, turn=turn, sources=False)
        yield [*history, {"role": "assistant", "content": text}], "", turns
        message = format_answer(answer, turn=turn, documents=_documents(assistant, answer))
        # The last few turns are all a follow-up leans on; older ones would only cost memory.
        yield ([*history, {"role": "assistant", "content": message}], "",
               [*turns, Turn.of(answer)][-6:])

    def sorry(error: AssistantError, lang: Language) -> str:
        return f"<p>{say('error.sorry', lang)} {_attr(str(error))}</p>"

    def run_search(query: str, since: str, until: str, collections: list[str] | None,
                   languages: list[str] | None, request: gr.Request) -> str:
        lang = _language(request)
        try:
            hits = assistant.search(query or "", k=20, since=parse_filter_date(since, "since"),
                                    until=parse_filter_date(until, "until"),
                                    collections=tuple(collections or ()),
                                    languages=tuple(languages or ()))
        except AssistantError as exc:
            return sorry(exc, lang)
        return format_hits(hits, lang)

    def library(contains: str, request: gr.Request) -> tuple[str, dict[str, Any], list[str]]:
        lang = _language(request)
        # The table's headers in the page's language: a Dataframe's headers are part of its
        # value, which gr.I18n does not translate.
        headers = [say(f"page.column_{c}", lang) for c in ("date", "title", "collection", "id")]
        try:
            info = assistant.info()
            page = assistant.list_documents(contains=contains or "", limit=200)
        except AssistantError as exc:
            return f"*{escape_text(str(exc))}*", {"headers": headers, "data": []}, []
        stats = say("page.library_stats", lang,
                    documents=say("page.documents", lang, n=info.documents),
                    passages=say("page.passages", lang, n=info.chunks),
                    # In a code span, which shows backslashes: no Markdown escapes there.
                    model=(f"{info.model} ({describe_model_languages(info.model_languages)})"
                           .replace("`", "'")),
                    updated=escape_text(info.updated_at or say("page.never", lang)),
                    shown=len(page.documents), total=page.total)
        rows = [[d.date.isoformat() if d.date else "", d.title, d.collection, d.id]
                for d in page.documents]
        return stats, {"headers": headers, "data": rows}, [d.id for d in page.documents]

    def open_document(ids: list[str], event: gr.SelectData, request: gr.Request
                      ) -> tuple[str, str]:
        row = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        if not isinstance(row, int) or not 0 <= row < len(ids):
            return "", ""
        return format_document(assistant.document(ids[row]), _language(request)), ids[row]

    def remove_document(doc_id: str, contains: str, request: gr.Request
                        ) -> tuple[str, str, str, dict[str, Any], list[str]]:
        lang = _language(request)
        if not doc_id:
            return f"<p>{say('page.open_first', lang)}</p>", "", *library(contains, request)
        try:
            doc, deleted = remove_with_upload(assistant, doc_id, uploads)
        except AssistantError as exc:
            return sorry(exc, lang), doc_id, *library(contains, request)
        note = say("page.removed_file" if deleted else "page.removed_stays", lang)
        removed = say("page.removed", lang, title=f"<b>{_attr(_flat(doc.title))}</b>")
        return f"<p>{removed} {note}</p>", "", *library(contains, request)

    def upload(files: list[Any] | None, request: gr.Request) -> str:
        lang = _language(request)
        if uploader is None or uploads is None:
            return f"<p>{say('page.uploads_off', lang)}</p>"
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
            refused.append(say("page.not_saved", lang))
        if saved:
            uploader.start()
        lines = ([f"<p>{say('page.saved', lang, files=', '.join(map(_attr, saved)))}</p>"]
                 if saved else [])
        lines += [f"<p>{say('page.refused', lang, reason=_attr(r))}</p>" for r in refused]
        return "".join(lines) or f"<p>{say('page.choose_files', lang)}</p>"

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

    # Gradio passes event data to a parameter annotated with the SelectData class itself, and
    # the request to one annotated with Request; `from __future__ import annotations` left
    # strings there, which it cannot resolve.
    open_document.__annotations__["event"] = gr.SelectData
    for function in (respond, run_search, library, open_document, remove_document, upload):
        function.__annotations__["request"] = gr.Request

    def pick_example(event: gr.SelectData) -> str:
        value = event.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    pick_example.__annotations__["event"] = gr.SelectData

    collections0, languages0 = choices()
    # The page's own events stay out of the API description: programs call "/ask".
    hidden = "undocumented"
    # fill_height: the conversation takes whatever height the window has left.
    app = gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True)
    # What mount_gradio_app(i18n=...) and launch(i18n=...) set: build_server mounts the page.
    app.i18n_instance = ui
    with app:  # gradio's untyped __enter__ returns the same Blocks
        gr.Markdown(ui("page.heading"))
        with gr.Row():
            with gr.Column(scale=4), gr.Tabs():
                with gr.Tab(ui("page.tab_chat"), id="chat-tab"):
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
                        # Typed str only; gr.I18n's word is a marked string.
                        placeholder=str(ui("page.chat_placeholder")))
                    with gr.Row(equal_height=True):
                        question = gr.Textbox(
                            elem_id="question", show_label=False, scale=8, autofocus=True,
                            max_length=MAX_QUESTION_CHARS,
                            placeholder=ui("page.question_placeholder"))
                        ask = gr.Button(ui("page.ask"), elem_id="ask", variant="primary",
                                        scale=1, min_width=80)
                        clear = gr.Button(ui("page.clear"), elem_id="clear", scale=1,
                                          min_width=80)
                with gr.Tab(ui("page.tab_search"), id="search-tab"):
                    with gr.Row(equal_height=True):
                        query = gr.Textbox(elem_id="search-query", show_label=False, scale=8,
                                           max_length=MAX_QUESTION_CHARS,
                                           placeholder=ui("page.search_placeholder"))
                        find = gr.Button(ui("page.search"), elem_id="search", scale=1,
                                         min_width=80)
                    results = gr.HTML(elem_id="search-results")
                with gr.Tab(ui("page.tab_library"), id="library-tab"):
                    stats = gr.Markdown(elem_id="library-stats")
                    contains = gr.Textbox(elem_id="library-filter", show_label=False,
                                          placeholder=ui("page.library_filter"))
                    table = gr.Dataframe(headers=[words["en"][f"page.column_{c}"] for c in
                                                  ("date", "title", "collection", "id")],
                                         elem_id="library-table", interactive=False,
                                         wrap=True, max_height=400)
                    ids = gr.State([])
                    opened_id = gr.State("")
                    with gr.Row():
                        remove = gr.Button(ui("page.remove"), elem_id="remove",
                                           variant="stop", scale=0)
                    removed = gr.HTML(elem_id="remove-result")
                    opened = gr.HTML(elem_id="document")
                    if uploads is not None:
                        gr.Markdown(ui("page.upload_note"))
                        files = gr.File(elem_id="upload", file_count="multiple",
                                        file_types=sorted(allowed_suffixes()),
                                        label=ui("page.files"))
                        add = gr.Button(ui("page.add"), elem_id="add")
                        upload_note = gr.HTML(elem_id="upload-note")
                    upload_status = gr.HTML(elem_id="upload-status")
            with gr.Column(scale=1, min_width=220, elem_id="filters"):
                gr.Markdown(ui("page.filters"))
                since = gr.Textbox(elem_id="since", label=ui("page.since"),
                                   placeholder=ui("page.date_format"), max_lines=1)
                until = gr.Textbox(elem_id="until", label=ui("page.until"),
                                   placeholder=ui("page.date_format"), max_lines=1)
                collections = gr.Dropdown(collections0, value=[], multiselect=True,
                                          label=ui("page.collections"), elem_id="collections")
                languages = gr.Dropdown(languages0, value=[], multiselect=True,
                                        label=ui("page.languages"), elem_id="languages")

        # Every property that holds a gr.I18n word, to be sent again in the server's choice
        # of language when the page loads (see the docstring).
        labelled = [(block, prop, value) for block in app.blocks.values()
                    for prop in ("label", "placeholder", "value", "info")
                    if _I18N_MARK.search(value := str(getattr(block, prop, None) or ""))]

        def relabel(request: gr.Request) -> list[Any]:
            own = words[_language(request)]

            def word(mark: re.Match[str]) -> str:
                return own.get(json.loads(mark.group(1))["key"], mark.group(0))

            updates: list[dict[str, Any]] = [{prop: _I18N_MARK.sub(word, value)}
                                             for _, prop, value in labelled]
            return [gr.update(**update) for update in updates]

        relabel.__annotations__["request"] = gr.Request
        # The conversation's turns (question, releases cited), for follow-up questions.
        turns = gr.State([])
        chat_in = [question, chatbot, turns, since, until, collections, languages]
        chat_out = [chatbot, question, turns]
        app.load(relabel, None, [block for block, _, _ in labelled], queue=False,
                 api_visibility=hidden)
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

