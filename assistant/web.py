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

import datetime as dt
import ipaddress
import logging
import os
import re
import string
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from .config import Settings
from .documents import Answer, Citation, Turn
from .errors import AssistantError, ConfigError, QueryError

if TYPE_CHECKING:
    import gradio as gr

    from .service import Assistant

log = logging.getLogger(__name__)

TITLE = "Press release archive"
SUBTITLE = ("Ask a question: the answer quotes the releases word for word, and every sentence "
            "names its source.")
EXAMPLES = (
    "Who attended the Sanya meeting?",
    "What did the Prosecutor General say about terrorism?",
    "When did the meeting of SCO general prosecutors take place?",
)
AUTH_ENV = "PRESS_ASSISTANT_AUTH"

# Characters that mean something to HTML: turned into entities, which Markdown decodes back
# into the literal character on display.
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Everything else CommonMark may treat as syntax ([link](...), **, `, #, |, $, ...): a
# backslash before any ASCII punctuation character makes it a literal one.
_MARKDOWN = frozenset(string.punctuation) - frozenset(_HTML)
_MARKER = re.compile(r"\[(\d+)\]")

_CSS = """
#chat blockquote { margin: 0.25em 0 0.9em 0; padding-left: 0.8em; border-left: 3px solid #c7d2fe;
                   color: inherit; font-style: normal; }
#chat .source-path { font-size: 0.9em; }
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


def _source_location(citation: Citation) -> str:
    """A link for web releases; the file path (or id), shown as code text, for the rest."""
    url = safe_url(citation.url)
    if url is not None:
        return f"[{escape_text(citation.url or '')}](<{url}>)"
    where = citation.url or citation.doc_id
    return f'<code class="source-path">{escape_text(where)}</code>' if where else ""


def format_citation(citation: Citation, *, same_as: int | None = None) -> str:
    """``**[n]** title — date — link`` and, under it, the quoted sentence as a blockquote.

    ``same_as`` names an earlier citation of the same release: its title, date and link are
    not repeated (several quotes from one long-titled release otherwise fill the screen)."""
    if same_as is not None:
        head = [f"**\\[{citation.n}\\]** same release as \\[{same_as}\\]"]
    else:
        head = [f"**\\[{citation.n}\\]** {escape_text(citation.title) or '*untitled*'}",
                citation.date.isoformat() if citation.date else "undated"]
        location = _source_location(citation)
        if location:
            head.append(location)
    if citation.page:
        head.append(f"page {citation.page}")
    return " — ".join(head) + "\n\n> " + escape_text(citation.quote)


def _format_answer_text(answer: Answer) -> str:
    """The answer sentences, escaped, with the citation markers ``[n]`` in bold. Only numbers
    that name a citation count as markers: a "[3]" inside a quoted release is its own text.
    A list answer's rows (lines starting "- ", written by the assistant, not by a release)
    stay a Markdown list."""
    numbers = {c.n for c in answer.citations}
    lines = []
    for line in answer.text.split("\n"):
        row = line.startswith("- ")
        text = line[2:] if row else line
        pieces: list[str] = []
        position = 0
        for match in _MARKER.finditer(text):
            if int(match.group(1)) not in numbers:
                continue
            pieces.append(escape_text(text[position:match.start()]))
            pieces.append(f"**\\[{match.group(1)}\\]**")
            position = match.end()
        pieces.append(escape_text(text[position:]))
        joined = " ".join(piece for piece in pieces if piece)
        lines.append(f"- {joined}" if row else joined)
    return "\n".join(lines) if len(lines) > 1 else lines[0]


def format_answer(answer: Answer) -> str:
    """One chat message (Markdown) for ``answer``: its text, then the numbered sources."""
    searched = f"\n\n*Searched {escape_text(answer.searched)}.*" if answer.searched else ""
    if answer.abstained or not answer.citations:
        return escape_text(answer.text) + searched
    blocks = [_format_answer_text(answer) + searched, "**Sources**"]
    first: dict[str, int] = {}
    for citation in answer.citations:
        blocks.append(format_citation(citation, same_as=first.get(citation.doc_id)))
        first.setdefault(citation.doc_id, citation.n)
    return "\n\n".join(blocks)


def format_error(error: Exception) -> str:
    """A library error as a chat message: its message (which says what to do), no traceback."""
    if isinstance(error, AssistantError):
        return f"**Sorry:** {escape_text(str(error))}"
    return "**Sorry:** something went wrong on the server; the details are in its log."


def parse_date(value: str | None, name: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` filter box's value; empty means no filter."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name}: {value!r} is not a date like 2021-03-01") from None


def reply(assistant: Assistant, question: str, since: str | None = None,
          until: str | None = None, turns: Sequence[Turn] = ()) -> tuple[str, Turn | None]:
    """The assistant's chat message for ``question`` (an answer, an abstention or an error),
    and the turn to remember for follow-ups (None after an error)."""
    try:
        answer = assistant.ask(question or "", since=parse_date(since, "since"),
                               until=parse_date(until, "until"), history=turns)
        return format_answer(answer), Turn.of(answer)
    except AssistantError as exc:
        return format_error(exc), None
    except Exception as exc:  # a bug must not reach the page as a traceback; the log keeps it
        log.exception("answering %r failed", question)
        return format_error(exc), None


# -- the app -------------------------------------------------------------------------------


def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat page; events call :func:`reply`, which calls ``assistant.ask``."""
    _ensure_no_analytics()
    import gradio as gr

    def respond(question: str, history: list[dict[str, Any]] | None, turns: list[Turn] | None,
                since: str, until: str) -> Iterator[tuple[list[dict[str, Any]], str, list[Turn]]]:
        # The question shows at once and the box empties; the answer follows when ready.
        turns = list(turns or [])
        shown = escape_text(question or "") or "*(empty question)*"
        history = [*(history or []), {"role": "user", "content": shown}]
        yield history, "", turns
        message, turn = reply(assistant, question, since, until, turns)
        history = [*history, {"role": "assistant", "content": message}]
        # The last few turns are all a follow-up leans on; older ones would only cost memory.
        yield history, "", ([*turns, turn] if turn else turns)[-6:]

    def pick_example(event: gr.SelectData) -> str:
        value = event.value
        return str(value.get("text", "")) if isinstance(value, dict) else str(value)

    # Gradio passes event data to a parameter annotated with the SelectData class itself;
    # `from __future__ import annotations` left a string there, which it cannot resolve.
    pick_example.__annotations__["event"] = gr.SelectData

    # fill_height: the conversation takes whatever height the window has left.
    with gr.Blocks(title=TITLE, analytics_enabled=False, fill_height=True) as app:
        gr.Markdown(f"## {TITLE}\n{SUBTITLE}")
        chatbot = gr.Chatbot(
            elem_id="chat",
            show_label=False,
            # Grows with the conversation up to most of the window, then scrolls inside, so the
            # question box stays in view.
            scale=1,
            height=None,
            min_height=420,
            max_height="75vh",
            # Kept on: our escaping is the first defence, the browser-side sanitizer the second.
            sanitize_html=True,
            render_markdown=True,
            # No custom tags and no LaTeX: a release's "<thinking>" or "$$...$$" is text.
            allow_tags=False,
            latex_delimiters=[],
            # Nothing records likes, and "share" would post the chat to Hugging Face.
            feedback_options=None,
            buttons=["copy", "copy_all"],
            examples=[{"text": q} for q in EXAMPLES],
            placeholder="Ask about the press releases in the archive.",
        )
        with gr.Row(equal_height=True):
            question = gr.Textbox(elem_id="question", show_label=False, scale=8, autofocus=True,
                                  placeholder="Your question, e.g. Who attended the Sanya meeting?")
            ask = gr.Button("Ask", elem_id="ask", variant="primary", scale=1, min_width=80)
            clear = gr.Button("Clear", elem_id="clear", scale=1, min_width=80)
        with gr.Accordion("Filter by publication date", open=False, elem_id="dates"), gr.Row():
            since = gr.Textbox(elem_id="since", label="Since (published on or after)",
                               placeholder="YYYY-MM-DD", max_lines=1)
            until = gr.Textbox(elem_id="until", label="Until (published on or before)",
                               placeholder="YYYY-MM-DD", max_lines=1)

        # The conversation's turns (question, releases cited), for follow-up questions.
        turns = gr.State([])
        # The page's own events stay out of the API description: programs call "/ask".
        hidden = "undocumented"
        gr.on(triggers=[ask.click, question.submit], fn=respond, api_visibility=hidden,
              inputs=[question, chatbot, turns, since, until], outputs=[chatbot, question, turns])
        chatbot.example_select(pick_example, None, question, api_visibility=hidden).then(
            respond, inputs=[question, chatbot, turns, since, until],
            outputs=[chatbot, question, turns], api_visibility=hidden)
        clear.click(lambda: ([], "", []), None, [chatbot, question, turns], queue=False,
                    api_visibility=hidden)
        gr.api(_client_ask(assistant), api_name="ask",
               api_description="The answer as `press-assistant ask --json` prints it.")
    return app


def _client_ask(assistant: Assistant) -> Any:
    """The chat's endpoint for ``gradio_client``: ``Client(url).predict(question, since,
    until, api_name="/ask")`` returns the answer as a dict (``Answer.to_json``)."""
    import gradio as gr

    def ask(question: str, since: str = "", until: str = "") -> dict[str, Any]:
        try:
            return assistant.ask(question or "", since=parse_date(since, "since"),
                                 until=parse_date(until, "until")).to_json()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc

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


def serve(*, settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Open the index, load the model, and serve the chat at ``/`` and the JSON API at
    ``/api`` (:mod:`assistant.api`) until interrupted; both behind the same credentials."""
    import gradio as gr
    import uvicorn

    from .api import build_api
    from .service import Assistant

    auth = launch_auth(host)  # before the slow part: a refused config fails at once
    assistant = Assistant.open(settings=settings)
    # Loads the embedding model and the index now, so the first question is not the slow one.
    assistant.search("warm up", k=1)
    app = gr.mount_gradio_app(build_api(assistant, auth=auth), build_app(assistant), path="/",
                              auth=auth, show_error=False, ssr_mode=False, css=_CSS)
    shown = f"[{host}]" if ":" in host else host
    print(f"Serving the chat on http://{shown}:{port}/ and the API on http://{shown}:{port}/api "
          "(Ctrl+C stops)", flush=True)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        assistant.close()
