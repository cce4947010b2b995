"""The web chat: message formatting (escaping above all), errors in the chat and the bind/auth
rule (the real run in headless Chromium is tests/test_browser.py)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import Answer, Assistant, Citation, ConfigError, Document, Settings
from assistant.documents import NO_ANSWER
from assistant.web import (
    build_app,
    escape_text,
    format_answer,
    format_card,
    launch_auth,
    reply,
    safe_url,
    serve,
)
from tests.helpers import SANYA, AssistantFactory, write_files

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
SEED_TITLE = "Prosecutor General took part in 14th meeting"
SEED_SENTENCE = "The event was attended by"
HOSTILE_TITLE = "<script>alert(1)</script> Harbour crane opened"
HOSTILE_TEXT = 'Visitors saw <img src=x onerror="alert(2)"> the new harbour crane at work.'

needs_readers = pytest.mark.skipif(importlib.util.find_spec("assistant.readers") is None,
                                   reason="assistant/readers.py is not written yet")


def _citation(**changes: object) -> Citation:
    fields: dict[str, object] = dict(
        n=1, doc_id="corpus/000.txt", title="Prosecutor General took part in 14th meeting",
        date=dt.date(2016, 11, 30), url="https://www.prokuror.gov.kz/eng/news/1",
        quote="The event was attended by the heads of supreme supervisory authorities.",
        start=10, end=80, score=0.8)
    fields.update(changes)
    return Citation(**fields)  # type: ignore[arg-type]


def _answer(*citations: Citation) -> Answer:
    text = " ".join(f"{' '.join(c.quote.split())} [{c.n}]" for c in citations)
    return Answer(question="q", text=text, abstained=False, citations=citations)


def _render(markdown: str) -> str:
    """The HTML a CommonMark renderer makes of a message: what a browser would be given."""
    markdown_it = pytest.importorskip("markdown_it")
    return str(markdown_it.MarkdownIt("commonmark", {"html": True}).render(markdown))


# -- formatting -----------------------------------------------------------------------------


def test_answer_lists_numbered_sources_with_title_date_link_and_quote() -> None:
    second = _citation(n=2, title="Second release", date=None, url=None, doc_id="b/two.txt",
                       quote="Another sentence.", page=3)
    html = _render(format_answer(_answer(_citation(), second), turn=4))

    # Each marker links to its card; each card has number, title, date, link and the quote.
    assert '<a href="#src-4-1"><strong>[1]</strong></a>' in html
    assert '<a href="#src-4-2"><strong>[2]</strong></a>' in html
    assert '<div class="card" id="src-4-1">' in html and '<div class="card" id="src-4-2">' in html
    assert ('<span class="card-title">Prosecutor General took part in 14th meeting</span> — '
            '<span class="card-date">2016-11-30</span>') in html
    assert 'href="https://www.prokuror.gov.kz/eng/news/1" target="_blank"' in html
    assert "<mark>The event was attended by the heads of supreme supervisory authorities.</mark>" in html
    # A release without a URL is opened through the server (indexed files only), undated,
    # with its page.
    assert '<span class="card-date">undated</span>' in html
    assert 'href="source/b%2Ftwo.txt"' in html and ">b/two.txt</a> — page 3" in html


def test_a_card_shows_the_quote_among_its_neighbours_and_the_whole_release() -> None:
    text = ("Title line\n\nFirst sentence here. Second sentence here. The quoted one is this. "
            "Fourth sentence here. Fifth sentence here. Sixth sentence here.\n\nLast paragraph.")
    doc = Document(id="d", title="Title line", text=text, date=dt.date(2020, 1, 2))
    start = text.index("The quoted one")
    quote = "The quoted one is this."
    citation = _citation(doc_id="d", quote=quote, start=start, end=start + len(quote))
    html = format_card(citation, turn=1, doc=doc)
    assert ("First sentence here. Second sentence here. <mark>The quoted one is this.</mark> "
            "Fourth sentence here. Fifth sentence here.</p>") in html
    assert "Sixth" not in html.split("</p>")[0]  # two sentences each side, no more
    assert '<details class="card-whole"><summary>Whole release</summary>' in html
    assert "<p>Last paragraph.</p></details>" in html
    # A quote that is not the document's text at its offsets gets no neighbours.
    moved = format_card(_citation(doc_id="d", quote=quote, start=0, end=len(quote)), turn=1, doc=doc)
    assert f"<p class=\"card-context\"> <mark>{quote}</mark> </p>" in moved


def test_quotes_from_one_release_name_it_once() -> None:
    second = _citation(n=2, quote="Issues of countering terrorism were discussed.", page=2)
    html = _render(format_answer(_answer(_citation(), second), turn=1))
    assert html.count("Prosecutor General took part in 14th meeting") == 1
    assert 'same release as <a href="#src-1-1">[1]</a> — page 2</div>' in html
    assert "<mark>Issues of countering terrorism were discussed.</mark>" in html


def test_document_markup_is_shown_as_text_never_as_html() -> None:
    hostile = _citation(title=HOSTILE_TITLE, quote=HOSTILE_TEXT, url="javascript:alert(3)")
    html = _render(format_answer(_answer(hostile)))

    # The markup is there, but only as escaped text: no element, no attribute, no link.
    for raw in ("<script", "<img", 'href="javascript', "onerror=\""):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Harbour crane opened" in html
    assert "Visitors saw &lt;img src=x onerror=&quot;alert(2)&quot;&gt; the new harbour" in html
    assert ">javascript:alert(3)</a>" in html and 'href="source/corpus%2F000.txt"' in html


def test_markdown_in_documents_stays_literal() -> None:
    quote = "See [prize](javascript:alert(1)) and ![x](http://t.example/p.png) **now** $$x$$ | a |"
    html = _render(format_answer(_answer(_citation(quote=quote))))
    assert html.count('href="http') == 1  # the source's own link, and no other
    assert "<img" not in html and "<strong>now</strong>" not in html
    assert "[prize](javascript:alert(1))" in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)", "java\nscript:x",
                                 "data:text/html,<b>", "file:///etc/passwd", "//evil.example/x",
                                 "corpus/a.txt", ""])
def test_only_http_urls_become_links(url: str) -> None:
    assert safe_url(url) is None


def test_http_url_is_kept_and_cannot_break_out_of_the_link() -> None:
    assert safe_url("https://a.example/news?id=1#top") == "https://a.example/news?id=1#top"
    assert safe_url("http://a.example/x y<z>") == "http://a.example/x%20y%3Cz%3E"


def test_abstention_is_plain_text() -> None:
    message = format_answer(Answer(question="q", text=NO_ANSWER, abstained=True))
    assert _render(message) == "<p>The archive has no release that answers this.</p>\n"


def test_escape_text_flattens_block_syntax() -> None:
    # A line of a release must not become a heading, list, code block or table of the chat.
    assert _render(escape_text("# Title\n    code\n- item\n1. one")) == \
        "<p># Title code - item 1. one</p>\n"


def test_messages_survive_gradio_chatbot_postprocessing() -> None:
    import gradio as gr

    message = format_answer(_answer(_citation(), _citation(n=2, quote="Second one.")))
    data = gr.Chatbot().postprocess([{"role": "user", "content": "q"},
                                     {"role": "assistant", "content": message}])
    assert data.root[1].content[0].text == message  # type: ignore[union-attr]


def test_a_list_answer_stays_a_list_and_its_rows_stay_text() -> None:
    rows = (_citation(quote="One."),
            _citation(n=2, quote="<img src=x onerror=alert(1)> - 3. * not a list"))
    answer = Answer(question="q", abstained=False, citations=rows, count=2,
                    searched="releases from 2016-01-01 to 2016-12-31",
                    text="2 releases match.\n- 2016-11-30: First — One. [1]\n"
                         "- 2016-12-01: Second — <img src=x onerror=alert(1)> - 3. * not a list [2]")
    html = _render(format_answer(answer))
    assert html.count("<li>") == 2 and "<img" not in html and "&lt;img" in html
    assert "<strong>[1]</strong>" in html and "<strong>[2]</strong>" in html
    assert "Searched releases from 2016-01-01 to 2016-12-31." in html


# -- the assistant behind the chat ------------------------------------------------------------


@pytest.fixture
def bot(make_assistant: AssistantFactory) -> Assistant:
    docs = write_files(make_assistant.root / "docs", {
        "sanya.txt": SANYA,
        "harbour.txt": f"{HOSTILE_TITLE}\n\n12 May 2019\n\n{HOSTILE_TEXT}\n\n"
                       "The harbour crane lifts forty tonnes.\n",
        # An export record can carry any URL: this one must not become a link.
        "port.jsonl": json.dumps({
            "id": "port-1", "title": "Port authority statement", "date": "2020-02-03",
            "url": "javascript:alert(1)",
            "text": "The ferry <b onmouseover=alert(4)>terminal</b> reopened on Monday after "
                    "repairs. Ferries to the islands run twice a day."}) + "\n",
    })
    assistant = make_assistant()
    report = assistant.index([docs])
    assert len(report.added) == 3, report
    return assistant


@needs_readers
def test_reply_cites_the_indexed_release(bot: Assistant) -> None:
    html = _render(reply(bot, "Who attended the Sanya meeting?")[0])
    assert "Prosecutor General took part in 14th meeting" in html
    assert "<mark>The event was attended by" in html
    assert "<mark>" in html and "Issues of countering terrorism" in html  # neighbours or quotes
    assert '<details class="card-whole">' in html


@needs_readers
def test_reply_escapes_markup_from_indexed_text(bot: Assistant) -> None:
    html = _render(reply(bot, "What did visitors see at the new harbour crane?")[0])
    assert "harbour crane" in html.lower()
    assert "<script" not in html and "<img" not in html
    assert "&lt;img src=x onerror=" in html


@needs_readers
def test_reply_never_links_a_javascript_url_from_an_export(bot: Assistant) -> None:
    html = _render(reply(bot, "When did the ferry terminal reopen?")[0])
    assert "Port authority statement" in html
    assert ">javascript:alert(1)</a>" in html and 'href="javascript' not in html
    assert 'href="source/port-1"' in html and "<b " not in html
    assert "&lt;b onmouseover=alert(4)&gt;terminal&lt;/b&gt;" in html


@needs_readers
def test_reply_abstains_plainly_on_an_off_topic_question(bot: Assistant) -> None:
    message = reply(bot, "Who won the chess tournament in Oslo?")[0]
    # The plain answer, then why, in words: nothing else (no sources, no error).
    assert _render(message) == (f"<p>{NO_ANSWER}</p>\n"
                                "<p><em>Why: the archive never mentions “Oslo”.</em></p>\n")


@needs_readers
def test_the_chat_remembers_turns_for_follow_ups(bot: Assistant) -> None:
    _, turn = reply(bot, "Who attended the Sanya meeting?")
    assert turn is not None and turn.cited and turn.question == "Who attended the Sanya meeting?"
    message, _ = reply(bot, "What was discussed there?", turns=[turn])
    assert "Prosecutor General took part in 14th meeting" in _render(message)
    assert reply(bot, "   ", turns=[turn])[1] is None  # an error adds no turn


@needs_readers
def test_library_errors_show_as_chat_messages(bot: Assistant) -> None:
    assert "the question is empty" in reply(bot, "   ")[0]
    assert "is not a date like 2021\\-03\\-01" in reply(bot, "Sanya?", since="30.11.2016")[0]
    assert "the date range is empty" in reply(bot, "Sanya?", since="2020-01-01", until="2019-01-01")[0]


@needs_readers
def test_build_app_makes_a_blocks_app(bot: Assistant) -> None:
    import gradio as gr

    app = build_app(bot)
    assert isinstance(app, gr.Blocks)
    assert "Press release archive" in str(app.config)


# -- binding and credentials ---------------------------------------------------------------


def test_public_host_without_credentials_is_refused(monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    monkeypatch.delenv("PRESS_ASSISTANT_AUTH", raising=False)
    with pytest.raises(ConfigError, match="PRESS_ASSISTANT_AUTH=user:password"):
        serve(settings=Settings(index_dir=tmp_path / "none"), host="0.0.0.0")


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRESS_ASSISTANT_AUTH", raising=False)
    assert launch_auth("127.0.0.1") is None
    assert launch_auth("localhost") is None
    assert launch_auth("::1") is None
    monkeypatch.setenv("PRESS_ASSISTANT_AUTH", "editor:s3cret:x")
    assert launch_auth("0.0.0.0") == ("editor", "s3cret:x")
    monkeypatch.setenv("PRESS_ASSISTANT_AUTH", "editor")
    with pytest.raises(ConfigError, match="user:password"):
        launch_auth("0.0.0.0")


def test_app_py_reports_errors_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "PRESS_ASSISTANT_INDEX": str(tmp_path / "missing"),
           "PRESS_ASSISTANT_PORT": "7860", "PRESS_ASSISTANT_HOST": "127.0.0.1"}
    env.pop("PRESS_ASSISTANT_AUTH", None)
    done = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.startswith("error: no index at ") and done.stderr.count("\n") == 1
